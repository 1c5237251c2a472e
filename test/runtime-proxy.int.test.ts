import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { InvokeEndpointCommand, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureTag } from '../scripts/lib/images.js';
import { CLI_BIN } from '../scripts/lib/paths.js';
import { LABEL } from '../src/docker/labels.js';
import { startEndpoint, type EndpointHandle } from '../src/index.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

/** A raw HTTP/1.1 exchange: what is written (head and body, all of it, before anything is read), the answer, and any socket error. */
function exchange(port: number, text: Buffer | string): Promise<{ response: string; error?: string }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let response = '';
    let error: string | undefined;
    // The exchange ends once the whole request is written (or the write failed) and the answer is complete.
    let written = false;
    let answered = false;
    const done = () => resolve({ response, ...(error ? { error } : {}) });
    const settle = () => {
      if (!written || !answered) return;
      socket.destroy();
      done();
    };
    socket.on('data', (c: Buffer) => {
      response += c.toString('latin1');
      // A complete answer (its Content-Length is there) ends the exchange, whether or not the server closes.
      const end = response.indexOf('\r\n\r\n');
      const length = /\r\ncontent-length: (\d+)/i.exec(response.slice(0, end));
      if (end >= 0 && length && response.length - end - 4 >= Number(length[1])) {
        answered = true;
        settle();
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', done);
    socket.write(text, () => {
      written = true;
      settle();
    });
  });
}

/** Status, lower-cased headers and body of a raw response. */
function parse(raw: string): { status: number; headers: Record<string, string>; body: string } {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const [statusLine, ...lines] = head!.split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine!.split(' ')[1]), headers, body: rest.join('\r\n\r\n') };
}

describe.skipIf(dockerUnavailable())('the runtime proxy answers every request like the SageMaker runtime', () => {
  const s = useTestSession();
  let ep: EndpointHandle;
  beforeAll(async () => {
    ep = await startEndpoint({ image: fixtureTag('serve-good'), port: 0, endpointName: `proxy-${s.session}` }, s.deps().deps);
  });
  afterAll(async () => ep?.stop());
  const path = () => `/endpoints/${ep.name}/invocations`;
  const head = (lines: string[]) => `${lines.join('\r\n')}\r\n\r\n`;

  it('forwards any Content-Type InvokeEndpoint takes (`csv`, no slash), and refuses one over 1024 characters as a ValidationError, never in fastify\'s shape', async () => {
    const ok = parse((await exchange(ep.port, `${head([`POST ${path()} HTTP/1.1`, 'Host: x', 'Content-Type: csv', 'Content-Length: 3', 'Connection: close'])}1,2`)).response);
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body)).toMatchObject({ headers: { 'content-type': 'csv' }, body_length: 3 });
    const long = parse((await exchange(ep.port, `${head([`POST ${path()} HTTP/1.1`, 'Host: x', `Content-Type: text/${'c'.repeat(1020)}`, 'Content-Length: 3', 'Connection: close'])}1,2`)).response);
    expect(long.status).toBe(400);
    expect(long.headers['x-amzn-errortype']).toBe('ValidationError');
    expect(JSON.parse(long.body).Message).toMatch(/^1 validation error detected: Value at 'contentType' failed to satisfy constraint/);
    expect(long.body).not.toMatch(/FST_ERR/);
  });

  it('answers CONNECT (405) and a bare HTTP/0.9 request line (400) in the runtime\'s shape', async () => {
    const tunnel = parse((await exchange(ep.port, head(['CONNECT example.com:443 HTTP/1.1', 'Host: example.com:443']))).response);
    expect(tunnel).toMatchObject({ status: 405, headers: { 'x-amzn-errortype': 'UnknownOperationException', 'content-type': 'application/json' } });
    expect(JSON.parse(tunnel.body)).toEqual({ Message: 'The runtime has no operation for CONNECT example.com:443.' });
    const old = await exchange(ep.port, `POST ${path()}\r\n`);
    const parsed = parse(old.response);
    expect(parsed).toMatchObject({ status: 400, headers: { 'x-amzn-errortype': 'ValidationError' } });
    expect(JSON.parse(parsed.body).Message).toMatch(/HTTP\/0\.9/);
  });

  it('lets a client that is still uploading an oversized body read the 413, raw and through the AWS SDK', async () => {
    // More than the kernel's socket buffers take in: the client is still writing when the answer comes.
    const huge = Buffer.alloc(32 * 1024 * 1024, 0x61);
    const raw = await exchange(ep.port, Buffer.concat([Buffer.from(head([`POST ${path()} HTTP/1.1`, 'Host: x', 'Content-Type: application/octet-stream', `Content-Length: ${huge.length}`])), huge]));
    expect(raw.error).toBeUndefined();
    const r = parse(raw.response);
    expect(r).toMatchObject({ status: 413, headers: { 'x-amzn-errortype': 'ValidationError' } });
    expect(JSON.parse(r.body)).toEqual({ Message: 'HTTP content length exceeded 6291456 bytes.' });
    const client = new SageMakerRuntimeClient({ endpoint: `http://127.0.0.1:${ep.port}`, region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'B' }, maxAttempts: 1 });
    const err = (await client.send(new InvokeEndpointCommand({ EndpointName: ep.name, Body: huge.subarray(0, 8 * 1024 * 1024), ContentType: 'application/octet-stream' })).catch((e: unknown) => e)) as {
      name: string;
      $metadata: { httpStatusCode?: number };
    };
    expect(err).toMatchObject({ name: 'ValidationError', $metadata: { httpStatusCode: 413 } });
  });

  it('holds a few bodies at most under 64-way load with 6 MiB bodies: sm-local serve stays near its idle size', async () => {
    const name = `load-${s.session}`;
    const child = spawn(CLI_BIN, ['serve', fixtureTag('serve-good'), '--name', name, '--port', '0', '--json'], { env: { ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot }, stdio: ['ignore', 'pipe', 'pipe'] });
    const memory = () => {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const mib = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)![1]) / 1024;
      return { rss: mib('VmRSS'), peak: mib('VmHWM') };
    };
    try {
      let out = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          const m = /"url":"([^"]+)"/.exec(out);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`sm-local serve exited with ${code}`)));
      });
      const idle = memory();
      const body = Buffer.alloc(6 * 1024 * 1024, 7);
      const invoke = () =>
        new Promise<number>((resolve) => {
          const req = request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/octet-stream', 'content-length': body.length } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', () => resolve(-1));
          req.end(body);
        });
      for (let round = 0; round < 3; round++) {
        expect((await Promise.all(Array.from({ length: 64 }, invoke))).filter((code) => code !== 200)).toEqual([]);
      }
      const after = memory();
      // 64 × 6 MiB in flight: a proxy that held the bodies would grow by hundreds of MiB (it did: 75 → 610 MiB).
      // What remains is V8's slack for dead Buffers (it collects them after about 64 MiB) and the socket buffers.
      expect(after.peak - idle.rss, JSON.stringify({ idle, after })).toBeLessThan(16 * 6);
    } finally {
      child.kill('SIGINT');
      await new Promise((resolve) => child.once('close', resolve));
    }
    expect(await s.docker.listManaged([`${LABEL.jobName}=${name}`])).toEqual([]);
  });
});
