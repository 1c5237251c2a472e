/**
 * Limits and patterns of the SageMaker API for training jobs (CONTRACT §1 and §3.15, from the
 * botocore service model `sagemaker` 2017-07-24). Validation uses these before anything starts.
 */
export const TRAINING_LIMITS = {
  jobName: { max: 63, pattern: /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/ },
  image: { max: 255 },
  hyperParameters: { maxEntries: 100, keyMax: 256, valueMax: 2500, valueProseMax: 256 },
  channels: { max: 20, nameMax: 64, namePattern: /^[A-Za-z0-9.\-_]+$/ },
  environment: { maxEntries: 100, keyMax: 512, keyPattern: /^[a-zA-Z_][a-zA-Z0-9_]*$/, valueMax: 512 },
  containerCommand: { minItems: 1, maxItems: 100, itemMax: 256 },
  maxRuntimeInSeconds: { min: 1, max: 2_419_200, default: 86_400 },
  contentTypeMax: 256,
  s3Uri: { max: 1024, pattern: /^(https|s3):\/\/([^/]+)\/?(.*)$/ },
  checkpointLocalPathMax: 4096,
  failureReasonMax: 1024,
} as const;

/** SIGTERM → SIGKILL grace for StopTrainingJob and MaxRuntimeInSeconds (CONTRACT §2.2). */
export const TRAINING_STOP_GRACE_SECONDS = 120;

/** `ResourceConfig.InstanceType` when none is given. */
export const DEFAULT_TRAINING_INSTANCE_TYPE = 'ml.m5.large';

/** The group name the platform writes when `InstanceGroups` is not used (CONTRACT §3.5). */
export const HOMOGENEOUS_GROUP_NAME = 'homogeneousCluster';

export const INSTANCE_TYPE_PATTERN = /^ml\.[a-z0-9-]+\.[a-z0-9]+$/;
export const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
export const ACCOUNT_PATTERN = /^\d{12}$/;

/**
 * Limits of CreateProcessingJob (CONTRACT §6.4, §10.5; botocore service model `sagemaker`).
 * InstanceType is required by the API; a local run without one gets training's default.
 */
export const PROCESSING_LIMITS = {
  jobName: TRAINING_LIMITS.jobName,
  image: { max: 255 },
  environment: { maxEntries: 100, keyMax: 256, keyPattern: /^[a-zA-Z_][a-zA-Z0-9_]*$/, valueMax: 256 },
  containerCommand: TRAINING_LIMITS.containerCommand,
  inputs: { max: 10 },
  outputs: { max: 10 },
  /** InputName and OutputName are plain strings in the model; this bounds what a local folder name takes. */
  nameMax: 256,
  localPathMax: 256,
  instanceCount: { min: 1, max: 100 },
  volumeSizeInGB: { min: 1, max: 16_384 },
  maxRuntimeInSeconds: { min: 1, max: 777_600, default: 86_400 },
  exitMessageMax: 1024,
  failureReasonMax: 1024,
  defaultInstanceType: DEFAULT_TRAINING_INSTANCE_TYPE,
} as const;

/**
 * SIGTERM → SIGKILL grace for StopProcessingJob and MaxRuntimeInSeconds: not documented for
 * processing (CONTRACT §2.2, UNCONFIRMED); training's 120 s, as the contract advises.
 */
export const PROCESSING_STOP_GRACE_SECONDS = TRAINING_STOP_GRACE_SECONDS;
