import type { UriMapper } from './create-training-job.js';
import { Problems } from './problems.js';
import type { ProcessingInputSpec, ProcessingJobSpec, ProcessingOutputSpec } from './processing-spec.js';
import { Reader, typeName, type Json } from './request-reader.js';

/**
 * Reads a CreateProcessingJob request (CONTRACT §10.5: the file `aws sagemaker create-processing-job
 * --cli-input-json` takes) into a {@link ProcessingJobSpec}: what the AWS CLI checks before sending
 * (required members, types, unknown members), every problem with its field path. Limits and patterns
 * are checked by `resolveProcessingJobSpec`, with the same paths.
 */

/** Every top-level member of CreateProcessingJobRequest (botocore sagemaker 2017-07-24). */
export const CREATE_PROCESSING_JOB_MEMBERS = [
  'ProcessingInputs', 'ProcessingOutputConfig', 'ProcessingJobName', 'ProcessingResources', 'StoppingCondition',
  'AppSpecification', 'Environment', 'NetworkConfig', 'RoleArn', 'Tags', 'ExperimentConfig',
] as const;

const NESTED_MEMBERS: Record<string, readonly string[]> = {
  ProcessingInput: ['InputName', 'AppManaged', 'S3Input', 'DatasetDefinition'],
  ProcessingS3Input: ['S3Uri', 'LocalPath', 'S3DataType', 'S3InputMode', 'S3DataDistributionType', 'S3CompressionType'],
  ProcessingOutputConfig: ['Outputs', 'KmsKeyId'],
  ProcessingOutput: ['OutputName', 'S3Output', 'FeatureStoreOutput', 'AppManaged'],
  ProcessingS3Output: ['S3Uri', 'LocalPath', 'S3UploadMode'],
  ProcessingResources: ['ClusterConfig'],
  ProcessingClusterConfig: ['InstanceCount', 'InstanceType', 'VolumeSizeInGB', 'VolumeKmsKeyId'],
  ProcessingStoppingCondition: ['MaxRuntimeInSeconds'],
  AppSpecification: ['ImageUri', 'ContainerEntrypoint', 'ContainerArguments'],
  NetworkConfig: ['EnableInterContainerTrafficEncryption', 'EnableNetworkIsolation', 'VpcConfig'],
};

/** Members that change nothing a local container sees; accepted and echoed into describe.json. */
const NO_LOCAL_EFFECT = new Set(['ExperimentConfig']);

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;

export interface ParsedProcessingRequest {
  spec: Partial<ProcessingJobSpec>;
  problems: Problems['problems'];
  notices: Problems['notices'];
}

export function parseCreateProcessingJobRequest(request: unknown, mapUri: UriMapper): ParsedProcessingRequest {
  const p = new Problems();
  const r = new Reader(p, { input: CREATE_PROCESSING_JOB_MEMBERS, ...NESTED_MEMBERS });
  const spec: Partial<ProcessingJobSpec> = {};
  if (typeName(request) !== 'structure') {
    p.add('', `The request must be a JSON object (the CreateProcessingJob request shape), not a ${typeName(request)}.`);
    return { spec, problems: p.problems, notices: p.notices };
  }
  const root = r.struct('', request, 'input', { strictMembers: true })!;

  const name = r.required('ProcessingJobName', '', 'ProcessingJobName', root.ProcessingJobName, (q, v) => r.string(q, v));
  if (name !== undefined) spec.processingJobName = name;
  const roleArn = r.required('RoleArn', '', 'RoleArn', root.RoleArn, (q, v) => r.string(q, v));
  if (roleArn !== undefined) {
    p.checkString('RoleArn', roleArn, { min: 20, max: 2048, pattern: ROLE_ARN, patternText: 'arn:aws:iam::<12 digits>:role/<name>' });
    spec.roleArn = roleArn;
  }
  const env = r.stringMap('Environment', root.Environment);
  if (env) spec.environment = env;

  const app = r.required('AppSpecification', '', 'AppSpecification', root.AppSpecification, (q, v) => r.struct(q, v, 'AppSpecification'));
  if (app) {
    const image = r.required('AppSpecification.ImageUri', 'AppSpecification', 'ImageUri', app.ImageUri, (q, v) => r.string(q, v));
    if (image !== undefined) spec.image = image;
    const entrypoint = r.stringList('AppSpecification.ContainerEntrypoint', app.ContainerEntrypoint);
    if (entrypoint) spec.containerEntrypoint = entrypoint;
    const args = r.stringList('AppSpecification.ContainerArguments', app.ContainerArguments);
    if (args) spec.containerArguments = args;
  }

  const resources = r.required('ProcessingResources', '', 'ProcessingResources', root.ProcessingResources, (q, v) => r.struct(q, v, 'ProcessingResources'));
  if (resources) {
    const at = 'ProcessingResources.ClusterConfig';
    const cluster = r.required(at, 'ProcessingResources', 'ClusterConfig', resources.ClusterConfig, (q, v) => r.struct(q, v, 'ProcessingClusterConfig'));
    if (cluster) {
      const count = r.required(`${at}.InstanceCount`, at, 'InstanceCount', cluster.InstanceCount, (q, v) => r.integer(q, v));
      if (count !== undefined) spec.instanceCount = count;
      const type = r.required(`${at}.InstanceType`, at, 'InstanceType', cluster.InstanceType, (q, v) => r.string(q, v));
      if (type !== undefined) spec.instanceType = type;
      const volume = r.required(`${at}.VolumeSizeInGB`, at, 'VolumeSizeInGB', cluster.VolumeSizeInGB, (q, v) => r.integer(q, v));
      if (volume !== undefined) spec.volumeSizeInGB = volume;
      const kms = r.string(`${at}.VolumeKmsKeyId`, cluster.VolumeKmsKeyId);
      if (kms !== undefined) spec.volumeKmsKeyId = kms;
    }
  }

  const stopping = r.struct('StoppingCondition', root.StoppingCondition, 'ProcessingStoppingCondition');
  if (stopping) {
    const max = r.required('StoppingCondition.MaxRuntimeInSeconds', 'StoppingCondition', 'MaxRuntimeInSeconds', stopping.MaxRuntimeInSeconds, (q, v) => r.integer(q, v));
    if (max !== undefined) spec.stoppingCondition = { maxRuntimeInSeconds: max };
  }

  const network = r.struct('NetworkConfig', root.NetworkConfig, 'NetworkConfig');
  if (network) {
    const isolation = r.boolean('NetworkConfig.EnableNetworkIsolation', network.EnableNetworkIsolation);
    if (isolation !== undefined) spec.enableNetworkIsolation = isolation;
    r.boolean('NetworkConfig.EnableInterContainerTrafficEncryption', network.EnableInterContainerTrafficEncryption);
    if (network.VpcConfig !== undefined) p.notice('NetworkConfig.VpcConfig: a local job runs on a private network of its own; the VPC settings are not applied.');
  }

  readInputs(r, root, spec, mapUri);
  readOutputs(r, root, spec, mapUri);

  const echo: Record<string, unknown> = {};
  for (const key of Object.keys(root)) if (NO_LOCAL_EFFECT.has(key)) echo[key] = root[key];
  spec.echo = echo;
  return { spec, problems: p.problems, notices: p.notices };
}

/** A member that only the service can give (Athena, Redshift, Feature Store, an app that fetches its own data). */
function unsupported(p: Problems, path: string, what: string): void {
  p.add(path, `${what} cannot run locally: sm-local delivers S3Input and S3Output folders only (s3:// mapped to local folders).`);
}

function readInputs(r: Reader, root: Json, spec: Partial<ProcessingJobSpec>, mapUri: UriMapper): void {
  const p = r.p;
  const list = r.list('ProcessingInputs', root.ProcessingInputs);
  if (!list) return;
  const out: ProcessingInputSpec[] = [];
  list.forEach((raw, n) => {
    const at = `ProcessingInputs[${n}]`;
    const i = r.struct(at, raw, 'ProcessingInput');
    if (!i) return;
    const inputName = r.required(`${at}.InputName`, at, 'InputName', i.InputName, (q, v) => r.string(q, v));
    if (r.boolean(`${at}.AppManaged`, i.AppManaged)) unsupported(p, `${at}.AppManaged`, 'An app-managed input (the application downloads it itself)');
    if (i.DatasetDefinition !== undefined) unsupported(p, `${at}.DatasetDefinition`, 'A DatasetDefinition (Athena or Redshift query)');
    const s3 = r.struct(`${at}.S3Input`, i.S3Input, 'ProcessingS3Input');
    if (!s3) {
      if (i.S3Input === undefined && i.DatasetDefinition === undefined) p.add(at, 'must contain an S3Input.');
      return;
    }
    const sp = `${at}.S3Input`;
    const input: Partial<ProcessingInputSpec> = { inputName: inputName ?? '' };
    const localPath = r.string(`${sp}.LocalPath`, s3.LocalPath);
    // API:ProcessingS3Input.LocalPath: required unless the input is app-managed.
    if (localPath === undefined && s3.LocalPath === undefined) p.add(`${sp}.LocalPath`, 'Missing LocalPath: the folder under /opt/ml/processing/ where the container finds this input.');
    if (localPath !== undefined) input.localPath = localPath;
    const type = r.required(`${sp}.S3DataType`, sp, 'S3DataType', s3.S3DataType, (q, v) => r.oneOf(q, v, ['S3Prefix', 'ManifestFile'] as const));
    if (type) input.s3DataType = type;
    const mode = r.oneOf(`${sp}.S3InputMode`, s3.S3InputMode, ['File', 'Pipe'] as const);
    if (mode) input.s3InputMode = mode;
    const dist = r.oneOf(`${sp}.S3DataDistributionType`, s3.S3DataDistributionType, ['FullyReplicated', 'ShardedByS3Key'] as const);
    if (dist) input.s3DataDistributionType = dist;
    const compression = r.oneOf(`${sp}.S3CompressionType`, s3.S3CompressionType, ['None', 'Gzip'] as const);
    if (compression) input.s3CompressionType = compression;
    const uri = r.required(`${sp}.S3Uri`, sp, 'S3Uri', s3.S3Uri, (q, v) => r.string(q, v));
    if (uri !== undefined) {
      const local = mapUri(uri, `${sp}.S3Uri`, p);
      if (local !== undefined) out.push({ ...input, source: local, sourceUri: uri } as ProcessingInputSpec);
    }
  });
  spec.inputs = out;
}

function readOutputs(r: Reader, root: Json, spec: Partial<ProcessingJobSpec>, mapUri: UriMapper): void {
  const p = r.p;
  const config = r.struct('ProcessingOutputConfig', root.ProcessingOutputConfig, 'ProcessingOutputConfig');
  if (!config) return;
  const kms = r.string('ProcessingOutputConfig.KmsKeyId', config.KmsKeyId);
  if (kms !== undefined) spec.kmsKeyId = kms;
  const list = r.required('ProcessingOutputConfig.Outputs', 'ProcessingOutputConfig', 'Outputs', config.Outputs, (q, v) => r.list(q, v));
  if (!list) return;
  const out: ProcessingOutputSpec[] = [];
  list.forEach((raw, n) => {
    const at = `ProcessingOutputConfig.Outputs[${n}]`;
    const o = r.struct(at, raw, 'ProcessingOutput');
    if (!o) return;
    const outputName = r.required(`${at}.OutputName`, at, 'OutputName', o.OutputName, (q, v) => r.string(q, v));
    if (r.boolean(`${at}.AppManaged`, o.AppManaged)) unsupported(p, `${at}.AppManaged`, 'An app-managed output (the application uploads it itself)');
    if (o.FeatureStoreOutput !== undefined) unsupported(p, `${at}.FeatureStoreOutput`, 'A FeatureStoreOutput');
    const s3 = r.struct(`${at}.S3Output`, o.S3Output, 'ProcessingS3Output');
    if (!s3) {
      if (o.S3Output === undefined && o.FeatureStoreOutput === undefined) p.add(at, 'must contain an S3Output.');
      return;
    }
    const sp = `${at}.S3Output`;
    const output: Partial<ProcessingOutputSpec> = { outputName: outputName ?? '' };
    const localPath = r.string(`${sp}.LocalPath`, s3.LocalPath);
    if (localPath === undefined && s3.LocalPath === undefined) p.add(`${sp}.LocalPath`, 'Missing LocalPath: the folder under /opt/ml/processing/ the container writes this output to.');
    if (localPath !== undefined) output.localPath = localPath;
    const mode = r.required(`${sp}.S3UploadMode`, sp, 'S3UploadMode', s3.S3UploadMode, (q, v) => r.oneOf(q, v, ['EndOfJob', 'Continuous'] as const));
    if (mode) output.s3UploadMode = mode;
    const uri = r.required(`${sp}.S3Uri`, sp, 'S3Uri', s3.S3Uri, (q, v) => r.string(q, v));
    if (uri !== undefined) {
      const local = mapUri(uri, `${sp}.S3Uri`, p);
      if (local !== undefined) out.push({ ...output, destination: local, destinationUri: uri } as ProcessingOutputSpec);
    }
  });
  spec.outputs = out;
}
