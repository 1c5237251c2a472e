import { InvalidSpecError } from '../errors.js';
import { resolveIdentity, resolveStopGrace } from './identity.js';
import { INSTANCE_TYPE_PATTERN } from './limits.js';
import { Problems } from './problems.js';
import {
  DEFAULT_VARIANT_NAME,
  ENDPOINT_NAME,
  INVOCATION_TIMEOUT_MS,
  MODEL_ENVIRONMENT,
  PRIMARY_CONTAINER,
  SERVING_STOP_GRACE_SECONDS,
  STARTUP_TIMEOUT_SECONDS,
} from './serving.js';

/** How a multi-container model's containers are invoked (CreateModel.InferenceExecutionConfig.Mode, CONTRACT §8). */
export type ExecutionMode = 'Serial' | 'Direct';

/** One ContainerDefinition of a multi-container model (CreateModel.Containers[i]). */
export interface ContainerSpec {
  image: string;
  /** ContainerHostname: set on every container or none; required for Direct. */
  hostname?: string;
  /** Local model for this container's /opt/ml/model: a folder or a `.tar.gz`. */
  model?: string;
  modelUri?: string;
  environment?: Record<string, string>;
}

/**
 * A model as CreateModel describes one: a single container (the flat fields: PrimaryContainer), or
 * 2–15 `containers` run together on every instance, in series or invoked directly.
 */
export interface ModelSpec {
  image?: string;
  /** Local model: a folder (mounted as it is) or a `.tar.gz` (extracted first), as ModelDataUrl names it. */
  model?: string;
  /** The URI the request named, when the model path was mapped from one (`s3://…`). */
  modelUri?: string;
  /** ContainerDefinition.Environment. */
  environment?: Record<string, string>;
  /** CreateModel.Containers: a multi-container model (replaces image, model and environment). */
  containers?: ContainerSpec[];
  /** InferenceExecutionConfig.Mode of a multi-container model; Serial by default. */
  executionMode?: ExecutionMode;
  /**
   * A multi-model endpoint (CONTRACT §7): the folder of model `.tar.gz` files standing in for
   * ModelDataUrl's prefix; TargetModel names one. The image must carry the multi-models label.
   */
  multiModel?: string;
  /** MultiModelConfig.ModelCacheSetting Disabled: each model is unloaded after its call. */
  modelCacheDisabled?: boolean;
  /** CreateModel.ModelName, when the model came from a request. */
  modelName?: string;
}

/** One of CreateEndpointConfig's ProductionVariants, with its model. */
export interface VariantSpec {
  variantName: string;
  model: ModelSpec;
  /** InitialInstanceCount: that many copies of the model's containers, taken in turn. Default 1. */
  instanceCount?: number;
  /** InitialVariantWeight; default 1.0. */
  weight?: number;
  instanceType?: string;
  startupTimeoutSeconds?: number;
}

/**
 * An endpoint as a user describes it: one model (CreateModel's PrimaryContainer or Containers)
 * behind one production variant, or `variants` (CreateEndpointConfig). Loose: everything but the
 * image is optional.
 */
export interface EndpointSpec extends ModelSpec {
  image: string;
  /** EndpointName; default: the image's repository name. */
  endpointName?: string;
  instanceType?: string;
  variantName?: string;
  /** InitialInstanceCount of the single variant; default 1. */
  instanceCount?: number;
  /** ContainerStartupHealthCheckTimeoutInSeconds; default 240 (the documented 4 minutes). */
  startupTimeoutSeconds?: number;
  /** The InvokeEndpoint deadline; SageMaker's is 60 s. A local knob for tests; it may only shorten it. */
  invocationTimeoutMs?: number;
  /** Seconds between SIGTERM and SIGKILL at stop; SageMaker's is 30. */
  stopGraceSeconds?: number;
  region?: string;
  account?: string;
  /** CreateEndpointConfig.ProductionVariants: replaces the single variant (the model fields, variantName, instanceType, instanceCount). */
  variants?: VariantSpec[];
}

export interface ResolvedContainer {
  /** ContainerHostname; `primary` for a single-container model (the name the service's messages use). */
  hostname: string;
  image: string;
  model?: string;
  modelUri?: string;
  environment: Readonly<Record<string, string>>;
}

export interface ResolvedVariant {
  variantName: string;
  weight: number;
  instanceCount: number;
  instanceType: string;
  startupTimeoutSeconds: number;
  /** Single: one container; Serial and Direct: a multi-container model. */
  mode: 'Single' | ExecutionMode;
  containers: ResolvedContainer[];
  multiModel?: { store: string; cacheDisabled: boolean };
  modelName?: string;
}

export interface ResolvedEndpointSpec {
  /** The first variant's first container: what a single-container endpoint is. */
  image: string;
  endpointName: string;
  model?: string;
  modelUri?: string;
  environment: Readonly<Record<string, string>>;
  instanceType: string;
  variantName: string;
  startupTimeoutSeconds: number;
  invocationTimeoutMs: number;
  stopGraceSeconds: number;
  region: string;
  account: string;
  variants: ResolvedVariant[];
}

/** SageMaker hosting examples default to a small general-purpose instance. */
export const DEFAULT_SERVING_INSTANCE_TYPE = 'ml.m5.large';

/** The image's repository name, made into a valid endpoint name (`my_model:1` → `my-model`). */
export function defaultEndpointName(image: string): string {
  const repo = (image.split('@')[0] ?? image).split('/').pop()!.split(':')[0] ?? image;
  const name = repo.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return (name || 'endpoint').slice(0, ENDPOINT_NAME.max).replace(/-+$/, '');
}

/** CreateModel.Containers: at most 15 (CONTRACT §8.1); CreateEndpointConfig: 1–10 variants (§10.3). */
export const MAX_MODEL_CONTAINERS = 15;
export const MAX_PRODUCTION_VARIANTS = 10;

/**
 * The name of a pipeline container whose ContainerHostname is unset. The service assigns names from
 * the position, and which is UNCONFIRMED (CONTRACT §8.1): `container-<n>`, counted from 1.
 */
export function positionalHostname(index: number): string {
  return `container-${index + 1}`;
}

function checkEnvironment(p: Problems, at: string, environment: Record<string, string>): void {
  const entries = Object.entries(environment);
  if (entries.length > MODEL_ENVIRONMENT.maxEntries) p.add(`${at}.Environment`, `has ${entries.length} entries; at most ${MODEL_ENVIRONMENT.maxEntries} are allowed.`);
  let total = 0;
  for (const [key, value] of entries) {
    p.checkString(`${at}.Environment key "${key}"`, key, { min: 1, max: MODEL_ENVIRONMENT.keyMax, pattern: /^[a-zA-Z_][a-zA-Z0-9_]*$/ });
    if (typeof value !== 'string') p.add(`${at}.Environment.${key}`, `must be a string (got ${typeof value}).`);
    else if (value.length > MODEL_ENVIRONMENT.valueMax) p.add(`${at}.Environment.${key}`, `must be at most ${MODEL_ENVIRONMENT.valueMax} characters long (got ${value.length}).`);
    total += key.length + (typeof value === 'string' ? value.length : 0);
  }
  if (total > MODEL_ENVIRONMENT.totalMax) p.add(`${at}.Environment`, `keys and values add up to ${total} characters; at most ${MODEL_ENVIRONMENT.totalMax} (32 KB) are allowed.`);
}

function checkImageName(p: Problems, at: string, image: string): void {
  p.checkString(`${at}.Image`, image, { min: 1, max: 255, pattern: /^\S+$/, patternText: 'no whitespace' });
}

/** A model's containers as SageMaker runs them: one (`primary`), or 2–15 with their hostnames (CONTRACT §8.1, §8.3). */
export function resolveModel(p: Problems, model: ModelSpec, where: string): Pick<ResolvedVariant, 'mode' | 'containers' | 'multiModel' | 'modelName'> {
  const named = (path: string) => (where ? `${where} ${path}` : path);
  const extra = { ...(model.modelName !== undefined ? { modelName: model.modelName } : {}) };
  const multiModel = model.multiModel !== undefined ? { multiModel: { store: model.multiModel, cacheDisabled: model.modelCacheDisabled === true } } : {};
  const list = model.containers ?? [];
  if (list.length <= 1) {
    const one = list[0];
    const image = one?.image ?? model.image ?? '';
    const at = named(one ? 'Containers[0]' : 'PrimaryContainer');
    checkImageName(p, at, image);
    const environment = { ...(one?.environment ?? model.environment ?? {}) };
    checkEnvironment(p, at, environment);
    const modelPath = one ? one.model : model.model;
    const modelUri = one ? one.modelUri : model.modelUri;
    if (model.executionMode === 'Direct') p.notice(`${named('InferenceExecutionConfig')}: Direct only matters for a model of several containers; one container is invoked as it is.`);
    return {
      mode: 'Single',
      containers: [{ hostname: PRIMARY_CONTAINER, image, environment, ...(modelPath !== undefined ? { model: modelPath } : {}), ...(modelUri !== undefined ? { modelUri } : {}) }],
      ...multiModel,
      ...extra,
    };
  }
  const mode = model.executionMode ?? 'Serial';
  if (list.length > MAX_MODEL_CONTAINERS) p.add(named('Containers'), `has ${list.length} containers; a model may have at most ${MAX_MODEL_CONTAINERS}.`);
  // sm-local's scope, not the service's rule: a multi-model store is served by a single-container model.
  if (model.multiModel !== undefined) p.add(named('Containers'), 'a multi-model store (Mode MultiModel, --multi-model) is served by a single container in sm-local; give one container.');
  const withName = list.filter((c) => c.hostname !== undefined).length;
  if (withName > 0 && withName < list.length) p.add(named('Containers'), `ContainerHostname is set on ${withName} of ${list.length} containers: set it on every container or on none.`);
  if (mode === 'Direct' && withName < list.length) p.add(named('Containers'), 'direct invocation (InferenceExecutionConfig Mode Direct) needs a ContainerHostname on every container: TargetContainerHostname picks one by it.');
  const seen = new Set<string>();
  const containers = list.map((c, i): ResolvedContainer => {
    const at = named(`Containers[${i}]`);
    checkImageName(p, at, c.image ?? '');
    const environment = { ...(c.environment ?? {}) };
    checkEnvironment(p, at, environment);
    const hostname = withName === list.length ? c.hostname! : positionalHostname(i);
    p.checkString(`${at}.ContainerHostname`, hostname, { min: 1, max: 63, pattern: ENDPOINT_NAME.pattern, patternText: '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} (letters, digits and hyphens)' });
    if (seen.has(hostname)) p.add(`${at}.ContainerHostname`, `${hostname} names two containers; each needs its own.`);
    seen.add(hostname);
    return { hostname, image: c.image ?? '', environment, ...(c.model !== undefined ? { model: c.model } : {}), ...(c.modelUri !== undefined ? { modelUri: c.modelUri } : {}) };
  });
  return { mode, containers, ...extra };
}

/**
 * Validates an {@link EndpointSpec} against the API's limits (CONTRACT §4.3, §4.6, §8, §10.2–10.3)
 * and applies the service's defaults. Every problem is reported at once; nothing here touches the
 * disk or the engine.
 */
export function resolveEndpointSpec(input: EndpointSpec): { spec?: ResolvedEndpointSpec; problems: Problems['problems']; notices: string[] } {
  const p = new Problems();
  const given = input.variants;
  const endpointName = input.endpointName ?? defaultEndpointName(input.image || input.containers?.[0]?.image || given?.[0]?.model.image || given?.[0]?.model.containers?.[0]?.image || '');
  p.checkString('EndpointName', endpointName, {
    min: 1,
    max: ENDPOINT_NAME.max,
    pattern: ENDPOINT_NAME.pattern,
    patternText: '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} (letters, digits and hyphens)',
  });

  const variantInputs: VariantSpec[] = given ?? [
    {
      variantName: input.variantName ?? DEFAULT_VARIANT_NAME,
      model: input,
      ...(input.instanceCount !== undefined ? { instanceCount: input.instanceCount } : {}),
      ...(input.instanceType !== undefined ? { instanceType: input.instanceType } : {}),
      ...(input.startupTimeoutSeconds !== undefined ? { startupTimeoutSeconds: input.startupTimeoutSeconds } : {}),
    },
  ];
  if (given && (given.length < 1 || given.length > MAX_PRODUCTION_VARIANTS)) p.add('ProductionVariants', `has ${given.length} variants; an endpoint config has 1 to ${MAX_PRODUCTION_VARIANTS}.`);
  const names = new Set<string>();
  const variants = variantInputs.map((v, i): ResolvedVariant => {
    const at = `ProductionVariants[${i}]`;
    const where = given ? `${at} (model ${v.model.modelName ?? v.variantName})` : '';
    p.checkString(`${at}.VariantName`, v.variantName, { min: 1, max: 63, pattern: ENDPOINT_NAME.pattern });
    if (names.has(v.variantName)) p.add(`${at}.VariantName`, `${v.variantName} names two variants; each needs its own.`);
    names.add(v.variantName);
    const instanceType = v.instanceType ?? input.instanceType ?? DEFAULT_SERVING_INSTANCE_TYPE;
    p.checkString(`${at}.InstanceType`, instanceType, { pattern: INSTANCE_TYPE_PATTERN, patternText: 'ml.<family>.<size>, e.g. ml.m5.large' });
    const instanceCount = v.instanceCount ?? 1;
    p.checkInteger(`${at}.InitialInstanceCount`, instanceCount, { min: 1, max: 100 });
    const weight = v.weight ?? 1;
    if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) p.add(`${at}.InitialVariantWeight`, `must be a number of at least 0 (got ${String(weight)}).`);
    const startupTimeoutSeconds = v.startupTimeoutSeconds ?? input.startupTimeoutSeconds ?? STARTUP_TIMEOUT_SECONDS.default;
    p.checkInteger(given ? `${at}.ContainerStartupHealthCheckTimeoutInSeconds` : 'ContainerStartupHealthCheckTimeoutInSeconds (--startup-timeout)', startupTimeoutSeconds, { min: 1, max: STARTUP_TIMEOUT_SECONDS.max });
    if (startupTimeoutSeconds < STARTUP_TIMEOUT_SECONDS.min) {
      p.notice(`A start-up window of ${startupTimeoutSeconds} s is shorter than SageMaker allows (${STARTUP_TIMEOUT_SECONDS.min}–${STARTUP_TIMEOUT_SECONDS.max} s); fine for a quick local check.`);
    }
    return { variantName: v.variantName, weight, instanceCount, instanceType, startupTimeoutSeconds, ...resolveModel(p, v.model, where) };
  });
  if (variants.length > 0 && variants.every((v) => v.weight === 0)) p.notice('Every production variant has weight 0: only requests with TargetVariant will be answered.');
  const containerCount = variants.reduce((n, v) => n + v.instanceCount * v.containers.length, 0);
  if (containerCount > 8) p.notice(`This endpoint runs ${containerCount} containers on this machine (every instance of every variant runs all of its model's containers).`);

  const invocationTimeoutMs = input.invocationTimeoutMs ?? INVOCATION_TIMEOUT_MS;
  if (!Number.isFinite(invocationTimeoutMs) || invocationTimeoutMs <= 0 || invocationTimeoutMs > INVOCATION_TIMEOUT_MS) {
    p.add('invocation timeout', `must be more than 0 and at most ${INVOCATION_TIMEOUT_MS} ms, SageMaker's own deadline (got ${invocationTimeoutMs}).`);
  }
  const stopGraceSeconds = resolveStopGrace(p, input.stopGraceSeconds, SERVING_STOP_GRACE_SECONDS);
  const { region, account } = resolveIdentity(p, input);

  if (!p.ok) return { problems: p.problems, notices: p.notices };
  const first = variants[0]!;
  const primary = first.containers[0]!;
  return {
    spec: {
      image: primary.image,
      endpointName,
      ...(primary.model !== undefined ? { model: primary.model } : {}),
      ...(primary.modelUri !== undefined ? { modelUri: primary.modelUri } : {}),
      environment: primary.environment,
      instanceType: first.instanceType,
      variantName: first.variantName,
      startupTimeoutSeconds: first.startupTimeoutSeconds,
      invocationTimeoutMs,
      stopGraceSeconds,
      region,
      account,
      variants,
    },
    problems: p.problems,
    notices: p.notices,
  };
}

export function resolveEndpointSpecOrThrow(input: EndpointSpec, source = 'the endpoint spec'): { spec: ResolvedEndpointSpec; notices: string[] } {
  const out = resolveEndpointSpec(input);
  if (!out.spec) throw new InvalidSpecError(out.problems, source);
  return { spec: out.spec, notices: out.notices };
}
