import { TRAINING_LIMITS as L } from './limits.js';
import { Problems } from './problems.js';
import { Reader, typeName, type Json } from './request-reader.js';
import { channelNameTwice, type ChannelSpec, type MetricDefinition, type TrainingJobSpec } from './training-spec.js';

/**
 * Reads a CreateTrainingJob request (CONTRACT §10.1: the file `aws sagemaker create-training-job
 * --cli-input-json` takes) into a {@link TrainingJobSpec}. Checks what the AWS CLI checks before
 * sending (required members, types, unknown top-level members) and reports every problem with its
 * field path. Limits and patterns are checked later by `resolveTrainingJobSpec`, also with API paths.
 */

/** Turns a data URI from the request (`s3://…`) into a local path, or reports why it cannot. */
export type UriMapper = (uri: string, fieldPath: string, problems: Problems) => string | undefined;

/** Every top-level member of CreateTrainingJobRequest (botocore sagemaker 2017-07-24). */
export const CREATE_TRAINING_JOB_MEMBERS = [
  'TrainingJobName', 'HyperParameters', 'AlgorithmSpecification', 'RoleArn', 'InputDataConfig', 'OutputDataConfig',
  'ResourceConfig', 'VpcConfig', 'StoppingCondition', 'Tags', 'EnableNetworkIsolation',
  'EnableInterContainerTrafficEncryption', 'EnableManagedSpotTraining', 'CheckpointConfig', 'DebugHookConfig',
  'DebugRuleConfigurations', 'TensorBoardOutputConfig', 'ExperimentConfig', 'ProfilerConfig',
  'ProfilerRuleConfigurations', 'Environment', 'RetryStrategy', 'RemoteDebugConfig', 'InfraCheckConfig',
  'SessionChainingConfig', 'ServerlessJobConfig', 'MlflowConfig', 'ModelPackageConfig',
] as const;

const NESTED_MEMBERS: Record<string, readonly string[]> = {
  AlgorithmSpecification: ['TrainingImage', 'AlgorithmName', 'TrainingInputMode', 'MetricDefinitions', 'EnableSageMakerMetricsTimeSeries', 'ContainerEntrypoint', 'ContainerArguments', 'TrainingImageConfig'],
  Channel: ['ChannelName', 'DataSource', 'ContentType', 'CompressionType', 'RecordWrapperType', 'InputMode', 'ShuffleConfig'],
  DataSource: ['S3DataSource', 'FileSystemDataSource'],
  S3DataSource: ['S3DataType', 'S3Uri', 'S3DataDistributionType', 'AttributeNames', 'InstanceGroupNames', 'ModelAccessConfig', 'HubAccessConfig'],
  OutputDataConfig: ['S3OutputPath', 'KmsKeyId', 'CompressionType'],
  ResourceConfig: ['InstanceType', 'InstanceCount', 'VolumeSizeInGB', 'VolumeKmsKeyId', 'KeepAlivePeriodInSeconds', 'InstanceGroups', 'TrainingPlanArn', 'InstancePlacementConfig'],
  StoppingCondition: ['MaxRuntimeInSeconds', 'MaxWaitTimeInSeconds', 'MaxPendingTimeInSeconds'],
  CheckpointConfig: ['S3Uri', 'LocalPath'],
  MetricDefinition: ['Name', 'Regex'],
  InstanceGroup: ['InstanceType', 'InstanceCount', 'InstanceGroupName'],
  ShuffleConfig: ['Seed'],
};

/** Members that change nothing a local container sees; accepted and echoed into describe.json. */
const NO_LOCAL_EFFECT = new Set([
  'VpcConfig', 'Tags', 'EnableInterContainerTrafficEncryption', 'DebugHookConfig', 'DebugRuleConfigurations',
  'TensorBoardOutputConfig', 'ExperimentConfig', 'ProfilerConfig', 'ProfilerRuleConfigurations', 'RetryStrategy',
  'RemoteDebugConfig', 'InfraCheckConfig', 'SessionChainingConfig', 'ServerlessJobConfig', 'MlflowConfig',
  'ModelPackageConfig', 'EnableManagedSpotTraining',
]);

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;

export interface ParsedTrainingRequest {
  spec: Partial<TrainingJobSpec>;
  problems: Problems['problems'];
  notices: Problems['notices'];
}

export function parseCreateTrainingJobRequest(request: unknown, mapUri: UriMapper): ParsedTrainingRequest {
  const p = new Problems();
  const r = new Reader(p, { input: CREATE_TRAINING_JOB_MEMBERS, ...NESTED_MEMBERS });
  const spec: Partial<TrainingJobSpec> = {};
  if (typeName(request) !== 'structure') {
    p.add('', `The request must be a JSON object (the CreateTrainingJob request shape), not a ${typeName(request)}.`);
    return { spec, problems: p.problems, notices: p.notices };
  }
  const root = r.struct('', request, 'input', { strictMembers: true })!;

  spec.trainingJobName = r.required('TrainingJobName', '', 'TrainingJobName', root.TrainingJobName, (q, v) => r.string(q, v));

  const roleArn = r.required('RoleArn', '', 'RoleArn', root.RoleArn, (q, v) => r.string(q, v));
  if (roleArn !== undefined) {
    p.checkString('RoleArn', roleArn, { min: 20, max: 2048, pattern: ROLE_ARN, patternText: 'arn:aws:iam::<12 digits>:role/<name>' });
    spec.roleArn = roleArn;
  }

  const hps = root.HyperParameters;
  if (hps !== undefined) spec.hyperParameters = r.stringMap('HyperParameters', hps);
  const env = root.Environment;
  if (env !== undefined) spec.environment = r.stringMap('Environment', env);

  readAlgorithmSpecification(r, root, spec);
  readInputDataConfig(r, root, spec, mapUri);
  readOutputAndResources(r, root, spec);

  const isolation = r.boolean('EnableNetworkIsolation', root.EnableNetworkIsolation);
  if (isolation !== undefined) spec.enableNetworkIsolation = isolation;
  if (r.boolean('EnableManagedSpotTraining', root.EnableManagedSpotTraining)) {
    p.notice('EnableManagedSpotTraining: a local job is never interrupted; MaxWaitTimeInSeconds is not applied.');
  }
  const checkpoint = r.struct('CheckpointConfig', root.CheckpointConfig, 'CheckpointConfig');
  if (checkpoint) {
    const uri = r.required('CheckpointConfig.S3Uri', 'CheckpointConfig', 'S3Uri', checkpoint.S3Uri, (q, v) => r.string(q, v));
    const localPath = r.string('CheckpointConfig.LocalPath', checkpoint.LocalPath);
    if (localPath !== undefined) p.checkString('CheckpointConfig.LocalPath', localPath, { max: L.checkpointLocalPathMax });
    const source = uri !== undefined ? mapUri(uri, 'CheckpointConfig.S3Uri', p) : undefined;
    if (uri !== undefined && source !== undefined) spec.checkpoint = { source, sourceUri: uri, ...(localPath !== undefined ? { localPath } : {}) };
  }

  const echo: Record<string, unknown> = {};
  for (const key of Object.keys(root)) {
    if (NO_LOCAL_EFFECT.has(key) && key !== 'Tags') echo[key] = root[key];
  }
  spec.echo = echo;
  return { spec, problems: p.problems, notices: p.notices };
}

function readAlgorithmSpecification(r: Reader, root: Json, spec: Partial<TrainingJobSpec>): void {
  const p = r.p;
  const algo = r.required('AlgorithmSpecification', '', 'AlgorithmSpecification', root.AlgorithmSpecification, (q, v) => r.struct(q, v, 'AlgorithmSpecification'));
  if (!algo) return;
  const at = 'AlgorithmSpecification';
  if (algo.AlgorithmName !== undefined) {
    p.add(`${at}.AlgorithmName`, 'Marketplace and built-in algorithm names cannot run locally; give a TrainingImage that is in your Docker engine.');
  }
  const image = r.string(`${at}.TrainingImage`, algo.TrainingImage);
  if (image !== undefined) spec.image = image;
  spec.trainingInputMode = r.required(`${at}.TrainingInputMode`, at, 'TrainingInputMode', algo.TrainingInputMode, (q, v) => r.oneOf(q, v, ['File', 'Pipe', 'FastFile'] as const));
  const entrypoint = r.stringList(`${at}.ContainerEntrypoint`, algo.ContainerEntrypoint);
  if (entrypoint) spec.containerEntrypoint = entrypoint;
  const args = r.stringList(`${at}.ContainerArguments`, algo.ContainerArguments);
  if (args) spec.containerArguments = args;
  r.boolean(`${at}.EnableSageMakerMetricsTimeSeries`, algo.EnableSageMakerMetricsTimeSeries);
  const metrics = r.list(`${at}.MetricDefinitions`, algo.MetricDefinitions);
  if (metrics) {
    if (metrics.length > 40) p.add(`${at}.MetricDefinitions`, `has ${metrics.length} entries; at most 40 are allowed.`);
    const defs: MetricDefinition[] = [];
    metrics.forEach((m, i) => {
      const mp = `${at}.MetricDefinitions[${i}]`;
      const s = r.struct(mp, m, 'MetricDefinition');
      if (!s) return;
      const name = r.required(`${mp}.Name`, mp, 'Name', s.Name, (q, v) => r.string(q, v));
      const regex = r.required(`${mp}.Regex`, mp, 'Regex', s.Regex, (q, v) => r.string(q, v));
      if (name !== undefined) p.checkString(`${mp}.Name`, name, { min: 1, max: 255 });
      if (regex !== undefined) p.checkString(`${mp}.Regex`, regex, { min: 1, max: 500 });
      if (name !== undefined && regex !== undefined) defs.push({ Name: name, Regex: regex });
    });
    spec.metricDefinitions = defs;
  }
}

function readInputDataConfig(r: Reader, root: Json, spec: Partial<TrainingJobSpec>, mapUri: UriMapper): void {
  const p = r.p;
  const channels = r.list('InputDataConfig', root.InputDataConfig);
  if (!channels) return;
  if (channels.length < 1) p.add('InputDataConfig', 'must have at least 1 channel when present; leave the member out for a job without input.');
  const out: ChannelSpec[] = [];
  const seen = new Map<string, string>();
  channels.forEach((raw, i) => {
    const at = `InputDataConfig[${i}]`;
    const c = r.struct(at, raw, 'Channel');
    if (!c) return;
    const channelName = r.required(`${at}.ChannelName`, at, 'ChannelName', c.ChannelName, (q, v) => r.string(q, v));
    if (channelName !== undefined) {
      const first = seen.get(channelName);
      if (first) p.add(`${at}.ChannelName`, channelNameTwice(channelName, `${first}.ChannelName`));
      else seen.set(channelName, at);
    }
    const ds = r.required(`${at}.DataSource`, at, 'DataSource', c.DataSource, (q, v) => r.struct(q, v, 'DataSource'));
    const channel: Partial<ChannelSpec> = { channelName: channelName ?? '' };
    const contentType = r.string(`${at}.ContentType`, c.ContentType);
    if (contentType !== undefined) channel.contentType = contentType;
    const compression = r.oneOf(`${at}.CompressionType`, c.CompressionType, ['None', 'Gzip'] as const);
    if (compression) channel.compressionType = compression;
    const wrapper = r.oneOf(`${at}.RecordWrapperType`, c.RecordWrapperType, ['None', 'RecordIO'] as const);
    if (wrapper) channel.recordWrapperType = wrapper;
    const mode = r.oneOf(`${at}.InputMode`, c.InputMode, ['File', 'Pipe', 'FastFile'] as const);
    if (mode) channel.inputMode = mode;
    const shuffle = r.struct(`${at}.ShuffleConfig`, c.ShuffleConfig, 'ShuffleConfig');
    if (shuffle) {
      const seed = r.required(`${at}.ShuffleConfig.Seed`, `${at}.ShuffleConfig`, 'Seed', shuffle.Seed, (q, v) => r.integer(q, v));
      if (seed !== undefined) channel.shuffleSeed = seed;
    }
    if (ds) {
      if (ds.FileSystemDataSource !== undefined) {
        p.add(`${at}.DataSource.FileSystemDataSource`, 'EFS and FSx for Lustre channels are not supported locally; use an S3DataSource mapped to a local folder.');
      }
      const s3 = r.struct(`${at}.DataSource.S3DataSource`, ds.S3DataSource, 'S3DataSource');
      if (!s3 && ds.FileSystemDataSource === undefined) p.add(`${at}.DataSource`, 'must contain an S3DataSource.');
      if (s3) {
        const sp = `${at}.DataSource.S3DataSource`;
        const type = r.required(`${sp}.S3DataType`, sp, 'S3DataType', s3.S3DataType, (q, v) => r.string(q, v));
        if (type !== undefined && type !== 'S3Prefix') {
          p.add(`${sp}.S3DataType`, `${type} is not supported locally; only S3Prefix (a folder of objects) is.`);
        }
        const dist = r.oneOf(`${sp}.S3DataDistributionType`, s3.S3DataDistributionType, ['FullyReplicated', 'ShardedByS3Key'] as const);
        if (dist) channel.s3DataDistributionType = dist;
        const groups = r.stringList(`${sp}.InstanceGroupNames`, s3.InstanceGroupNames);
        if (groups?.length) channel.instanceGroupNames = groups;
        const uri = r.required(`${sp}.S3Uri`, sp, 'S3Uri', s3.S3Uri, (q, v) => r.string(q, v));
        if (uri !== undefined) {
          const local = mapUri(uri, `${sp}.S3Uri`, p);
          if (local !== undefined) {
            channel.source = local;
            channel.sourceUri = uri;
          }
        }
      }
    }
    if (channel.source !== undefined) out.push(channel as ChannelSpec);
  });
  spec.channels = out;
}

function readOutputAndResources(r: Reader, root: Json, spec: Partial<TrainingJobSpec>): void {
  const p = r.p;
  const output = r.required('OutputDataConfig', '', 'OutputDataConfig', root.OutputDataConfig, (q, v) => r.struct(q, v, 'OutputDataConfig'));
  if (output) {
    const s3OutputPath = r.required('OutputDataConfig.S3OutputPath', 'OutputDataConfig', 'S3OutputPath', output.S3OutputPath, (q, v) => r.string(q, v));
    if (s3OutputPath !== undefined) spec.s3OutputPath = s3OutputPath;
    const compression = r.oneOf('OutputDataConfig.CompressionType', output.CompressionType, ['GZIP', 'NONE'] as const);
    if (compression) spec.outputCompression = compression;
  }

  const resources = r.required('ResourceConfig', '', 'ResourceConfig', root.ResourceConfig, (q, v) => r.struct(q, v, 'ResourceConfig'));
  if (resources) {
    const type = r.string('ResourceConfig.InstanceType', resources.InstanceType);
    if (type !== undefined) spec.instanceType = type;
    const count = r.integer('ResourceConfig.InstanceCount', resources.InstanceCount);
    if (count !== undefined) spec.instanceCount = count;
    const volume = r.integer('ResourceConfig.VolumeSizeInGB', resources.VolumeSizeInGB);
    if (volume !== undefined) spec.volumeSizeInGB = volume;
    const keepAlive = r.integer('ResourceConfig.KeepAlivePeriodInSeconds', resources.KeepAlivePeriodInSeconds);
    if (keepAlive !== undefined) p.checkInteger('ResourceConfig.KeepAlivePeriodInSeconds', keepAlive, { min: 0, max: 21600 });
    const groups = r.list('ResourceConfig.InstanceGroups', resources.InstanceGroups);
    if (groups) {
      spec.instanceGroups = [];
      groups.forEach((raw, i) => {
        const gp = `ResourceConfig.InstanceGroups[${i}]`;
        const g = r.struct(gp, raw, 'InstanceGroup');
        if (!g) return;
        const instanceGroupName = r.required(`${gp}.InstanceGroupName`, gp, 'InstanceGroupName', g.InstanceGroupName, (q, v) => r.string(q, v));
        const instanceType = r.required(`${gp}.InstanceType`, gp, 'InstanceType', g.InstanceType, (q, v) => r.string(q, v));
        const instanceCount = r.required(`${gp}.InstanceCount`, gp, 'InstanceCount', g.InstanceCount, (q, v) => r.integer(q, v));
        if (instanceGroupName !== undefined && instanceType !== undefined && instanceCount !== undefined) spec.instanceGroups!.push({ instanceGroupName, instanceType, instanceCount });
      });
    }
  }

  const stopping = r.required('StoppingCondition', '', 'StoppingCondition', root.StoppingCondition, (q, v) => r.struct(q, v, 'StoppingCondition'));
  if (stopping) {
    const max = r.integer('StoppingCondition.MaxRuntimeInSeconds', stopping.MaxRuntimeInSeconds);
    if (max !== undefined) spec.stoppingCondition = { maxRuntimeInSeconds: max };
    r.integer('StoppingCondition.MaxWaitTimeInSeconds', stopping.MaxWaitTimeInSeconds);
    const pending = r.integer('StoppingCondition.MaxPendingTimeInSeconds', stopping.MaxPendingTimeInSeconds);
    if (pending !== undefined) p.checkInteger('StoppingCondition.MaxPendingTimeInSeconds', pending, { min: 7200, max: 2_419_200 });
  }
}
