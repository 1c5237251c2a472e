import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureTag } from '../scripts/lib/images.js';
import { InvokeError, UsageError } from '../src/errors.js';
import { runConformanceCheck } from '../src/jobs/check-runner.js';
import { MultiModelStore } from '../src/jobs/multi-model.js';
import { startEndpoint, type EndpointHandle, type EndpointInput } from '../src/jobs/serving-runner.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

const IMAGE = fixtureTag('serve-mme');

describe.skipIf(dockerUnavailable())('multi-model endpoints (CONTRACT §7) on a real engine', () => {
  const s = useTestSession();
  let store = '';
  let n = 0;
  beforeAll(async () => {
    store = s.dir('store');
    const src = s.dir('src');
    mkdirSync(join(store, 'team-b'), { recursive: true });
    for (const m of ['model-a', 'model-b', 'team-b/model-c']) {
      const dir = join(src, m);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'model.json'), JSON.stringify({ name: m }));
      await pipeline(pack(dir), createGzip(), createWriteStream(join(store, `${m}.tar.gz`)));
    }
  });

  async function serve(over: Partial<EndpointInput> = {}) {
    const { deps, lines, log } = s.deps();
    const endpoint = await startEndpoint({ image: IMAGE, endpointName: `mme-${++n}-${s.session}`, multiModel: store, port: 0, stopGraceSeconds: 2, ...over }, deps);
    const seen = () => lines.filter((l) => l.line.startsWith('MME ')).map((l) => l.line);
    /** The container's MME lines, once at least `count` have come: its output arrives a little after its answers. */
    const mme = async (count: number) => {
      for (let i = 0; i < 250 && seen().length < count; i++) await new Promise((r) => setTimeout(r, 20));
      return seen();
    };
    return { endpoint, mme, lines, log };
  }
  const answer = async (ep: EndpointHandle, target: string) => JSON.parse((await ep.invoke('{"x":1}', { contentType: 'application/json', targetModel: target })).body.toString()) as { model: { name: string }; target: string; body: string };

  it('loads a TargetModel on first use into /opt/ml/models/<name>/model, then invokes it there with the Target-Model header', async () => {
    const { endpoint, mme, lines, log } = await serve();
    try {
      expect(lines.some((l) => l.line === 'SAGEMAKER_MULTI_MODEL=true')).toBe(true);
      expect(log.messages.some((m) => /Multi-model endpoint: 3 models in .*: model-a\.tar\.gz, model-b\.tar\.gz, team-b\/model-c\.tar\.gz/.test(m.message))).toBe(true);
      expect(await answer(endpoint, 'model-a.tar.gz')).toEqual({ model: { name: 'model-a' }, target: 'model-a.tar.gz', body: '{"x":1}' });
      expect(await answer(endpoint, 'team-b/model-c.tar.gz')).toMatchObject({ model: { name: 'team-b/model-c' } });
      await answer(endpoint, 'model-a.tar.gz');
      const a = MultiModelStore.nameOf('model-a.tar.gz');
      const c = MultiModelStore.nameOf('team-b/model-c.tar.gz');
      // Loaded once each, then invoked from memory.
      expect(await mme(5)).toEqual([`MME load ${a}`, `MME invoke ${a}`, `MME load ${c}`, `MME invoke ${c}`, `MME invoke ${a}`]);
      expect(log.messages.filter((m) => /^Multi-model: loaded model-a\.tar\.gz as [0-9a-f]{16} in [\d.]+ s\.$/.test(m.message))).toHaveLength(1);
    } finally {
      await endpoint.stop();
    }
  });

  it('unloads the least recently used model when the container answers 507, and retries the load', async () => {
    const { endpoint, mme } = await serve({ environment: { CAPACITY: '2' } });
    try {
      await answer(endpoint, 'model-a.tar.gz');
      await answer(endpoint, 'model-b.tar.gz');
      await answer(endpoint, 'model-a.tar.gz');
      expect((await answer(endpoint, 'team-b/model-c.tar.gz')).model.name).toBe('team-b/model-c');
      const [a, b, c] = ['model-a.tar.gz', 'model-b.tar.gz', 'team-b/model-c.tar.gz'].map((t) => MultiModelStore.nameOf(t));
      // load a, invoke a, load b, invoke b, invoke a, then c: full, unload b, load c, invoke c.
      const all = await mme(9);
      expect(all.slice(-4)).toEqual([`MME full ${c}`, `MME unload ${b}`, `MME load ${c}`, `MME invoke ${c}`]);
      expect(all).not.toContain(`MME unload ${a}`);
    } finally {
      await endpoint.stop();
    }
  });

  it('with the cache disabled, unloads each model after its call', async () => {
    const { endpoint, mme } = await serve({ modelCacheDisabled: true });
    try {
      await answer(endpoint, 'model-a.tar.gz');
      const a = MultiModelStore.nameOf('model-a.tar.gz');
      expect(await mme(3)).toEqual([`MME load ${a}`, `MME invoke ${a}`, `MME unload ${a}`]);
    } finally {
      await endpoint.stop();
    }
  });

  it('answers ModelNotReadyException (429) while a slow load goes on, then the model once loaded', async () => {
    const { endpoint } = await serve({ environment: { LOAD_SLEEP: '1' }, modelLoadWaitMs: 100 });
    try {
      const err = await endpoint.invoke('{}', { targetModel: 'model-b.tar.gz' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InvokeError);
      expect((err as InvokeError).status).toBe(429);
      expect((err as InvokeError).errorType).toBe('ModelNotReadyException');
      let got: { model: { name: string } } | undefined;
      for (let i = 0; i < 100 && !got; i++) got = await answer(endpoint, 'model-b.tar.gz').catch(() => undefined);
      expect(got!.model.name).toBe('model-b');
    } finally {
      await endpoint.stop();
    }
  });

  it('an unknown target model, a missing TargetModel and a key out of the prefix are ValidationErrors', async () => {
    const { endpoint } = await serve();
    try {
      for (const [target, text] of [
        ['nope.tar.gz', /there is no object nope\.tar\.gz under the model prefix/],
        [undefined, /TargetModel is required for a multi-model endpoint/],
        ['../secret.tar.gz', /not a key under the model prefix/],
      ] as const) {
        const err = await endpoint.invoke('{}', target !== undefined ? { targetModel: target } : {}).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(InvokeError);
        expect((err as InvokeError).errorType).toBe('ValidationError');
        expect((err as InvokeError).body.toString()).toMatch(text);
      }
    } finally {
      await endpoint.stop();
    }
  });

  it('refuses an image without the multi-models label, before starting anything', async () => {
    const { deps } = s.deps();
    const err = await startEndpoint({ image: fixtureTag('serve-good'), endpointName: `mme-nolabel-${s.session}`, multiModel: store, port: 0 }, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/does not carry the label com\.amazonaws\.sagemaker\.capabilities\.multi-models=true/);
  });

  it('sm-local check --multi-model passes a container that follows the /models API, and fails one that does not, saying where', async () => {
    const { deps } = s.deps();
    const good = await runConformanceCheck({ image: IMAGE, serve: true, multiModel: store, serveStopGraceSeconds: 2 }, deps);
    expect(good.checks.find((c) => c.id === 'serve.multi-model')).toMatchObject({ status: 'pass', observed: expect.stringMatching(/loaded and invoked.*a second load: 409.*404 for get and invoke once unloaded/) });
    expect(good.verdict).toBe('pass');
    const lax = await runConformanceCheck({ image: IMAGE, serve: true, multiModel: store, serveStopGraceSeconds: 2, environment: { MME_LAX: '1' } }, s.deps().deps);
    const row = lax.checks.find((c) => c.id === 'serve.multi-model')!;
    expect(row.status).toBe('fail');
    expect(row.observed).toMatch(/a second load of a loaded model answered 200, not 409/);
    expect(row.observed).toMatch(/GET \/models does not list \{"modelName"/);
    expect(lax.verdict).toBe('fail');
  });
});
