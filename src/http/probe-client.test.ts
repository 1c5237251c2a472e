import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probeRequest } from './probe-client.js';

describe('probeRequest', () => {
  let server: Server;
  let base: string;
  const seen: { method?: string; contentType?: string; body?: string } = {};

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        Object.assign(seen, { method: req.method, contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString() });
        if (req.url === '/bare') {
          // No Content-Type: what a careless server sends, which a client library would not fill in here.
          res.removeHeader('content-type');
          res.writeHead(200, { 'content-length': '2' }).end('ok');
        } else if (req.url === '/big') res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(100_000, 0x61));
        else if (req.url === '/hang') res.flushHeaders();
        else res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"no"}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('reports the status and Content-Type exactly as sent, and sends the body and headers', async () => {
    const r = await probeRequest(`${base}/bare`, { method: 'POST', body: Buffer.from('{"x":1}'), headers: { 'content-type': 'application/json' }, timeoutMs: 5000 });
    expect(r).toMatchObject({ status: 200, bytes: 2, head: 'ok' });
    expect(r.contentType).toBeUndefined();
    expect(seen).toEqual({ method: 'POST', contentType: 'application/json', body: '{"x":1}' });
    expect(await probeRequest(`${base}/other`, { method: 'GET', timeoutMs: 5000 })).toMatchObject({ status: 404, contentType: 'application/json', head: '{"error":"no"}' });
  });

  it('counts the whole body but keeps only its head', async () => {
    const r = await probeRequest(`${base}/big`, { method: 'GET', timeoutMs: 5000, keepBytes: 10 });
    expect(r).toMatchObject({ status: 200, bytes: 100_000, head: 'aaaaaaaaaa' });
  });

  it('never throws: a refused connection, a timeout and an abort come back as errors', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    expect(await probeRequest(`http://127.0.0.1:${port}/ping`, { method: 'GET', timeoutMs: 5000 })).toMatchObject({ error: 'ECONNREFUSED', bytes: 0 });
    expect(await probeRequest(`${base}/hang`, { method: 'GET', timeoutMs: 200 })).toMatchObject({ error: 'no complete answer within 0.2 s' });
    const ctl = new AbortController();
    const pending = probeRequest(`${base}/hang`, { method: 'GET', timeoutMs: 60_000, signal: ctl.signal });
    ctl.abort();
    expect(await pending).toMatchObject({ error: 'interrupted' });
  });
});
