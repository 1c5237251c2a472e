/**
 * A batch transform job as a user describes it, and as sm-local runs it once checked (CONTRACT §5,
 * §10.4): the parts of CreateTransformJob that shape what the container gets. Data in, data out.
 */
import { InvalidSpecError } from '../errors.js';
import { resolveIdentity, resolveStopGrace } from './identity.js';
import { INSTANCE_TYPE_PATTERN, TRAINING_LIMITS } from './limits.js';
import { Problems } from './problems.js';
import { SERVING_STOP_GRACE_SECONDS } from './serving.js';
import { resolveModel, type ContainerSpec, type ResolvedContainer } from './serving-spec.js';
import { checkJsonPath, DATA_PROCESSING_CONTENT_TYPES, type DataProcessing } from './transform-data-processing.js';
import type { AssembleWith, BatchStrategy, SplitType } from './transform-records.js';
import { checkStringMap, defaultTrainingJobName as defaultJobName } from './training-spec.js';

export interface TransformJobSpec {
  image: string;
  transformJobName?: string;
  /** The model: a folder or a model.tar.gz, extracted into /opt/ml/model as for hosting. */
  model?: string;
  modelUri?: string;
  /** The model's own Environment (CreateModel), below the job's. */
  modelEnvironment?: Record<string, string>;
  modelName?: string;
  /**
   * A pipeline model (CreateModel.Containers, 2–15; CONTRACT §8.2): every container gets the batch
   * environment, and each request goes through them in series. Replaces image, model and modelEnvironment.
   */
  containers?: ContainerSpec[];
  /** TransformInput: a folder of objects (the S3 prefix) or one file. */
  input: string;
  inputUri?: string;
  contentType?: string;
  compressionType?: 'None' | 'Gzip';
  splitType?: SplitType;
  /** TransformOutput.S3OutputPath as a local folder; default `<job folder>/output`. */
  output?: string;
  outputUri?: string;
  accept?: string;
  assembleWith?: AssembleWith;
  batchStrategy?: BatchStrategy;
  maxPayloadInMB?: number;
  maxConcurrentTransforms?: number;
  invocationsTimeoutInSeconds?: number;
  invocationsMaxRetries?: number;
  dataProcessing?: Partial<DataProcessing>;
  environment?: Record<string, string>;
  instanceType?: string;
  instanceCount?: number;
  /** SIGTERM → SIGKILL when the job ends or is stopped: hosting's 30 s (StopTransformJob's is undocumented, CONTRACT §2.2). */
  stopGraceSeconds?: number;
  /** How long GET /ping may take to answer 200. */
  startupTimeoutSeconds?: number;
  region?: string;
  account?: string;
  /** Request members sm-local accepts but does not act on, echoed into describe.json. */
  echo?: Record<string, unknown>;
}

export interface ResolvedTransformJobSpec {
  image: string;
  transformJobName: string;
  transformJobArn: string;
  model?: string;
  modelUri?: string;
  modelName: string;
  modelEnvironment: Readonly<Record<string, string>>;
  /** A pipeline model's containers, in order (each with its model and Environment); absent for one container. */
  containers?: ResolvedContainer[];
  input: string;
  inputUri?: string;
  contentType?: string;
  compressionType: 'None' | 'Gzip';
  splitType: SplitType;
  output?: string;
  outputUri?: string;
  accept?: string;
  assembleWith: AssembleWith;
  /** As the request set them; undefined asks the container (GET /execution-parameters), then the defaults. */
  batchStrategy?: BatchStrategy;
  maxPayloadInMB?: number;
  maxConcurrentTransforms?: number;
  invocationsTimeoutInSeconds: number;
  invocationsMaxRetries: number;
  dataProcessing: DataProcessing;
  environment: Readonly<Record<string, string>>;
  instanceType: string;
  instanceCount: number;
  stopGraceSeconds: number;
  startupTimeoutSeconds: number;
  region: string;
  account: string;
  echo: Readonly<Record<string, unknown>>;
}

export const TRANSFORM_LIMITS = {
  environment: { maxEntries: 16, keyMax: 1024, keyPattern: /^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$/, valueMax: 10240 },
  maxPayloadInMB: { min: 0, max: 100, default: 6 },
  /** MaxConcurrentTransforms × MaxPayloadInMB. */
  concurrencyTimesPayloadMax: 100,
  invocationsTimeoutInSeconds: { min: 1, max: 3600, default: 600 },
  invocationsMaxRetries: { min: 0, max: 3, default: 3 },
  maxConcurrentTransformsDefault: 1,
} as const;

export function transformJobArn(region: string, account: string, name: string): string {
  return `arn:aws:sagemaker:${region}:${account}:transform-job/${name.toLowerCase()}`;
}

/** Validates a transform job against the API (CONTRACT §5, §10.4), every problem with its field path. */
export function resolveTransformJobSpec(input: TransformJobSpec, ctx: { now: Date }): { spec?: ResolvedTransformJobSpec; problems: Problems['problems']; notices: Problems['notices'] } {
  const p = new Problems();
  const pipeline = (input.containers?.length ?? 0) > 1 ? resolveModel(p, { containers: input.containers! }, 'model') : undefined;
  const image = pipeline ? pipeline.containers[0]!.image : (input.image ?? '');
  if (!pipeline) p.checkString('image', image, { min: 1, max: 255, pattern: /^\S+$/, patternText: 'no whitespace' });
  const transformJobName = input.transformJobName ?? defaultJobName(image, ctx.now);
  p.checkString('TransformJobName', transformJobName, { min: 1, max: 63, pattern: TRAINING_LIMITS.jobName.pattern, patternText: '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$' });
  const environment = { ...(input.environment ?? {}) };
  checkStringMap(p, 'Environment', environment, TRANSFORM_LIMITS.environment);

  const splitType = input.splitType ?? 'None';
  const assembleWith = input.assembleWith ?? 'None';
  const compressionType = input.compressionType ?? 'None';
  if (input.batchStrategy !== undefined && splitType === 'None') {
    p.notice(`BatchStrategy ${input.batchStrategy} has no effect with SplitType None: each object is one request.`);
  }
  const L = TRANSFORM_LIMITS;
  if (input.maxPayloadInMB !== undefined) p.checkInteger('MaxPayloadInMB', input.maxPayloadInMB, L.maxPayloadInMB);
  if (input.maxConcurrentTransforms !== undefined) p.checkInteger('MaxConcurrentTransforms', input.maxConcurrentTransforms, { min: 0 });
  const payload = input.maxPayloadInMB ?? L.maxPayloadInMB.default;
  if ((input.maxConcurrentTransforms ?? 0) * payload > L.concurrencyTimesPayloadMax) {
    p.add('MaxConcurrentTransforms', `× MaxPayloadInMB is ${(input.maxConcurrentTransforms ?? 0) * payload}; it must be at most ${L.concurrencyTimesPayloadMax}.`);
  }
  const invocationsTimeoutInSeconds = input.invocationsTimeoutInSeconds ?? L.invocationsTimeoutInSeconds.default;
  p.checkInteger('ModelClientConfig.InvocationsTimeoutInSeconds', invocationsTimeoutInSeconds, L.invocationsTimeoutInSeconds);
  const invocationsMaxRetries = input.invocationsMaxRetries ?? L.invocationsMaxRetries.default;
  p.checkInteger('ModelClientConfig.InvocationsMaxRetries', invocationsMaxRetries, L.invocationsMaxRetries);

  const dataProcessing: DataProcessing = { inputFilter: input.dataProcessing?.inputFilter ?? '$', joinSource: input.dataProcessing?.joinSource ?? 'None', outputFilter: input.dataProcessing?.outputFilter ?? '$' };
  for (const [field, path] of [['DataProcessing.InputFilter', dataProcessing.inputFilter], ['DataProcessing.OutputFilter', dataProcessing.outputFilter]] as const) {
    const { problem } = checkJsonPath(path);
    if (problem) p.add(field, `"${path}" ${problem}.`);
  }
  const processing = dataProcessing.inputFilter !== '$' || dataProcessing.outputFilter !== '$' || dataProcessing.joinSource === 'Input';
  if (processing) {
    const bare = (t: string | undefined) => t?.split(';')[0]!.trim();
    for (const [field, t] of [['TransformInput.ContentType', input.contentType], ['TransformOutput.Accept', input.accept]] as const) {
      if (!(DATA_PROCESSING_CONTENT_TYPES as readonly string[]).includes(bare(t) ?? '')) {
        p.add(field, `is ${t === undefined ? 'not set' : `"${t}"`}; with DataProcessing it must be one of ${DATA_PROCESSING_CONTENT_TYPES.join(', ')}.`);
      }
    }
    if (bare(input.contentType) === 'text/csv' && (splitType !== 'Line' || assembleWith !== 'Line')) {
      p.add('TransformInput.SplitType', 'with DataProcessing on text/csv, SplitType and AssembleWith must both be Line.');
    }
  }

  const instanceType = input.instanceType ?? 'ml.m5.large';
  p.checkString('TransformResources.InstanceType', instanceType, { pattern: INSTANCE_TYPE_PATTERN, patternText: 'ml.<family>.<size>, e.g. ml.m5.large' });
  const instanceCount = input.instanceCount ?? 1;
  p.checkInteger('TransformResources.InstanceCount', instanceCount, { min: 1 });
  const stopGraceSeconds = resolveStopGrace(p, input.stopGraceSeconds, SERVING_STOP_GRACE_SECONDS);
  const startupTimeoutSeconds = input.startupTimeoutSeconds ?? 240;
  p.checkInteger('startup timeout (--startup-timeout)', startupTimeoutSeconds, { min: 1, max: 3600 });
  const { region, account } = resolveIdentity(p, input);
  if (!input.input) p.add('TransformInput.DataSource', 'no input: pass --input PATH (a folder of objects or one file).');

  if (!p.ok) return { problems: p.problems, notices: p.notices };
  return {
    spec: {
      image,
      transformJobName,
      transformJobArn: transformJobArn(region, account, transformJobName),
      ...(input.model !== undefined ? { model: input.model } : {}),
      ...(input.modelUri !== undefined ? { modelUri: input.modelUri } : {}),
      modelName: input.modelName ?? transformJobName,
      modelEnvironment: { ...(input.modelEnvironment ?? {}) },
      ...(pipeline ? { containers: pipeline.containers } : {}),
      input: input.input,
      ...(input.inputUri !== undefined ? { inputUri: input.inputUri } : {}),
      ...(input.contentType !== undefined ? { contentType: input.contentType } : {}),
      compressionType,
      splitType,
      ...(input.output !== undefined ? { output: input.output } : {}),
      ...(input.outputUri !== undefined ? { outputUri: input.outputUri } : {}),
      ...(input.accept !== undefined ? { accept: input.accept } : {}),
      assembleWith,
      ...(input.batchStrategy !== undefined ? { batchStrategy: input.batchStrategy } : {}),
      ...(input.maxPayloadInMB !== undefined ? { maxPayloadInMB: input.maxPayloadInMB } : {}),
      // 0 means "ask the container, then the default" (API).
      ...(input.maxConcurrentTransforms ? { maxConcurrentTransforms: input.maxConcurrentTransforms } : {}),
      invocationsTimeoutInSeconds,
      invocationsMaxRetries,
      dataProcessing,
      environment,
      instanceType,
      instanceCount,
      stopGraceSeconds,
      startupTimeoutSeconds,
      region,
      account,
      echo: input.echo ?? {},
    },
    problems: p.problems,
    notices: p.notices,
  };
}

export function resolveTransformJobSpecOrThrow(input: TransformJobSpec, ctx: { now: Date }, source?: string): { spec: ResolvedTransformJobSpec; notices: string[] } {
  const out = resolveTransformJobSpec(input, ctx);
  if (!out.spec) throw new InvalidSpecError(out.problems, source);
  return { spec: out.spec, notices: out.notices };
}

/** What the container proposed at GET /execution-parameters (either spelling of the strategy), when it answered 200 with JSON. */
export interface ExecutionParameters {
  maxConcurrentTransforms?: number;
  batchStrategy?: BatchStrategy;
  maxPayloadInMB?: number;
}

/** Reads a GET /execution-parameters body (CONTRACT §5.3): keys may be partial; anything unreadable is "no opinion". */
export function parseExecutionParameters(body: string): ExecutionParameters {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return {};
  }
  if (json === null || typeof json !== 'object') return {};
  const o = json as Record<string, unknown>;
  const strategy = typeof o.BatchStrategy === 'string' ? ({ MULTI_RECORD: 'MultiRecord', MULTIRECORD: 'MultiRecord', SINGLE_RECORD: 'SingleRecord', SINGLERECORD: 'SingleRecord' } as Record<string, BatchStrategy>)[o.BatchStrategy.toUpperCase()] : undefined;
  const int = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
  const c = int(o.MaxConcurrentTransforms);
  const m = int(o.MaxPayloadInMB);
  return { ...(c ? { maxConcurrentTransforms: c } : {}), ...(strategy ? { batchStrategy: strategy } : {}), ...(m !== undefined && m <= 100 ? { maxPayloadInMB: m } : {}) };
}

/**
 * The parameters a job runs with, per parameter: the request's value, else the container's, else
 * the default (CONTRACT §5.3). BatchStrategy's service default is UNCONFIRMED; MultiRecord, as the
 * SDK's local mode uses.
 */
export function effectiveParameters(spec: Pick<ResolvedTransformJobSpec, 'batchStrategy' | 'maxPayloadInMB' | 'maxConcurrentTransforms'>, fromContainer: ExecutionParameters): Required<ExecutionParameters> {
  return {
    maxConcurrentTransforms: spec.maxConcurrentTransforms ?? fromContainer.maxConcurrentTransforms ?? TRANSFORM_LIMITS.maxConcurrentTransformsDefault,
    batchStrategy: spec.batchStrategy ?? fromContainer.batchStrategy ?? 'MultiRecord',
    maxPayloadInMB: spec.maxPayloadInMB ?? fromContainer.maxPayloadInMB ?? TRANSFORM_LIMITS.maxPayloadInMB.default,
  };
}

/**
 * The batch variables of CONTRACT §5.2: SAGEMAKER_BATCH always; the other three only when the request
 * set the field. The job's Environment wins over the model's (UNCONFIRMED; CONTRACT assumes so).
 */
export function renderTransformEnvironment(spec: Pick<ResolvedTransformJobSpec, 'batchStrategy' | 'maxPayloadInMB' | 'maxConcurrentTransforms' | 'environment' | 'modelEnvironment'>): Record<string, string> {
  return {
    ...spec.modelEnvironment,
    ...spec.environment,
    SAGEMAKER_BATCH: 'true',
    ...(spec.maxPayloadInMB !== undefined ? { SAGEMAKER_MAX_PAYLOAD_IN_MB: String(spec.maxPayloadInMB) } : {}),
    ...(spec.batchStrategy !== undefined ? { SAGEMAKER_BATCH_STRATEGY: spec.batchStrategy === 'MultiRecord' ? 'MULTI_RECORD' : 'SINGLE_RECORD' } : {}),
    ...(spec.maxConcurrentTransforms !== undefined ? { SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: String(spec.maxConcurrentTransforms) } : {}),
  };
}
