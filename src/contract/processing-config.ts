/**
 * The two files of `/opt/ml/config/` in a processing container (CONTRACT §6.2), and its environment
 * (§6.3). Data in, data out; member order and `null`s as `examples/processing.*.json`.
 */
import type { HostPlan } from './hosts.js';
import type { ResolvedProcessingJobSpec } from './processing-spec.js';

/**
 * `processingjobconfig.json`: the job definition as the service writes it, every member present and
 * `null` where the request left an optional one out (the doc example; the SDK's local mode writes
 * the same members). `S3Uri` is the request's URI, or the local folder that stands in for it.
 */
export function renderProcessingJobConfig(spec: ResolvedProcessingJobSpec, outputDestination: (outputName: string) => string): Record<string, unknown> {
  return {
    ProcessingJobArn: spec.processingJobArn,
    ProcessingJobName: spec.processingJobName,
    AppSpecification: {
      ImageUri: spec.image,
      ContainerEntrypoint: spec.containerEntrypoint ?? null,
      ContainerArguments: spec.containerArguments ?? null,
    },
    Environment: Object.keys(spec.environment).length ? spec.environment : null,
    ProcessingInputs: spec.inputs.length
      ? spec.inputs.map((i) => ({
          InputName: i.inputName,
          S3Input: {
            LocalPath: i.localPath,
            S3Uri: i.sourceUri ?? i.source,
            S3DataDistributionType: i.s3DataDistributionType,
            S3DataType: i.s3DataType,
            S3InputMode: i.s3InputMode,
            S3CompressionType: i.s3CompressionType,
            // Every S3 input shows it; StartOfJob is the only value the doc shows (CONTRACT §6.2).
            S3DownloadMode: 'StartOfJob',
          },
        }))
      : null,
    ProcessingOutputConfig: spec.outputs.length
      ? {
          Outputs: spec.outputs.map((o) => ({
            OutputName: o.outputName,
            S3Output: { LocalPath: o.localPath, S3Uri: o.destinationUri ?? outputDestination(o.outputName), S3UploadMode: o.s3UploadMode },
          })),
          KmsKeyId: spec.kmsKeyId ?? null,
        }
      : null,
    ProcessingResources: {
      ClusterConfig: { InstanceCount: spec.instanceCount, InstanceType: spec.instanceType, VolumeSizeInGB: spec.volumeSizeInGB, VolumeKmsKeyId: spec.volumeKmsKeyId ?? null },
    },
    RoleArn: spec.roleArn,
    StoppingCondition: spec.stoppingConditionGiven ? { MaxRuntimeInSeconds: spec.maxRuntimeInSeconds } : null,
  };
}

/**
 * `resourceconfig.json` of a processing host: `current_host` and `hosts` only, as the example shows
 * (the SDK's local mode adds keys the service is not known to write; CONTRACT §6.2). Hosts sorted as
 * in training.
 */
export function renderProcessingResourceConfig(plan: readonly HostPlan[], current: HostPlan): { current_host: string; hosts: string[] } {
  return { current_host: current.name, hosts: plan.map((h) => h.name).sort() };
}

/**
 * The container's environment (CONTRACT §6.3): the request's `Environment` verbatim, and no `SM_*`
 * variable (processing has none; scripts read resourceconfig.json). `AWS_REGION` is set as in
 * training, which the contract leaves UNCONFIRMED for processing; a request's own value wins.
 */
export function renderProcessingEnvironment(spec: Pick<ResolvedProcessingJobSpec, 'environment' | 'region'>): Record<string, string> {
  return { AWS_REGION: spec.region, ...spec.environment };
}
