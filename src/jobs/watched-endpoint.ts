/**
 * `serve --watch`: an endpoint whose containers start again when its code or model changes, behind a
 * runtime that stays where it is (same port, same URL). The new containers start beside the old ones
 * and take the traffic once they answer `GET /ping`; the old ones then stop, calls under way finishing
 * there (or getting the runtime's error, as when a container dies). A start that fails leaves the old
 * ones serving, and says why. With `--publish` (a debugger's port, which one container at a time can
 * hold) the old ones stop first.
 */
import { DEFAULT_ACCOUNT } from '../contract/identity.js';
import { resolveEndpointSpecOrThrow } from '../contract/serving-spec.js';
import { EndpointExistsError, PortInUseError } from '../errors.js';
import { EndpointRegistry } from '../http/endpoint-registry.js';
import { buildRuntimeApp } from '../http/proxy-app.js';
import type { TraceRecord } from '../http/trace.js';
import { checkWatchPaths, describeChanges, watchPaths, type FileWatch } from '../workspace/file-watch.js';
import { resolveJobDeps, type JobDeps } from './deps.js';
import { listEndpoints } from './endpoints.js';
import { proxyPortFor, startEndpoint, type EndpointHandle, type EndpointInput } from './serving-runner.js';

export interface WatchOptions {
  /** Files and folders whose changes start the containers again. */
  paths: readonly string[];
  /** How long changes must have settled before a reload (default SETTLE_MS, 150 ms). */
  settleMs?: number;
}

export interface WatchedEndpoint {
  readonly name: string;
  readonly url: string;
  readonly port: number;
  /** The endpoint serving now (undefined after a failed start with nothing left serving). */
  current(): EndpointHandle | undefined;
  /** Stops watching, then the endpoint and the runtime. */
  stop(): Promise<void>;
}

export async function serveWatched(input: EndpointInput & { onTrace?: (t: TraceRecord) => void }, opts: WatchOptions, depsIn: Partial<JobDeps> = {}): Promise<WatchedEndpoint> {
  const deps = resolveJobDeps(depsIn);
  const { onTrace, onRequest, port: askedPort, ...spec } = input;
  const [port, existing] = await Promise.all([proxyPortFor(askedPort, deps.log), deps.docker.ping().then(() => listEndpoints(deps.docker))]);
  const registry = new EndpointRegistry({ account: spec.account ?? DEFAULT_ACCOUNT, ...(onRequest ? { onRequest } : {}) });
  const app = buildRuntimeApp(registry, onTrace ? { trace: onTrace } : {});
  let stopped = false;
  // A container that dies while it serves is said (with its last lines); the next change starts it again.
  const start = async (replace: boolean) => {
    const endpoint = await startEndpoint({ ...spec, runtime: { registry, port, replace } }, deps);
    void endpoint.exited.then(
      (e) => {
        if (stopped || current !== endpoint) return;
        deps.log.warn(`The ${endpoint.containers.length > 1 ? `${e.container} ` : ''}container of ${endpoint.name} exited with code ${e.exitCode} while serving:\n  ${e.tail.slice(-10).join('\n  ')}\n  Calls get the runtime's error until a change starts it again.`);
      },
      () => undefined,
    );
    return endpoint;
  };

  await checkWatchPaths(opts.paths, deps.cwd);
  const name = resolveEndpointSpecOrThrow(spec).spec.endpointName;
  const taken = existing.find((e) => e.name === name);
  if (taken) throw new EndpointExistsError(name, `http://127.0.0.1:${taken.proxyPort}/endpoints/${name}/invocations`);
  let current: EndpointHandle | undefined = await (async () => {
    await app.listen({ host: '127.0.0.1', port }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EADDRINUSE' ? new PortInUseError(port, err) : err;
    });
    return start(false);
  })().catch(async (err: unknown) => {
    await app.close();
    throw err;
  });

  let reloading: Promise<void> = Promise.resolve();
  let queued: string[] | undefined;
  const reload = async (changed: string[]) => {
    const began = Date.now();
    deps.log.info(`Changed: ${describeChanges(changed)}. Starting endpoint ${name} again…`);
    // A published port can be held by one container at a time: the old one goes first.
    if (spec.publish?.length && current) {
      const old = current;
      current = undefined;
      await old.stop();
    }
    try {
      const next = await start(true);
      const old = current;
      current = next;
      await old?.stop();
      const readyMs = Date.now() - began;
      deps.log.info(`Reloaded endpoint ${name} in ${(readyMs / 1000).toFixed(1)}s: ${next.url}`);
    } catch (err) {
      if (stopped || deps.stop?.aborted) return;
      const message = err instanceof Error ? err.message : String(err);
      const tail = (err as { logTail?: string[] }).logTail ?? [];
      deps.log.warn(
        `The reload failed: ${message}${tail.length ? `\n  ${tail.slice(-10).join('\n  ')}` : ''}\n  ${current ? 'The previous containers go on serving' : 'Nothing serves now'}; save a fix to try again.`,
      );
    }
  };
  const watcher: FileWatch = await watchPaths(opts.paths, {
    cwd: deps.cwd,
    ...(opts.settleMs !== undefined ? { settleMs: opts.settleMs } : {}),
    onChange: (changed) => {
      if (stopped) return;
      // Changes during a reload are gathered into the next one.
      if (queued) return void queued.push(...changed);
      queued = [...changed];
      reloading = reloading.then(async () => {
        const batch = [...new Set(queued)];
        queued = undefined;
        if (!stopped) await reload(batch);
      });
    },
  }).catch(async (err: unknown) => {
    stopped = true;
    await current?.stop();
    await app.close();
    throw err;
  });
  deps.log.info(`Watching ${opts.paths.join(', ')}: a change starts the containers again, at the same URL.`);

  let stopping: Promise<void> | undefined;
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}/endpoints/${name}/invocations`,
    current: () => current,
    stop: () =>
      (stopping ??= (async () => {
        stopped = true;
        watcher.close();
        await reloading.catch(() => {});
        await current?.stop();
        await app.close();
      })()),
  };
}
