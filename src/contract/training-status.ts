import { maskSecretValues } from '../log.js';
import type { ResolvedTrainingJobSpec } from './training-spec.js';

/** API:TrainingJobStatus (CONTRACT §3.14). */
export type TrainingJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

/** The API:SecondaryStatus values a local job passes through. */
export type SecondaryStatus =
  | 'Starting'
  | 'Downloading'
  | 'Training'
  | 'Uploading'
  | 'Stopping'
  | 'Completed'
  | 'Failed'
  | 'Stopped'
  | 'MaxRuntimeExceeded';

/** Status messages as real jobs print them (CONTRACT §3.14); not a stable interface of the service. */
export const SECONDARY_STATUS_MESSAGES: Record<SecondaryStatus, string> = {
  Starting: 'Preparing the instances for training',
  Downloading: 'Downloading input data',
  Training: 'Training image download completed. Training in progress.',
  Uploading: 'Uploading generated training model',
  Stopping: 'Stopping the training job',
  Completed: 'Training job completed',
  Failed: 'Training job failed',
  Stopped: 'Training job stopped',
  MaxRuntimeExceeded: 'Training job exceeded MaxRuntimeInSeconds provided',
};

const TERMINAL: Partial<Record<SecondaryStatus, TrainingJobStatus>> = {
  Completed: 'Completed',
  Failed: 'Failed',
  Stopped: 'Stopped',
  MaxRuntimeExceeded: 'Stopped',
};

export interface SecondaryStatusTransition {
  Status: SecondaryStatus;
  StartTime: number;
  EndTime?: number;
  StatusMessage: string;
}

/** Epoch seconds with millisecond precision, as the API's JSON timestamps are (CONTRACT §9.2). */
export function epochSeconds(ms: number): number {
  return Math.round(ms) / 1000;
}

/**
 * Records SecondaryStatusTransitions. Time comes in from the caller, so this stays pure.
 * Happy path: Starting → Downloading → Training → Uploading → Completed (CONTRACT §3.14).
 */
export class TrainingStatusTracker {
  private readonly list: SecondaryStatusTransition[] = [];
  private stopping = false;

  constructor(readonly creationTimeMs: number) {
    this.enter('Starting', creationTimeMs);
  }

  enter(status: SecondaryStatus, atMs: number): void {
    const last = this.list.at(-1);
    if (last?.Status === status) return;
    if (last && last.EndTime === undefined) last.EndTime = epochSeconds(atMs);
    if (status === 'Stopping') this.stopping = true;
    const entry: SecondaryStatusTransition = { Status: status, StartTime: epochSeconds(atMs), StatusMessage: SECONDARY_STATUS_MESSAGES[status] };
    if (TERMINAL[status]) entry.EndTime = entry.StartTime;
    this.list.push(entry);
  }

  get secondaryStatus(): SecondaryStatus {
    return this.list.at(-1)!.Status;
  }

  get status(): TrainingJobStatus {
    return TERMINAL[this.secondaryStatus] ?? (this.stopping ? 'Stopping' : 'InProgress');
  }

  /** When the instances were ready: the end of `Starting`. */
  get trainingStartTime(): number | undefined {
    return this.list[0]?.EndTime;
  }

  /** In the API's member order: Status, StartTime, EndTime, StatusMessage. */
  get transitions(): SecondaryStatusTransition[] {
    return this.list.map((t) => ({
      Status: t.Status,
      StartTime: t.StartTime,
      ...(t.EndTime !== undefined ? { EndTime: t.EndTime } : {}),
      StatusMessage: t.StatusMessage,
    }));
  }
}

export interface TrainingJobOutcome {
  tracker: TrainingStatusTracker;
  failureReason?: string;
  /** Local path of model.tar.gz (or the model folder), when it was written. */
  modelArtifact?: string;
  /** The last value of each metric (FinalMetricDataList). */
  finalMetrics?: readonly { MetricName: string; Value: number; Timestamp: number }[];
  /** Fields sm-local adds under `SmLocal` (job folder, log paths, exit code, transfer mode…). */
  local: Record<string, unknown>;
}

/**
 * `describe.json`: the job as DescribeTrainingJob would return it (API:DescribeTrainingJobResponse;
 * `examples/api.describe-training-job.response.json`), with local paths where S3 URIs would be, and
 * an `SmLocal` member for what only a local run has.
 */
export function renderDescribeTrainingJob(spec: ResolvedTrainingJobSpec, outcome: TrainingJobOutcome, jobDir: string): Record<string, unknown> {
  const { tracker } = outcome;
  const transitions = tracker.transitions;
  // A finished job ends when it enters its terminal status; that instant is also its last modification.
  const endTime = tracker.status === 'InProgress' || tracker.status === 'Stopping' ? undefined : transitions.at(-1)?.StartTime;
  const startTime = tracker.trainingStartTime;
  const seconds = endTime !== undefined && startTime !== undefined ? Math.max(1, Math.ceil(endTime - startTime)) : undefined;
  const lastModified = transitions.at(-1)?.StartTime;
  return {
    TrainingJobName: spec.trainingJobName,
    TrainingJobArn: spec.trainingJobArn,
    ...(outcome.modelArtifact ? { ModelArtifacts: { S3ModelArtifacts: outcome.modelArtifact } } : {}),
    TrainingJobStatus: tracker.status,
    SecondaryStatus: tracker.secondaryStatus,
    ...(outcome.failureReason !== undefined ? { FailureReason: outcome.failureReason } : {}),
    HyperParameters: spec.hyperParameters,
    AlgorithmSpecification: {
      TrainingImage: spec.image,
      TrainingInputMode: spec.trainingInputMode,
      ...(spec.metricDefinitions.length ? { MetricDefinitions: spec.metricDefinitions } : {}),
      ...(spec.containerEntrypoint ? { ContainerEntrypoint: spec.containerEntrypoint } : {}),
      ...(spec.containerArguments ? { ContainerArguments: spec.containerArguments } : {}),
      EnableSageMakerMetricsTimeSeries: false,
    },
    ...(spec.roleArn !== undefined ? { RoleArn: spec.roleArn } : {}),
    ...(spec.channels.length
      ? {
          InputDataConfig: spec.channels.map((c) => ({
            ChannelName: c.channelName,
            DataSource: {
              S3DataSource: {
                S3DataType: 'S3Prefix',
                S3Uri: c.sourceUri ?? c.source,
                S3DataDistributionType: c.s3DataDistributionType,
                ...(c.instanceGroupNames?.length ? { InstanceGroupNames: c.instanceGroupNames } : {}),
              },
            },
            ...(c.contentType !== undefined ? { ContentType: c.contentType } : {}),
            CompressionType: c.compressionType,
            RecordWrapperType: c.recordWrapperType,
            InputMode: c.inputMode,
            ...(c.shuffleSeed !== undefined ? { ShuffleConfig: { Seed: c.shuffleSeed } } : {}),
          })),
        }
      : {}),
    OutputDataConfig: { S3OutputPath: spec.s3OutputPath ?? jobDir, ...(spec.outputCompression === 'NONE' ? { CompressionType: 'NONE' } : {}) },
    ResourceConfig: spec.instanceGroups
      ? {
          InstanceGroups: spec.instanceGroups.map((g) => ({ InstanceType: g.instanceType, InstanceCount: g.instanceCount, InstanceGroupName: g.instanceGroupName })),
          VolumeSizeInGB: spec.volumeSizeInGB,
        }
      : { InstanceType: spec.instanceType, InstanceCount: spec.instanceCount, VolumeSizeInGB: spec.volumeSizeInGB },
    StoppingCondition: { MaxRuntimeInSeconds: spec.maxRuntimeInSeconds },
    CreationTime: epochSeconds(tracker.creationTimeMs),
    ...(startTime !== undefined ? { TrainingStartTime: startTime } : {}),
    ...(endTime !== undefined ? { TrainingEndTime: endTime } : {}),
    LastModifiedTime: lastModified,
    SecondaryStatusTransitions: transitions,
    ...(outcome.finalMetrics?.length ? { FinalMetricDataList: outcome.finalMetrics } : {}),
    ...(spec.checkpoint ? { CheckpointConfig: { S3Uri: spec.checkpoint.sourceUri ?? spec.checkpoint.source, LocalPath: spec.checkpoint.localPath } } : {}),
    // The shape of DescribeTrainingJob, but never a secret in clear: the record is written to disk and stdout.
    ...(Object.keys(spec.environment).length ? { Environment: maskSecretValues(spec.environment) } : {}),
    EnableNetworkIsolation: spec.enableNetworkIsolation,
    EnableInterContainerTrafficEncryption: false,
    EnableManagedSpotTraining: false,
    ...(seconds !== undefined ? { TrainingTimeInSeconds: seconds, BillableTimeInSeconds: seconds } : {}),
    ...spec.echo,
    SmLocal: outcome.local,
  };
}
