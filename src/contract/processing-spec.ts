/**
 * A processing job as a user describes it, and as sm-local runs it once checked (CONTRACT §6, §10.5):
 * the parts of CreateProcessingJob that shape what the containers see. Data in, data out.
 */
import { InvalidSpecError } from '../errors.js';
import { resolveIdentity, resolveStopGrace } from './identity.js';
import { INSTANCE_TYPE_PATTERN, PROCESSING_LIMITS as L, PROCESSING_STOP_GRACE_SECONDS } from './limits.js';
import { Problems } from './problems.js';
// The SDK names processing jobs as it names training jobs: the image's repository name and a timestamp.
import { checkCommand, checkStringMap, defaultTrainingJobName as defaultJobName } from './training-spec.js';

export type ProcessingInputMode = 'File' | 'Pipe';
export type ProcessingUploadMode = 'EndOfJob' | 'Continuous';

/** Where every processing input and output lives inside the container (CONTRACT §6.2). */
export const PROCESSING_ROOT = '/opt/ml/processing';
export const PROCESSING_PATHS = {
  config: '/opt/ml/config',
  output: '/opt/ml/output',
  /** Its first 1 KB becomes ExitMessage. */
  message: '/opt/ml/output/message',
} as const;

/** One ProcessingInput with an S3Input, its data already on the local disk at `source`. */
export interface ProcessingInputSpec {
  inputName: string;
  /** Local file or folder holding the input's objects. */
  source: string;
  /** The URI the request named (`s3://…`), when the source was mapped from one. */
  sourceUri?: string;
  /** S3Input.LocalPath: where the container finds it, under /opt/ml/processing/. */
  localPath?: string;
  s3DataType?: 'S3Prefix' | 'ManifestFile';
  s3InputMode?: ProcessingInputMode;
  s3DataDistributionType?: 'FullyReplicated' | 'ShardedByS3Key';
  s3CompressionType?: 'None' | 'Gzip';
}

/** One ProcessingOutput with an S3Output: what the container writes at `localPath` goes to `destination`. */
export interface ProcessingOutputSpec {
  outputName: string;
  /** S3Output.LocalPath, under /opt/ml/processing/. */
  localPath?: string;
  /** The local folder standing in for S3Output.S3Uri; default `<job folder>/<output name>`. */
  destination?: string;
  destinationUri?: string;
  s3UploadMode?: ProcessingUploadMode;
}

export interface ProcessingJobSpec {
  image: string;
  processingJobName?: string;
  inputs?: ProcessingInputSpec[];
  outputs?: ProcessingOutputSpec[];
  environment?: Record<string, string>;
  /** ClusterConfig.InstanceType, default `ml.m5.large`. */
  instanceType?: string;
  instanceCount?: number;
  volumeSizeInGB?: number;
  /** AppSpecification.ContainerEntrypoint (CONTRACT §2.1, §6.1). */
  containerEntrypoint?: string[];
  /** AppSpecification.ContainerArguments. */
  containerArguments?: string[];
  stoppingCondition?: { maxRuntimeInSeconds?: number };
  /** Seconds between SIGTERM and SIGKILL when the job is stopped; 120 (as training; UNCONFIRMED for processing, CONTRACT §2.2), which this may only shorten. */
  stopGraceSeconds?: number;
  region?: string;
  account?: string;
  roleArn?: string;
  enableNetworkIsolation?: boolean;
  /** ProcessingOutputConfig.KmsKeyId and ClusterConfig.VolumeKmsKeyId, as the request gave them (recorded, not applied). */
  kmsKeyId?: string;
  volumeKmsKeyId?: string;
  /** Request members sm-local accepts but does not act on, echoed into describe.json. */
  echo?: Record<string, unknown>;
}

export interface ResolvedProcessingInput {
  inputName: string;
  source: string;
  sourceUri?: string;
  localPath: string;
  s3DataType: 'S3Prefix';
  s3InputMode: ProcessingInputMode;
  s3DataDistributionType: 'FullyReplicated' | 'ShardedByS3Key';
  s3CompressionType: 'None' | 'Gzip';
}

export interface ResolvedProcessingOutput {
  outputName: string;
  localPath: string;
  /** Undefined: `<job folder>/<output name>`. */
  destination?: string;
  destinationUri?: string;
  s3UploadMode: ProcessingUploadMode;
}

export interface ResolvedProcessingJobSpec {
  image: string;
  processingJobName: string;
  processingJobArn: string;
  inputs: readonly ResolvedProcessingInput[];
  outputs: readonly ResolvedProcessingOutput[];
  environment: Readonly<Record<string, string>>;
  instanceType: string;
  instanceCount: number;
  volumeSizeInGB: number;
  containerEntrypoint?: readonly string[];
  containerArguments?: readonly string[];
  maxRuntimeInSeconds: number;
  /** Whether the request set a StoppingCondition (the config file shows null otherwise). */
  stoppingConditionGiven: boolean;
  stopGraceSeconds: number;
  region: string;
  account: string;
  roleArn: string;
  enableNetworkIsolation: boolean;
  kmsKeyId?: string;
  volumeKmsKeyId?: string;
  echo: Readonly<Record<string, unknown>>;
}

/** The volume size the SDK asks for when none is given (API:ProcessingClusterConfig.VolumeSizeInGB is required). */
const DEFAULT_VOLUME_SIZE_GB = 30;

/** `arn:aws:sagemaker:<region>:<account>:processing-job/<name>`, the name lower-cased as for other ARNs (UNCONFIRMED, CONTRACT §9.4). */
export function processingJobArn(region: string, account: string, name: string): string {
  return `arn:aws:sagemaker:${region}:${account}:processing-job/${name.toLowerCase()}`;
}

/**
 * The role ARN when a local run names none: CreateProcessingJob requires one and the config file
 * shows it, so a program that reads it finds a well-formed ARN of the local account.
 */
export function localRoleArn(account: string): string {
  return `arn:aws:iam::${account}:role/sm-local`;
}

/** The default LocalPath of an input or output given by name only: the SDK's conventional folders (CONTRACT §6.2). */
export function defaultLocalPath(kind: 'input' | 'output', name: string): string {
  return `${PROCESSING_ROOT}/${kind}/${name}`;
}

/** Files sm-local writes in a job folder, which an output's folder must not take. */
const JOB_FOLDER_FILES = /^(describe\.json|algo-\d+\.log|\.sm-local.*)$/;

/** Whether an output name can be its folder's name in the job folder. */
export function jobFolderName(name: string): boolean {
  return !/[/\\\0]/.test(name) && name !== '.' && name !== '..' && !JOB_FOLDER_FILES.test(name);
}

const underRoot = (path: string) => path.startsWith(`${PROCESSING_ROOT}/`) && path.length > PROCESSING_ROOT.length + 1;
const normalise = (path: string) => path.replace(/(.)\/+$/, '$1');

function checkLocalPath(p: Problems, field: string, path: string): void {
  p.checkString(field, path, { min: 1, max: L.localPathMax });
  if (!underRoot(path)) p.add(field, `"${path}" must be an absolute path under ${PROCESSING_ROOT}/, e.g. ${PROCESSING_ROOT}/input/data.`);
  else if (path.split('/').some((part) => part === '..' || part === '.')) p.add(field, `"${path}" must not contain "." or ".." segments.`);
}

/**
 * Validates a {@link ProcessingJobSpec} against the API's limits (CONTRACT §6.4, §10.5) and applies
 * the defaults. Every problem is reported at once with its field path; nothing touches the disk.
 */
export function resolveProcessingJobSpec(input: ProcessingJobSpec, ctx: { now: Date }): { spec?: ResolvedProcessingJobSpec; problems: Problems['problems']; notices: Problems['notices'] } {
  const p = new Problems();
  const image = input.image ?? '';
  p.checkString('AppSpecification.ImageUri', image, { min: 1, max: L.image.max, pattern: /^\S+$/, patternText: 'no whitespace' });
  const processingJobName = input.processingJobName ?? defaultJobName(image, ctx.now);
  p.checkString('ProcessingJobName', processingJobName, {
    min: 1,
    max: L.jobName.max,
    pattern: L.jobName.pattern,
    patternText: '^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$ (letters, digits and hyphens; no leading or trailing hyphen)',
  });

  const environment = { ...(input.environment ?? {}) };
  checkStringMap(p, 'Environment', environment, L.environment);

  const instanceType = input.instanceType ?? L.defaultInstanceType;
  p.checkString('ProcessingResources.ClusterConfig.InstanceType', instanceType, { pattern: INSTANCE_TYPE_PATTERN, patternText: 'ml.<family>.<size>, e.g. ml.m5.large' });
  const instanceCount = input.instanceCount ?? 1;
  p.checkInteger('ProcessingResources.ClusterConfig.InstanceCount', instanceCount, L.instanceCount);
  if (instanceCount > 8 && Number.isInteger(instanceCount) && instanceCount <= L.instanceCount.max) p.notice(`${instanceCount} hosts means ${instanceCount} containers on this machine at once.`);
  const volumeSizeInGB = input.volumeSizeInGB ?? DEFAULT_VOLUME_SIZE_GB;
  p.checkInteger('ProcessingResources.ClusterConfig.VolumeSizeInGB', volumeSizeInGB, L.volumeSizeInGB);

  checkCommand(p, 'AppSpecification.ContainerEntrypoint', input.containerEntrypoint);
  checkCommand(p, 'AppSpecification.ContainerArguments', input.containerArguments);

  // Two areas at one path cannot both be there; every LocalPath is a folder of its own.
  const takenPaths = new Map<string, string>();
  const claim = (path: string, by: string, field: string) => {
    const first = takenPaths.get(path);
    if (first) p.add(field, `"${path}" is already the LocalPath of ${first}; every input and output needs a folder of its own.`);
    else takenPaths.set(path, by);
  };

  const inputsIn = input.inputs ?? [];
  if (inputsIn.length > L.inputs.max) p.add('ProcessingInputs', `has ${inputsIn.length} inputs; at most ${L.inputs.max} are allowed.`);
  const inputNames = new Set<string>();
  const inputs: ResolvedProcessingInput[] = inputsIn.map((i, n) => {
    const at = `ProcessingInputs[${n}]`;
    p.checkString(`${at}.InputName`, i.inputName ?? '', { min: 1, max: L.nameMax });
    if (inputNames.has(i.inputName)) p.add(`${at}.InputName`, `input "${i.inputName}" is defined more than once; input names must be unique.`);
    inputNames.add(i.inputName);
    const localPath = normalise(i.localPath ?? defaultLocalPath('input', i.inputName));
    checkLocalPath(p, `${at}.S3Input.LocalPath`, localPath);
    claim(localPath, `input "${i.inputName}"`, `${at}.S3Input.LocalPath`);
    if (i.s3DataType === 'ManifestFile') p.add(`${at}.S3Input.S3DataType`, 'ManifestFile is not supported locally; only S3Prefix (a folder of objects) is.');
    const s3InputMode = i.s3InputMode ?? 'File';
    const s3CompressionType = i.s3CompressionType ?? 'None';
    if (s3CompressionType === 'Gzip' && s3InputMode !== 'Pipe') {
      // API:ProcessingS3Input.S3CompressionType: "Gzip can only be used when Pipe mode is specified as the S3InputMode."
      p.add(`${at}.S3Input.S3CompressionType`, `input "${i.inputName}": Gzip can only be used when S3InputMode is Pipe; in File mode leave it None (SageMaker does not decompress File-mode data).`);
    }
    return {
      inputName: i.inputName,
      source: i.source,
      ...(i.sourceUri !== undefined ? { sourceUri: i.sourceUri } : {}),
      localPath,
      s3DataType: 'S3Prefix',
      s3InputMode,
      s3DataDistributionType: i.s3DataDistributionType ?? 'FullyReplicated',
      s3CompressionType,
    };
  });

  const outputsIn = input.outputs ?? [];
  if (outputsIn.length > L.outputs.max) p.add('ProcessingOutputConfig.Outputs', `has ${outputsIn.length} outputs; at most ${L.outputs.max} are allowed.`);
  const outputNames = new Set<string>();
  const outputs: ResolvedProcessingOutput[] = outputsIn.map((o, n) => {
    const at = `ProcessingOutputConfig.Outputs[${n}]`;
    p.checkString(`${at}.OutputName`, o.outputName ?? '', { min: 1, max: L.nameMax });
    if (o.destination === undefined && o.outputName && !jobFolderName(o.outputName)) {
      p.add(`${at}.OutputName`, `"${o.outputName}" cannot name the output's folder in the job folder (no "/", not "." or "..", not a file sm-local writes there): give the output a destination, or another name.`);
    }
    if (outputNames.has(o.outputName)) p.add(`${at}.OutputName`, `output "${o.outputName}" is defined more than once; output names must be unique.`);
    outputNames.add(o.outputName);
    const localPath = normalise(o.localPath ?? defaultLocalPath('output', o.outputName));
    checkLocalPath(p, `${at}.S3Output.LocalPath`, localPath);
    claim(localPath, `output "${o.outputName}"`, `${at}.S3Output.LocalPath`);
    return {
      outputName: o.outputName,
      localPath,
      ...(o.destination !== undefined ? { destination: o.destination } : {}),
      ...(o.destinationUri !== undefined ? { destinationUri: o.destinationUri } : {}),
      s3UploadMode: o.s3UploadMode ?? 'EndOfJob',
    };
  });

  const maxRuntimeInSeconds = input.stoppingCondition?.maxRuntimeInSeconds ?? L.maxRuntimeInSeconds.default;
  p.checkInteger('StoppingCondition.MaxRuntimeInSeconds', maxRuntimeInSeconds, L.maxRuntimeInSeconds);
  const stopGraceSeconds = resolveStopGrace(p, input.stopGraceSeconds, PROCESSING_STOP_GRACE_SECONDS);
  const { region, account } = resolveIdentity(p, input);

  if (!p.ok) return { problems: p.problems, notices: p.notices };
  return {
    spec: {
      image,
      processingJobName,
      processingJobArn: processingJobArn(region, account, processingJobName),
      inputs,
      outputs,
      environment,
      instanceType,
      instanceCount,
      volumeSizeInGB,
      ...(input.containerEntrypoint ? { containerEntrypoint: [...input.containerEntrypoint] } : {}),
      ...(input.containerArguments ? { containerArguments: [...input.containerArguments] } : {}),
      maxRuntimeInSeconds,
      stoppingConditionGiven: input.stoppingCondition?.maxRuntimeInSeconds !== undefined,
      stopGraceSeconds,
      region,
      account,
      roleArn: input.roleArn ?? localRoleArn(account),
      enableNetworkIsolation: input.enableNetworkIsolation ?? false,
      ...(input.kmsKeyId !== undefined ? { kmsKeyId: input.kmsKeyId } : {}),
      ...(input.volumeKmsKeyId !== undefined ? { volumeKmsKeyId: input.volumeKmsKeyId } : {}),
      echo: input.echo ?? {},
    },
    problems: p.problems,
    notices: p.notices,
  };
}

/** {@link resolveProcessingJobSpec}, throwing {@link InvalidSpecError} with every problem at once. */
export function resolveProcessingJobSpecOrThrow(input: ProcessingJobSpec, ctx: { now: Date }, source?: string): { spec: ResolvedProcessingJobSpec; notices: string[] } {
  const out = resolveProcessingJobSpec(input, ctx);
  if (!out.spec) throw new InvalidSpecError(out.problems, source);
  return { spec: out.spec, notices: out.notices };
}
