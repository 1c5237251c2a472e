/**
 * A local SageMaker: the control plane's resources (training jobs, models, endpoint configs,
 * endpoints) as the service keeps them, each operation taking the request a client sends (CONTRACT
 * §9–10) and answering its output shape, or an {@link ApiError}. Jobs and endpoints run on the job
 * core, as `sm-local train` and `serve` run them; endpoints are routed by the runtime registry the
 * server listens with.
 */
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { hostname as osHostname } from 'node:os';
import { dirname, join } from 'node:path';
import { apiErrors, listPage, requestError, validationError, type ApiError, type Listed, type ListRequest } from '../contract/api-wire.js';
import { parseCreateEndpointConfigRequest } from '../contract/create-endpoint-config.js';
import { parseCreateModelRequest } from '../contract/create-model.js';
import { parseCreateProcessingJobRequest } from '../contract/create-processing-job.js';
import { parseCreateTransformJobRequest } from '../contract/create-transform-job.js';
import { parseCreateTrainingJobRequest, type UriMapper } from '../contract/create-training-job.js';
import { endpointArn } from '../contract/endpoint-status.js';
import { Problems } from '../contract/problems.js';
import type { ModelSpec } from '../contract/serving-spec.js';
import { trainingJobArn } from '../contract/training-spec.js';
import { epochSeconds } from '../contract/training-status.js';
import { createUriMapper } from '../config/uri-mapping.js';
import { JobExistsError } from '../errors.js';
import type { AsyncRoute } from '../http/async-invocation.js';
import type { EndpointRegistry } from '../http/endpoint-registry.js';
import type { JobDeps } from '../jobs/deps.js';
import { createEndpoint, type EndpointCreation } from '../jobs/serving-runner.js';
import { startProcessingJob } from '../jobs/processing-runner.js';
import { pruneResources } from '../jobs/prune.js';
import { startTrainingJob, type TrainingJobHandle, type TrainingResult } from '../jobs/training-runner.js';
import { startTransformJob } from '../jobs/transform-runner.js';
import { capacityProblem, type InstanceUse } from '../contract/capacity.js';
import { JobData } from './job-data.js';
import { LogStore } from './log-store.js';
import {
  arnOf,
  asApiError,
  fail,
  finishedHandle,
  ok,
  pick,
  PROCESSING,
  RESTART_REASON,
  str,
  TERMINAL_STATUSES,
  TRANSFORM,
  type Answer,
  type EndpointConfigRecord,
  type EndpointRecord,
  type JobKind,
  type JobRecord,
  type Json,
  type ModelRecord,
  type SavedState,
  type TrainingRecord,
} from './records.js';
import { StateFile } from './state-file.js';
import type { S3Mirror } from './s3-mirror.js';

export type { Answer } from './records.js';

export interface LocalSageMakerOptions {
  region: string;
  account: string;
  /** The folder standing in for S3: `s3://bucket/key` is `<s3Root>/bucket/key`. */
  s3Root: string;
  /** Where job folders go. */
  outputDir: string;
  /** The runtime that fronts the endpoints, and the port it listens on. */
  runtime: { registry: EndpointRegistry; port: number };
  /** Where the resources are kept between runs of the server (a JSON file); none: they live as long as the process. */
  stateFile?: string;
  /** An S3 endpoint whose objects are copied into `s3Root` before a job and back after it; none: `s3Root` is S3. */
  s3?: S3Mirror;
}

export class LocalSageMaker {
  private readonly trainingJobs = new Map<string, TrainingRecord>();
  private readonly jobs = new Map<JobKind, Map<string, JobRecord>>([
    [PROCESSING, new Map()],
    [TRANSFORM, new Map()],
  ]);
  private readonly models = new Map<string, ModelRecord>();
  private readonly endpointConfigs = new Map<string, EndpointConfigRecord>();
  private readonly endpoints = new Map<string, EndpointRecord>();
  /** The containers' output, as CloudWatch Logs has it. */
  readonly logs: LogStore;
  /** Tags by resource ARN, in the order they were added. */
  private readonly tags = new Map<string, Map<string, string>>();

  constructor(
    private readonly opts: LocalSageMakerOptions,
    private readonly deps: JobDeps,
  ) {
    this.logs = new LogStore(opts.region, opts.account);
    this.data = new JobData(opts.s3, createUriMapper({ s3Root: opts.s3Root, baseDir: opts.s3Root }), opts.region, deps.log);
    this.mapper = this.data.mapper;
    if (opts.stateFile) this.stateFile = new StateFile(opts.stateFile);
  }

  private readonly stateFile?: StateFile;

  /** What jobs read from S3 and write back. */
  private readonly data: JobData;

  /** `s3://bucket/key` → its file in the folder the jobs see as S3. */
  private readonly mapper: UriMapper;

  // ---- capacity ------------------------------------------------------------------------------

  private machine?: Promise<number>;

  /** The instances a request asks for: `{InstanceType, InstanceCount}` (or a variant's InitialInstanceCount), or each instance group. */
  private static uses(groups: readonly unknown[]): InstanceUse[] {
    return groups.flatMap((g) => {
      const r = (g ?? {}) as Json;
      const instanceType = str(r.InstanceType);
      const count = typeof r.InstanceCount === 'number' ? r.InstanceCount : typeof r.InitialInstanceCount === 'number' ? r.InitialInstanceCount : 1;
      return instanceType ? [{ instanceType, count }] : [];
    });
  }

  private static trainingUses(request: Json): InstanceUse[] {
    const rc = (request.ResourceConfig ?? {}) as Json;
    return LocalSageMaker.uses(Array.isArray(rc.InstanceGroups) ? rc.InstanceGroups : [rc]);
  }

  private configUses(configName: string): InstanceUse[] {
    const v = this.endpointConfigs.get(configName)?.request.ProductionVariants;
    return LocalSageMaker.uses(Array.isArray(v) ? v : []);
  }

  /** What runs now: jobs in progress, and endpoints that are not being deleted (with an update under way, both configs). */
  private runningUses(): InstanceUse[] {
    const live = (status: unknown) => status === 'InProgress' || status === 'Stopping';
    return [
      ...[...this.trainingJobs.values()].filter((r) => live(r.handle.describe().TrainingJobStatus)).flatMap((r) => LocalSageMaker.trainingUses(r.request)),
      ...[...this.jobs].flatMap(([kind, jobs]) => [...jobs.values()].filter((r) => live(r.handle.describe()[kind.statusMember])).flatMap((r) => LocalSageMaker.uses(kind.resources(r.request)))),
      ...[...this.endpoints.values()].filter((e) => !e.deleting).flatMap((e) => [...this.configUses(e.configName), ...(e.updating ? this.configUses(e.updating.configName) : [])]),
    ];
  }

  /** ResourceLimitExceeded when `wanted` does not fit beside what runs (contract/capacity.ts has the rule). */
  private async admit(what: string, wanted: InstanceUse[]): Promise<ApiError | undefined> {
    this.machine ??= this.deps.docker.info().then((i) => i.memTotalBytes, () => 0);
    const bytes = await this.machine;
    if (!bytes) return undefined;
    const problem = capacityProblem(what, wanted, this.runningUses(), bytes);
    return problem ? apiErrors.resourceLimit(problem) : undefined;
  }

  /** The model data of every variant's model. */
  private variantModelUris(variants: readonly { model: ModelSpec }[]): unknown[] {
    return variants.flatMap((v) => this.modelUris(this.models.get(v.model.modelName ?? '')?.request ?? {}));
  }

  /** The S3 URIs a model's containers read their model data from. */
  private modelUris(request: Json): unknown[] {
    const containers = [request.PrimaryContainer, ...(Array.isArray(request.Containers) ? request.Containers : [])] as (Json | undefined)[];
    return containers.flatMap((c) => [c?.ModelDataUrl, ((c?.ModelDataSource as Json | undefined)?.S3DataSource as Json | undefined)?.S3Uri]);
  }

  /**
   * The job deps of one job or endpoint: its containers' lines also go to its CloudWatch log group,
   * one stream per host. Stream names follow the service's (`<job>/algo-1-<epoch seconds>`; the part
   * after the job name is UNCONFIRMED, CONTRACT §9.6).
   */
  private logging(group: string, stream: (source: string) => string): JobDeps {
    return {
      ...this.deps,
      onLine: (line, source) => {
        this.logs.append(group, stream(source), line);
        this.deps.onLine?.(line, source);
      },
    };
  }

  private jobLogging(group: string, name: string): JobDeps {
    const epoch = Math.floor(Date.now() / 1000);
    return this.logging(group, (host) => `${name}/${host.split('/')[0]}-${epoch}${host.includes('/') ? `/${host.split('/').slice(1).join('/')}` : ''}`);
  }

  /** An endpoint's containers: `<variant>/<instance>` streams, `<variant>/<instance>/<hostname>` in a multi-container model (CONTRACT §8.1). */
  private endpointLogging(name: string, firstVariant: string): JobDeps {
    return this.logging(`/aws/sagemaker/Endpoints/${name}`, (source) => {
      const parts = source.split('/');
      // `<endpoint>` alone for a single container; `<endpoint>/<variant>/<n>/<hostname>` otherwise.
      return parts.length >= 4 ? `${parts[1]}/instance-${parts[2]}/${parts.slice(3).join('/')}` : `${firstVariant}/instance-1`;
    });
  }

  private arn(kind: string, name: string): string {
    return arnOf(this.opts.region, this.opts.account, kind, name);
  }

  /** The job folder of a training, processing or transform job (the console offers its files). */
  jobFolder(kind: 'training' | 'processing' | 'transform', name: string): string | undefined {
    if (kind === 'training') return this.trainingJobs.get(name)?.handle.jobDir;
    return this.jobs.get(kind === 'processing' ? PROCESSING : TRANSFORM)?.get(name)?.handle.jobDir;
  }

  /** Every operation, by its X-Amz-Target name; what changes a resource is saved once it succeeded. */
  get operations(): Record<string, (body: Json) => Promise<Answer>> {
    return (this.wrapped ??= Object.fromEntries(
      Object.entries(this.handlers).map(([op, fn]) => [
        op,
        async (body: Json) => {
          const invalid = requestError(op, body);
          if (invalid) return fail(invalid);
          const answer = await fn(body);
          if (answer.ok && /^(Create|Delete|Update|Stop|AddTags|DeleteTags)/.test(op)) await this.save();
          return answer;
        },
      ]),
    ));
  }

  private wrapped?: Record<string, (body: Json) => Promise<Answer>>;

  private readonly handlers: Record<string, (body: Json) => Promise<Answer> | Answer> = {
    CreateTrainingJob: (b) => this.createTrainingJob(b),
    DescribeTrainingJob: (b) => this.describeTrainingJob(b),
    ListTrainingJobs: (b) => this.listTrainingJobs(b),
    StopTrainingJob: (b) => this.stopTrainingJob(b),
    CreateProcessingJob: (b) => this.createProcessingJob(b),
    DescribeProcessingJob: (b) => this.describeJob(PROCESSING, b),
    ListProcessingJobs: (b) => this.listJobs(PROCESSING, b, 'ProcessingJobSummaries', 'Ascending'),
    StopProcessingJob: (b) => this.stopJob(PROCESSING, b),
    CreateTransformJob: (b) => this.createTransformJob(b),
    DescribeTransformJob: (b) => this.describeJob(TRANSFORM, b),
    ListTransformJobs: (b) => this.listJobs(TRANSFORM, b, 'TransformJobSummaries', 'Descending'),
    StopTransformJob: (b) => this.stopJob(TRANSFORM, b),
    CreateModel: (b) => this.createModel(b),
    DescribeModel: (b) => this.describeModel(b),
    ListModels: (b) => this.listModels(b),
    DeleteModel: (b) => this.deleteModel(b),
    CreateEndpointConfig: (b) => this.createEndpointConfig(b),
    DescribeEndpointConfig: (b) => this.describeEndpointConfig(b),
    ListEndpointConfigs: (b) => this.listEndpointConfigs(b),
    DeleteEndpointConfig: (b) => this.deleteEndpointConfig(b),
    CreateEndpoint: (b) => this.createEndpoint(b),
    DescribeEndpoint: (b) => this.describeEndpoint(b),
    ListEndpoints: (b) => this.listEndpoints(b),
    DeleteEndpoint: (b) => this.deleteEndpoint(b),
    UpdateEndpoint: (b) => this.updateEndpoint(b),
    AddTags: (b) => this.addTags(b),
    ListTags: (b) => this.listTags(b),
    DeleteTags: (b) => this.deleteTags(b),
  };

  /** The resource a request names in `member`, or the error for a name that is missing or unknown. */
  private lookup<R>(resources: ReadonlyMap<string, R>, body: Json, member: string, unknown: (name: string) => ApiError): R | ApiError {
    const name = this.name(body, member);
    return resources.get(name) ?? unknown(name);
  }

  /** A List* answer: one page of `items` under `key`, and the token of the next. */
  private page<S>(items: readonly Listed<S>[], body: Json, key: string, opts: Parameters<typeof listPage>[2]): Answer {
    const out = listPage(items, body as ListRequest, opts);
    if ('error' in out) return fail(out.error);
    return ok({ [key]: out.page, ...(out.nextToken ? { NextToken: out.nextToken } : {}) });
  }

  /** A name member the request's shape has already checked (present, a string, its length and pattern). */
  private name(body: Json, member: string): string {
    return String(body[member]);
  }

  // ---- training jobs -------------------------------------------------------------------------

  private async createTrainingJob(body: Json): Promise<Answer> {
    const parsed = parseCreateTrainingJobRequest(body, this.mapper);
    if (parsed.problems.length) return fail(validationError(parsed.problems));
    const name = parsed.spec.trainingJobName!;
    const arn = trainingJobArn(this.opts.region, this.opts.account, name);
    if (this.trainingJobs.has(name)) return fail(apiErrors.trainingJobInUse(arn));
    const full = await this.admit('training job', LocalSageMaker.trainingUses(body));
    if (full) return fail(full);
    const checkpoints = (body.CheckpointConfig as Json | undefined)?.S3Uri;
    let handle: TrainingJobHandle;
    try {
      const channels = Array.isArray(body.InputDataConfig) ? (body.InputDataConfig as Json[]) : [];
      await this.data.pullInputs(channels.map((c) => ((c?.DataSource as Json | undefined)?.S3DataSource as Json | undefined)?.S3Uri), body.RoleArn);
      await this.data.pull([checkpoints]);
      const submittedSource = await this.data.submittedSource(parsed.spec.hyperParameters);
      handle = await startTrainingJob({ ...parsed.spec, ...(submittedSource ? { submittedSource } : {}), region: this.opts.region, account: this.opts.account, outputDir: this.opts.outputDir } as Parameters<typeof startTrainingJob>[0], this.jobLogging('/aws/sagemaker/TrainingJobs', name));
    } catch (err) {
      if (err instanceof JobExistsError) return fail(apiErrors.trainingJobInUse(arn));
      return fail(asApiError(err));
    }
    const outputUri = `${String(parsed.spec.s3OutputPath).replace(/\/+$/, '')}/${name}/output`;
    const record: TrainingRecord = { name, arn, createdAt: Date.now(), handle, request: body, outputUri };
    this.trainingJobs.set(name, record);
    this.tagOnCreate(arn, body);
    // The artifacts go to the local S3 as the service uploads them, Completed or Stopped.
    const settle = (result: TrainingResult | undefined) =>
      this.upload(record, result)
        .then(() => this.data.push([checkpoints]))
        .finally(() => this.save());
    handle.done.then(settle, (err: { details?: unknown }) => settle(err?.details as TrainingResult | undefined));
    return ok({ TrainingJobArn: arn });
  }

  /** Copies a finished job's model.tar.gz and output.tar.gz to `<S3OutputPath>/<job>/output/` in the local S3. */
  private async upload(record: TrainingRecord, result: TrainingResult | undefined): Promise<void> {
    try {
      await this.copyArtifacts(record, result);
      await this.data.push([record.outputUri]);
    } finally {
      record.settled = true;
    }
  }

  private async copyArtifacts(record: TrainingRecord, result: TrainingResult | undefined): Promise<void> {
    record.result = result;
    if (!result) return;
    const uploaded: { model?: string; output?: string } = {};
    const p = new Problems();
    const target = this.mapper(record.outputUri, 'OutputDataConfig.S3OutputPath', p);
    if (!target) return;
    for (const [key, file] of [['model', result.modelArtifact], ['output', result.outputArtifact]] as const) {
      if (!file || !/\.tar\.gz$/.test(file)) continue;
      const dest = join(target, `${key}.tar.gz`);
      await mkdir(dirname(dest), { recursive: true });
      await copyFile(file, dest).then(
        () => (uploaded[key] = `${record.outputUri}/${key}.tar.gz`),
        (err: unknown) => this.deps.log.warn(`Could not write ${dest} for training job ${record.name}: ${(err as Error).message}`),
      );
    }
    record.uploaded = uploaded;
  }

  private trainingRecord(body: Json): TrainingRecord | ApiError {
    return this.lookup(this.trainingJobs, body, 'TrainingJobName', () => apiErrors.jobNotFound());
  }

  /** DescribeTrainingJob as the service answers it: the job's live record, with its S3 locations. */
  private describeTrainingRecord(record: TrainingRecord): Json {
    const d = { ...record.handle.describe() };
    // sm-local's own notes stay in describe.json; the API answers the service's members only.
    delete d.SmLocal;
    const request = record.request;
    d.OutputDataConfig = request.OutputDataConfig;
    d.RoleArn = request.RoleArn;
    for (const member of ['InputDataConfig', 'VpcConfig', 'CheckpointConfig'] as const) if (request[member] !== undefined) d[member] = request[member];
    // On the service a job is Completed (or Stopped) once its artifacts are uploaded: until they are
    // in the local S3 too, it is still uploading.
    const terminal = TERMINAL_STATUSES.includes(String(d.TrainingJobStatus));
    if (terminal && !record.settled) {
      const stopped = d.TrainingJobStatus === 'Stopped';
      d.TrainingJobStatus = stopped ? 'Stopping' : 'InProgress';
      d.SecondaryStatus = stopped ? 'Stopping' : 'Uploading';
      if (Array.isArray(d.SecondaryStatusTransitions)) d.SecondaryStatusTransitions = (d.SecondaryStatusTransitions as Json[]).slice(0, -1);
      delete d.TrainingEndTime;
    }
    // The artifacts are named where the service puts them, once they are there.
    if (record.uploaded?.model) d.ModelArtifacts = { S3ModelArtifacts: record.uploaded.model };
    else d.ModelArtifacts = { S3ModelArtifacts: `${record.outputUri}/model.tar.gz` };
    return d;
  }

  private describeTrainingJob(body: Json): Answer {
    const record = this.trainingRecord(body);
    if ('code' in record) return fail(record);
    return ok(this.describeTrainingRecord(record));
  }

  private listTrainingJobs(body: Json): Answer {
    const items: Listed<Json>[] = [...this.trainingJobs.values()].map((r) => {
      const d = this.describeTrainingRecord(r);
      const modified = typeof d.LastModifiedTime === 'number' ? d.LastModifiedTime * 1000 : r.createdAt;
      return {
        name: r.name,
        status: String(d.TrainingJobStatus),
        createdAt: r.createdAt,
        modifiedAt: modified,
        summary: {
          TrainingJobName: r.name,
          TrainingJobArn: r.arn,
          CreationTime: d.CreationTime,
          ...(d.TrainingEndTime !== undefined ? { TrainingEndTime: d.TrainingEndTime } : {}),
          ...(d.LastModifiedTime !== undefined ? { LastModifiedTime: d.LastModifiedTime } : {}),
          TrainingJobStatus: d.TrainingJobStatus,
          ...(d.SecondaryStatus !== undefined ? { SecondaryStatus: d.SecondaryStatus } : {}),
        },
      };
    });
    return this.page(items, body, 'TrainingJobSummaries', { defaultOrder: 'Ascending' });
  }

  private stopTrainingJob(body: Json): Answer {
    const record = this.trainingRecord(body);
    if ('code' in record) return fail(record);
    const status = record.handle.describe().TrainingJobStatus;
    // Stopping a job that has ended is a ValidationException on the service (wording UNCONFIRMED).
    if (status !== 'InProgress' && status !== 'Stopping') return fail(apiErrors.validation(`The training job ${record.name} is ${String(status)}: only a job in progress can be stopped.`));
    record.handle.stop();
    return ok();
  }

  // ---- processing and transform jobs ---------------------------------------------------------

  /** A job name in use: the service's ResourceInUse, worded as for training jobs (UNCONFIRMED for these kinds). */
  private jobInUse(kind: JobKind, arn: string): ApiError {
    const word = kind.word[0]!.toUpperCase() + kind.word.slice(1);
    return { status: 400, code: 'ResourceInUse', message: `${word} names must be unique within an AWS account and region, and a ${kind.word} with this name already exists (${arn})` };
  }

  /** Starts a job of `kind` from a parsed request; its handle then answers Describe, List and Stop. */
  private async startJob(kind: JobKind, name: string | undefined, body: Json, start: () => Promise<JobRecord['handle']>): Promise<Answer> {
    const arn = this.arn(kind.arnKind, name ?? '');
    const jobs = this.jobs.get(kind)!;
    if (name !== undefined && jobs.has(name)) return fail(this.jobInUse(kind, arn));
    const full = await this.admit(kind.word, LocalSageMaker.uses(kind.resources(body)));
    if (full) return fail(full);
    let handle: JobRecord['handle'];
    try {
      handle = await start();
    } catch (err) {
      if (err instanceof JobExistsError) return fail(this.jobInUse(kind, arn));
      return fail(asApiError(err));
    }
    handle.done.catch(() => {});
    jobs.set(name!, { name: name!, arn, createdAt: Date.now(), handle, request: body });
    handle.done.finally(() => this.save()).catch(() => {});
    this.tagOnCreate(arn, body);
    return ok({ [`${kind.nameMember.replace(/Name$/, 'Arn')}`]: arn });
  }

  private async createProcessingJob(body: Json): Promise<Answer> {
    const parsed = parseCreateProcessingJobRequest(body, this.mapper);
    if (parsed.problems.length) return fail(validationError(parsed.problems));
    const name = parsed.spec.processingJobName;
    const inputs = Array.isArray(body.ProcessingInputs) ? (body.ProcessingInputs as Json[]) : [];
    const outputs = Array.isArray((body.ProcessingOutputConfig as Json | undefined)?.Outputs) ? (((body.ProcessingOutputConfig as Json).Outputs) as Json[]) : [];
    const outputUris = outputs.map((o) => (o?.S3Output as Json | undefined)?.S3Uri);
    return this.startJob(PROCESSING, name, body, async () => {
      await this.data.pull(inputs.map((i) => (i?.S3Input as Json | undefined)?.S3Uri));
      return this.afterJob(await this.startProcessing(parsed.spec, name), outputUris);
    });
  }

  /** A job's handle whose `done` settles once what it wrote under `outputs` is in S3 too. */
  private afterJob(handle: JobRecord['handle'], outputs: readonly unknown[]): JobRecord['handle'] {
    if (!this.opts.s3) return handle;
    const done = handle.done.then(
      async (r) => {
        await this.data.push(outputs);
        return r;
      },
      async (err: unknown) => {
        await this.data.push(outputs);
        throw err;
      },
    );
    done.catch(() => {});
    return { describe: () => handle.describe(), stop: () => handle.stop(), force: () => handle.force(), done, ...(handle.jobDir ? { jobDir: handle.jobDir } : {}) };
  }

  private startProcessing(spec: ReturnType<typeof parseCreateProcessingJobRequest>['spec'], name: string | undefined): Promise<JobRecord['handle']> {
    return (
      startProcessingJob({ ...spec, region: this.opts.region, account: this.opts.account, outputDir: this.opts.outputDir } as Parameters<typeof startProcessingJob>[0], this.jobLogging('/aws/sagemaker/ProcessingJobs', name ?? '')) as Promise<JobRecord['handle']>
    );
  }

  private async createTransformJob(body: Json): Promise<Answer> {
    const parsed = parseCreateTransformJobRequest(body, this.mapper);
    if (parsed.problems.length) return fail(validationError(parsed.problems));
    const modelName = parsed.spec.modelName;
    const model = modelName !== undefined ? this.models.get(modelName) : undefined;
    if (!model) return fail(apiErrors.couldNotFind('model', this.arn('model', modelName ?? '')));
    const m = model.spec;
    const input = {
      ...parsed.spec,
      image: m.image ?? '',
      ...(m.model !== undefined ? { model: m.model } : {}),
      ...(m.modelUri !== undefined ? { modelUri: m.modelUri } : {}),
      ...(m.environment ? { modelEnvironment: m.environment } : {}),
      ...(m.containers ? { containers: m.containers } : {}),
      region: this.opts.region,
      account: this.opts.account,
      outputDir: this.opts.outputDir,
    };
    const source = (((body.TransformInput as Json | undefined)?.DataSource as Json | undefined)?.S3DataSource as Json | undefined)?.S3Uri;
    const output = (body.TransformOutput as Json | undefined)?.S3OutputPath;
    return this.startJob(TRANSFORM, parsed.spec.transformJobName, body, async () => {
      await this.data.pullInputs([source], model.request.ExecutionRoleArn);
      await this.data.pull(this.modelUris(model.request));
      const handle = (await startTransformJob(input as Parameters<typeof startTransformJob>[0], this.jobLogging('/aws/sagemaker/TransformJobs', parsed.spec.transformJobName ?? ''))) as JobRecord['handle'];
      return this.afterJob(handle, [output]);
    });
  }

  private jobRecord(kind: JobKind, body: Json): JobRecord | ApiError {
    return this.lookup(this.jobs.get(kind)!, body, kind.nameMember, () => apiErrors.jobNotFound());
  }

  /** Describe of a processing or transform job: its live record, without sm-local's own notes. */
  private describeJobRecord(record: JobRecord): Json {
    const { SmLocal: _local, ...d } = record.handle.describe();
    return d;
  }

  private describeJob(kind: JobKind, body: Json): Answer {
    const record = this.jobRecord(kind, body);
    if ('code' in record) return fail(record);
    return ok(this.describeJobRecord(record));
  }

  private listJobs(kind: JobKind, body: Json, key: string, defaultOrder: 'Ascending' | 'Descending'): Answer {
    const items = [...this.jobs.get(kind)!.values()].map((r) => {
      const d = this.describeJobRecord(r);
      return { name: r.name, status: String(d[kind.statusMember]), createdAt: r.createdAt, modifiedAt: typeof d.LastModifiedTime === 'number' ? d.LastModifiedTime * 1000 : r.createdAt, summary: kind.summary(d, r) };
    });
    return this.page(items, body, key, { defaultOrder });
  }

  private stopJob(kind: JobKind, body: Json): Answer {
    const record = this.jobRecord(kind, body);
    if ('code' in record) return fail(record);
    const status = this.describeJobRecord(record)[kind.statusMember];
    if (status !== 'InProgress' && status !== 'Stopping') return fail(apiErrors.validation(`The ${kind.word} ${record.name} is ${String(status)}: only a job in progress can be stopped.`));
    record.handle.stop();
    return ok();
  }

  // ---- models --------------------------------------------------------------------------------

  private createModel(body: Json): Answer {
    const parsed = parseCreateModelRequest(body, this.mapper);
    if (parsed.problems.length) return fail(validationError(parsed.problems));
    const name = parsed.modelName!;
    const arn = this.arn('model', name);
    if (this.models.has(name)) return fail(apiErrors.alreadyExists('model', arn));
    this.models.set(name, { name, arn, createdAt: Date.now(), request: body, spec: parsed.spec as ModelSpec });
    this.tagOnCreate(arn, body);
    return ok({ ModelArn: arn });
  }

  private modelRecord(body: Json): ModelRecord | ApiError {
    return this.lookup(this.models, body, 'ModelName', (name) => apiErrors.couldNotFind('model', this.arn('model', name)));
  }

  private describeModel(body: Json): Answer {
    const m = this.modelRecord(body);
    if ('code' in m) return fail(m);
    const members = ['PrimaryContainer', 'Containers', 'InferenceExecutionConfig', 'ExecutionRoleArn', 'VpcConfig', 'EnableNetworkIsolation'];
    return ok({ ModelName: m.name, ...pick(m.request, members), CreationTime: epochSeconds(m.createdAt), ModelArn: m.arn });
  }

  private listModels(body: Json): Answer {
    const items = [...this.models.values()].map((m) => ({ name: m.name, createdAt: m.createdAt, modifiedAt: m.createdAt, summary: { ModelName: m.name, ModelArn: m.arn, CreationTime: epochSeconds(m.createdAt) } }));
    return this.page(items, body, 'Models', { sortBy: ['Name', 'CreationTime'], defaultOrder: 'Descending' });
  }

  private deleteModel(body: Json): Answer {
    const m = this.modelRecord(body);
    if ('code' in m) return fail(m);
    this.models.delete(m.name);
    return ok();
  }

  // ---- endpoint configs ----------------------------------------------------------------------

  private modelsByName(): Map<string, ModelSpec> {
    return new Map([...this.models.values()].map((m) => [m.name, m.spec]));
  }

  private createEndpointConfig(body: Json): Answer {
    const parsed = parseCreateEndpointConfigRequest(body, this.modelsByName());
    // A variant's model must exist, as CreateEndpointConfig checks (CONTRACT §9.3 wording).
    const missing = parsed.problems.find((p) => /\.ModelName$/.test(p.path) && /Could not find model/.test(p.message));
    if (missing) {
      const list = Array.isArray(body.ProductionVariants) ? (body.ProductionVariants as Json[]) : [];
      const wanted = list.map((v) => str(v?.ModelName)).find((n) => n !== undefined && !this.models.has(n));
      if (wanted) return fail(apiErrors.couldNotFind('model', this.arn('model', wanted)));
    }
    if (parsed.problems.length) return fail(validationError(parsed.problems));
    const name = parsed.endpointConfigName!;
    const arn = this.arn('endpoint-config', name);
    if (this.endpointConfigs.has(name)) return fail(apiErrors.alreadyExists('endpoint configuration', arn));
    this.endpointConfigs.set(name, { name, arn, createdAt: Date.now(), request: body });
    this.tagOnCreate(arn, body);
    return ok({ EndpointConfigArn: arn });
  }

  private endpointConfigRecord(body: Json): EndpointConfigRecord | ApiError {
    return this.lookup(this.endpointConfigs, body, 'EndpointConfigName', (name) => apiErrors.couldNotFind('endpoint configuration', this.arn('endpoint-config', name)));
  }

  private describeEndpointConfig(body: Json): Answer {
    const c = this.endpointConfigRecord(body);
    if ('code' in c) return fail(c);
    const members = ['ProductionVariants', 'DataCaptureConfig', 'KmsKeyId', 'AsyncInferenceConfig', 'ExplainerConfig', 'ShadowProductionVariants', 'ExecutionRoleArn', 'VpcConfig', 'EnableNetworkIsolation'];
    return ok({ EndpointConfigName: c.name, EndpointConfigArn: c.arn, ...pick(c.request, members), CreationTime: epochSeconds(c.createdAt) });
  }

  private listEndpointConfigs(body: Json): Answer {
    const items = [...this.endpointConfigs.values()].map((c) => ({ name: c.name, createdAt: c.createdAt, modifiedAt: c.createdAt, summary: { EndpointConfigName: c.name, EndpointConfigArn: c.arn, CreationTime: epochSeconds(c.createdAt) } }));
    return this.page(items, body, 'EndpointConfigs', { sortBy: ['Name', 'CreationTime'], defaultOrder: 'Descending' });
  }

  private deleteEndpointConfig(body: Json): Answer {
    const c = this.endpointConfigRecord(body);
    if ('code' in c) return fail(c);
    this.endpointConfigs.delete(c.name);
    return ok();
  }

  // ---- endpoints -----------------------------------------------------------------------------

  private async createEndpoint(body: Json): Promise<Answer> {
    const name = this.name(body, 'EndpointName');
    const configName = this.name(body, 'EndpointConfigName');
    const arn = endpointArn({ endpointName: name, region: this.opts.region, account: this.opts.account });
    if (this.endpoints.has(name)) return fail(apiErrors.alreadyExists('endpoint', arn));
    const parsed = this.endpointConfigOf(configName);
    if ('code' in parsed) return fail(parsed);
    const full = await this.admit('endpoint', this.configUses(configName));
    if (full) return fail(full);
    let creation: EndpointCreation;
    try {
      creation = await this.launchEndpoint(name, parsed);
    } catch (err) {
      return fail(asApiError(err));
    }
    this.endpoints.set(name, { name, arn, configName, createdAt: Date.now(), creation });
    this.tagOnCreate(arn, body);
    return ok({ EndpointArn: arn });
  }

  /** An endpoint config's variants (and async config), with the models they name; or the error the service answers. */
  private endpointConfigOf(configName: string): ReturnType<typeof parseCreateEndpointConfigRequest> | ApiError {
    const config = this.endpointConfigs.get(configName);
    if (!config) return apiErrors.couldNotFind('endpoint configuration', this.arn('endpoint-config', configName));
    const parsed = parseCreateEndpointConfigRequest(config.request, this.modelsByName());
    return parsed.problems.length ? validationError(parsed.problems) : parsed;
  }

  /** Starts an endpoint's containers on a config (in place of the name's route with `replace`): model data pulled, logs and async route wired. */
  private async launchEndpoint(name: string, parsed: ReturnType<typeof parseCreateEndpointConfigRequest>, replace = false): Promise<EndpointCreation> {
    await this.data.pull(this.variantModelUris(parsed.variants));
    const runtime = replace ? { ...this.opts.runtime, replace: true } : this.opts.runtime;
    const creation = await createEndpoint({ image: '', endpointName: name, variants: parsed.variants, region: this.opts.region, account: this.opts.account, runtime, ...this.asyncOf(name, parsed) }, this.endpointLogging(name, parsed.variants[0]?.variantName ?? 'AllTraffic'));
    creation.ready.catch(() => {});
    return creation;
  }

  /**
   * An asynchronous endpoint's route (AsyncInferenceConfig): S3 URIs resolved in the local S3, as many
   * calls at once as MaxConcurrentInvocationsPerInstance (the service picks a value when it is unset;
   * sm-local takes 4) times the instances.
   */
  private asyncOf(name: string, parsed: ReturnType<typeof parseCreateEndpointConfigRequest>): { asyncRoute?: AsyncRoute } {
    const a = parsed.asyncInference;
    if (!a) return {};
    const instances = parsed.variants.reduce((n, v) => n + (v.instanceCount ?? 1), 0);
    return {
      asyncRoute: {
        outputPath: a.outputPath,
        ...(a.failurePath !== undefined ? { failurePath: a.failurePath } : {}),
        concurrency: (a.maxConcurrentPerInstance ?? 4) * instances,
        resolve: (uri) => {
          const p = new Problems();
          const path = /^s3:\/\//.test(uri) ? this.mapper(uri, 'InputLocation', p) : undefined;
          return path ? { path } : { problem: p.problems[0]?.message ?? `${uri} is not an s3:// URI.` };
        },
        prepare: (uri) => this.data.pull([uri]),
        publish: (uri) => this.data.push([uri]),
        onDone: (e) => this.deps.log.info(`Async inference ${e.inferenceId} on ${name}: ${e.ok ? 'answer' : 'failure'} written to ${e.location} (${(e.ms / 1000).toFixed(1)} s after it was queued; backlog ${e.backlog}).`),
      },
    };
  }

  private endpointRecord(body: Json): EndpointRecord | ApiError {
    return this.lookup(this.endpoints, body, 'EndpointName', (name) => apiErrors.couldNotFind('endpoint', endpointArn({ endpointName: name, region: this.opts.region, account: this.opts.account })));
  }

  private describeEndpointRecord(e: EndpointRecord): Json {
    const d: Json = { ...e.creation.describe(), EndpointConfigName: e.configName, CreationTime: epochSeconds(e.createdAt), ...pick(this.endpointConfigs.get(e.configName)?.request ?? {}, ['AsyncInferenceConfig']) };
    // Updating while the new containers start; the old ones serve until the new ones are ready.
    if (e.updating && d.EndpointStatus === 'InService') d.EndpointStatus = 'Updating';
    if (e.updateFailure !== undefined && d.EndpointStatus === 'InService') d.FailureReason = e.updateFailure;
    return d;
  }

  /**
   * UpdateEndpoint (blue/green, as the service deploys by default): the new config's containers start
   * beside the old ones; once every one is ready they take the traffic and the old ones are deleted.
   * A new config that fails to start leaves the endpoint InService on the old one, with the reason.
   */
  private async updateEndpoint(body: Json): Promise<Answer> {
    const e = this.endpointRecord(body);
    if ('code' in e) return fail(e);
    const configName = this.name(body, 'EndpointConfigName');
    const status = this.describeEndpointRecord(e).EndpointStatus;
    // The service refuses an update of an endpoint that is not InService (wording UNCONFIRMED).
    if (status !== 'InService' || e.deleting) return fail(apiErrors.validation(`Cannot update in-progress endpoint "${e.arn}".`));
    const parsed = this.endpointConfigOf(configName);
    if ('code' in parsed) return fail(parsed);
    // The new config's instances start beside the old ones.
    const full = await this.admit('endpoint update', this.configUses(configName));
    if (full) return fail(full);
    let creation: EndpointCreation;
    try {
      creation = await this.launchEndpoint(e.name, parsed, true);
    } catch (err) {
      return fail(asApiError(err));
    }
    e.updating = { configName, creation };
    delete e.updateFailure;
    creation.ready.then(
      async () => {
        const old = e.creation;
        e.creation = creation;
        e.configName = configName;
        delete e.updating;
        await old.delete().catch(() => undefined);
      },
      (err: unknown) => {
        delete e.updating;
        e.updateFailure = `The update to endpoint config ${configName} failed, and the endpoint kept its previous one: ${(err as Error)?.message ?? String(err)}`;
      },
    );
    return ok({ EndpointArn: e.arn });
  }

  private describeEndpoint(body: Json): Answer {
    const e = this.endpointRecord(body);
    if ('code' in e) return fail(e);
    return ok(this.describeEndpointRecord(e));
  }

  private listEndpoints(body: Json): Answer {
    const items = [...this.endpoints.values()].map((e) => {
      const d = this.describeEndpointRecord(e);
      return {
        name: e.name,
        status: String(d.EndpointStatus),
        createdAt: e.createdAt,
        modifiedAt: typeof d.LastModifiedTime === 'number' ? d.LastModifiedTime * 1000 : e.createdAt,
        summary: { EndpointName: e.name, EndpointArn: e.arn, CreationTime: d.CreationTime, LastModifiedTime: d.LastModifiedTime, EndpointStatus: d.EndpointStatus },
      };
    });
    return this.page(items, body, 'Endpoints', { defaultOrder: 'Descending' });
  }

  private deleteEndpoint(body: Json): Answer {
    const e = this.endpointRecord(body);
    if ('code' in e) return fail(e);
    // Deleting until its containers are gone; then it is not found, which endpoint_deleted waits for.
    e.deleting ??= Promise.all([e.creation.delete(), e.updating?.creation.delete()]).then(() => undefined).finally(() => {
      if (this.endpoints.get(e.name) === e) this.endpoints.delete(e.name);
      void this.save();
    });
    e.deleting.catch(() => {});
    return ok();
  }

  // ---- tags ----------------------------------------------------------------------------------

  /** Whether `arn` names a resource this server has (tags need one). */
  private known(arn: string): boolean {
    const all = [...this.trainingJobs.values(), ...[...this.jobs.values()].flatMap((m) => [...m.values()]), ...this.models.values(), ...this.endpointConfigs.values(), ...this.endpoints.values()];
    return all.some((r) => r.arn === arn);
  }

  /** The Tags member of a Create request, or of AddTags: `[{Key, Value}]`. */
  /** The `Tags` of a request its shape has checked (at most 50, each a Key and a Value). */
  private static tagsOf(value: unknown): Map<string, string> {
    return new Map(Array.isArray(value) ? value.map((t: Json) => [String(t.Key), String(t.Value)] as const) : []);
  }

  private tagTarget(body: Json): string | ApiError {
    const arn = this.name(body, 'ResourceArn');
    // The service's wording for a tag call on an ARN it does not have is UNCONFIRMED.
    return this.known(arn) ? arn : apiErrors.validation(`Could not find resource "${arn}".`);
  }

  private addTags(body: Json): Answer {
    const arn = this.tagTarget(body);
    if (typeof arn !== 'string') return fail(arn);
    const given = LocalSageMaker.tagsOf(body.Tags);
    const mine = this.tags.get(arn) ?? new Map<string, string>();
    for (const [k, v] of given) mine.set(k, v);
    this.tags.set(arn, mine);
    return ok({ Tags: [...given].map(([Key, Value]) => ({ Key, Value })) });
  }

  private listTags(body: Json): Answer {
    const arn = this.tagTarget(body);
    if (typeof arn !== 'string') return fail(arn);
    const items = [...(this.tags.get(arn) ?? new Map<string, string>())].map(([Key, Value], i) => ({ name: Key, createdAt: i, modifiedAt: i, summary: { Key, Value } }));
    return this.page(items, body, 'Tags', { sortBy: ['CreationTime'], defaultOrder: 'Ascending' });
  }

  private deleteTags(body: Json): Answer {
    const arn = this.tagTarget(body);
    if (typeof arn !== 'string') return fail(arn);
    for (const k of body.TagKeys as string[]) this.tags.get(arn)?.delete(k);
    return ok();
  }

  /** Tags given with a Create request, kept as AddTags keeps them. */
  private tagOnCreate(arn: string, body: Json): void {
    const given = LocalSageMaker.tagsOf(body.Tags);
    if (given.size) this.tags.set(arn, given);
  }

  // ---- state ---------------------------------------------------------------------------------

  private saving: Promise<void> = Promise.resolve();

  /** Writes every resource to the state file (whole, then renamed into place), one write after another. */
  save(): Promise<void> {
    const file = this.stateFile;
    if (!file) return Promise.resolve();
    const state: SavedState = {
      version: 1,
      owner: { session: this.deps.owner.session, pid: process.pid, hostname: osHostname() },
      trainingJobs: [...this.trainingJobs.values()].map((r) => ({ name: r.name, arn: r.arn, createdAt: r.createdAt, request: r.request, outputUri: r.outputUri, jobDir: r.handle.jobDir, ...(r.uploaded ? { uploaded: r.uploaded } : {}) })),
      jobs: Object.fromEntries([...this.jobs].map(([kind, m]) => [kind.arnKind, [...m.values()].map((r) => ({ name: r.name, arn: r.arn, createdAt: r.createdAt, request: r.request, jobDir: r.handle.jobDir ?? '' }))])),
      models: [...this.models.values()].map((m) => ({ name: m.name, arn: m.arn, createdAt: m.createdAt, request: m.request })),
      endpointConfigs: [...this.endpointConfigs.values()].map((c) => ({ name: c.name, arn: c.arn, createdAt: c.createdAt, request: c.request })),
      endpoints: [...this.endpoints.values()].filter((e) => !e.deleting).map((e) => ({ name: e.name, arn: e.arn, configName: e.configName, createdAt: e.createdAt })),
      tags: [...this.tags].map(([arn, t]) => [arn, [...t]]),
    };
    const write = () => file.write(state);
    this.saving = this.saving.then(write, write).catch((err: unknown) => this.deps.log.warn(`Could not save the local SageMaker's state to ${file.path}: ${(err as Error).message}`));
    return this.saving;
  }

  /**
   * Takes up the state a previous run of the server left: models, endpoint configs and tags as they
   * were; finished jobs with their last record; jobs that were still running Failed (their containers,
   * and everything else that run left, are removed), and endpoints created again from their configs.
   */
  async restore(): Promise<void> {
    const state = await this.stateFile?.read();
    if (!state) return;
    const prev = state.owner;
    // What the previous run left running goes: it has no owner any more.
    if (prev.session !== this.deps.owner.session) await pruneResources({ docker: this.deps.docker, log: this.deps.log, tmpRoot: this.deps.tmpRoot, session: prev.session });
    const lastRecord = async (jobDir: string): Promise<Json | undefined> => readFile(join(jobDir, 'describe.json'), 'utf8').then((t) => JSON.parse(t) as Json, () => undefined);
    const failed = (d: Json | undefined, base: Json, statusMember: string): Json => {
      const { SmLocal: _local, ...rest } = d ?? base;
      return { ...rest, [statusMember]: 'Failed', FailureReason: RESTART_REASON, ...(statusMember === 'TrainingJobStatus' ? { SecondaryStatus: 'Failed' } : {}) };
    };
    for (const t of state.trainingJobs) {
      const d = await lastRecord(t.jobDir);
      const done = d && TERMINAL_STATUSES.includes(String(d.TrainingJobStatus));
      const base = { TrainingJobName: t.name, TrainingJobArn: t.arn, CreationTime: epochSeconds(t.createdAt), StoppingCondition: t.request.StoppingCondition ?? {}, AlgorithmSpecification: t.request.AlgorithmSpecification, ResourceConfig: t.request.ResourceConfig };
      const handle = { ...finishedHandle(done ? d : failed(d, base, 'TrainingJobStatus')), jobDir: t.jobDir };
      this.trainingJobs.set(t.name, { name: t.name, arn: t.arn, createdAt: t.createdAt, handle, request: t.request, outputUri: t.outputUri, settled: true, ...(t.uploaded ? { uploaded: t.uploaded } : {}) });
    }
    for (const kind of [PROCESSING, TRANSFORM]) {
      for (const j of state.jobs[kind.arnKind] ?? []) {
        const d = await lastRecord(j.jobDir);
        const done = d && TERMINAL_STATUSES.includes(String(d[kind.statusMember]));
        const base = { ...j.request, [kind.nameMember.replace(/Name$/, 'Arn')]: j.arn, CreationTime: epochSeconds(j.createdAt) };
        delete base.Tags;
        this.jobs.get(kind)!.set(j.name, { name: j.name, arn: j.arn, createdAt: j.createdAt, request: j.request, handle: { ...finishedHandle(done ? (({ SmLocal: _l, ...r }) => r)(d) : failed(d, base, kind.statusMember)), jobDir: j.jobDir } });
      }
    }
    for (const m of state.models) {
      const parsed = parseCreateModelRequest(m.request, this.mapper);
      this.models.set(m.name, { ...m, spec: parsed.spec as ModelSpec });
    }
    for (const c of state.endpointConfigs) this.endpointConfigs.set(c.name, c);
    for (const [arn, t] of state.tags) this.tags.set(arn, new Map(t));
    // Endpoints come back InService on their configs, as they were (their old containers went with the old run).
    for (const e of state.endpoints) {
      const parsed = this.endpointConfigOf(e.configName);
      if ('code' in parsed) {
        this.deps.log.warn(`Endpoint ${e.name} is not brought back: its endpoint config ${e.configName} is gone or no longer valid.`);
        continue;
      }
      try {
        this.endpoints.set(e.name, { ...e, creation: await this.launchEndpoint(e.name, parsed) });
      } catch (err) {
        this.deps.log.warn(`Endpoint ${e.name} is not brought back: ${(err as Error).message}`);
      }
    }
    this.deps.log.info(`Restored from ${this.stateFile!.path}: ${state.trainingJobs.length} training jobs, ${state.models.length} models, ${state.endpointConfigs.length} endpoint configs, ${state.endpoints.length} endpoints.`);
    await this.save();
  }

  /** Ctrl-C: every job stopped (StopTrainingJob), every endpoint deleted; resolves once all is removed. */
  async shutdown(force = false): Promise<void> {
    const handles = [...this.trainingJobs.values(), ...[...this.jobs.values()].flatMap((m) => [...m.values()])].map((r) => r.handle);
    for (const h of handles) {
      if (force) h.force();
      else h.stop();
    }
    await Promise.all([
      ...handles.map((h) => h.done.catch(() => undefined)),
      ...[...this.endpoints.values()].map((e) => (e.deleting ??= e.creation.delete()).catch(() => undefined)),
      ...[...this.endpoints.values()].map((e) => e.updating?.creation.delete().catch(() => undefined)),
    ]);
    // As after StopTrainingJob and DeleteEndpoint: the jobs Stopped, the endpoints gone.
    await this.save();
  }
}
