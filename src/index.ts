/**
 * sm-local as a library: run SageMaker training jobs, processing jobs and endpoints from a test suite or a script.
 *
 * ```ts
 * import { runTrainingJob } from 'sm-local';
 * const result = await runTrainingJob({ image: 'my-algo:latest', channels: [{ channelName: 'train', source: './data' }] });
 * await using ep = await startEndpoint({ image: 'my-model:latest', model: './model.tar.gz', port: 0 });
 * const out = await ep.invoke('{"x": 1}', { contentType: 'application/json' });
 * const report = await runConformanceCheck({ image: 'my-algo:latest', channels: [{ channelName: 'train', source: './data' }] });
 * ```
 */
export { runTrainingJob, startTrainingJob, type TrainingJobHandle, type TrainingJobInput, type TrainingResult, type TrainingRunOptions, type TransferMode } from './jobs/training-runner.js';
export {
  runProcessingJob,
  startProcessingJob,
  type ProcessingJobHandle,
  type ProcessingJobInput,
  type ProcessingResult,
  type ProcessingRunOptions,
} from './jobs/processing-runner.js';
export { resolveProcessingJobSpec, type ProcessingJobSpec, type ProcessingInputSpec, type ProcessingOutputSpec, type ResolvedProcessingJobSpec } from './contract/processing-spec.js';
export { parseCreateProcessingJobRequest } from './contract/create-processing-job.js';
export { renderProcessingJobConfig, renderProcessingResourceConfig } from './contract/processing-config.js';
export {
  runTransformJob,
  startTransformJob,
  type TransformFile,
  type TransformJobHandle,
  type TransformJobInput,
  type TransformProgress,
  type TransformResult,
  type TransformRunOptions,
} from './jobs/transform-runner.js';
export { resolveTransformJobSpec, effectiveParameters, parseExecutionParameters, type TransformJobSpec, type ResolvedTransformJobSpec } from './contract/transform-spec.js';
export { parseCreateTransformJobRequest } from './contract/create-transform-job.js';
export { createEndpoint, startEndpoint, type EndpointCreation, type EndpointHandle, type EndpointInput, type EndpointInfo, type EndpointOptions } from './jobs/serving-runner.js';
export { listEndpoints, findEndpoint, type RunningEndpoint } from './jobs/endpoints.js';
export { invokeEndpoint, type InvokeOptions, type InvokeResult } from './http/client.js';
export { buildProxyApp, type ProxyOptions, type RequestLogEntry } from './http/proxy-app.js';
export { resolveEndpointSpec, type EndpointSpec, type ResolvedEndpointSpec } from './contract/serving-spec.js';
export { parseCreateModelRequest } from './contract/create-model.js';
export { resolveJobDeps, type JobDeps } from './jobs/deps.js';
export { pruneResources, type PruneOptions, type PruneResult } from './jobs/prune.js';
export { runDoctor, type DoctorReport } from './jobs/doctor.js';
export { runConformanceCheck, checkWords, type CheckInput, type CheckSample, type CheckListener } from './jobs/check-runner.js';
export { resolveCheckInput, CHECK_CONFIG_FILE, type CheckFlags } from './config/check-input.js';
export { CHECKS, type CheckResult, type CheckStatus, type CheckGroup, type ConformanceReport, type PatternVerdict, type ImagePattern } from './contract/conformance.js';
export { renderJUnit } from './report/junit.js';
export { renderCheckTable } from './report/check-table.js';
export { DockerClient } from './docker/client.js';
export type { ContainerEngine, EngineContainer, ContainerInput, ExitInfo } from './docker/engine.js';
export {
  resolveTrainingJobSpec,
  defaultTrainingJobName,
  trainingJobArn,
  type ChannelSpec,
  type TrainingJobSpec,
  type ResolvedTrainingJobSpec,
  type TrainingInputMode,
} from './contract/training-spec.js';
export { renderTrainingConfig, inputDataConfigEntry } from './contract/training-config.js';
export { planHosts, renderResourceConfig, type HostPlan, type InstanceGroup } from './contract/hosts.js';
export { instanceResources, knownInstanceTypes, type InstanceResources } from './contract/instance-types.js';
export { compileMetrics, matchMetrics, type MetricPoint } from './contract/metrics.js';
export { parseCreateTrainingJobRequest } from './contract/create-training-job.js';
export { resolveContainerCommand } from './contract/container-command.js';
export { renderFailureReason } from './contract/failure-reason.js';
export * from './errors.js';
export { createStreamLogger, createMemoryLogger, silentLogger, type Logger, type LineHandler } from './log.js';
