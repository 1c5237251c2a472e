/**
 * What an endpoint goes through, on the in-memory engine: Creating until `GET /ping` answers 200,
 * InService, a crash (Failed with its reason), a delete (Deleting, SIGTERM, then SIGKILL after the
 * grace), a failed start-up, and that every path removes what it created. The containers' servers
 * answer real HTTP on 127.0.0.1, through the real runtime proxy; no engine, no timing assertions.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryEngine, type ScriptedBehaviour } from '../docker/memory-engine.js';
import { InterruptedError, InvokeError, ServingStartupError } from '../errors.js';
import { createMemoryLogger } from '../log.js';
import { createEndpoint, startEndpoint, type EndpointHandle } from './serving-runner.js';

const IMAGE = 'scorer:test';

/** A model server: 200 on /ping, and the request body upper-cased on /invocations. */
function modelServer(opts: { ping?: number } = {}) {
  return (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/ping') {
      res.writeHead(opts.ping ?? 200);
      return res.end();
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(Buffer.concat(chunks).toString().toUpperCase());
    });
  };
}

const handles: EndpointHandle[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.stop()));
});

function setup(behaviour: ScriptedBehaviour) {
  const engine = new MemoryEngine({ images: { [IMAGE]: { entrypoint: ['serve-model'] } }, behaviour: () => behaviour });
  const log = createMemoryLogger();
  const input = { image: IMAGE, endpointName: 'scorer', port: 0, stopGraceSeconds: 0.2 };
  const deps = (extra: { stop?: AbortSignal } = {}) => ({ docker: engine, log, ...extra });
  return { engine, input, deps, log };
}

const statusOf = (d: Record<string, unknown>) => d.EndpointStatus;

describe('endpoint outcomes on the in-memory engine', () => {
  it('is Creating until GET /ping answers 200, then InService and invocable; a delete makes it Deleting and removes everything', async () => {
    const { engine, input, deps } = setup({ serve: { handler: modelServer(), afterMs: 30 }, onSigterm: { exitCode: 0 } });
    const creation = await createEndpoint(input, deps());
    expect(statusOf(creation.describe())).toBe('Creating');
    expect((creation.describe().ProductionVariants as { CurrentInstanceCount: number }[])[0]!.CurrentInstanceCount).toBe(0);
    const endpoint = await creation.ready;
    expect(statusOf(creation.describe())).toBe('InService');
    expect(statusOf(endpoint.describe())).toBe('InService');
    const answer = await endpoint.invoke('hello', { contentType: 'text/plain' });
    expect(answer.body.toString()).toBe('HELLO');
    expect(answer.invokedProductionVariant).toBe('AllTraffic');
    const stopping = endpoint.stop();
    expect(statusOf(endpoint.describe())).toBe('Deleting');
    const outcome = await stopping;
    expect(outcome).toMatchObject({ exitCode: 0, killed: false });
    expect(engine.containers[0]!.signals).toEqual(['SIGTERM']);
    expect(engine.containers[0]!.input.cmd).toEqual(['serve']);
    expect(engine.leftovers()).toEqual([]);
  });

  it('a container that ignores SIGTERM is killed once the grace is over', async () => {
    const { engine, input, deps } = setup({ serve: { handler: modelServer() } });
    const endpoint = await startEndpoint(input, deps());
    const outcome = await endpoint.stop();
    expect(outcome.killed).toBe(true);
    expect(engine.containers[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(engine.leftovers()).toEqual([]);
  });

  it('a crash while serving makes it Failed with the exit, and invocations get the runtime error', async () => {
    const { input, deps } = setup({ serve: { handler: modelServer() }, exitAtMs: 300, exitCode: 3 });
    const endpoint = await startEndpoint(input, deps());
    handles.push(endpoint);
    expect(await endpoint.exited).toMatchObject({ exitCode: 3 });
    const described = endpoint.describe();
    expect(statusOf(described)).toBe('Failed');
    expect(described.FailureReason).toBe('The primary container exited with exit code 3 while serving.');
    const err = await endpoint.invoke('x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvokeError);
    expect((err as InvokeError).errorType).toBe('ModelError');
  });

  it('a container that exits while starting fails the creation with its exit, Failed, and nothing left', async () => {
    const { engine, input, deps } = setup({ output: [{ line: 'ImportError: no module named model' }], exitAtMs: 20, exitCode: 1 });
    const creation = await createEndpoint(input, deps());
    const err = await creation.ready.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServingStartupError);
    expect((err as ServingStartupError).message).toMatch(/exited with exit code 1 while starting/);
    expect((err as ServingStartupError).logTail).toEqual(['ImportError: no module named model']);
    expect(statusOf(creation.describe())).toBe('Failed');
    expect(creation.describe().FailureReason).toMatch(/exited with exit code 1 while starting/);
    expect(engine.leftovers()).toEqual([]);
  });

  it('a server that never answers 200 within the start-up window fails with what it answered', async () => {
    const { engine, input, deps } = setup({ serve: { handler: modelServer({ ping: 503 }) } });
    const err = await startEndpoint({ ...input, startupTimeoutSeconds: 1 }, deps()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServingStartupError);
    expect((err as ServingStartupError).observation).toEqual({ kind: 'status', status: 503 });
    expect(engine.leftovers()).toEqual([]);
  });

  it('a delete while Creating gives the start up: Deleting, the creation is interrupted, nothing is left', async () => {
    const { engine, input, deps } = setup({ serve: { handler: modelServer(), afterMs: 60_000 } });
    const creation = await createEndpoint(input, deps());
    const deleted = creation.delete();
    expect(statusOf(creation.describe())).toBe('Deleting');
    await deleted;
    expect(await creation.ready.catch((e: unknown) => e)).toBeInstanceOf(InterruptedError);
    expect(statusOf(creation.describe())).toBe('Deleting');
    expect(engine.leftovers()).toEqual([]);
  });

  it("the caller's stop signal while starting interrupts it as a delete does", async () => {
    const { engine, input, deps } = setup({ serve: { handler: modelServer(), afterMs: 60_000 } });
    const stop = new AbortController();
    const starting = startEndpoint(input, deps({ stop: stop.signal }));
    setTimeout(() => stop.abort(), 50);
    expect(await starting.catch((e: unknown) => e)).toBeInstanceOf(InterruptedError);
    expect(engine.leftovers()).toEqual([]);
  });
});

describe('multi-container endpoints on the in-memory engine', () => {
  const BIND = { 'com.amazonaws.sagemaker.capabilities.accept-bind-to-port': 'true' };
  /** A stage that answers its input transformed, typed `type`. */
  const stage = (transform: (s: string) => string, type: string) => (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/ping') return res.writeHead(200).end();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.writeHead(200, { 'content-type': type });
      res.end(`${transform(Buffer.concat(chunks).toString())} (got ${req.headers['content-type']})`);
    });
  };
  const engineFor = (behaviours: Record<string, ScriptedBehaviour>) =>
    new MemoryEngine({ images: Object.fromEntries(Object.keys(behaviours).map((ref) => [ref, { entrypoint: ['serve-model'], labels: BIND }])), behaviour: (input) => behaviours[input.image]! });

  it('chains a serial pipeline: each container on its own SAGEMAKER_BIND_TO_PORT, each answer into the next; all removed at stop', async () => {
    const engine = engineFor({
      'upper:1': { serve: { handler: stage((s) => s.toUpperCase(), 'text/csv') }, onSigterm: { exitCode: 0 } },
      'reverse:1': { serve: { handler: stage((s) => [...s].reverse().join(''), 'text/plain') }, onSigterm: { exitCode: 0 } },
    });
    const endpoint = await startEndpoint({ image: '', endpointName: 'pipe', port: 0, stopGraceSeconds: 0.2, containers: [{ image: 'upper:1', hostname: 'up' }, { image: 'reverse:1', hostname: 'rev' }] }, { docker: engine, log: createMemoryLogger() });
    try {
      const answer = await endpoint.invoke('ab', { contentType: 'application/json' });
      expect(answer.body.toString()).toBe(')nosj/noitacilppa tog( BA (got text/csv)');
      const ports = engine.containers.map((c) => c.input.env?.find((e) => e.startsWith('SAGEMAKER_BIND_TO_PORT='))?.split('=')[1]);
      expect(new Set(ports).size).toBe(2);
      expect(ports).not.toContain('8080');
      expect(engine.containers.map((c) => c.input.hostname)).toEqual(['up', 'rev']);
    } finally {
      await endpoint.stop();
    }
    expect(engine.containers.map((c) => c.signals)).toEqual([['SIGTERM'], ['SIGTERM']]);
    expect(engine.leftovers()).toEqual([]);
  });

  it('a container that exits while starting fails the start with its name and exit, and the others are removed', async () => {
    const engine = engineFor({
      'upper:1': { serve: { handler: stage((s) => s, 'text/plain') } },
      'broken:1': { exitAtMs: 20, exitCode: 2, output: [{ line: 'cannot load the model' }] },
    });
    const started = startEndpoint({ image: '', endpointName: 'pipe', port: 0, stopGraceSeconds: 0.2, containers: [{ image: 'upper:1' }, { image: 'broken:1' }] }, { docker: engine, log: createMemoryLogger() });
    const err = await started.then(() => undefined, (e: unknown) => e as ServingStartupError);
    expect(err).toBeInstanceOf(ServingStartupError);
    expect(err!.message).toMatch(/^Container AllTraffic\/1\/container-2 \(broken:1\) did not pass the ping health check: The container exited with exit code 2 while starting/);
    expect(err!.logTail).toContain('cannot load the model');
    expect(engine.leftovers()).toEqual([]);
  });
});
