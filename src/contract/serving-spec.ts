import { InvalidSpecError } from '../errors.js';
import { resolveIdentity, resolveStopGrace } from './identity.js';
import { INSTANCE_TYPE_PATTERN } from './limits.js';
import { Problems } from './problems.js';
import {
  DEFAULT_VARIANT_NAME,
  ENDPOINT_NAME,
  INVOCATION_TIMEOUT_MS,
  MODEL_ENVIRONMENT,
  SERVING_STOP_GRACE_SECONDS,
  STARTUP_TIMEOUT_SECONDS,
} from './serving.js';

/**
 * An endpoint as a user describes it: one model (CreateModel's PrimaryContainer) behind one
 * production variant. Loose: everything but the image is optional.
 */
export interface EndpointSpec {
  image: string;
  /** EndpointName; default: the image's repository name. */
  endpointName?: string;
  /** Local model: a folder (mounted as it is) or a `.tar.gz` (extracted first), as ModelDataUrl names it. */
  model?: string;
  /** The URI the request named, when the model path was mapped from one (`s3://…`). */
  modelUri?: string;
  /** ContainerDefinition.Environment. */
  environment?: Record<string, string>;
  instanceType?: string;
  variantName?: string;
  /** ContainerStartupHealthCheckTimeoutInSeconds; default 240 (the documented 4 minutes). */
  startupTimeoutSeconds?: number;
  /** The InvokeEndpoint deadline; SageMaker's is 60 s. A local knob for tests; it may only shorten it. */
  invocationTimeoutMs?: number;
  /** Seconds between SIGTERM and SIGKILL at stop; SageMaker's is 30. */
  stopGraceSeconds?: number;
  region?: string;
  account?: string;
}

export interface ResolvedEndpointSpec {
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
}

/** SageMaker hosting examples default to a small general-purpose instance. */
export const DEFAULT_SERVING_INSTANCE_TYPE = 'ml.m5.large';

/** The image's repository name, made into a valid endpoint name (`my_model:1` → `my-model`). */
export function defaultEndpointName(image: string): string {
  const repo = (image.split('@')[0] ?? image).split('/').pop()!.split(':')[0] ?? image;
  const name = repo.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  return (name || 'endpoint').slice(0, ENDPOINT_NAME.max).replace(/-+$/, '');
}

/**
 * Validates an {@link EndpointSpec} against the API's limits (CONTRACT §4.3, §4.6) and applies the
 * service's defaults. Every problem is reported at once; nothing here touches the disk or the engine.
 */
export function resolveEndpointSpec(input: EndpointSpec): { spec?: ResolvedEndpointSpec; problems: Problems['problems']; notices: string[] } {
  const p = new Problems();
  const image = input.image ?? '';
  p.checkString('PrimaryContainer.Image', image, { min: 1, max: 255, pattern: /^\S+$/, patternText: 'no whitespace' });

  const endpointName = input.endpointName ?? defaultEndpointName(image);
  p.checkString('EndpointName', endpointName, {
    min: 1,
    max: ENDPOINT_NAME.max,
    pattern: ENDPOINT_NAME.pattern,
    patternText: '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62} (letters, digits and hyphens)',
  });

  const environment = { ...(input.environment ?? {}) };
  const entries = Object.entries(environment);
  if (entries.length > MODEL_ENVIRONMENT.maxEntries) p.add('PrimaryContainer.Environment', `has ${entries.length} entries; at most ${MODEL_ENVIRONMENT.maxEntries} are allowed.`);
  let total = 0;
  for (const [key, value] of entries) {
    p.checkString(`PrimaryContainer.Environment key "${key}"`, key, { min: 1, max: MODEL_ENVIRONMENT.keyMax, pattern: /^[a-zA-Z_][a-zA-Z0-9_]*$/ });
    if (typeof value !== 'string') p.add(`PrimaryContainer.Environment.${key}`, `must be a string (got ${typeof value}).`);
    else if (value.length > MODEL_ENVIRONMENT.valueMax) p.add(`PrimaryContainer.Environment.${key}`, `must be at most ${MODEL_ENVIRONMENT.valueMax} characters long (got ${value.length}).`);
    total += key.length + (typeof value === 'string' ? value.length : 0);
  }
  if (total > MODEL_ENVIRONMENT.totalMax) p.add('PrimaryContainer.Environment', `keys and values add up to ${total} characters; at most ${MODEL_ENVIRONMENT.totalMax} (32 KB) are allowed.`);

  const instanceType = input.instanceType ?? DEFAULT_SERVING_INSTANCE_TYPE;
  p.checkString('ProductionVariants[0].InstanceType', instanceType, { pattern: INSTANCE_TYPE_PATTERN, patternText: 'ml.<family>.<size>, e.g. ml.m5.large' });
  const variantName = input.variantName ?? DEFAULT_VARIANT_NAME;
  p.checkString('ProductionVariants[0].VariantName', variantName, { min: 1, max: 63, pattern: ENDPOINT_NAME.pattern });

  const startupTimeoutSeconds = input.startupTimeoutSeconds ?? STARTUP_TIMEOUT_SECONDS.default;
  p.checkInteger('ContainerStartupHealthCheckTimeoutInSeconds (--startup-timeout)', startupTimeoutSeconds, { min: 1, max: STARTUP_TIMEOUT_SECONDS.max });
  if (startupTimeoutSeconds < STARTUP_TIMEOUT_SECONDS.min) {
    p.notice(`A start-up window of ${startupTimeoutSeconds} s is shorter than SageMaker allows (${STARTUP_TIMEOUT_SECONDS.min}–${STARTUP_TIMEOUT_SECONDS.max} s); fine for a quick local check.`);
  }
  const invocationTimeoutMs = input.invocationTimeoutMs ?? INVOCATION_TIMEOUT_MS;
  if (!Number.isFinite(invocationTimeoutMs) || invocationTimeoutMs <= 0 || invocationTimeoutMs > INVOCATION_TIMEOUT_MS) {
    p.add('invocation timeout', `must be more than 0 and at most ${INVOCATION_TIMEOUT_MS} ms, SageMaker's own deadline (got ${invocationTimeoutMs}).`);
  }
  const stopGraceSeconds = resolveStopGrace(p, input.stopGraceSeconds, SERVING_STOP_GRACE_SECONDS);
  const { region, account } = resolveIdentity(p, input);

  if (!p.ok) return { problems: p.problems, notices: p.notices };
  return {
    spec: {
      image,
      endpointName,
      ...(input.model !== undefined ? { model: input.model } : {}),
      ...(input.modelUri !== undefined ? { modelUri: input.modelUri } : {}),
      environment,
      instanceType,
      variantName,
      startupTimeoutSeconds,
      invocationTimeoutMs,
      stopGraceSeconds,
      region,
      account,
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
