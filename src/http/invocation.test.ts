/**
 * One invocation on its own, as batch transform and pipelines will make it: the container's answer
 * or the runtime's error, within the cap and the deadline, against a real HTTP server on 127.0.0.1.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamToBuffer } from '../workspace/archive.js';
import { BufferBudget, containerPool, invokeContainer, type InvocationTarget } from './invocation.js';

let behaviour: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void = (_req, _body, res) => res.end();
let server: Server;
let target: (over?: Partial<InvocationTarget>) => InvocationTarget;
const pools: ReturnType<typeof containerPool>[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => behaviour(req, Buffer.concat(chunks), res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  target = (over = {}) => {
    const pool = containerPool({ host: '127.0.0.1', port });
    pools.push(pool);
    return { pool, endpoint: { endpointName: 'scorer', region: 'eu-west-1', account: '123456789012', variantName: 'AllTraffic' }, cap: 1024, timeoutMs: 5000, budget: new BufferBudget(4096), ...over };
  };
});
afterAll(async () => {
  await Promise.all(pools.map((p) => p.destroy()));
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const request = (body: string, headers: Record<string, string> = { 'content-type': 'text/csv' }) => ({ headers, body: Buffer.from(body) });

describe('invokeContainer', () => {
  it("returns the container's answer with its content type and custom attributes; the headers and body went through untouched", async () => {
    behaviour = (req, body, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-sagemaker-custom-attributes': 'trace=1' });
      res.end(JSON.stringify({ got: body.toString(), type: req.headers['content-type'], url: req.url, method: req.method }));
    };
    const answer = await invokeContainer(target(), request('1,2,3\n'));
    expect(answer.ok).toBe(true);
    if (!answer.ok || !answer.body) throw new Error('expected an answer in memory');
    expect(answer.contentType).toBe('application/json');
    expect(answer.customAttributes).toBe('trace=1');
    expect(JSON.parse(answer.body.toString())).toEqual({ got: '1,2,3\n', type: 'text/csv', url: '/invocations', method: 'POST' });
  });

  it('a container error becomes ModelError with its status and message, as the runtime words it', async () => {
    behaviour = (_req, _body, res) => {
      res.writeHead(422);
      res.end('bad row 3');
    };
    const answer = await invokeContainer(target(), request('x'));
    expect(answer.ok).toBe(false);
    if (answer.ok) return;
    expect(answer.error.status).toBe(424);
    expect(answer.error.errorType).toBe('ModelError');
    expect(JSON.stringify(answer.error.body)).toContain('Received client error (422) from primary with message \\"bad row 3\\"');
  });

  it('an answer larger than the cap is refused, whether its length is declared or not', async () => {
    for (const declared of [true, false]) {
      behaviour = (_req, _body, res) => {
        if (declared) res.writeHead(200, { 'content-length': '2048' });
        res.end(Buffer.alloc(2048, 1));
      };
      const answer = await invokeContainer(target(), request('x'));
      expect(answer.ok).toBe(false);
      if (!answer.ok) expect(JSON.stringify(answer.error.body)).toContain('could not load the entire response body');
    }
  });

  it('no answer within the deadline is the runtime timeout ModelError (status 0 in the message)', async () => {
    behaviour = () => {};
    const answer = await invokeContainer(target({ timeoutMs: 150 }), request('x'));
    expect(answer.ok).toBe(false);
    if (!answer.ok) {
      expect(JSON.stringify(answer.error.body)).toContain('Received server error (0)');
      expect(answer.detail).toBe('no response within 150 ms');
    }
  });

  it('a large answer of known length comes back as a stream when asked, and a body can be streamed in', async () => {
    behaviour = (_req, body, res) => {
      res.writeHead(200, { 'content-length': String(body.length * 2) });
      res.end(Buffer.concat([body, body]));
    };
    const sent = Buffer.alloc(300, 7);
    const answer = await invokeContainer(target(), { headers: {}, body: Readable.from([sent]), length: sent.length }, { streamAbove: 100 });
    if (!answer.ok || !answer.stream) throw new Error('expected a stream');
    expect(answer.stream.length).toBe(600);
    expect((await streamToBuffer(answer.stream.body)).equals(Buffer.concat([sent, sent]))).toBe(true);
  });

  it('a container that is not there is ModelError, not a thrown error', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const pool = containerPool({ host: '127.0.0.1', port });
    pools.push(pool);
    const answer = await invokeContainer(target({ pool }), request('x'));
    expect(answer.ok).toBe(false);
    if (!answer.ok) expect(answer.error.errorType).toBe('ModelError');
  });
});
