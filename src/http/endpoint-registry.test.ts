import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EndpointRegistry } from './endpoint-registry.js';
import { buildRuntimeApp } from './proxy-app.js';

/** Two fake containers, each answering with its own name. */
const servers: Server[] = [];
const ports: number[] = [];
beforeAll(async () => {
  for (const name of ['blue', 'green']) {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${name} ${req.method} ${req.url}`));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    ports.push((server.address() as AddressInfo).port);
  }
});
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
});

const identity = (endpointName: string) => ({ endpointName, region: 'us-east-1', account: '123456789012', variantName: 'AllTraffic' });

describe('one runtime app, many endpoints', () => {
  it('routes InvokeEndpoint by name, answers an unknown name as the runtime does, and goes direct only with one endpoint', async () => {
    const registry = new EndpointRegistry({ cap: 6 * 1024 * 1024, budgetBytes: 24 * 1024 * 1024, account: '123456789012' });
    const removeBlue = registry.add({ endpoint: identity('blue-ep'), upstream: { host: '127.0.0.1', port: ports[0]! }, invocationTimeoutMs: 60_000 });
    registry.add({ endpoint: identity('green-ep'), upstream: { host: '127.0.0.1', port: ports[1]! }, invocationTimeoutMs: 60_000 });
    const app = buildRuntimeApp(registry);
    try {
      const call = (name: string) => app.inject({ method: 'POST', url: `/endpoints/${name}/invocations`, payload: 'x', headers: { 'content-type': 'text/plain' } });
      expect((await call('blue-ep')).body).toBe('blue POST /invocations');
      expect((await call('green-ep')).body).toBe('green POST /invocations');
      const unknown = await call('red-ep');
      expect(unknown.statusCode).toBe(400);
      expect(unknown.headers['x-amzn-errortype']).toBe('ValidationError');
      expect(unknown.body).toMatch(/Endpoint red-ep of account 123456789012 not found/);
      // /ping has no endpoint in it: with two it cannot say which container is meant.
      expect((await app.inject({ method: 'GET', url: '/ping' })).statusCode).toBe(404);
      await removeBlue();
      expect((await call('blue-ep')).statusCode).toBe(400);
      expect((await app.inject({ method: 'GET', url: '/ping' })).body).toBe('green GET /ping');
    } finally {
      await app.close();
    }
    expect(registry.lookup('green-ep')).toBeUndefined();
  });

  it('replaces a route at once; the old route\'s unregister waits for its calls under way, which finish on the old container', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let arrived!: () => void;
    const reached = new Promise<void>((r) => (arrived = r));
    const slow = createServer((req, res) => {
      arrived();
      req.resume();
      void held.then(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('old answer'));
    });
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', r));
    const registry = new EndpointRegistry({ cap: 6 * 1024 * 1024, budgetBytes: 24 * 1024 * 1024, account: '123456789012' });
    const removeOld = registry.add({ endpoint: identity('ep'), upstream: { host: '127.0.0.1', port: (slow.address() as AddressInfo).port }, invocationTimeoutMs: 60_000 });
    const app = buildRuntimeApp(registry);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/endpoints/ep/invocations`;
    try {
      const call = () => fetch(url, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' } }).then((r) => r.text());
      const inFlight = call();
      await reached;
      registry.add({ endpoint: identity('ep'), upstream: { host: '127.0.0.1', port: ports[1]! }, invocationTimeoutMs: 60_000 }, { replace: true });
      expect(await call()).toBe('green POST /invocations');
      let unregistered = false;
      const removing = removeOld().then(() => (unregistered = true));
      await new Promise((r) => setTimeout(r, 50));
      expect(unregistered).toBe(false);
      release();
      expect(await inFlight).toBe('old answer');
      await removing;
      expect(await call()).toBe('green POST /invocations');
    } finally {
      await app.close();
      await new Promise((r) => slow.close(r));
    }
  });
});
