import { posix } from 'node:path';
import { InvalidSpecError } from '../errors.js';
import { resolveIdentity, resolveStopGrace } from './identity.js';
import { DEFAULT_TRAINING_INSTANCE_TYPE, INSTANCE_TYPE_PATTERN, TRAINING_LIMITS as L, TRAINING_STOP_GRACE_SECONDS } from './limits.js';
import type { InstanceGroup } from './hosts.js';
import { compileMetrics } from './metrics.js';
import { Problems } from './problems.js';
import { TRAINING_PATHS } from './paths.js';

export type TrainingInputMode = 'File' | 'Pipe' | 'FastFile';
export type S3DataDistributionType = 'FullyReplicated' | 'ShardedByS3Key';
export type RecordWrapperType = 'None' | 'RecordIO';
export type CompressionType = 'None' | 'Gzip';

/** One input channel (API:Channel), its data already on the local disk at `source`. */
export interface ChannelSpec {
  channelName: string;
  /** Local file or directory holding the channel's data. */
  source: string;
  /** The URI the request named, when the source was mapped from one (`s3://…`). */
  sourceUri?: string;
  contentType?: string;
  /** Overrides `trainingInputMode` for this channel (API:Channel.InputMode). */
  inputMode?: TrainingInputMode;
  s3DataDistributionType?: S3DataDistributionType;
  recordWrapperType?: RecordWrapperType;
  compressionType?: CompressionType;
  /** Only hosts of these instance groups get the channel (API:S3DataSource.InstanceGroupNames). */
  instanceGroupNames?: string[];
  /** Pipe mode: objects are shuffled per epoch with this seed (API:Channel.ShuffleConfig). */
  shuffleSeed?: number;
}

/** Where checkpoints live: restored into `localPath` before the start and saved back to `source`. */
export interface CheckpointSpec {
  /** Local folder standing in for CheckpointConfig.S3Uri. */
  source: string;
  sourceUri?: string;
  /** CheckpointConfig.LocalPath, default /opt/ml/checkpoints. */
  localPath?: string;
}

export interface MetricDefinition {
  Name: string;
  Regex: string;
}

/**
 * A training job as a user describes it: the parts of CreateTrainingJob that shape what the
 * container sees. Loose: everything but the image is optional.
 */
export interface TrainingJobSpec {
  image: string;
  trainingJobName?: string;
  hyperParameters?: Record<string, string>;
  channels?: ChannelSpec[];
  environment?: Record<string, string>;
  /** `ResourceConfig.InstanceType`, default `ml.m5.large`. */
  instanceType?: string;
  instanceCount?: number;
  /** A heterogeneous cluster (≤ 5 groups); instead of instanceType and instanceCount. */
  instanceGroups?: InstanceGroup[];
  volumeSizeInGB?: number;
  /** `AlgorithmSpecification.ContainerEntrypoint` (CONTRACT §2.1). */
  containerEntrypoint?: string[];
  /** `AlgorithmSpecification.ContainerArguments` (CONTRACT §2.1). */
  containerArguments?: string[];
  trainingInputMode?: TrainingInputMode;
  metricDefinitions?: MetricDefinition[];
  stoppingCondition?: { maxRuntimeInSeconds?: number };
  /** Seconds between SIGTERM and SIGKILL when the job is stopped; SageMaker uses 120 and this may only shorten it. */
  stopGraceSeconds?: number;
  region?: string;
  account?: string;
  roleArn?: string;
  /** `OutputDataConfig.S3OutputPath` as the request gave it; recorded in describe.json. */
  s3OutputPath?: string;
  /** `OutputDataConfig.CompressionType`: GZIP (model.tar.gz, output.tar.gz) or NONE (plain folders). */
  outputCompression?: 'GZIP' | 'NONE';
  checkpoint?: CheckpointSpec;
  /** EnableNetworkIsolation: no network but the job's own hosts. */
  enableNetworkIsolation?: boolean;
  /** Script mode (SageMaker Python SDK): the entry point, relative to `sourceDir` when it is given. */
  entryPoint?: string;
  /** Script mode: the local folder packed into sourcedir.tar.gz. */
  sourceDir?: string;
  /**
   * Script mode as the SageMaker Python SDK submits it: `sagemaker_submit_directory` names an
   * `s3://…/sourcedir.tar.gz` the SDK uploaded, and `archive` is that object in the local S3.
   */
  submittedSource?: SubmittedSource;
  /** Request members sm-local accepts but does not act on, echoed into describe.json. */
  echo?: Record<string, unknown>;
}

/** CreateTrainingJob refuses a request that names a channel twice (InputDataConfig). */
export function channelNameTwice(name: string, first?: string): string {
  return `channel "${name}" is defined more than once${first ? ` (first at ${first})` : ''}; channel names must be unique.`;
}

export interface ResolvedChannel {
  channelName: string;
  source: string;
  sourceUri?: string;
  contentType?: string;
  /** The effective mode: `Channel.InputMode` if given, else `TrainingInputMode`. */
  inputMode: TrainingInputMode;
  s3DataDistributionType: S3DataDistributionType;
  recordWrapperType: RecordWrapperType;
  compressionType: CompressionType;
  instanceGroupNames?: readonly string[];
  shuffleSeed?: number;
}

export interface ResolvedTrainingJobSpec {
  image: string;
  trainingJobName: string;
  trainingJobArn: string;
  hyperParameters: Readonly<Record<string, string>>;
  channels: readonly ResolvedChannel[];
  environment: Readonly<Record<string, string>>;
  /** The first group's instance type when InstanceGroups are used. */
  instanceType: string;
  /** Hosts in all (the sum over InstanceGroups when they are used). */
  instanceCount: number;
  instanceGroups?: readonly InstanceGroup[];
  volumeSizeInGB: number;
  containerEntrypoint?: readonly string[];
  containerArguments?: readonly string[];
  trainingInputMode: TrainingInputMode;
  metricDefinitions: readonly MetricDefinition[];
  maxRuntimeInSeconds: number;
  stopGraceSeconds: number;
  region: string;
  account: string;
  roleArn?: string;
  s3OutputPath?: string;
  outputCompression: 'GZIP' | 'NONE';
  checkpoint?: Required<Pick<CheckpointSpec, 'source' | 'localPath'>> & Pick<CheckpointSpec, 'sourceUri'>;
  enableNetworkIsolation: boolean;
  /** Script mode: the folder or file packed into sourcedir.tar.gz, and the program inside it. */
  scriptMode?: { source: string; program: string; sourceIsFile: boolean };
  submittedSource?: SubmittedSource;
  echo: Readonly<Record<string, unknown>>;
}

/** A code archive a request names by its S3 URI (`sagemaker_submit_directory`), and where the local S3 keeps it. */
export interface SubmittedSource {
  uri: string;
  archive: string;
}

/**
 * The S3 URI of the code archive a script-mode request names: `sagemaker_submit_directory`, a
 * JSON-encoded string as the SDK sends it (`"\"s3://bucket/job/source/sourcedir.tar.gz\""`).
 */
export function submittedSourceUri(hyperParameters: Readonly<Record<string, string>> | undefined): string | undefined {
  const raw = hyperParameters?.sagemaker_submit_directory;
  if (raw === undefined) return undefined;
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // a bare string, as some callers send it
  }
  return typeof value === 'string' && value.startsWith('s3://') ? value : undefined;
}

/**
 * What the container's hyperparameters.json holds. With a submitted source, sagemaker_submit_directory
 * names the local copy of the archive in the container ({@link SOURCE_ARCHIVE_PATH}), which the training
 * toolkit extracts as it would download the S3 object (the container cannot reach the local S3);
 * DescribeTrainingJob still shows the URI the request gave.
 */
export function containerHyperParameters(spec: Pick<ResolvedTrainingJobSpec, 'hyperParameters' | 'submittedSource'>): Readonly<Record<string, string>> {
  return spec.submittedSource ? { ...spec.hyperParameters, sagemaker_submit_directory: JSON.stringify(SOURCE_ARCHIVE_PATH) } : spec.hyperParameters;
}

export { DEFAULT_ACCOUNT, DEFAULT_REGION } from './identity.js';
/** The training volume size SageMaker uses when the request gives none (API:ResourceConfig.VolumeSizeInGB). */
const DEFAULT_VOLUME_SIZE_GB = 30;

/**
 * `arn:aws:sagemaker:<region>:<account>:training-job/<name>` (API:TrainingJobArn). The name part is
 * lower-cased as the service does for endpoints; UNCONFIRMED for training jobs (CONTRACT §9.4).
 */
export function trainingJobArn(region: string, account: string, name: string): string {
  return `arn:aws:sagemaker:${region}:${account}:training-job/${name.toLowerCase()}`;
}

/**
 * A job name the way the SageMaker Python SDK makes one: the image's repository name and a
 * millisecond timestamp (`my-algo-2024-05-02-10-15-07-311`), trimmed to the 63-character limit.
 */
export function defaultTrainingJobName(image: string, now: Date): string {
  const withoutDigest = image.split('@')[0] ?? image;
  const lastSegment = withoutDigest.split('/').pop() ?? withoutDigest;
  const repo = lastSegment.split(':')[0] ?? lastSegment;
  const base = repo.replace(/[^a-zA-Z0-9-]+/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '') || 'sm-local';
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const stamp = `${now.getUTCFullYear()}-${p(now.getUTCMonth() + 1)}-${p(now.getUTCDate())}-${p(now.getUTCHours())}-${p(now.getUTCMinutes())}-${p(now.getUTCSeconds())}-${p(now.getUTCMilliseconds(), 3)}`;
  const room = L.jobName.max - stamp.length - 1;
  return `${base.slice(0, room).replace(/-+$/, '')}-${stamp}`;
}

/** Where sm-local puts sourcedir.tar.gz in script mode: the local stand-in for its S3 object. */
export const SOURCE_ARCHIVE_PATH = '/opt/ml/input/sm-local/sourcedir.tar.gz';

/**
 * The hyperparameters the SageMaker Python SDK adds in script mode (CONTRACT §3.3, §3.8): each value
 * JSON-encoded as the SDK sends it. `sagemaker_submit_directory` names the archive's path inside the
 * container, which the training toolkit extracts into /opt/ml/code just as it would the S3 object.
 */
export function scriptModeHyperParameters(program: string, jobName: string, region: string): Record<string, string> {
  return {
    sagemaker_program: JSON.stringify(program),
    sagemaker_submit_directory: JSON.stringify(SOURCE_ARCHIVE_PATH),
    sagemaker_container_log_level: '20',
    sagemaker_job_name: JSON.stringify(jobName),
    sagemaker_region: JSON.stringify(region),
  };
}

/** Instance type and count, or InstanceGroups (≤ 5, not together with the two). */
function resolveInstances(p: Problems, input: TrainingJobSpec): { instanceType: string; instanceCount: number; instanceGroups?: InstanceGroup[] } {
  const groups = input.instanceGroups;
  if (groups?.length) {
    if (input.instanceType !== undefined || input.instanceCount !== undefined) {
      p.add('ResourceConfig.InstanceGroups', 'give either InstanceGroups or InstanceType and InstanceCount, not both.');
    }
    if (groups.length > 5) p.add('ResourceConfig.InstanceGroups', `has ${groups.length} groups; at most 5 are allowed.`);
    const names = new Set<string>();
    groups.forEach((g, i) => {
      const at = `ResourceConfig.InstanceGroups[${i}]`;
      p.checkString(`${at}.InstanceGroupName`, g.instanceGroupName ?? '', { min: 1, max: 64, pattern: /^.+$/ });
      if (names.has(g.instanceGroupName)) p.add(`${at}.InstanceGroupName`, `"${g.instanceGroupName}" is used by more than one group.`);
      names.add(g.instanceGroupName);
      p.checkString(`${at}.InstanceType`, g.instanceType ?? '', { pattern: INSTANCE_TYPE_PATTERN, patternText: 'ml.<family>.<size>, e.g. ml.m5.large' });
      p.checkInteger(`${at}.InstanceCount`, g.instanceCount, { min: 1 });
    });
    const total = groups.reduce((n, g) => n + (Number.isInteger(g.instanceCount) ? g.instanceCount : 0), 0);
    return { instanceType: groups[0]!.instanceType, instanceCount: total, instanceGroups: groups.map((g) => ({ ...g })) };
  }
  const instanceType = input.instanceType ?? DEFAULT_TRAINING_INSTANCE_TYPE;
  p.checkString('ResourceConfig.InstanceType', instanceType, { pattern: INSTANCE_TYPE_PATTERN, patternText: 'ml.<family>.<size>, e.g. ml.m5.large' });
  const instanceCount = input.instanceCount ?? 1;
  p.checkInteger('ResourceConfig.InstanceCount', instanceCount, { min: 1 });
  if (instanceCount > 8) p.notice(`${instanceCount} hosts means ${instanceCount} containers on this machine at once.`);
  return { instanceType, instanceCount };
}

export interface ResolveContext {
  now: Date;
}

export interface ResolveOutcome<T> {
  spec?: T;
  problems: Problems['problems'];
  notices: Problems['notices'];
}

/** A map of string values within the API's limits on entries, keys and values. */
export function checkStringMap(
  p: Problems,
  field: string,
  map: Record<string, unknown>,
  rule: { maxEntries: number; keyMax: number; keyPattern?: RegExp; valueMax: number },
): void {
  const entries = Object.entries(map);
  if (entries.length > rule.maxEntries) p.add(field, `has ${entries.length} entries; at most ${rule.maxEntries} are allowed.`);
  for (const [key, value] of entries) {
    p.checkString(`${field} key "${key}"`, key, { min: 1, max: rule.keyMax, pattern: rule.keyPattern });
    if (typeof value !== 'string') p.add(`${field}.${key}`, `must be a string (got ${typeof value}).`);
    else if (value.length > rule.valueMax) p.add(`${field}.${key}`, `must be at most ${rule.valueMax} characters long (got ${value.length}).`);
  }
}

/** ContainerEntrypoint / ContainerArguments: 1–100 items of at most 256 characters (the same for every job kind). */
export function checkCommand(p: Problems, field: string, items: readonly string[] | undefined): void {
  if (items === undefined) return;
  const r = L.containerCommand;
  if (items.length < r.minItems || items.length > r.maxItems) p.add(field, `must have ${r.minItems} to ${r.maxItems} items (got ${items.length}).`);
  items.forEach((item, i) => p.checkString(`${field}[${i}]`, item, { max: r.itemMax }));
}

/**
 * Validates a {@link TrainingJobSpec} against the API's limits (CONTRACT §3.15) and applies the
 * service's defaults. Every problem is reported at once; nothing here touches the disk or the engine.
 * Modes sm-local cannot reproduce faithfully yet are reported as problems, never silently changed.
 */
export function resolveTrainingJobSpec(input: TrainingJobSpec, ctx: ResolveContext): ResolveOutcome<ResolvedTrainingJobSpec> {
  const p = new Problems();

  const image = input.image ?? '';
  p.checkString('AlgorithmSpecification.TrainingImage', image, { min: 1, max: L.image.max, pattern: /^\S+$/, patternText: 'no whitespace' });

  const trainingJobName = input.trainingJobName ?? defaultTrainingJobName(image, ctx.now);
  p.checkString('TrainingJobName', trainingJobName, {
    min: 1,
    max: L.jobName.max,
    pattern: L.jobName.pattern,
    patternText: '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$ (letters, digits and hyphens; no leading or trailing hyphen)',
  });

  const hyperParameters = { ...(input.hyperParameters ?? {}) };
  checkStringMap(p, 'HyperParameters', hyperParameters, L.hyperParameters);
  for (const [key, value] of Object.entries(hyperParameters)) {
    if (typeof value === 'string' && value.length > L.hyperParameters.valueProseMax && value.length <= L.hyperParameters.valueMax) {
      p.notice(
        `Hyperparameter "${key}" is ${value.length} characters long. The API model accepts up to ${L.hyperParameters.valueMax}, but its documentation says ${L.hyperParameters.valueProseMax}; long values may be rejected by some clients.`,
      );
    }
  }

  const environment = { ...(input.environment ?? {}) };
  checkStringMap(p, 'Environment', environment, L.environment);

  const { instanceType, instanceCount, instanceGroups } = resolveInstances(p, input);
  const groupNames = new Set((instanceGroups ?? []).map((g) => g.instanceGroupName));

  const trainingInputMode = input.trainingInputMode ?? 'File';
  const channelsIn = input.channels ?? [];
  if (channelsIn.length > L.channels.max) p.add('InputDataConfig', `has ${channelsIn.length} channels; at most ${L.channels.max} are allowed.`);
  const seen = new Set<string>();
  const channels: ResolvedChannel[] = channelsIn.map((c, i) => {
    const at = `InputDataConfig[${i}]`;
    p.checkString(`${at}.ChannelName`, c.channelName ?? '', {
      min: 1,
      max: L.channels.nameMax,
      pattern: L.channels.namePattern,
      patternText: '[A-Za-z0-9.-_]+',
    });
    if (seen.has(c.channelName)) p.add(`${at}.ChannelName`, channelNameTwice(c.channelName));
    seen.add(c.channelName);
    if (c.contentType !== undefined) p.checkString(`${at}.ContentType`, c.contentType, { max: L.contentTypeMax });
    const inputMode = c.inputMode ?? trainingInputMode;
    const compressionType = c.compressionType ?? 'None';
    if (compressionType !== 'None' && inputMode !== 'Pipe') {
      // API:Channel.CompressionType: "used only in Pipe input mode. In File mode, leave this field unset or set it to None."
      p.add(`${at}.CompressionType`, `channel "${c.channelName}": ${compressionType} is only used in Pipe mode; in ${inputMode} mode leave it None (SageMaker does not decompress File-mode data).`);
    }
    for (const g of c.instanceGroupNames ?? []) {
      if (!groupNames.has(g)) p.add(`${at}.DataSource.S3DataSource.InstanceGroupNames`, `channel "${c.channelName}" names instance group "${g}", which ResourceConfig.InstanceGroups does not define.`);
    }
    return {
      channelName: c.channelName,
      source: c.source,
      ...(c.sourceUri !== undefined ? { sourceUri: c.sourceUri } : {}),
      ...(c.contentType !== undefined ? { contentType: c.contentType } : {}),
      inputMode,
      s3DataDistributionType: c.s3DataDistributionType ?? 'FullyReplicated',
      recordWrapperType: c.recordWrapperType ?? 'None',
      compressionType,
      ...(c.instanceGroupNames?.length ? { instanceGroupNames: [...c.instanceGroupNames] } : {}),
      ...(c.shuffleSeed !== undefined ? { shuffleSeed: c.shuffleSeed } : {}),
    };
  });

  const volumeSizeInGB = input.volumeSizeInGB ?? DEFAULT_VOLUME_SIZE_GB;
  p.checkInteger('ResourceConfig.VolumeSizeInGB', volumeSizeInGB, { min: 1 });

  checkCommand(p, 'AlgorithmSpecification.ContainerEntrypoint', input.containerEntrypoint);
  checkCommand(p, 'AlgorithmSpecification.ContainerArguments', input.containerArguments);

  const metricDefinitions = input.metricDefinitions ?? [];
  if (metricDefinitions.length > 40) p.add('AlgorithmSpecification.MetricDefinitions', `has ${metricDefinitions.length} entries; at most 40 are allowed.`);
  for (const problem of compileMetrics(metricDefinitions).problems) p.add(problem.path, problem.message);

  let checkpoint: ResolvedTrainingJobSpec['checkpoint'];
  if (input.checkpoint) {
    const localPath = input.checkpoint.localPath ?? TRAINING_PATHS.checkpoints;
    p.checkString('CheckpointConfig.LocalPath', localPath, { min: 1, max: L.checkpointLocalPathMax, pattern: /^\/\S*$/, patternText: 'an absolute path' });
    checkpoint = { source: input.checkpoint.source, localPath: localPath.replace(/(.)\/+$/, '$1'), ...(input.checkpoint.sourceUri ? { sourceUri: input.checkpoint.sourceUri } : {}) };
  }

  const maxRuntimeInSeconds = input.stoppingCondition?.maxRuntimeInSeconds ?? L.maxRuntimeInSeconds.default;
  p.checkInteger('StoppingCondition.MaxRuntimeInSeconds', maxRuntimeInSeconds, L.maxRuntimeInSeconds);

  const stopGraceSeconds = resolveStopGrace(p, input.stopGraceSeconds, TRAINING_STOP_GRACE_SECONDS);
  const { region, account } = resolveIdentity(p, input);

  let scriptMode: ResolvedTrainingJobSpec['scriptMode'];
  if (input.entryPoint !== undefined || input.sourceDir !== undefined) {
    if (!input.entryPoint) p.add('entry point (--entry-point)', 'script mode needs the entry point, e.g. --entry-point train.py.');
    else {
      scriptMode = input.sourceDir !== undefined
        ? { source: input.sourceDir, program: input.entryPoint, sourceIsFile: false }
        : { source: input.entryPoint, program: posix.basename(input.entryPoint.replace(/\\/g, '/')), sourceIsFile: true };
      Object.assign(hyperParameters, scriptModeHyperParameters(scriptMode.program, trainingJobName, region));
    }
  }

  if (!p.ok) return { problems: p.problems, notices: p.notices };
  return {
    spec: {
      image,
      trainingJobName,
      trainingJobArn: trainingJobArn(region, account, trainingJobName),
      hyperParameters,
      channels,
      environment,
      instanceType,
      instanceCount,
      ...(instanceGroups ? { instanceGroups } : {}),
      volumeSizeInGB,
      ...(input.containerEntrypoint ? { containerEntrypoint: [...input.containerEntrypoint] } : {}),
      ...(input.containerArguments ? { containerArguments: [...input.containerArguments] } : {}),
      trainingInputMode,
      metricDefinitions,
      maxRuntimeInSeconds,
      stopGraceSeconds,
      region,
      account,
      ...(input.roleArn !== undefined ? { roleArn: input.roleArn } : {}),
      ...(input.s3OutputPath !== undefined ? { s3OutputPath: input.s3OutputPath } : {}),
      outputCompression: input.outputCompression ?? 'GZIP',
      ...(checkpoint ? { checkpoint } : {}),
      enableNetworkIsolation: input.enableNetworkIsolation ?? false,
      ...(scriptMode ? { scriptMode } : {}),
      ...(input.submittedSource && !scriptMode ? { submittedSource: input.submittedSource } : {}),
      echo: input.echo ?? {},
    },
    problems: p.problems,
    notices: p.notices,
  };
}

/** {@link resolveTrainingJobSpec}, throwing {@link InvalidSpecError} with every problem at once. */
export function resolveTrainingJobSpecOrThrow(
  input: TrainingJobSpec,
  ctx: ResolveContext,
  source?: string,
): { spec: ResolvedTrainingJobSpec; notices: string[] } {
  const out = resolveTrainingJobSpec(input, ctx);
  if (!out.spec) throw new InvalidSpecError(out.problems, source);
  return { spec: out.spec, notices: out.notices };
}
