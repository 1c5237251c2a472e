import http from 'node:http';
import { Pool } from 'undici';
const [,, upstream, port] = process.argv;
const pool = new Pool(upstream, { connections: 256, keepAliveTimeout: 30000 });
http.createServer(async (req, res) => {
  const chunks = []; for await (const c of req) chunks.push(c);
  const up = await pool.request({ path: '/invocations', method: 'POST', headers: { 'content-type': req.headers['content-type'], accept: req.headers.accept }, body: Buffer.concat(chunks) });
  const body = Buffer.from(await up.body.arrayBuffer());
  res.writeHead(200, { 'content-type': up.headers['content-type'], 'content-length': body.length });
  res.end(body);
}).listen(+port, '127.0.0.1');
