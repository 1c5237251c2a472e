/**
 * A multi-model endpoint's models as SageMaker manages them (CONTRACT §7): the model store (the S3
 * prefix, a local folder of `*.tar.gz`), each TargetModel extracted on first use with the safe
 * extractor into `/opt/ml/models/<opaque name>/model` (read-only to the container), loaded with
 * `POST /models`, invoked at `/models/<name>/invoke`; the least recently used model unloaded when the
 * container answers 507, every model unloaded after its call when caching is disabled, and
 * `ModelNotReadyException` when a load takes longer than 60 s (it goes on).
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { cjsExports } from '../cjs.js';
import { modelNotReady, validationError, type RuntimeError } from '../contract/serving.js';
import { ModelArchiveError } from '../errors.js';
import type { ModelRouter } from '../http/forward.js';
import type { Logger } from '../log.js';
import { extractModelArchive } from '../workspace/model-archive.js';

/** undici (1 MB) loads with the proxy, once the container starts; not before the endpoint can start. */
const loadUndici = async () => cjsExports(await import('undici'));

/** Where the platform puts multi-model artifacts inside the container. */
export const MODELS_DIR = '/opt/ml/models';
/** How long an invocation waits for its model to load before ModelNotReadyException (CONTRACT §7.3). */
export const MODEL_LOAD_WAIT_MS = 60_000;

interface LoadedModel {
  name: string;
  loading?: Promise<void>;
  loaded: boolean;
  lastUsed: number;
  failed?: RuntimeError;
}

/** The `*.tar.gz` objects of a model store, as TargetModel names them (paths relative to the prefix). */
export async function listModelArchives(store: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) await walk(path);
      else if (e.isFile() && /\.tar\.gz$|\.tgz$/.test(e.name)) found.push(relative(store, path).split(sep).join('/'));
    }
  };
  await walk(store);
  return found.sort();
}

export class MultiModelStore implements ModelRouter {
  private readonly models = new Map<string, LoadedModel>();

  constructor(
    private readonly opts: {
      /** The local folder standing in for ModelDataUrl's prefix. */
      store: string;
      /** The host folder bound read-only at /opt/ml/models. */
      workspace: string;
      /** The container's server. */
      base: string;
      log: Logger;
      /** MultiModelConfig.ModelCacheSetting Disabled: unload after every call. */
      cacheDisabled?: boolean;
      loadWaitMs?: number;
    },
  ) {}

  /** An opaque, stable name per TargetModel: the platform's names are its own (CONTRACT §7.2). */
  static nameOf(targetModel: string): string {
    return createHash('sha256').update(targetModel).digest('hex').slice(0, 16);
  }

  async route(targetModel: string): Promise<{ path: string } | { error: RuntimeError }> {
    let model = this.models.get(targetModel);
    if (!model?.loaded && !model?.loading) {
      const archive = resolve(this.opts.store, targetModel);
      // A TargetModel is a key under the prefix, never a way out of it.
      if (relative(this.opts.store, archive).startsWith('..') || targetModel.startsWith('/')) return { error: validationError(`TargetModel ${targetModel} is not a key under the model prefix.`) };
      const exists = await stat(archive).then((s) => s.isFile(), () => false);
      // The service's wording for a model that is not there is UNCONFIRMED.
      if (!exists) return { error: validationError(`Failed to download model data for TargetModel ${targetModel}: there is no object ${targetModel} under the model prefix (${this.opts.store}).`) };
      model = { name: MultiModelStore.nameOf(targetModel), loaded: false, lastUsed: Date.now() };
      this.models.set(targetModel, model);
      const loading = this.load(targetModel, archive, model);
      model.loading = loading;
      loading.catch(() => {});
    }
    if (model.loading) {
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([
        model.loading.then(() => 'loaded' as const, () => 'failed' as const),
        new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), this.opts.loadWaitMs ?? MODEL_LOAD_WAIT_MS))),
      ]).finally(() => clearTimeout(timer));
      if (waited === 'late') return { error: modelNotReady(targetModel) };
      if (waited === 'failed') {
        const failed = model.failed;
        this.models.delete(targetModel);
        return { error: failed ?? validationError(`TargetModel ${targetModel} could not be loaded.`) };
      }
    }
    model.lastUsed = Date.now();
    return { path: `/models/${model.name}/invoke` };
  }

  done(targetModel: string): void {
    if (!this.opts.cacheDisabled) return;
    const model = this.models.get(targetModel);
    if (model?.loaded) void this.unload(targetModel, model);
  }

  private async load(targetModel: string, archive: string, model: LoadedModel): Promise<void> {
    const started = Date.now();
    try {
      const dir = join(this.opts.workspace, model.name, 'model');
      try {
        await extractModelArchive(archive, dir);
      } catch (err) {
        if (err instanceof ModelArchiveError) throw Object.assign(err, { runtime: validationError(`TargetModel ${targetModel}: ${err.message}`) });
        throw err;
      }
      const url = `${MODELS_DIR}/${model.name}/model`;
      for (;;) {
        const { request } = await loadUndici();
        const res = await request(`${this.opts.base}/models`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model_name: model.name, url }) });
        const text = await res.body.text();
        // 409: already loaded (CONTRACT §7.2).
        if ((res.statusCode >= 200 && res.statusCode < 300) || res.statusCode === 409) break;
        if (res.statusCode === 507) {
          const victim = this.leastRecentlyUsed(targetModel);
          if (!victim) throw Object.assign(new Error('out of resources'), { runtime: { status: 507, errorType: 'ModelError', body: { Message: `The container has no room for ${targetModel} (507) and no other model to unload.` } } });
          this.opts.log.info(`Multi-model: the container has no room for ${targetModel} (507); unloading ${victim[0]}, the least recently used.`);
          await this.unload(victim[0], victim[1]);
          continue;
        }
        throw Object.assign(new Error(text), { runtime: { status: 424, errorType: 'ModelError', body: { Message: `The container could not load ${targetModel}: POST /models answered ${res.statusCode} ${text.slice(0, 200)}` } } });
      }
      model.loaded = true;
      this.opts.log.info(`Multi-model: loaded ${targetModel} as ${model.name} in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
    } catch (err) {
      model.failed = (err as { runtime?: RuntimeError }).runtime ?? { status: 500, errorType: 'InternalFailure', body: { Message: `sm-local could not load ${targetModel}: ${(err as Error).message}` } };
      throw err;
    } finally {
      delete model.loading;
    }
  }

  private leastRecentlyUsed(except: string): [string, LoadedModel] | undefined {
    return [...this.models.entries()].filter(([t, m]) => t !== except && m.loaded).sort((a, b) => a[1].lastUsed - b[1].lastUsed)[0];
  }

  private async unload(targetModel: string, model: LoadedModel): Promise<void> {
    const started = Date.now();
    const { request } = await loadUndici();
    const res = await request(`${this.opts.base}/models/${model.name}`, { method: 'DELETE' }).catch(() => undefined);
    await res?.body.text();
    this.models.delete(targetModel);
    this.opts.log.info(`Multi-model: unloaded ${targetModel} (${model.name}) in ${((Date.now() - started) / 1000).toFixed(1)} s.`);
  }
}
