/**
 * The input shapes of the operations the local SageMaker serves, with the constraints the service
 * checks (CONTRACT §9.5, §10; API model sagemaker 2017-07-24). They cover every member CONTRACT §10
 * lists and every member of the name, list and tag operations; members they do not name are
 * stored unchecked (CONTRACT §10). Instance types are left to `instance-types.ts`, which knows
 * what each one is. A test walks these shapes beside botocore's model, so they cannot drift from it.
 */
import type { Shape } from './shape-validation.js';

// ---- building blocks ---------------------------------------------------------------------------

const str = (min: number | undefined, max: number | undefined, pattern?: string): Shape => ({ type: 'string', ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}), ...(pattern !== undefined ? { pattern } : {}) });
const oneOf = (...values: string[]): Shape => ({ type: 'string', enum: values });
const int = (min?: number, max?: number): Shape => ({ type: 'integer', ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });
const bool: Shape = { type: 'boolean' };
const time: Shape = { type: 'timestamp' };
const list = (member: Shape, min?: number, max?: number): Shape => ({ type: 'list', member, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });
const map = (key: Shape, value: Shape, max: number): Shape => ({ type: 'map', key, value, min: 0, max });
/** A structure; a member written `Name*` is required. */
function struct(members: Record<string, Shape>): Shape {
  const required: string[] = [];
  const named: Record<string, Shape> = {};
  for (const [k, v] of Object.entries(members)) {
    const name = k.endsWith('*') ? k.slice(0, -1) : k;
    if (name !== k) required.push(name);
    named[name] = v;
  }
  return { type: 'structure', members: named, required };
}

const ANY = '.*';
const JOB_NAME = str(1, 63, '[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}');
const RESOURCE_NAME = str(0, 63, '[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}');
const MODEL_NAME = str(0, 63, '[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?');
const ROLE_ARN = str(20, 2048, 'arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+');
const S3_URI = str(0, 1024, '(https|s3)://([^/]+)/?(.*)');
const DESTINATION_S3_URI = str(0, 512, '(https|s3)://([^/])/?(.*)');
const KMS_KEY = str(0, 2048, '[a-zA-Z0-9:/_-]*');
const IMAGE = str(0, 255, ANY);
const CONTENT_TYPE = str(0, 256, ANY);
const ENV_KEY = '[a-zA-Z_][a-zA-Z0-9_]*';
const ENV_VALUE = '[\\S\\s]*';
const TAG_TEXT = '([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)';
const TAG_KEY = str(1, 128, TAG_TEXT);
const TAGS = list(struct({ 'Key*': TAG_KEY, 'Value*': str(0, 256, TAG_TEXT) }), 0, 50);
const RESOURCE_ARN = str(0, 256, 'arn:aws[a-z-]*:sagemaker:[a-z0-9-]*:[0-9]{12}:.+');
const INSTANCE_TYPE: Shape = { type: 'string' };
const VPC = struct({ 'SecurityGroupIds*': list(str(0, 32, '[-0-9a-zA-Z]+'), 1, 5), 'Subnets*': list(str(0, 32, '[-0-9a-zA-Z]+'), 1, 16) });
const COMPRESSION = oneOf('None', 'Gzip');
const INPUT_MODE = oneOf('Pipe', 'File', 'FastFile');
const S3_DATA_TYPE = oneOf('ManifestFile', 'S3Prefix', 'AugmentedManifestFile', 'Converse');
const EXPERIMENT_NAME = str(1, 120, '[a-zA-Z0-9](-*[a-zA-Z0-9]){0,119}');
const EXPERIMENT = struct({ ExperimentName: EXPERIMENT_NAME, TrialName: EXPERIMENT_NAME, TrialComponentDisplayName: EXPERIMENT_NAME, RunName: EXPERIMENT_NAME });
const arguments_ = (max: number) => list(str(0, max, ANY), 1, 100);

// ---- training ----------------------------------------------------------------------------------

const CHANNEL = struct({
  'ChannelName*': str(1, 64, '[A-Za-z0-9\\.\\-_]+'),
  'DataSource*': struct({
    S3DataSource: struct({
      'S3DataType*': S3_DATA_TYPE,
      'S3Uri*': S3_URI,
      S3DataDistributionType: oneOf('FullyReplicated', 'ShardedByS3Key'),
      AttributeNames: list(str(1, 256, '.+'), 0, 16),
      InstanceGroupNames: list(str(1, 64, '.+'), 0, 5),
    }),
    FileSystemDataSource: struct({
      'FileSystemId*': str(11, 21, '(fs-[0-9a-f]{8,})'),
      'FileSystemAccessMode*': oneOf('rw', 'ro'),
      'FileSystemType*': oneOf('EFS', 'FSxLustre'),
      'DirectoryPath*': str(0, 4096, ANY),
    }),
  }),
  ContentType: CONTENT_TYPE,
  CompressionType: COMPRESSION,
  RecordWrapperType: oneOf('None', 'RecordIO'),
  InputMode: INPUT_MODE,
  ShuffleConfig: struct({ 'Seed*': { type: 'long' } }),
});

const CREATE_TRAINING_JOB = struct({
  'TrainingJobName*': JOB_NAME,
  HyperParameters: map(str(0, 256, ANY), str(0, 2500, ANY), 100),
  AlgorithmSpecification: struct({
    TrainingImage: IMAGE,
    AlgorithmName: str(1, 170, '(arn:aws[a-z\\-]*:sagemaker:[a-z0-9\\-]*:[0-9]{12}:[a-z\\-]*\\/)?([a-zA-Z0-9]([a-zA-Z0-9-]){0,62})(?<!-)'),
    'TrainingInputMode*': INPUT_MODE,
    MetricDefinitions: list(struct({ 'Name*': str(1, 255, '.+'), 'Regex*': str(1, 500, '.+') }), 0, 40),
    EnableSageMakerMetricsTimeSeries: bool,
    ContainerEntrypoint: arguments_(256),
    ContainerArguments: arguments_(256),
    TrainingImageConfig: struct({ 'TrainingRepositoryAccessMode*': oneOf('Platform', 'Vpc') }),
  }),
  'RoleArn*': ROLE_ARN,
  InputDataConfig: list(CHANNEL, 1, 20),
  'OutputDataConfig*': struct({ KmsKeyId: KMS_KEY, 'S3OutputPath*': S3_URI, CompressionType: oneOf('GZIP', 'NONE') }),
  ResourceConfig: struct({
    InstanceType: INSTANCE_TYPE,
    InstanceCount: int(0),
    VolumeSizeInGB: int(0),
    VolumeKmsKeyId: KMS_KEY,
    KeepAlivePeriodInSeconds: int(0, 21600),
    InstanceGroups: list(struct({ 'InstanceType*': INSTANCE_TYPE, 'InstanceCount*': int(0), 'InstanceGroupName*': str(1, 64, '.+') }), 0, 5),
  }),
  VpcConfig: VPC,
  StoppingCondition: struct({ MaxRuntimeInSeconds: int(1), MaxWaitTimeInSeconds: int(1), MaxPendingTimeInSeconds: int(7200, 2419200) }),
  Tags: TAGS,
  EnableNetworkIsolation: bool,
  EnableInterContainerTrafficEncryption: bool,
  EnableManagedSpotTraining: bool,
  CheckpointConfig: struct({ 'S3Uri*': S3_URI, LocalPath: str(0, 4096, ANY) }),
  Environment: map(str(0, 512, ENV_KEY), str(0, 512, ENV_VALUE), 100),
  RetryStrategy: struct({ 'MaximumRetryAttempts*': int(1, 30) }),
  ExperimentConfig: EXPERIMENT,
});

// ---- processing --------------------------------------------------------------------------------

const CREATE_PROCESSING_JOB = struct({
  ProcessingInputs: list(
    struct({
      'InputName*': { type: 'string' },
      AppManaged: bool,
      S3Input: struct({
        'S3Uri*': S3_URI,
        LocalPath: str(0, 256, ANY),
        'S3DataType*': oneOf('ManifestFile', 'S3Prefix'),
        S3InputMode: oneOf('Pipe', 'File'),
        S3DataDistributionType: oneOf('FullyReplicated', 'ShardedByS3Key'),
        S3CompressionType: COMPRESSION,
      }),
    }),
    0,
    10,
  ),
  ProcessingOutputConfig: struct({
    'Outputs*': list(
      struct({
        'OutputName*': { type: 'string' },
        S3Output: struct({ 'S3Uri*': S3_URI, LocalPath: str(0, 256, ANY), 'S3UploadMode*': oneOf('Continuous', 'EndOfJob') }),
        AppManaged: bool,
      }),
      0,
      10,
    ),
    KmsKeyId: KMS_KEY,
  }),
  'ProcessingJobName*': JOB_NAME,
  'ProcessingResources*': struct({
    'ClusterConfig*': struct({ 'InstanceCount*': int(1, 100), 'InstanceType*': INSTANCE_TYPE, 'VolumeSizeInGB*': int(1, 16384), VolumeKmsKeyId: KMS_KEY }),
  }),
  StoppingCondition: struct({ 'MaxRuntimeInSeconds*': int(1, 777600) }),
  'AppSpecification*': struct({ 'ImageUri*': IMAGE, ContainerEntrypoint: arguments_(256), ContainerArguments: arguments_(256) }),
  Environment: map(str(0, 256, ENV_KEY), str(0, 256, ENV_VALUE), 100),
  NetworkConfig: struct({ EnableInterContainerTrafficEncryption: bool, EnableNetworkIsolation: bool, VpcConfig: VPC }),
  'RoleArn*': ROLE_ARN,
  Tags: TAGS,
  ExperimentConfig: EXPERIMENT,
});

// ---- transform ---------------------------------------------------------------------------------

const CREATE_TRANSFORM_JOB = struct({
  'TransformJobName*': JOB_NAME,
  'ModelName*': MODEL_NAME,
  MaxConcurrentTransforms: int(0),
  ModelClientConfig: struct({ InvocationsTimeoutInSeconds: int(1, 3600), InvocationsMaxRetries: int(0, 3) }),
  MaxPayloadInMB: int(0),
  BatchStrategy: oneOf('MultiRecord', 'SingleRecord'),
  Environment: map(str(0, 1024, '[a-zA-Z_][a-zA-Z0-9_]{0,1023}'), str(0, 10240, ENV_VALUE), 16),
  'TransformInput*': struct({
    'DataSource*': struct({ 'S3DataSource*': struct({ 'S3DataType*': S3_DATA_TYPE, 'S3Uri*': S3_URI }) }),
    ContentType: CONTENT_TYPE,
    CompressionType: COMPRESSION,
    SplitType: oneOf('None', 'Line', 'RecordIO', 'TFRecord'),
  }),
  'TransformOutput*': struct({ 'S3OutputPath*': S3_URI, Accept: CONTENT_TYPE, AssembleWith: oneOf('None', 'Line'), KmsKeyId: KMS_KEY }),
  DataCaptureConfig: struct({ 'DestinationS3Uri*': S3_URI, KmsKeyId: KMS_KEY, GenerateInferenceId: bool }),
  'TransformResources*': struct({ 'InstanceType*': INSTANCE_TYPE, 'InstanceCount*': int(1), VolumeKmsKeyId: KMS_KEY, TransformAmiVersion: str(1, 63, '[a-zA-Z0-9]+(-[a-zA-Z0-9]+)*') }),
  DataProcessing: struct({ InputFilter: str(0, 63, undefined), OutputFilter: str(0, 63, undefined), JoinSource: oneOf('Input', 'None') }),
  Tags: TAGS,
  ExperimentConfig: EXPERIMENT,
});

// ---- hosting -----------------------------------------------------------------------------------

const CONTAINER = struct({
  ContainerHostname: RESOURCE_NAME,
  Image: str(0, 255, '[\\S]+'),
  ImageConfig: struct({ 'RepositoryAccessMode*': oneOf('Platform', 'Vpc') }),
  Mode: oneOf('SingleModel', 'MultiModel'),
  ModelDataUrl: S3_URI,
  ModelDataSource: struct({
    S3DataSource: struct({ 'S3Uri*': S3_URI, 'S3DataType*': oneOf('S3Prefix', 'S3Object'), 'CompressionType*': COMPRESSION }),
  }),
  Environment: map(str(0, 1024, ENV_KEY), str(0, 1024, ENV_VALUE), 100),
  InferenceSpecificationName: JOB_NAME,
  MultiModelConfig: struct({ ModelCacheSetting: oneOf('Enabled', 'Disabled') }),
});

const CREATE_MODEL = struct({
  'ModelName*': MODEL_NAME,
  PrimaryContainer: CONTAINER,
  Containers: list(CONTAINER, 0, 15),
  InferenceExecutionConfig: struct({ 'Mode*': oneOf('Serial', 'Direct') }),
  ExecutionRoleArn: ROLE_ARN,
  VpcConfig: VPC,
  EnableNetworkIsolation: bool,
  Tags: TAGS,
});

const VARIANT = struct({
  'VariantName*': RESOURCE_NAME,
  ModelName: MODEL_NAME,
  InitialInstanceCount: int(1),
  InstanceType: INSTANCE_TYPE,
  InitialVariantWeight: { type: 'float', min: 0 },
  VolumeSizeInGB: int(1, 512),
  ModelDataDownloadTimeoutInSeconds: int(60, 3600),
  ContainerStartupHealthCheckTimeoutInSeconds: int(60, 3600),
  EnableSSMAccess: bool,
});

const CREATE_ENDPOINT_CONFIG = struct({
  'EndpointConfigName*': RESOURCE_NAME,
  'ProductionVariants*': list(VARIANT, 1, 10),
  DataCaptureConfig: struct({
    EnableCapture: bool,
    'InitialSamplingPercentage*': int(0, 100),
    'DestinationS3Uri*': DESTINATION_S3_URI,
    KmsKeyId: KMS_KEY,
    'CaptureOptions*': list(struct({ 'CaptureMode*': oneOf('Input', 'Output', 'InputAndOutput') }), 1, 32),
  }),
  Tags: TAGS,
  KmsKeyId: KMS_KEY,
  AsyncInferenceConfig: struct({
    ClientConfig: struct({ MaxConcurrentInvocationsPerInstance: int(1, 1000) }),
    'OutputConfig*': struct({ KmsKeyId: KMS_KEY, S3OutputPath: DESTINATION_S3_URI, S3FailurePath: DESTINATION_S3_URI }),
  }),
  ShadowProductionVariants: list(VARIANT, 1, 10),
  ExecutionRoleArn: ROLE_ARN,
  VpcConfig: VPC,
  EnableNetworkIsolation: bool,
});

const ENDPOINT = { 'EndpointName*': RESOURCE_NAME, 'EndpointConfigName*': RESOURCE_NAME };

// ---- names, lists, tags ------------------------------------------------------------------------

const TOKEN = str(0, 8192, ANY);
const NAME_CONTAINS = str(0, 63, '[a-zA-Z0-9\\-]+');
const ORDER = oneOf('Ascending', 'Descending');
const JOB_STATUS = oneOf('InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped');
const page = { NextToken: TOKEN, MaxResults: int(1, 100), CreationTimeAfter: time, CreationTimeBefore: time };
const modified = { LastModifiedTimeAfter: time, LastModifiedTimeBefore: time };
const named = (member: string, shape: Shape) => struct({ [`${member}*`]: shape });

/** Each served operation's input shape, by its `X-Amz-Target` name. */
export const INPUT_SHAPES: Readonly<Record<string, Shape>> = {
  CreateTrainingJob: CREATE_TRAINING_JOB,
  DescribeTrainingJob: named('TrainingJobName', JOB_NAME),
  StopTrainingJob: named('TrainingJobName', JOB_NAME),
  ListTrainingJobs: struct({ ...page, ...modified, NameContains: NAME_CONTAINS, StatusEquals: oneOf('InProgress', 'Completed', 'Failed', 'Stopping', 'Stopped', 'Deleting'), SortBy: oneOf('Name', 'CreationTime', 'Status'), SortOrder: ORDER }),
  CreateProcessingJob: CREATE_PROCESSING_JOB,
  DescribeProcessingJob: named('ProcessingJobName', JOB_NAME),
  StopProcessingJob: named('ProcessingJobName', JOB_NAME),
  ListProcessingJobs: struct({ ...page, ...modified, NameContains: { type: 'string' }, StatusEquals: JOB_STATUS, SortBy: oneOf('Name', 'CreationTime', 'Status'), SortOrder: ORDER }),
  CreateTransformJob: CREATE_TRANSFORM_JOB,
  DescribeTransformJob: named('TransformJobName', JOB_NAME),
  StopTransformJob: named('TransformJobName', JOB_NAME),
  ListTransformJobs: struct({ ...page, ...modified, NameContains: NAME_CONTAINS, StatusEquals: JOB_STATUS, SortBy: oneOf('Name', 'CreationTime', 'Status'), SortOrder: ORDER }),
  CreateModel: CREATE_MODEL,
  DescribeModel: named('ModelName', MODEL_NAME),
  DeleteModel: named('ModelName', MODEL_NAME),
  ListModels: struct({ ...page, NameContains: str(0, 63, '[a-zA-Z0-9-]+'), SortBy: oneOf('Name', 'CreationTime'), SortOrder: ORDER }),
  CreateEndpointConfig: CREATE_ENDPOINT_CONFIG,
  DescribeEndpointConfig: named('EndpointConfigName', RESOURCE_NAME),
  DeleteEndpointConfig: named('EndpointConfigName', RESOURCE_NAME),
  ListEndpointConfigs: struct({ ...page, NameContains: str(0, 63, '[a-zA-Z0-9-]+'), SortBy: oneOf('Name', 'CreationTime'), SortOrder: ORDER }),
  CreateEndpoint: struct({ ...ENDPOINT, Tags: TAGS }),
  UpdateEndpoint: struct({ ...ENDPOINT, RetainAllVariantProperties: bool, ExcludeRetainedVariantProperties: list(struct({ 'VariantPropertyType*': oneOf('DesiredInstanceCount', 'DesiredWeight', 'DataCaptureConfig') }), 0, 3), RetainDeploymentConfig: bool }),
  DescribeEndpoint: named('EndpointName', RESOURCE_NAME),
  DeleteEndpoint: named('EndpointName', RESOURCE_NAME),
  ListEndpoints: struct({
    ...page,
    ...modified,
    NameContains: str(0, 63, '[a-zA-Z0-9-]+'),
    SortBy: oneOf('Name', 'CreationTime', 'Status'),
    SortOrder: ORDER,
    StatusEquals: oneOf('OutOfService', 'Creating', 'Updating', 'SystemUpdating', 'RollingBack', 'InService', 'Deleting', 'Failed', 'UpdateRollbackFailed'),
  }),
  AddTags: struct({ 'ResourceArn*': RESOURCE_ARN, 'Tags*': TAGS }),
  DeleteTags: struct({ 'ResourceArn*': RESOURCE_ARN, 'TagKeys*': list(TAG_KEY, 1, 50) }),
  ListTags: struct({ 'ResourceArn*': RESOURCE_ARN, NextToken: TOKEN, MaxResults: int(50) }),
};
