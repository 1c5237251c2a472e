/**
 * How a processing job ends and what DescribeProcessingJob says of it (CONTRACT §6.1–6.2, §10.5):
 * its status, ExitMessage from the hosts' `/opt/ml/output/message`, FailureReason, and the
 * describe record. Data in, data out.
 */
import { maskSecretValues } from '../log.js';
import { PROCESSING_LIMITS } from './limits.js';
import type { ResolvedProcessingJobSpec } from './processing-spec.js';
import { epochSeconds } from './training-status.js';

/** API:ProcessingJobStatus. */
export type ProcessingJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

/**
 * FailureReason of a job whose container exited non-zero. Processing jobs report the algorithm's own
 * words in ExitMessage and this fixed text in FailureReason (seen on failed jobs; the wording is
 * UNCONFIRMED by the contract).
 */
export const PROCESSING_ALGORITHM_ERROR = 'AlgorithmError: See job logs for more information';

/** FailureReason when MaxRuntimeInSeconds ended the job (Stopped); the service's wording is UNCONFIRMED. */
export function processingMaxRuntimeReason(seconds: number): string {
  return `ProcessingJob exceeded MaxRuntimeInSeconds provided (${seconds} s); SageMaker stopped it.`;
}

/**
 * ExitMessage from each host's `/opt/ml/output/message` (undefined where a host wrote none), in host
 * order: the texts concatenated, then cut to the field's 1024 characters (CONTRACT §6.2). Content that
 * is not UTF-8 fails the job with a ClientError (its wording is UNCONFIRMED) and gives no ExitMessage.
 */
export function renderExitMessage(messages: readonly { host: string; bytes?: Uint8Array }[]): { exitMessage?: string; clientError?: string } {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const texts: string[] = [];
  for (const { host, bytes } of messages) {
    if (!bytes) continue;
    try {
      texts.push(decoder.decode(bytes));
    } catch {
      return { clientError: `ClientError: /opt/ml/output/message of ${host} is not valid UTF-8; write the exit message as UTF-8 text.` };
    }
  }
  if (!texts.length) return {};
  return { exitMessage: [...texts.join('')].slice(0, PROCESSING_LIMITS.exitMessageMax).join('') };
}

/** A processing job's status and its times (epoch ms), as it runs. */
export interface ProcessingTimes {
  status: ProcessingJobStatus;
  createdAt: number;
  /** When the containers started. */
  startedAt?: number;
  /** When the job reached its final status. */
  endedAt?: number;
  modifiedAt: number;
}

export interface ProcessingJobOutcome {
  times: ProcessingTimes;
  exitMessage?: string;
  failureReason?: string;
  /** The local folder each output went to. */
  outputDestination: (outputName: string) => string;
  /** What only a local run has (job folder, logs, exit codes…), under `SmLocal`. */
  local: Record<string, unknown>;
}

/**
 * `describe.json`: the job as DescribeProcessingJob returns it (API:DescribeProcessingJobResponse),
 * local folders where S3 URIs would be unless the request named URIs, secrets masked, and sm-local's
 * own `SmLocal` member.
 */
export function renderDescribeProcessingJob(spec: ResolvedProcessingJobSpec, outcome: ProcessingJobOutcome): Record<string, unknown> {
  const { times } = outcome;
  return {
    ...(spec.inputs.length
      ? {
          ProcessingInputs: spec.inputs.map((i) => ({
            InputName: i.inputName,
            AppManaged: false,
            S3Input: {
              S3Uri: i.sourceUri ?? i.source,
              LocalPath: i.localPath,
              S3DataType: i.s3DataType,
              S3InputMode: i.s3InputMode,
              S3DataDistributionType: i.s3DataDistributionType,
              S3CompressionType: i.s3CompressionType,
            },
          })),
        }
      : {}),
    ...(spec.outputs.length
      ? {
          ProcessingOutputConfig: {
            Outputs: spec.outputs.map((o) => ({
              OutputName: o.outputName,
              S3Output: { S3Uri: o.destinationUri ?? outcome.outputDestination(o.outputName), LocalPath: o.localPath, S3UploadMode: o.s3UploadMode },
              AppManaged: false,
            })),
            ...(spec.kmsKeyId !== undefined ? { KmsKeyId: spec.kmsKeyId } : {}),
          },
        }
      : {}),
    ProcessingJobName: spec.processingJobName,
    ProcessingResources: {
      ClusterConfig: {
        InstanceCount: spec.instanceCount,
        InstanceType: spec.instanceType,
        VolumeSizeInGB: spec.volumeSizeInGB,
        ...(spec.volumeKmsKeyId !== undefined ? { VolumeKmsKeyId: spec.volumeKmsKeyId } : {}),
      },
    },
    ...(spec.stoppingConditionGiven ? { StoppingCondition: { MaxRuntimeInSeconds: spec.maxRuntimeInSeconds } } : {}),
    AppSpecification: {
      ImageUri: spec.image,
      ...(spec.containerEntrypoint ? { ContainerEntrypoint: spec.containerEntrypoint } : {}),
      ...(spec.containerArguments ? { ContainerArguments: spec.containerArguments } : {}),
    },
    // The shape of DescribeProcessingJob, but never a secret in clear: the record is written to disk and stdout.
    ...(Object.keys(spec.environment).length ? { Environment: maskSecretValues(spec.environment) } : {}),
    NetworkConfig: { EnableInterContainerTrafficEncryption: false, EnableNetworkIsolation: spec.enableNetworkIsolation },
    RoleArn: spec.roleArn,
    ProcessingJobArn: spec.processingJobArn,
    ProcessingJobStatus: times.status,
    ...(outcome.exitMessage !== undefined ? { ExitMessage: outcome.exitMessage } : {}),
    ...(outcome.failureReason !== undefined ? { FailureReason: [...outcome.failureReason].slice(0, PROCESSING_LIMITS.failureReasonMax).join('') } : {}),
    ...(times.endedAt !== undefined ? { ProcessingEndTime: epochSeconds(times.endedAt) } : {}),
    ...(times.startedAt !== undefined ? { ProcessingStartTime: epochSeconds(times.startedAt) } : {}),
    LastModifiedTime: epochSeconds(times.modifiedAt),
    CreationTime: epochSeconds(times.createdAt),
    ...spec.echo,
    SmLocal: outcome.local,
  };
}
