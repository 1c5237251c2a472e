import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BufferBudget } from './invocation.js';
import { buildProxyApp, type RequestLogEntry } from './proxy-app.js';

/** What the fake container saw. */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

let behaviour: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void = (_req, _body, res) => res.end();
const seen: Seen[] = [];
let upstream: Server;
let upstreamPort: number;

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      behaviour(req, body, res);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  upstreamPort = (upstream.address() as AddressInfo).port;
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

const endpoint = { endpointName: 'churn-xgb-prod', region: 'us-east-1', account: '123456789012', variantName: 'AllTraffic' };
const apps: FastifyInstance[] = [];
afterEach(async () => {
  seen.length = 0;
  while (apps.length) await apps.pop()!.close();
});

function proxy(opts: { invocationTimeoutMs?: number; log?: RequestLogEntry[] } = {}): FastifyInstance {
  const app = buildProxyApp({
    endpoint,
    upstream: { host: '127.0.0.1', port: upstreamPort },
    invocationTimeoutMs: opts.invocationTimeoutMs ?? 60_000,
    onRequest: (e) => opts.log?.push(e),
  });
  apps.push(app);
  return app;
}

const invoke = (app: FastifyInstance, body: Buffer | string, headers: Record<string, string> = {}, name = 'churn-xgb-prod') =>
  app.inject({ method: 'POST', url: `/endpoints/${name}/invocations`, payload: body, headers });

describe('POST /endpoints/{name}/invocations (InvokeEndpoint)', () => {
  it('forwards the body byte for byte with only the documented headers, and returns the container answer', async () => {
    behaviour = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/csv', 'x-amzn-sagemaker-custom-attributes': 'model=v3', 'x-secret-debug': 'no' });
      res.end('0.93\n');
    };
    const body = Buffer.from([0, 1, 2, 255, 254, 10, 13, 0]);
    const log: RequestLogEntry[] = [];
    const res = await invoke(proxy({ log }), body, {
      'content-type': 'application/x-npy-ish',
      accept: 'text/csv',
      'x-amzn-sagemaker-custom-attributes': 'trace=abc',
      'x-amzn-sagemaker-inference-id': 'id-1',
      authorization: 'AWS4-HMAC-SHA256 Credential=…',
      'x-custom': 'dropped',
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('0.93\n');
    expect(res.headers['content-type']).toBe('text/csv');
    expect(res.headers['x-amzn-invoked-production-variant']).toBe('AllTraffic');
    expect(res.headers['x-amzn-sagemaker-custom-attributes']).toBe('model=v3');
    expect(res.headers).not.toHaveProperty('x-secret-debug');
    expect(res.headers['x-amzn-requestid']).toMatch(/^[0-9a-f-]{36}$/);
    const [s] = seen;
    expect(s!.method).toBe('POST');
    expect(s!.url).toBe('/invocations');
    expect(createHash('sha256').update(s!.body).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
    expect(s!.headers).toMatchObject({ 'content-type': 'application/x-npy-ish', accept: 'text/csv', 'x-amzn-sagemaker-custom-attributes': 'trace=abc' });
    expect(Object.keys(s!.headers)).not.toEqual(expect.arrayContaining(['authorization']));
    expect(s!.headers).not.toHaveProperty('x-custom');
    expect(s!.headers).not.toHaveProperty('x-amzn-sagemaker-inference-id');
    expect(log).toEqual([expect.objectContaining({ method: 'POST', status: 200, bytesIn: 8, bytesOut: 5 })]);
  });

  it('forwards a body without Content-Type without inventing one', async () => {
    behaviour = (_req, _body, res) => res.end('ok');
    await invoke(proxy(), 'plain bytes');
    expect(seen[0]!.headers).not.toHaveProperty('content-type');
    expect(seen[0]!.body.toString()).toBe('plain bytes');
  });

  it('turns a container 4xx into ModelError 424 with the original status and message', async () => {
    behaviour = (_req, _body, res) => {
      res.writeHead(400, { 'content-type': 'text/plain' });
      res.end('unsupported content type: application/x-npy');
    };
    const res = await invoke(proxy(), 'x', { 'content-type': 'application/x-npy' });
    expect(res.statusCode).toBe(424);
    expect(res.headers['x-amzn-errortype']).toBe('ModelError');
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.json()).toEqual({
      ErrorCode: 'CLIENT_ERROR_FROM_MODEL',
      LogStreamArn: 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/churn-xgb-prod',
      Message:
        'Received client error (400) from primary with message "unsupported content type: application/x-npy". See https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#logEventViewer:group=/aws/sagemaker/Endpoints/churn-xgb-prod in account 123456789012 for more information.',
      OriginalMessage: 'unsupported content type: application/x-npy',
      OriginalStatusCode: 400,
    });
  });

  it('turns a late answer into the timeout ModelError', async () => {
    behaviour = (_req, _body, res) => setTimeout(() => res.end('too late'), 500);
    const log: RequestLogEntry[] = [];
    const res = await invoke(proxy({ invocationTimeoutMs: 100, log }), 'x');
    expect(res.statusCode).toBe(424);
    expect(res.json()).toMatchObject({ OriginalStatusCode: 0, Message: expect.stringMatching(/^Received server error \(0\) from primary with message "Your invocation timed out/) });
    expect(log[0]).toMatchObject({ status: 424, errorType: 'ModelError', detail: 'no response within 100 ms' });
  });

  it('refuses a request over 6 MiB with 413, and accepts exactly 6 MiB', async () => {
    behaviour = (_req, body, res) => res.end(String(body.length));
    const app = proxy();
    const over = await invoke(app, Buffer.alloc(6_291_457));
    expect(over.statusCode).toBe(413);
    expect(over.json()).toEqual({ Message: 'HTTP content length exceeded 6291456 bytes.' });
    expect(seen).toHaveLength(0);
    const exact = await invoke(app, Buffer.alloc(6_291_456));
    expect(exact.statusCode).toBe(200);
    expect(exact.body).toBe('6291456');
  });

  it('turns a response over 6 MiB into a ModelError, and passes exactly 6 MiB', async () => {
    let size = 6_291_457;
    behaviour = (_req, _body, res) => res.end(Buffer.alloc(size));
    const app = proxy();
    const res = await invoke(app, 'x');
    expect(res.statusCode).toBe(424);
    expect(res.json().Message).toMatch(/could not load the entire response body/);
    size = 6_291_456;
    expect((await invoke(app, 'x')).rawPayload.length).toBe(6_291_456);
  });

  it('answers an unknown endpoint name with ValidationError, without calling the container', async () => {
    const res = await invoke(proxy(), 'x', {}, 'other-endpoint');
    expect(res.statusCode).toBe(400);
    expect(res.headers['x-amzn-errortype']).toBe('ValidationError');
    expect(res.json()).toEqual({ Message: 'Endpoint other-endpoint of account 123456789012 not found.' });
    expect(seen).toHaveLength(0);
  });

  it('validates the custom attributes header', async () => {
    const res = await invoke(proxy(), 'x', { 'x-amzn-sagemaker-custom-attributes': 'a'.repeat(1025) });
    expect(res.statusCode).toBe(400);
    expect(res.headers['x-amzn-errortype']).toBe('ValidationError');
  });
});

describe('pass-through routes', () => {
  it('GET /ping and POST /invocations reach the container untouched, headers included', async () => {
    behaviour = (req, _body, res) => {
      res.writeHead(req.url === '/ping' ? 200 : 507, { 'content-type': 'text/plain', 'x-from-container': 'yes' });
      res.end(req.url === '/ping' ? '' : 'no room');
    };
    const app = proxy();
    const ping = await app.inject({ method: 'GET', url: '/ping' });
    expect(ping.statusCode).toBe(200);
    const inv = await app.inject({ method: 'POST', url: '/invocations', payload: 'abc', headers: { 'content-type': 'text/csv', 'x-anything': '1' } });
    expect(inv.statusCode).toBe(507);
    expect(inv.body).toBe('no room');
    expect(inv.headers['x-from-container']).toBe('yes');
    expect(seen[1]!.headers).toMatchObject({ 'content-type': 'text/csv', 'x-anything': '1' });
  });

  it('says so in the runtime\'s shape when the container cannot be reached, and for a path it has no operation for', async () => {
    const app = buildProxyApp({ endpoint, upstream: { host: '127.0.0.1', port: 1 }, invocationTimeoutMs: 1000 });
    apps.push(app);
    const res = await app.inject({ method: 'GET', url: '/ping' });
    expect(res.statusCode).toBe(502);
    expect(res.headers['x-amzn-errortype']).toBe('InternalFailure');
    expect(res.json().Message).toMatch(/^The container did not accept the connection; is it still running\?/);
    const none = await app.inject({ method: 'GET', url: '/nothing' });
    expect(none.statusCode).toBe(404);
    expect(none.headers['x-amzn-errortype']).toBe('UnknownOperationException');
    expect(none.json()).toEqual({ Message: 'The runtime has no operation for GET /nothing.' });
  });

  it('forwards any ASCII Content-Type, `csv` too, and refuses one that is not ASCII the way InvokeEndpoint does', async () => {
    behaviour = (_req, body, res) => res.end(body);
    const app = proxy();
    const csv = await invoke(app, '1,2', { 'content-type': 'csv' });
    expect(csv.statusCode).toBe(200);
    expect(seen[0]!.headers['content-type']).toBe('csv');
    const bad = await invoke(app, '1,2', { 'content-type': 'text/csv; x=\u00e9' });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['x-amzn-errortype']).toBe('ValidationError');
    expect(bad.json().Message).toMatch(/Value at 'contentType' failed to satisfy constraint/);
    expect(seen).toHaveLength(1);
  });

  it('refuses a body without Content-Length once it passes 6 MiB, before the container sees any of it', async () => {
    const app = proxy();
    const chunks = function* () {
      for (let i = 0; i < 7; i++) yield Buffer.alloc(1024 * 1024, 1);
    };
    const res = await app.inject({ method: 'POST', url: '/endpoints/churn-xgb-prod/invocations', payload: Readable.from(chunks()), headers: { 'content-type': 'application/octet-stream' } });
    expect(res.statusCode).toBe(413);
    expect(res.headers['x-amzn-errortype']).toBe('ValidationError');
    expect(seen).toHaveLength(0);
  });

  it('holds at most the budget of buffered bodies at once; the rest wait their turn', async () => {
    const budget = new BufferBudget(10);
    const a = await budget.acquire(6);
    let bGot = false;
    const b = budget.acquire(6).then((release) => ((bGot = true), release));
    await new Promise((r) => setTimeout(r, 10));
    expect(bGot).toBe(false);
    a();
    (await b)();
    expect(bGot).toBe(true);
  });
});

describe('the real AWS SDK (@aws-sdk/client-sagemaker-runtime) against the proxy', () => {
  async function client(opts: { invocationTimeoutMs?: number } = {}) {
    const app = proxy(opts);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as AddressInfo).port;
    return new SageMakerRuntimeClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
  }

  it('gets the body, content type, custom attributes and variant', async () => {
    behaviour = (req, body, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-sagemaker-custom-attributes': `echo:${req.headers['x-amzn-sagemaker-custom-attributes']}` });
      res.end(JSON.stringify({ received: body.toString() }));
    };
    const out = await (await client()).send(
      new InvokeEndpointCommand({ EndpointName: 'churn-xgb-prod', Body: new TextEncoder().encode('{"x":1}'), ContentType: 'application/json', Accept: 'application/json', CustomAttributes: 'trace=1' }),
    );
    expect(new TextDecoder().decode(out.Body)).toBe('{"received":"{\\"x\\":1}"}');
    expect(out.ContentType).toBe('application/json');
    expect(out.CustomAttributes).toBe('echo:trace=1');
    expect(out.InvokedProductionVariant).toBe('AllTraffic');
  });

  it('gets a ModelError exception carrying OriginalStatusCode when the container fails', async () => {
    behaviour = (_req, _body, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('boom');
    };
    const err = await (await client()).send(new InvokeEndpointCommand({ EndpointName: 'churn-xgb-prod', Body: new Uint8Array([1]) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ name: 'ModelError', OriginalStatusCode: 500, OriginalMessage: 'boom', LogStreamArn: expect.stringContaining('/aws/sagemaker/Endpoints/churn-xgb-prod') });
  });

  it('gets a ModelError with OriginalStatusCode 0 when the container times out', async () => {
    behaviour = (_req, _body, res) => setTimeout(() => res.end('late'), 400);
    const err = await (await client({ invocationTimeoutMs: 100 })).send(new InvokeEndpointCommand({ EndpointName: 'churn-xgb-prod', Body: new Uint8Array([1]) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ OriginalStatusCode: 0 });
  });

  it('gets a ValidationError for an unknown endpoint', async () => {
    const err = await (await client()).send(new InvokeEndpointCommand({ EndpointName: 'nope', Body: new Uint8Array([1]) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as Error).message).toBe('Endpoint nope of account 123456789012 not found.');
  });
});
