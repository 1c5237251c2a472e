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
});
