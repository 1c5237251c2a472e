import { randomBytes, randomInt } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { renderDescribeEndpoint, type EndpointStatus } from '../contract/endpoint-status.js';
import { describeExit } from '../contract/check-advice.js';
import { checkImage } from '../contract/image-checks.js';
import { BIND_TO_PORT_LABEL, MULTI_MODEL_LABEL, renderServingEnvironment, SERVING_PORT } from '../contract/serving.js';
import { resolveEndpointSpecOrThrow, type EndpointSpec, type ResolvedEndpointSpec } from '../contract/serving-spec.js';
import { toEnvList } from '../contract/training-env.js';
import type { StopOutcome } from '../docker/engine.js';
import { LABEL, ownerLabels, resourceName } from '../docker/labels.js';
import {
  ContainerStartError,
  EndpointExistsError,
  InputPathError,
  InterruptedError,
  ModelArchiveError,
  PortInUseError,
  ServingStartupError,
  UsageError,
} from '../errors.js';
import type { InvokeOptions, InvokeResult } from '../http/client.js';
import { probePort } from '../http/ports.js';
import type { RequestLogEntry } from '../http/proxy-app.js';
import { extractModelArchive } from '../workspace/model-archive.js';
import { resolveJobDeps, type JobDeps } from './deps.js';
import { listEndpoints } from './endpoints.js';
import { createWorkspace } from './job-run.js';
import { ResourceScope } from './resource-scope.js';
import { listModelArchives, MultiModelStore } from './multi-model.js';
import { startServingContainer } from './serving-container.js';
import { ec2Hostname } from './ec2-hostname.js';

const JOB_TYPE = 'serving';
/** The proxy's port when none is asked for; another free one when it is taken. */
export const DEFAULT_PROXY_PORT = 8080;

/** Local choices that are not part of a SageMaker request. */
export interface EndpointOptions {
  /** The proxy's port on 127.0.0.1: 0 for any free port. Default 8080, or a free port when 8080 is taken. */
  port?: number;
  /** One line per proxied request. */
  onRequest?: (entry: RequestLogEntry) => void;
  /**
   * Set SAGEMAKER_BIND_TO_PORT (true) or not (false); by default only for images that declare the
   * accept-bind-to-port label, as a multi-container endpoint would.
   */
  bindToPort?: boolean;
  /**
   * Run the container on a network with no route out (no internet, no other networks), as with
   * EnableNetworkIsolation or a VPC without internet access. Needs a local engine: the proxy reaches
   * the container at its address on that network, which this machine keeps.
   */
  networkIsolation?: boolean;
  /**
   * A multi-model endpoint (CONTRACT §7): the folder of model `.tar.gz` files standing in for
   * ModelDataUrl's prefix; TargetModel names one. The image must carry the multi-models label.
   */
  multiModel?: string;
  /** MultiModelConfig.ModelCacheSetting Disabled: each model is unloaded after its call. */
  modelCacheDisabled?: boolean;
  /** How long an invocation waits for its model to load before ModelNotReadyException (60 s); a local knob for tests. */
  modelLoadWaitMs?: number;
}

export type EndpointInput = EndpointSpec & EndpointOptions;

export interface EndpointInfo {
  name: string;
  /** The InvokeEndpoint URL: `http://127.0.0.1:<port>/endpoints/<name>/invocations`. */
  url: string;
  /** The proxy's port on 127.0.0.1. */
  port: number;
  containerId: string;
  /** The container's own port (8080, or SAGEMAKER_BIND_TO_PORT), published on 127.0.0.1 at this port (0 with network isolation). */
  containerHostPort: number;
  /** Where the proxy reaches the container: `http://<address>:<port>`, for talking to it directly. */
  containerUrl: string;
  /** SAGEMAKER_BIND_TO_PORT, when it was set. */
  bindToPort?: number;
  /** From the start request to the first `GET /ping` that answered 200. */
  readyMs: number;
}

/** A running endpoint. `stop()` is idempotent; `await using` stops it too. */
export interface EndpointHandle extends EndpointInfo, AsyncDisposable {
  invoke(body: Uint8Array | string, opts?: InvokeOptions): Promise<InvokeResult>;
  /** DescribeEndpoint as of now: InService while it serves, Deleting once stopped, Failed after a crash. */
  describe(): Record<string, unknown>;
  /** Settles when the container exits; a crash while serving resolves with its exit code. */
  readonly exited: Promise<{ exitCode: number; tail: string[] }>;
  /**
   * SIGTERM, the grace (30 s), SIGKILL; then removes the container, the proxy and the workspace.
   * Resolves with how the container ended.
   */
  stop(): Promise<StopOutcome>;
}

/** A model: a folder is mounted as it is; a model.tar.gz is extracted into a private workspace first. */
export async function prepareModel(spec: { model?: string; modelUri?: string; name: string; jobType: string }, deps: JobDeps, scope: ResourceScope): Promise<string | undefined> {
  if (spec.model === undefined) return undefined;
  const source = resolve(deps.cwd, spec.model);
  const info = await stat(source).catch((err: unknown) => {
    throw new InputPathError('The model', source, spec.modelUri ? `It was mapped from ${spec.modelUri}.` : 'Give a model folder or a model.tar.gz.', err);
  });
  if (info.isDirectory()) return source;
  if (!/\.tar\.gz$|\.tgz$/.test(source)) throw new ModelArchiveError(source, 'SageMaker only accepts a .tar.gz as ModelDataUrl (or pass the model folder itself).');
  // The container sees the model folder through its bind mount only.
  const root = await createWorkspace(deps, scope, { name: `${spec.name}-${randomBytes(3).toString('hex')}`, jobName: spec.name, jobType: spec.jobType });
  const result = await extractModelArchive(source, join(root, 'model'));
  deps.log.debug(`extracted ${result.files} files (${result.bytes} bytes) of ${source} into ${root}/model`);
  for (const s of result.skipped) deps.log.warn(`model archive entry "${s}" is not a file, folder or link; skipped.`);
  return join(root, 'model');
}

/**
 * Multi-model endpoints (CONTRACT §7) run with `multiModel` (the model store): the image must carry
 * the multi-models label, as SageMaker requires. SAGEMAKER_MULTI_MODEL=true without a store would
 * look InService and then fail every request ("model_name is required"), so it is refused with the
 * way to a real multi-model endpoint; an image that merely declares the capability, served with one
 * model, is served single-model, and told so.
 */
export function multiModelNotices(ref: string, labels: Record<string, string>, environment: Record<string, string>, multiModel = false): string[] {
  const capable = labels[MULTI_MODEL_LABEL] === 'true';
  if (multiModel) {
    if (!capable) {
      throw new UsageError(
        `${ref} does not carry the label ${MULTI_MODEL_LABEL}=true, which SageMaker requires of an image for a multi-model endpoint (CreateModel fails without it).`,
        `Add LABEL ${MULTI_MODEL_LABEL}=true to the Dockerfile if the image implements the /models API, or serve one model with --model.`,
      );
    }
    return [];
  }
  if (environment.SAGEMAKER_MULTI_MODEL?.toLowerCase() === 'true') {
    throw new UsageError(
      'SAGEMAKER_MULTI_MODEL=true asks the image for a multi-model endpoint (models under /opt/ml/models, loaded per TargetModel), but no model store was given: it would report InService and then fail every request.',
      'Serve it as a multi-model endpoint with --multi-model DIR (a folder of model .tar.gz files, as the S3 prefix), which sets SAGEMAKER_MULTI_MODEL=true itself; or drop SAGEMAKER_MULTI_MODEL to serve one model from /opt/ml/model (--model).',
    );
  }
  return capable ? [`${ref} is a multi-model image (${MULTI_MODEL_LABEL}=true): served with --model, it is a single-model endpoint (the model in /opt/ml/model, no TargetModel); --multi-model DIR serves it multi-model.`] : [];
}

/** An endpoint being created: what CreateEndpoint returns to, and DescribeEndpoint and DeleteEndpoint act on. */
export interface EndpointCreation {
  readonly endpointName: string;
  /** DescribeEndpoint as of now: Creating, then InService (or Failed with its reason), Deleting once deleted. */
  describe(): Record<string, unknown>;
  /** Settles as `startEndpoint` does: the running endpoint once InService, else the error that failed it. */
  readonly ready: Promise<EndpointHandle>;
  /** DeleteEndpoint: gives up a start under way, or stops the endpoint; removes everything it created. */
  delete(): Promise<void>;
}

/**
 * Starts an endpoint the way SageMaker starts one (CONTRACT §4): the model in /opt/ml/model, the image
 * run with `serve`, port 8080 (or SAGEMAKER_BIND_TO_PORT) published on 127.0.0.1, ready when
 * `GET /ping` answers 200; then a proxy that answers like the SageMaker runtime. On any failure,
 * everything it created is removed before it rejects.
 */
export async function startEndpoint(input: EndpointInput, depsIn: Partial<JobDeps> = {}): Promise<EndpointHandle> {
  return (await createEndpoint(input, depsIn)).ready;
}

/**
 * CreateEndpoint: checks the request (the spec, the proxy's port, the image, the name not taken) and
 * returns once it is known to be good, the endpoint `Creating`; the model, the container, readiness
 * and the proxy follow, and `ready` settles when the endpoint is InService or has failed.
 */
export async function createEndpoint(input: EndpointInput, depsIn: Partial<JobDeps> = {}): Promise<EndpointCreation> {
  const started = Date.now();
  const deleter = new AbortController();
  const given = resolveJobDeps(depsIn);
  const deps: JobDeps = { ...given, stop: given.stop ? AbortSignal.any([deleter.signal, given.stop]) : deleter.signal };
  const { spec, notices } = resolveEndpointSpecOrThrow(input);
  for (const n of notices) deps.log.warn(n);

  // The checks below are independent of each other.
  const pinged = deps.docker.ping();
  const [proxyPort, image, existing] = await Promise.all([
    // Take the proxy's port first: a taken port should fail before anything starts.
    probePort(input.port ?? DEFAULT_PROXY_PORT).catch(async (err: unknown) => {
      if (input.port === undefined && err instanceof PortInUseError) {
        const free = await probePort(0);
        deps.log.info(`Port ${DEFAULT_PROXY_PORT} is taken; the proxy uses ${free} instead.`);
        return free;
      }
      throw err;
    }),
    pinged.then(() => deps.docker.requireLocalImage(spec.image)),
    pinged.then(() => listEndpoints(deps.docker, spec.endpointName)),
  ]);
  for (const w of checkImage(image, { jobWord: 'serve', entrypointOverridden: false, instanceType: spec.instanceType })) deps.log.warn(w);
  for (const n of multiModelNotices(spec.image, image.labels, spec.environment, input.multiModel !== undefined)) deps.log.warn(n);
  if (input.multiModel !== undefined && spec.model !== undefined) throw new UsageError('Give either --model (a single-model endpoint) or --multi-model (a model store), not both.');
  const store = input.multiModel !== undefined ? resolve(deps.cwd, input.multiModel) : undefined;
  if (store !== undefined && !(await stat(store).then((s) => s.isDirectory(), () => false))) {
    throw new InputPathError('The model store', store, 'Give --multi-model a folder of model .tar.gz files (the S3 prefix ModelDataUrl names).');
  }
  const archives = store !== undefined ? await listModelArchives(store) : [];
  if (store !== undefined) deps.log.info(`Multi-model endpoint: ${archives.length} model${archives.length === 1 ? '' : 's'} in ${store}${archives.length ? `: ${archives.slice(0, 10).join(', ')}${archives.length > 10 ? ', …' : ''}` : ''}.`);
  if (existing[0]) throw new EndpointExistsError(spec.endpointName, `http://127.0.0.1:${existing[0].proxyPort}/endpoints/${spec.endpointName}/invocations`);
  if (input.networkIsolation && deps.docker.remote) {
    throw new UsageError('Network isolation for an endpoint needs a local engine: the proxy reaches the container at its address on an isolated network.');
  }

  // What DescribeEndpoint says: Creating, InService until a delete (Deleting) or a crash (Failed).
  const state: { status: EndpointStatus; failureReason?: string; modifiedAt: number } = { status: 'Creating', modifiedAt: started };
  const enter = (status: EndpointStatus, failureReason?: string) => {
    state.status = status;
    if (failureReason !== undefined) state.failureReason = failureReason;
    state.modifiedAt = Date.now();
  };
  const describe = () =>
    renderDescribeEndpoint({
      endpointName: spec.endpointName,
      region: spec.region,
      account: spec.account,
      variantName: spec.variantName,
      image: spec.image,
      status: state.status,
      createdAt: started,
      lastModifiedAt: state.modifiedAt,
      ...(state.failureReason !== undefined ? { failureReason: state.failureReason } : {}),
    });
  const ready = bringUp(input, spec, image.labels, proxyPort, deps, { started, describe, enter, state });
  ready.then(
    () => {},
    (err: unknown) => {
      if (state.status === 'Creating') enter(deleter.signal.aborted ? 'Deleting' : 'Failed', deleter.signal.aborted ? undefined : ((err as Error)?.message ?? String(err)));
    },
  );
  return {
    endpointName: spec.endpointName,
    describe,
    ready,
    delete: async () => {
      if (state.status === 'Creating') {
        enter('Deleting');
        deleter.abort();
      }
      const endpoint = await ready.catch(() => undefined);
      await endpoint?.stop();
    },
  };
}

interface EndpointState {
  started: number;
  describe: () => Record<string, unknown>;
  enter: (status: EndpointStatus, failureReason?: string) => void;
  state: { status: EndpointStatus };
}

/** Everything after the request was found good: the model, the container until it is ready, the proxy. */
async function bringUp(input: EndpointInput, spec: ResolvedEndpointSpec, imageLabels: Record<string, string>, proxyPort: number, deps: JobDeps, status: EndpointState): Promise<EndpointHandle> {
  const { started } = status;
  // SAGEMAKER_BIND_TO_PORT is honoured only by images that declare it; the port chosen is UNCONFIRMED
  // (CONTRACT §8.1), so it is deliberately not 8080: an image that ignores it is caught here.
  const wantsBind = input.bindToPort ?? imageLabels[BIND_TO_PORT_LABEL] === 'true';
  const bind = wantsBind ? { port: randomInt(10_000, 19_900), safeRange: [20_000, 20_099] as [number, number] } : undefined;
  const containerPort = bind?.port ?? SERVING_PORT;

  const scope = new ResourceScope(deps.log);
  // A stop may come at any moment, also while nothing is listening for it (a Ctrl-C just as the
  // container answers its first ping): every step checks before the next, and before the handle is returned.
  const honourStop = () => {
    if (deps.stop?.aborted) throw new InterruptedError('Stopped while the endpoint was starting.');
  };
  try {
    const modelDir = await prepareModel({ ...spec, name: spec.endpointName, jobType: JOB_TYPE }, deps, scope);
    // A multi-model endpoint: models are extracted on first use into a workspace bound read-only at /opt/ml/models.
    const modelsDir = input.multiModel !== undefined ? await createWorkspace(deps, scope, { name: `${spec.endpointName}-models-${randomBytes(3).toString('hex')}`, jobName: spec.endpointName, jobType: JOB_TYPE }) : undefined;
    honourStop();
    const labels = ownerLabels(deps.owner, JOB_TYPE, spec.endpointName, { [LABEL.proxyPort]: String(proxyPort) });
    let network: string | undefined;
    if (input.networkIsolation) {
      // Internal: no route out. Unlike a training job's isolated network, this machine keeps its
      // address on it, so the proxy can reach the container (and the container this machine).
      network = resourceName(JOB_TYPE, spec.endpointName, `isolated-${randomBytes(3).toString('hex')}`);
      const created = await deps.docker.createNetwork({ name: network, labels, internal: true });
      scope.defer(`network ${network}`, () => created.remove());
    }
    let loadingProxy: Promise<typeof import('../http/proxy-app.js')> | undefined;
    const serving = await startServingContainer(
      {
        name: resourceName(JOB_TYPE, spec.endpointName, randomBytes(3).toString('hex')),
        image: spec.image,
        labels,
        hostname: ec2Hostname(spec.region),
        env: toEnvList({ ...renderServingEnvironment(spec.environment, bind), ...(modelsDir ? { SAGEMAKER_MULTI_MODEL: 'true' } : {}) }),
        ...(modelDir ? { modelDir } : {}),
        ...(modelsDir ? { modelsDir } : {}),
        port: containerPort,
        ...(network ? { network } : {}),
        startupTimeoutSeconds: spec.startupTimeoutSeconds,
        onLine: (line) => deps.onLine?.(line, spec.endpointName),
        ...(bind ? { note: `, SAGEMAKER_BIND_TO_PORT=${bind.port}` } : {}),
        // The proxy's HTTP stack compiles while the engine starts the container.
        onStarting: () => {
          loadingProxy = import('../http/proxy-app.js');
          loadingProxy.catch(() => {});
        },
        checkpoint: honourStop,
      },
      deps,
      scope,
    );
    const readyMs = Date.now() - started;
    const { upstream } = serving;
    deps.log.debug(`the proxy reaches the container at ${upstream.host}:${upstream.port}`);
    const { buildProxyApp } = await (loadingProxy ?? import('../http/proxy-app.js'));
    const app = buildProxyApp({
      endpoint: { endpointName: spec.endpointName, region: spec.region, account: spec.account, variantName: spec.variantName },
      upstream,
      invocationTimeoutMs: spec.invocationTimeoutMs,
      ...(modelsDir
        ? {
            models: new MultiModelStore({
              store: resolve(deps.cwd, input.multiModel!),
              workspace: modelsDir,
              base: `http://${upstream.host}:${upstream.port}`,
              log: deps.log,
              ...(input.modelCacheDisabled ? { cacheDisabled: true } : {}),
              ...(input.modelLoadWaitMs !== undefined ? { loadWaitMs: input.modelLoadWaitMs } : {}),
            }),
          }
        : {}),
      ...(input.onRequest ? { onRequest: input.onRequest } : {}),
    });
    let closing: Promise<void> | undefined;
    const closeProxy = () => (closing ??= app.close());
    scope.defer(`proxy on port ${proxyPort}`, closeProxy);
    await app.listen({ host: '127.0.0.1', port: proxyPort }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EADDRINUSE' ? new PortInUseError(proxyPort, err) : err;
    });

    const proxyBase = `http://127.0.0.1:${proxyPort}`;
    const { exited } = serving;
    let stopping: Promise<StopOutcome> | undefined;
    void exited.then((e) => {
      if (!stopping) status.enter('Failed', `The primary container exited with ${describeExit(e.exitCode)} while serving.`);
    }, () => undefined);
    const handle: EndpointHandle = {
      name: spec.endpointName,
      url: `${proxyBase}/endpoints/${spec.endpointName}/invocations`,
      port: proxyPort,
      containerId: serving.container.id,
      containerHostPort: serving.hostPort,
      containerUrl: `http://${upstream.host}:${upstream.port}`,
      ...(bind ? { bindToPort: bind.port } : {}),
      readyMs,
      exited,
      describe: status.describe,
      invoke: async (body, opts) => (await import('../http/client.js')).invokeEndpoint(proxyBase, spec.endpointName, body, opts),
      stop: () => {
        if (!stopping && status.state.status === 'InService') status.enter('Deleting');
        stopping ??= (async () => {
          await closeProxy();
          const outcome = await serving.stop(spec.stopGraceSeconds * 1000);
          await scope.dispose();
          return outcome;
        })();
        return stopping;
      },
      [Symbol.asyncDispose]: async () => void (await handle.stop()),
    };
    honourStop();
    status.enter('InService');
    deps.log.info(`Endpoint ${spec.endpointName} is InService (ready in ${(readyMs / 1000).toFixed(1)}s): ${handle.url}`);
    return handle;
  } catch (err) {
    // Removing the container (forced) also ends it.
    await scope.dispose();
    if (err instanceof ContainerStartError) {
      throw new ServingStartupError(`The container could not start: ${err.detail}`, [err.detail], 'SageMaker runs `docker run <image> serve`: give the image an exec-form ENTRYPOINT, or put an executable named `serve` on its PATH.');
    }
    throw err;
  }
}
