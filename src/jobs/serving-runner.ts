import { randomBytes, randomInt } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { renderDescribeEndpoint, type EndpointStatus } from '../contract/endpoint-status.js';
import { describeExit } from '../contract/check-advice.js';
import { checkImage } from '../contract/image-checks.js';
import { BIND_TO_PORT_LABEL, missingBindToPortLabel, MULTI_MODEL_LABEL, renderServingEnvironment, SERVING_PORT } from '../contract/serving.js';
import { resolveEndpointSpecOrThrow, type EndpointSpec, type ResolvedContainer, type ResolvedEndpointSpec, type ResolvedVariant } from '../contract/serving-spec.js';
import { toEnvList } from '../contract/training-env.js';
import type { ContainerInput, ImageInfo, PortPair, StopOutcome } from '../docker/engine.js';
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
import { probePort, reservePort, type PortReservation } from '../http/ports.js';
import type { AsyncRoute } from '../http/async-invocation.js';
import type { EndpointRegistry } from '../http/endpoint-registry.js';
import type { RequestLogEntry } from '../http/proxy-app.js';
import type { TraceRecord } from '../http/trace.js';
import { extractModelArchive } from '../workspace/model-archive.js';
import { resolveJobDeps, type JobDeps } from './deps.js';
import { listEndpoints } from './endpoints.js';
import { createWorkspace, requirePlatform } from './job-run.js';
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
  /** `--trace`: each exchange of the endpoint's own proxy, headers and the first bytes of the bodies. */
  onTrace?: (record: TraceRecord) => void;
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
   * Serve through a runtime that is already listening (a local SageMaker's, which fronts every
   * endpoint it runs on its own port) instead of a proxy of the endpoint's own.
   */
  runtime?: { registry: EndpointRegistry; port: number; /** UpdateEndpoint: take over the name's route once ready. */ replace?: boolean };
  /** An asynchronous endpoint's InvokeEndpointAsync route (with `runtime`). */
  asyncRoute?: AsyncRoute;
  /** How long an invocation waits for its model to load before ModelNotReadyException (60 s); a local knob for tests. */
  modelLoadWaitMs?: number;
  /** Escape hatch: /dev/shm size in bytes (the engine's default otherwise). */
  shmSizeBytes?: number;
  /** Escape hatch: GPUs to request from the engine (`all`, or a count). */
  gpus?: number | 'all';
  /** Escape hatch: the platform every image must be built for (`linux/amd64`). */
  platform?: string;
  /** Escape hatch: more ports of the first container on 127.0.0.1 (a debugger's, say). */
  publish?: PortPair[];
  /** Keep the containers (stopped, not removed) and the workspaces after the endpoint stops, for debugging. */
  keep?: boolean;
}

export type EndpointInput = EndpointSpec & EndpointOptions;

/** One running container of an endpoint: which variant, instance and container of its model it is, and where it listens. */
export interface EndpointContainerInfo {
  variantName: string;
  /** 1-based, per variant. */
  instance: number;
  /** `primary`, or the ContainerHostname in a multi-container model. */
  hostname: string;
  image: string;
  containerId: string;
  containerHostPort: number;
  containerUrl: string;
  bindToPort?: number;
}

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
  /** From the start request to the first `GET /ping` that answered 200 (of every container). */
  readyMs: number;
  /** Every container, in variant, instance and model order; the fields above are the first one's. */
  containers: EndpointContainerInfo[];
}

/** A running endpoint. `stop()` is idempotent; `await using` stops it too. */
export interface EndpointHandle extends EndpointInfo, AsyncDisposable {
  invoke(body: Uint8Array | string, opts?: InvokeOptions): Promise<InvokeResult>;
  /** DescribeEndpoint as of now: InService while it serves, Deleting once stopped, Failed after a crash. */
  describe(): Record<string, unknown>;
  /** Settles when a container exits; a crash while serving resolves with its exit code (and which container). */
  readonly exited: Promise<{ exitCode: number; tail: string[]; container: string }>;
  /**
   * SIGTERM, the grace (30 s), SIGKILL; then removes the container, the proxy and the workspace.
   * Resolves with how the container ended.
   */
  stop(): Promise<StopOutcome>;
}

/** A model: a folder is mounted as it is; a model.tar.gz is extracted into a private workspace first. */
export async function prepareModel(spec: { model?: string; modelUri?: string; name: string; jobType: string; keep?: boolean }, deps: JobDeps, scope: ResourceScope): Promise<string | undefined> {
  if (spec.model === undefined) return undefined;
  const source = resolve(deps.cwd, spec.model);
  const info = await stat(source).catch((err: unknown) => {
    throw new InputPathError('The model', source, spec.modelUri ? `It was mapped from ${spec.modelUri}.` : 'Give a model folder or a model.tar.gz.', err);
  });
  if (info.isDirectory()) return source;
  if (!/\.tar\.gz$|\.tgz$/.test(source)) throw new ModelArchiveError(source, 'SageMaker only accepts a .tar.gz as ModelDataUrl (or pass the model folder itself).');
  // The container sees the model folder through its bind mount only.
  const root = await createWorkspace(deps, scope, { name: `${spec.name}-${randomBytes(3).toString('hex')}`, jobName: spec.name, jobType: spec.jobType, ...(spec.keep ? { keep: true } : {}) });
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
 * What SageMaker's CreateModel and CreateEndpoint refuse of an endpoint's images, before anything
 * starts: a multi-model variant's image without the multi-models label, a multi-container model's
 * images without the bind-to-port label (CONTRACT §7.1, §8.1). Returns the notices to print.
 */
export function imageNotices(variants: readonly ResolvedVariant[], images: ReadonlyMap<string, ImageInfo>): string[] {
  const notices: string[] = [];
  for (const v of variants) {
    if (v.mode === 'Single') {
      const c = v.containers[0]!;
      notices.push(...multiModelNotices(c.image, images.get(c.image)!.labels, c.environment, v.multiModel !== undefined));
      if (v.multiModel !== undefined && c.model !== undefined) throw new UsageError('Give either --model (a single-model endpoint) or --multi-model (a model store), not both.');
      continue;
    }
    requireBindToPortLabels(v.containers, images, v.modelName ? `model ${v.modelName}` : `variant ${v.variantName}`);
  }
  return [...new Set(notices)];
}

/** A multi-container model's images must each declare SAGEMAKER_BIND_TO_PORT support, or CreateModel refuses them (CONTRACT §8.1). */
export function requireBindToPortLabels(containers: readonly ResolvedContainer[], images: ReadonlyMap<string, ImageInfo>, owner: string): void {
  for (const c of containers) {
    if (images.get(c.image)!.labels[BIND_TO_PORT_LABEL] !== 'true') {
      throw new UsageError(
        `${missingBindToPortLabel(c.image)} Container ${c.hostname} of ${owner} runs in a multi-container model, where SageMaker tells each container its port in SAGEMAKER_BIND_TO_PORT and refuses images that do not declare they honour it.`,
        `Add LABEL ${BIND_TO_PORT_LABEL}=true to the Dockerfile of ${c.image}, and make its server listen on $SAGEMAKER_BIND_TO_PORT (8080 when unset).`,
      );
    }
  }
}

/**
 * CreateEndpoint: checks the request (the spec, the proxy's port, the images, the name not taken) and
 * returns once it is known to be good, the endpoint `Creating`; the models, the containers, readiness
 * and the proxy follow, and `ready` settles when the endpoint is InService or has failed.
 */
export async function createEndpoint(input: EndpointInput, depsIn: Partial<JobDeps> = {}): Promise<EndpointCreation> {
  const started = Date.now();
  const deleter = new AbortController();
  const given = resolveJobDeps(depsIn);
  const deps: JobDeps = { ...given, stop: given.stop ? AbortSignal.any([deleter.signal, given.stop]) : deleter.signal };
  const { spec, notices } = resolveEndpointSpecOrThrow(input);
  for (const n of notices) deps.log.warn(n);
  const distinctImages = [...new Set(spec.variants.flatMap((v) => v.containers.map((c) => c.image)))];

  // The checks below are independent of each other.
  const pinged = deps.docker.ping();
  const [proxyPort, imageInfos, existing] = await Promise.all([
    // Take the proxy's port first: a taken port should fail before anything starts.
    input.runtime ? Promise.resolve(input.runtime.port) : proxyPortFor(input.port, deps.log),
    pinged.then(() => Promise.all(distinctImages.map((ref) => deps.docker.requireLocalImage(ref)))),
    // A runtime of its own knows its endpoints; it asks before it creates one.
    input.runtime ? Promise.resolve([]) : pinged.then(() => listEndpoints(deps.docker, spec.endpointName)),
  ]);
  const images = new Map(distinctImages.map((ref, i) => [ref, imageInfos[i]!]));
  for (const [ref, info] of images) requirePlatform(info, ref, input.platform);
  await checkPublish(input, deps);
  for (const v of spec.variants) {
    for (const ref of new Set(v.containers.map((c) => c.image))) {
      for (const w of checkImage(images.get(ref)!, { jobWord: 'serve', entrypointOverridden: false, instanceType: v.instanceType })) deps.log.warn(w);
    }
  }
  for (const n of imageNotices(spec.variants, images)) deps.log.warn(n);
  for (const v of spec.variants) {
    if (!v.multiModel) continue;
    const store = resolve(deps.cwd, v.multiModel.store);
    if (!(await stat(store).then((s) => s.isDirectory(), () => false))) {
      throw new InputPathError('The model store', store, 'Give --multi-model a folder of model .tar.gz files (the S3 prefix ModelDataUrl names).');
    }
    const archives = await listModelArchives(store);
    deps.log.info(`Multi-model endpoint${spec.variants.length > 1 ? ` (variant ${v.variantName})` : ''}: ${archives.length} model${archives.length === 1 ? '' : 's'} in ${store}${archives.length ? `: ${archives.slice(0, 10).join(', ')}${archives.length > 10 ? ', …' : ''}` : ''}.`);
  }
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
      variants: spec.variants.map((v) => ({ variantName: v.variantName, images: v.containers.map((c) => c.image), weight: v.weight, instanceCount: v.instanceCount })),
      status: state.status,
      createdAt: started,
      lastModifiedAt: state.modifiedAt,
      ...(state.failureReason !== undefined ? { failureReason: state.failureReason } : {}),
    });
  // Held from here until the proxy listens on it, after the container is ready: a port merely probed
  // could be taken meanwhile (by a published port of another container, say).
  const reservation = input.runtime ? undefined : await reservePort(proxyPort);
  const ready = bringUp(input, spec, images, proxyPort, deps, { started, describe, enter, state }, reservation);
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

/** The proxy's port: the one asked for (0: any free one), else 8080, else a free one when 8080 is taken. */
export function proxyPortFor(port: number | undefined, log: JobDeps['log']): Promise<number> {
  return probePort(port ?? DEFAULT_PROXY_PORT).catch(async (err: unknown) => {
    if (port === undefined && err instanceof PortInUseError) {
      const free = await probePort(0);
      log.info(`Port ${DEFAULT_PROXY_PORT} is taken; the proxy uses ${free} instead.`);
      return free;
    }
    throw err;
  });
}

/** `--shm-size` and `--gpus`: the only limits an endpoint's containers get (none of the instance type's, as before). */
function escapeResources(input: EndpointInput): ContainerInput['resources'] | undefined {
  if (input.shmSizeBytes === undefined && input.gpus === undefined) return undefined;
  return { ...(input.shmSizeBytes !== undefined ? { shmBytes: input.shmSizeBytes } : {}), ...(input.gpus !== undefined ? { gpus: input.gpus === 'all' ? -1 : input.gpus } : {}) };
}

/** `--publish`: ports for the first container, free on this machine, and never on an internal network. */
async function checkPublish(input: EndpointInput, deps: JobDeps): Promise<void> {
  if (!input.publish?.length) return;
  if (input.networkIsolation) throw new UsageError('--publish does not apply with network isolation: the container runs on a network with no published ports.');
  if (deps.docker.remote) throw new UsageError(`--publish: ports are published on the engine's machine (${deps.docker.endpoint}), not on 127.0.0.1 here.`, 'Run sm-local on the engine\'s machine to reach a debugger port, or forward the port yourself (ssh -L).');
  for (const { hostPort } of input.publish) {
    if (hostPort === input.port) throw new UsageError(`--publish ${hostPort}:…: port ${hostPort} is the proxy's own (--port).`);
    await probePort(hostPort).catch((err: unknown) => {
      throw err instanceof PortInUseError ? new PortInUseError(hostPort, err, 'Pick another host port for --publish HOST:CONTAINER.') : err;
    });
  }
  deps.log.debug(`publishing ${input.publish.map((p) => `127.0.0.1:${p.hostPort}->${p.containerPort}`).join(', ')} of the first container`);
}

interface EndpointState {
  started: number;
  describe: () => Record<string, unknown>;
  enter: (status: EndpointStatus, failureReason?: string) => void;
  state: { status: EndpointStatus };
}

/** One container to start: which variant, instance and model container it is, and how it is told its port. */
interface ContainerPlan {
  variant: ResolvedVariant;
  /** 0-based. */
  instance: number;
  container: ResolvedContainer;
  modelDir?: string;
  modelsDir?: string;
  bind?: { port: number; safeRange: [number, number] };
  hostname: string;
  /** How it is named in the log and in messages: `primary`, or `<variant>/<instance>/<hostname>` as SageMaker's log streams name pipeline containers. */
  label: string;
}

/** How many containers each port block of a multi-container instance may hold (CONTRACT §8.1: at most 15). */
const PORT_BLOCK = 16;

/**
 * The ports of one instance's containers. Which ports SageMaker assigns is UNCONFIRMED (CONTRACT
 * §8.1), so none is 8080: an image that ignores SAGEMAKER_BIND_TO_PORT is caught. Each container of
 * a multi-container instance gets its own port and its own SAGEMAKER_SAFE_PORT_RANGE, as containers
 * that share an instance must.
 */
export function instancePorts(count: number): { port: number; safeRange: [number, number] }[] {
  const base = randomInt(10_000, 19_900 - PORT_BLOCK);
  return Array.from({ length: count }, (_, i) => ({ port: base + i, safeRange: [20_000 + 100 * i, 20_000 + 100 * i + 99] as [number, number] }));
}

/** The endpoint's containers, one per container of each instance of each variant. */
async function planContainers(input: EndpointInput, spec: ResolvedEndpointSpec, images: ReadonlyMap<string, ImageInfo>, deps: JobDeps, scope: ResourceScope): Promise<ContainerPlan[]> {
  const single = spec.variants.length === 1 && spec.variants[0]!.instanceCount === 1 && spec.variants[0]!.containers.length === 1;
  const plans: ContainerPlan[] = [];
  for (const variant of spec.variants) {
    // A model's data is extracted once and bound read-only into every instance.
    const modelDirs = await Promise.all(variant.containers.map((c) => prepareModel({ ...c, name: spec.endpointName, jobType: JOB_TYPE, ...(input.keep ? { keep: true } : {}) }, deps, scope)));
    for (let instance = 0; instance < variant.instanceCount; instance++) {
      const multi = variant.containers.length > 1;
      const ports = instancePorts(variant.containers.length);
      // A multi-model instance loads its own models: they are extracted on first use into its own workspace, bound read-only at /opt/ml/models.
      const modelsDir = variant.multiModel ? await createWorkspace(deps, scope, { name: `${spec.endpointName}-models-${randomBytes(3).toString('hex')}`, jobName: spec.endpointName, jobType: JOB_TYPE, ...(input.keep ? { keep: true } : {}) }) : undefined;
      variant.containers.forEach((container, i) => {
        // SAGEMAKER_BIND_TO_PORT is set in multi-container models; a single container gets it only when its image declares it (or when asked).
        const wantsBind = multi || (input.bindToPort ?? images.get(container.image)!.labels[BIND_TO_PORT_LABEL] === 'true');
        const modelDir = modelDirs[i];
        plans.push({
          variant,
          instance,
          container,
          ...(modelDir ? { modelDir } : {}),
          ...(modelsDir ? { modelsDir } : {}),
          ...(wantsBind ? { bind: ports[i]! } : {}),
          // In a multi-container model the container's DNS name is its ContainerHostname (CONTRACT §4.1).
          hostname: multi ? container.hostname : ec2Hostname(spec.region),
          label: single ? container.hostname : `${variant.variantName}/${instance + 1}/${container.hostname}`,
        });
      });
    }
  }
  return plans;
}

/** A start-up failure of one container of several, named as SageMaker names it ("… did not pass the ping health check"). */
function namedStartupError(plan: ContainerPlan, err: ServingStartupError): ServingStartupError {
  return new ServingStartupError(`Container ${plan.label} (${plan.container.image}) did not pass the ping health check: ${err.message}`, err.logTail, err.hint, err.observation);
}

function containerStartError(err: ContainerStartError): ServingStartupError {
  return new ServingStartupError(`The container could not start: ${err.detail}`, [err.detail], 'SageMaker runs `docker run <image> serve`: give the image an exec-form ENTRYPOINT, or put an executable named `serve` on its PATH.');
}

/** Everything after the request was found good: the models, the containers until every one is ready, the proxy. */
async function bringUp(
  input: EndpointInput,
  spec: ResolvedEndpointSpec,
  images: ReadonlyMap<string, ImageInfo>,
  proxyPort: number,
  deps: JobDeps,
  status: EndpointState,
  reservation: PortReservation | undefined,
): Promise<EndpointHandle> {
  const { started } = status;
  const scope = new ResourceScope(deps.log);
  if (reservation) scope.defer(`the reservation of port ${proxyPort}`, () => reservation.release());
  // A stop may come at any moment, also while nothing is listening for it (a Ctrl-C just as the
  // container answers its first ping): every step checks before the next, and before the handle is returned.
  const honourStop = () => {
    if (deps.stop?.aborted) throw new InterruptedError('Stopped while the endpoint was starting.');
  };
  try {
    const plans = await planContainers(input, spec, images, deps, scope);
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
    const resources = escapeResources(input);
    let loadingProxy: Promise<typeof import('../http/proxy-app.js')> | undefined;
    // The containers start side by side; the first to fail stops the others' wait for readiness.
    const failFast = new AbortController();
    const several = plans.length > 1;
    const settled = await Promise.allSettled(
      plans.map((plan, i) =>
        startServingContainer(
          {
            name: resourceName(JOB_TYPE, spec.endpointName, several ? `${plan.label.replace(/\//g, '-')}-${randomBytes(3).toString('hex')}` : randomBytes(3).toString('hex')),
            image: plan.container.image,
            labels: { ...labels, [LABEL.role]: plan.label },
            hostname: plan.hostname,
            env: toEnvList({ ...renderServingEnvironment(plan.container.environment, plan.bind), ...(plan.modelsDir ? { SAGEMAKER_MULTI_MODEL: 'true' } : {}) }),
            ...(plan.modelDir ? { modelDir: plan.modelDir } : {}),
            ...(plan.modelsDir ? { modelsDir: plan.modelsDir } : {}),
            port: plan.bind?.port ?? SERVING_PORT,
            ...(network ? { network } : {}),
            startupTimeoutSeconds: plan.variant.startupTimeoutSeconds,
            ...(resources ? { resources } : {}),
            ...(i === 0 && input.publish?.length ? { publish: input.publish } : {}),
            ...(input.keep ? { keep: true } : {}),
            onLine: (line) => deps.onLine?.(line, several ? `${spec.endpointName}/${plan.label}` : spec.endpointName),
            note: `${several ? ` as ${plan.label}` : ''}${plan.bind ? `, SAGEMAKER_BIND_TO_PORT=${plan.bind.port}` : ''}`,
            // The proxy's HTTP stack compiles while the engine starts the container.
            ...(i === 0
              ? {
                  onStarting: () => {
                    loadingProxy = import('../http/proxy-app.js');
                    loadingProxy.catch(() => {});
                  },
                }
              : {}),
            checkpoint: honourStop,
          },
          { ...deps, stop: AbortSignal.any([deps.stop!, failFast.signal]) },
          scope,
        ).catch((err: unknown) => {
          failFast.abort();
          if (err instanceof ContainerStartError) err = containerStartError(err);
          throw several && err instanceof ServingStartupError ? namedStartupError(plan, err) : err;
        }),
      ),
    );
    honourStop();
    // The first container that failed for a reason of its own, not because another one did.
    const failures = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length) throw failures.find((e) => !(e instanceof InterruptedError)) ?? failures[0];
    const servings = settled.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof startServingContainer>>>).value);
    const readyMs = Date.now() - started;
    const at = (plan: ContainerPlan) => servings[plans.indexOf(plan)]!;
    const base = (plan: ContainerPlan) => `http://${at(plan).upstream.host}:${at(plan).upstream.port}`;
    const variants = spec.variants.map((variant) => {
      const mine = plans.filter((pl) => pl.variant === variant);
      return {
        variantName: variant.variantName,
        weight: variant.weight,
        mode: variant.mode,
        instances: Array.from({ length: variant.instanceCount }, (_, instance) => {
          const containers = mine.filter((pl) => pl.instance === instance);
          const first = containers[0]!;
          return {
            containers: containers.map((pl) => ({ name: pl.container.hostname, upstream: at(pl).upstream })),
            ...(variant.multiModel && first.modelsDir
              ? {
                  models: new MultiModelStore({
                    store: resolve(deps.cwd, variant.multiModel.store),
                    workspace: first.modelsDir,
                    base: base(first),
                    log: deps.log,
                    ...(variant.multiModel.cacheDisabled ? { cacheDisabled: true } : {}),
                    ...(input.modelLoadWaitMs !== undefined ? { loadWaitMs: input.modelLoadWaitMs } : {}),
                  }),
                }
              : {}),
          };
        }),
      };
    });
    for (const plan of plans) deps.log.debug(`the proxy reaches ${plan.label} at ${base(plan)}`);
    const target = {
      endpoint: { endpointName: spec.endpointName, region: spec.region, account: spec.account, variantName: spec.variantName },
      variants,
      invocationTimeoutMs: spec.invocationTimeoutMs,
      ...(input.asyncRoute ? { async: input.asyncRoute } : {}),
    };
    let closing: Promise<void> | undefined;
    let closeProxy: () => Promise<void>;
    if (input.runtime) {
      // Routed by the runtime that fronts it, from now until it stops.
      const unregister = input.runtime.registry.add(target, { replace: input.runtime.replace === true });
      closeProxy = () => (closing ??= unregister());
      scope.defer(`route to ${spec.endpointName}`, closeProxy);
    } else {
      const { buildProxyApp } = await (loadingProxy ?? import('../http/proxy-app.js'));
      const app = buildProxyApp({ ...target, ...(input.onRequest ? { onRequest: input.onRequest } : {}), ...(input.onTrace ? { trace: input.onTrace } : {}) });
      closeProxy = () => (closing ??= app.close());
      scope.defer(`proxy on port ${proxyPort}`, closeProxy);
      await app.ready();
      await reservation?.release();
      await app.listen({ host: '127.0.0.1', port: proxyPort }).catch((err: NodeJS.ErrnoException) => {
        throw err.code === 'EADDRINUSE' ? new PortInUseError(proxyPort, err) : err;
      });
    }

    const proxyBase = `http://127.0.0.1:${proxyPort}`;
    // The first container to exit ends the endpoint's service.
    const exited = Promise.race(plans.map((plan) => at(plan).exited.then((e) => ({ ...e, container: plan.label }))));
    exited.catch(() => {});
    let stopping: Promise<StopOutcome> | undefined;
    void exited.then((e) => {
      if (!stopping) status.enter('Failed', `The ${e.container} container exited with ${describeExit(e.exitCode)} while serving.`);
    }, () => undefined);
    const containers: EndpointContainerInfo[] = plans.map((plan) => ({
      variantName: plan.variant.variantName,
      instance: plan.instance + 1,
      hostname: plan.container.hostname,
      image: plan.container.image,
      containerId: at(plan).container.id,
      containerHostPort: at(plan).hostPort,
      containerUrl: base(plan),
      ...(plan.bind ? { bindToPort: plan.bind.port } : {}),
    }));
    const first = containers[0]!;
    const handle: EndpointHandle = {
      name: spec.endpointName,
      url: `${proxyBase}/endpoints/${spec.endpointName}/invocations`,
      port: proxyPort,
      containerId: first.containerId,
      containerHostPort: first.containerHostPort,
      containerUrl: first.containerUrl,
      ...(first.bindToPort !== undefined ? { bindToPort: first.bindToPort } : {}),
      readyMs,
      containers,
      exited,
      describe: status.describe,
      invoke: async (body, opts) => (await import('../http/client.js')).invokeEndpoint(proxyBase, spec.endpointName, body, opts),
      stop: () => {
        if (!stopping && status.state.status === 'InService') status.enter('Deleting');
        stopping ??= (async () => {
          await closeProxy();
          const outcomes = await Promise.all(servings.map((sv) => sv.stop(spec.stopGraceSeconds * 1000)));
          await scope.dispose();
          return { ...outcomes[0]!, killed: outcomes.some((o) => o.killed), stopMs: Math.max(...outcomes.map((o) => o.stopMs)) };
        })();
        return stopping;
      },
      [Symbol.asyncDispose]: async () => void (await handle.stop()),
    };
    honourStop();
    status.enter('InService');
    deps.log.info(`Endpoint ${spec.endpointName} is InService (ready in ${(readyMs / 1000).toFixed(1)}s${several ? `, ${plans.length} containers` : ''}): ${handle.url}`);
    return handle;
  } catch (err) {
    // Removing the containers (forced) also ends them.
    await scope.dispose();
    if (err instanceof ContainerStartError) throw containerStartError(err);
    throw err;
  }
}
