/**
 * InvokeEndpointWithResponseStream through the proxy, read by the real AWS SDK
 * (@aws-sdk/client-sagemaker-runtime): parts arrive as the container writes them (the first before
 * the container has written the last), errors before the first byte are ModelError, and a break
 * mid-stream is a ModelStreamError event.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InvokeEndpointWithResponseStreamCommand, ModelError, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvokeError } from '../errors.js';
import { invokeEndpointStream } from './client.js';
import { buildProxyApp } from './proxy-app.js';
import { decodeMessages, payloadPart } from './response-stream.js';

let behaviour: (req: IncomingMessage, body: Buffer, res: ServerResponse) => void = (_req, _body, res) => res.end();
let upstream: Server;
let port = 0;
const apps: FastifyInstance[] = [];

beforeAll(async () => {
  upstream = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => behaviour(req, Buffer.concat(chunks), res));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  port = (upstream.address() as AddressInfo).port;
});
afterEach(async () => {
  while (apps.length) await apps.pop()!.close();
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
});

async function proxyBase(): Promise<string> {
  const app = buildProxyApp({ endpoint: { endpointName: 'chat', region: 'us-east-1', account: '123456789012', variantName: 'AllTraffic' }, upstream: { host: '127.0.0.1', port }, invocationTimeoutMs: 5000 });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function client(): Promise<SageMakerRuntimeClient> {
  const app = buildProxyApp({ endpoint: { endpointName: 'chat', region: 'us-east-1', account: '123456789012', variantName: 'AllTraffic' }, upstream: { host: '127.0.0.1', port }, invocationTimeoutMs: 5000 });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return new SageMakerRuntimeClient({
    endpoint: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDLOCAL', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}

describe('InvokeEndpointWithResponseStream', () => {
  it('relays each chunk as a PayloadPart as it comes: the first arrives before the container writes the last', async () => {
    let seen: { headers: IncomingMessage['headers']; body: string } | undefined;
    let release: () => void = () => {};
    const firstRead = new Promise<void>((r) => (release = r));
    behaviour = (req, body, res) => {
      seen = { headers: req.headers, body: body.toString() };
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-amzn-sagemaker-custom-attributes': 'tokens=3' });
      res.write('Hello');
      // The rest only once the client has read the first part: streaming, not buffering.
      void firstRead.then(() => {
        res.write(', local');
        res.end(' world');
      });
    };
    const out = await (await client()).send(
      new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'chat', Body: new TextEncoder().encode('{"prompt":"hi"}'), ContentType: 'application/json', Accept: 'text/event-stream', CustomAttributes: 'trace=7' }),
    );
    expect(out.ContentType).toBe('text/event-stream');
    expect(out.InvokedProductionVariant).toBe('AllTraffic');
    expect(out.CustomAttributes).toBe('tokens=3');
    const parts: string[] = [];
    for await (const event of out.Body!) {
      parts.push(new TextDecoder().decode(event.PayloadPart!.Bytes));
      if (parts.length === 1) release();
    }
    expect(parts.join('')).toBe('Hello, local world');
    expect(parts[0]).toBe('Hello');
    expect(seen).toMatchObject({ body: '{"prompt":"hi"}', headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-amzn-sagemaker-custom-attributes': 'trace=7' } });
  });

  it('a container error before the first byte is ModelError, as for InvokeEndpoint', async () => {
    behaviour = (_req, _body, res) => {
      res.writeHead(503);
      res.end('model still loading');
    };
    const err = await (await client()).send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'chat', Body: new Uint8Array([1]) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect((err as ModelError).OriginalStatusCode).toBe(503);
    expect((err as ModelError).OriginalMessage).toBe('model still loading');
  });

  it('a container that breaks off mid-stream ends the stream with a ModelStreamError', async () => {
    behaviour = (_req, _body, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      setImmediate(() => res.destroy());
    };
    const out = await (await client()).send(new InvokeEndpointWithResponseStreamCommand({ EndpointName: 'chat', Body: new Uint8Array([1]) }));
    const parts: string[] = [];
    const err = await (async () => {
      for await (const event of out.Body!) parts.push(new TextDecoder().decode(event.PayloadPart!.Bytes));
    })().catch((e: unknown) => e);
    expect(parts).toEqual(['partial']);
    expect((err as { name?: string }).name).toBe('ModelStreamError');
    expect((err as Error).message).toMatch(/broke off mid-stream/);
  });

  it('decodes whole messages from a buffer, leaving a message still arriving', () => {
    const a = Buffer.from(payloadPart(Buffer.from('one')));
    const b = Buffer.from(payloadPart(Buffer.from('two')));
    const { messages, rest } = decodeMessages(Buffer.concat([a, b.subarray(0, 5)]));
    expect(messages.map((m) => Buffer.from(m.body).toString())).toEqual(['one']);
    expect(rest.length).toBe(5);
  });

  it('sm-local invoke --stream (invokeEndpointStream) gets the parts as they come, and the stream error by its type', async () => {
    behaviour = (req, _body, res) => {
      res.writeHead(200, { 'content-type': req.headers.accept ?? 'text/plain' });
      res.write('a');
      setImmediate(() => res.end('b'));
    };
    const parts: string[] = [];
    const base = await proxyBase();
    const out = await invokeEndpointStream(base, 'chat', 'x', (p) => parts.push(Buffer.from(p).toString()), { accept: 'text/plain' });
    expect(parts.join('')).toBe('ab');
    expect(out).toMatchObject({ contentType: 'text/plain', invokedProductionVariant: 'AllTraffic' });
    behaviour = (_req, _body, res) => {
      res.writeHead(200);
      res.write('x');
      setImmediate(() => res.destroy());
    };
    const err = await invokeEndpointStream(base, 'chat', 'x', () => {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvokeError);
    expect((err as InvokeError).errorType).toBe('ModelStreamError');
  });
});

describe('InvokeEndpointWithResponseStream on a serial pipeline', () => {
  it("runs the earlier containers whole and streams the last one's answer; each stage sees the previous Content-Type", async () => {
    const featurizerSaw: string[] = [];
    const featurizer = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        featurizerSaw.push(`${req.headers['content-type']} ${Buffer.concat(chunks).toString()}`);
        res.writeHead(200, { 'content-type': 'text/csv' });
        res.end('1,2,3');
      });
    });
    await new Promise<void>((r) => featurizer.listen(0, '127.0.0.1', r));
    let predictorSaw = '';
    behaviour = (req, body, res) => {
      predictorSaw = `${req.headers['content-type']} ${body.toString()}`;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('tok1 ');
      setTimeout(() => res.end('tok2'), 20);
    };
    const app = buildProxyApp({
      endpoint: { endpointName: 'chat', region: 'us-east-1', account: '123456789012', variantName: 'AllTraffic' },
      variants: [{ variantName: 'AllTraffic', weight: 1, mode: 'Serial', instances: [{ containers: [{ name: 'feat', upstream: { host: '127.0.0.1', port: (featurizer.address() as AddressInfo).port } }, { name: 'gen', upstream: { host: '127.0.0.1', port } }] }] }],
      invocationTimeoutMs: 5000,
    });
    apps.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    try {
      const parts: string[] = [];
      const out = await invokeEndpointStream(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, 'chat', '{"q":1}', (b) => parts.push(Buffer.from(b).toString()), { contentType: 'application/json' });
      expect(parts).toEqual(['tok1 ', 'tok2']);
      expect(out.contentType).toBe('text/plain');
      expect(featurizerSaw).toEqual(['application/json {"q":1}']);
      expect(predictorSaw).toBe('text/csv 1,2,3');
      // The first container failing is a ModelError naming it, before any part.
      featurizer.removeAllListeners('request');
      featurizer.on('request', (_req: IncomingMessage, res: ServerResponse) => {
        res.writeHead(500);
        res.end('boom');
      });
      const err = await invokeEndpointStream(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, 'chat', 'x', () => {}).then(
        () => undefined,
        (e: unknown) => e as InvokeError,
      );
      expect(err).toBeInstanceOf(InvokeError);
      if (!err) return;
      expect([err.status, err.errorType]).toEqual([424, 'ModelError']);
      expect((JSON.parse(err.body.toString()) as { Message: string }).Message).toMatch(/^Received server error \(500\) from feat with message "boom"/);
    } finally {
      featurizer.closeAllConnections();
      await new Promise((r) => featurizer.close(r));
    }
  });
});
