/**
 * What the local SageMaker keeps of each resource, what tells the job kinds apart, and the small
 * helpers its operations share to answer in the service's shapes.
 */
import { apiErrors, validationError, type ApiError } from '../contract/api-wire.js';
import type { ModelSpec } from '../contract/serving-spec.js';
import { InvalidSpecError, SmLocalError } from '../errors.js';
import type { EndpointCreation } from '../jobs/serving-runner.js';
import type { TrainingJobHandle, TrainingResult } from '../jobs/training-runner.js';

export type Json = Record<string, unknown>;
export type Answer = { ok: true; body: Json } | { ok: false; error: ApiError };

/** What survives a restart: every resource's request and record, and who ran them. */
export interface SavedState {
  version: 1;
  owner: { session: string; pid: number; hostname: string };
  trainingJobs: { name: string; arn: string; createdAt: number; request: Json; outputUri: string; jobDir: string; uploaded?: { model?: string; output?: string } }[];
  jobs: Record<string, { name: string; arn: string; createdAt: number; request: Json; jobDir: string }[]>;
  models: { name: string; arn: string; createdAt: number; request: Json }[];
  endpointConfigs: { name: string; arn: string; createdAt: number; request: Json }[];
  endpoints: { name: string; arn: string; configName: string; createdAt: number }[];
  tags: [string, [string, string][]][];
}

/** A job of a previous run of the server, as it ended: its last record, and nothing left to stop. */
export function finishedHandle(describe: Json): { describe(): Json; stop(): void; force(): void; done: Promise<undefined> } {
  return { describe: () => describe, stop: () => {}, force: () => {}, done: Promise.resolve(undefined) };
}

export const TERMINAL_STATUSES = ['Completed', 'Failed', 'Stopped'];

export const RESTART_REASON = 'The local SageMaker (sm-local api) stopped while the job ran; its containers were removed when it started again.';

export interface TrainingRecord {
  name: string;
  arn: string;
  createdAt: number;
  /** What Describe, Stop and the state file use of the job (a job of a previous run has only its last record). */
  handle: Pick<TrainingJobHandle, 'describe' | 'stop' | 'force' | 'jobDir'> & { done: Promise<unknown> };
  request: Json;
  /** Where the artifacts go: `<S3OutputPath>/<job>/output/`. */
  outputUri: string;
  /** Set once the artifacts are in the local S3. */
  uploaded?: { model?: string; output?: string };
  /** The job ended and its artifacts are where the service puts them: only then is its status final. */
  settled?: boolean;
  result?: TrainingResult;
}

/** A processing or transform job: what Describe, List and Stop act on. */
export interface JobRecord {
  name: string;
  arn: string;
  createdAt: number;
  handle: { describe(): Json; stop(): void; force(): void; done: Promise<unknown>; jobDir?: string };
  request: Json;
}

/** What tells the job kinds apart in the API: names, the describe's status member, the list's summary. */
export interface JobKind {
  /** `processing job`, `transform job`. */
  word: string;
  arnKind: string;
  nameMember: string;
  statusMember: string;
  summary(d: Json, record: JobRecord): Json;
  /** The instances a request of this kind asks for (`{InstanceType, InstanceCount}`). */
  resources(request: Json): unknown[];
}

export const PROCESSING: JobKind = {
  word: 'processing job',
  arnKind: 'processing-job',
  nameMember: 'ProcessingJobName',
  statusMember: 'ProcessingJobStatus',
  resources: (r) => [((r.ProcessingResources ?? {}) as Json).ClusterConfig],
  summary: (d, r) => ({
    ProcessingJobName: r.name,
    ProcessingJobArn: r.arn,
    CreationTime: d.CreationTime,
    ...pick(d, ['ProcessingEndTime', 'LastModifiedTime']),
    ProcessingJobStatus: d.ProcessingJobStatus,
    ...pick(d, ['FailureReason', 'ExitMessage']),
  }),
};

export const TRANSFORM: JobKind = {
  word: 'transform job',
  arnKind: 'transform-job',
  nameMember: 'TransformJobName',
  statusMember: 'TransformJobStatus',
  resources: (r) => [r.TransformResources],
  summary: (d, r) => ({ TransformJobName: r.name, TransformJobArn: r.arn, CreationTime: d.CreationTime, ...pick(d, ['TransformEndTime', 'LastModifiedTime']), TransformJobStatus: d.TransformJobStatus, ...pick(d, ['FailureReason']) }),
};

export interface ModelRecord {
  name: string;
  arn: string;
  createdAt: number;
  request: Json;
  spec: ModelSpec;
}

export interface EndpointConfigRecord {
  name: string;
  arn: string;
  createdAt: number;
  request: Json;
}

export interface EndpointRecord {
  name: string;
  arn: string;
  configName: string;
  createdAt: number;
  creation: EndpointCreation;
  deleting?: Promise<void>;
  /** UpdateEndpoint under way: the new config's containers starting beside the old ones. */
  updating?: { configName: string; creation: EndpointCreation };
  /** Why the last update failed (the endpoint kept its containers, as after a rollback). */
  updateFailure?: string;
}

export const ok = (body: Json = {}): Answer => ({ ok: true, body });
export const fail = (error: ApiError): Answer => ({ ok: false, error });
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
/** The members of a stored request that its Describe answers with, as they were sent. */
export const pick = (request: Json, members: readonly string[]): Json => Object.fromEntries(members.filter((k) => request[k] !== undefined).map((k) => [k, request[k]]));
export const arnOf = (region: string, account: string, kind: string, name: string) => `arn:aws:sagemaker:${region}:${account}:${kind}/${name.toLowerCase()}`;

/** A request refused with a service error on the way to starting its job. */
export class Refused extends Error {
  constructor(readonly error: ApiError) {
    super(error.message);
  }
}

/** An error sm-local raised while taking a request, as the control plane answers it. */
export function asApiError(err: unknown): ApiError {
  if (err instanceof Refused) return err.error;
  if (err instanceof InvalidSpecError) return validationError(err.problems);
  if (err instanceof SmLocalError) return apiErrors.validation(`${err.message}${err.hint ? ` ${err.hint}` : ''}`);
  return apiErrors.internal(`sm-local failed: ${(err as Error)?.message ?? String(err)}`);
}

