/**
 * A batch transform job the way SageMaker runs a TransformJob (CONTRACT §5): the model in
 * /opt/ml/model, `<image> serve` on every instance with the batch environment, readiness, `GET
 * /execution-parameters`, the input objects divided between the instances by key, each object split
 * into records and sent in mini-batches (at most MaxConcurrentTransforms in flight per instance, each
 * within its deadline and retried), the answers written in input order to `<object>.out`, and
 * `describe.json` shaped like DescribeTransformJob.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { request } from 'undici';
import { shardKeys } from '../contract/hosts.js';
import { checkImage } from '../contract/image-checks.js';
import { PRIMARY_CONTAINER, renderServingEnvironment, SERVING_PORT } from '../contract/serving.js';
import type { ResolvedContainer } from '../contract/serving-spec.js';
import { toEnvList } from '../contract/training-env.js';
import { epochSeconds } from '../contract/training-status.js';
import { DataProcessingError, filterInput, joinAndFilterOutput } from '../contract/transform-data-processing.js';
import { assembleOutput, batchRecords, RecordError, splitRecords } from '../contract/transform-records.js';
import {
  effectiveParameters,
  parseExecutionParameters,
  renderTransformEnvironment,
  resolveTransformJobSpecOrThrow,
  type ExecutionParameters,
  type ResolvedTransformJobSpec,
  type TransformJobSpec,
} from '../contract/transform-spec.js';
import type { EngineInfo } from '../docker/engine.js';
import { LABEL, ownerLabels, resourceName } from '../docker/labels.js';
import { AlgorithmError, InterruptedError, InvalidSpecError, jobRecordOf, type SpecProblem } from '../errors.js';
import { containerPool, BufferBudget, invokeContainer, type InvocationTarget } from '../http/invocation.js';
import { throughStages } from '../http/pipeline.js';
import type { ContainerTarget } from '../http/variant-routing.js';
import { maskSecretValues, SecretMasker } from '../log.js';
import { listChannelFiles, locateChannels } from '../workspace/channels.js';
import { createJobFolder, writeJobRecord } from '../workspace/job-folder.js';
import { writingTo } from '../workspace/storage.js';
import { instanceLimits } from './cluster.js';
import { resolveJobDeps, type JobDeps } from './deps.js';
import { ec2Hostname } from './ec2-hostname.js';
import { endHostLogs, OnceNotices, ownSignals, prepareJob, throwIfLogFailed, withHostLog, type HostLog } from './job-run.js';
import { ResourceScope } from './resource-scope.js';
import { startServingContainer, type ServingContainer } from './serving-container.js';
import { instancePorts, prepareModel, requireBindToPortLabels } from './serving-runner.js';

const JOB_TYPE = 'transform';

/**
 * FailureReason when an input object failed. The service's wording for transform jobs is
 * UNCONFIRMED; failed batch jobs are commonly reported this way, with the details in the log.
 */
export const TRANSFORM_CLIENT_ERROR = 'ClientError: See job logs for more information';

export type TransformJobStatus = 'InProgress' | 'Completed' | 'Failed' | 'Stopping' | 'Stopped';

export interface TransformRunOptions {
  /** Parent folder of job folders; default `./sm-local-output`. */
  outputDir?: string;
  /** Leave the containers in place for debugging. */
  keep?: boolean;
  /** Every few seconds while the job runs: files and records done so far. */
  onProgress?: (p: TransformProgress) => void;
}

export interface TransformProgress {
  files: number;
  filesDone: number;
  records: number;
  recordsPerSecond: number;
}

export type TransformJobInput = TransformJobSpec & TransformRunOptions;

/** What became of one input object. */
export interface TransformFile {
  /** Its key: the path relative to the input prefix (its own name for a single-file input). */
  key: string;
  host: string;
  records: number;
  requests: number;
  /** The `.out` object, when it was written. */
  output?: string;
  /** Why it produced no output. */
  error?: string;
}

export interface TransformResult {
  transformJobName: string;
  status: TransformJobStatus;
  jobDir: string;
  describe: Record<string, unknown>;
  describeFile: string;
  /** Where the `.out` objects went. */
  outputDir: string;
  files: TransformFile[];
  /** The parameters the job ran with, after the request, the container's proposal and the defaults. */
  parameters: Required<ExecutionParameters>;
  failureReason?: string;
  logFile: string;
  logFiles: string[];
  notices: string[];
}

export interface TransformJobHandle {
  readonly transformJobName: string;
  readonly jobDir: string;
  describe(): Record<string, unknown>;
  /** StopTransformJob: no new requests, SIGTERM, the grace, SIGKILL; the job ends Stopped. */
  stop(): void;
  force(): void;
  readonly done: Promise<TransformResult>;
}

export async function runTransformJob(input: TransformJobInput, depsIn: Partial<JobDeps> = {}): Promise<TransformResult> {
  return (await startTransformJob(input, depsIn)).done;
}

/** Problems with the input (a missing path, an empty folder), for callers validating up front. */
export async function checkTransformInput(input: { input: string; inputUri?: string }, cwd: string): Promise<SpecProblem[]> {
  return (await locateChannels([{ channelName: 'input', source: input.input, ...(input.inputUri ? { sourceUri: input.inputUri } : {}) }], cwd, (c) => (c.sourceUri ? 'TransformInput.DataSource.S3DataSource.S3Uri' : '--input'))).problems;
}

/**
 * Validates the job, creates its folder and starts it; returns once the request is known to be good
 * (bad input, a used job name, a missing image or model are thrown here, before anything runs).
 */
export async function startTransformJob(input: TransformJobInput, depsIn: Partial<JobDeps> = {}): Promise<TransformJobHandle> {
  const own = ownSignals(resolveJobDeps(depsIn));
  const { deps } = own;
  const createdAt = deps.now();
  const { spec, notices } = resolveTransformJobSpecOrThrow(input, { now: new Date(createdAt) });
  for (const n of notices) deps.log.warn(n);
  const problems = await checkTransformInput(spec, deps.cwd);
  if (problems.length) throw new InvalidSpecError(problems);
  const { jobDir, image, engine, warnings } = await prepareJob(deps, { jobName: spec.transformJobName, jobKind: 'transform job', image: spec.image, ...(input.outputDir !== undefined ? { outputDir: input.outputDir } : {}), transfer: 'mount' });
  for (const w of [...checkImage(image, { jobWord: 'serve', entrypointOverridden: false, instanceType: spec.instanceType }), ...warnings]) deps.log.warn(w);
  await createJobFolder(jobDir, spec.transformJobName, 'transform job');
  deps.log.info(`Transform job ${spec.transformJobName}: ${spec.image} on ${spec.instanceCount > 1 ? `${spec.instanceCount} × ` : ''}${spec.instanceType}, input ${spec.inputUri ?? resolve(deps.cwd, spec.input)}.`);
  const run = new TransformRun(spec, deps, jobDir, input, createdAt, [...notices, ...warnings], engine);
  const done = run.execute();
  done.catch(() => {});
  return { transformJobName: spec.transformJobName, jobDir, describe: () => run.describeNow(), stop: own.stop, force: own.force, done };
}

interface Instance extends HostLog {
  name: string;
  /** Its containers: one, or a pipeline model's, in order. */
  servings: ServingContainer[];
  /** The runtime's limits for its calls, and the containers a request goes through. */
  target?: Omit<InvocationTarget, 'pool' | 'container'>;
  chain?: ContainerTarget[];
}

/** Runs `work` for each item with at most `limit` at once; results in input order. */
async function pooled<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed: unknown;
  const lanes = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length && failed === undefined) {
      const i = next++;
      try {
        results[i] = await work(items[i]!, i);
      } catch (err) {
        failed ??= err;
      }
    }
  });
  await Promise.all(lanes);
  if (failed !== undefined) throw failed;
  return results;
}

/** A file's failure: it produces no output, and the job fails once every file has been tried. */
class FileFailure extends Error {}

class TransformRun {
  private status: TransformJobStatus = 'InProgress';
  private modifiedAt: number;
  private startedAt?: number;
  private endedAt?: number;
  private readonly instances: Instance[];
  private readonly files: TransformFile[] = [];
  private parameters?: Required<ExecutionParameters>;
  private failureReason?: string;
  private records = 0;
  private readonly masker: SecretMasker;
  private readonly once: OnceNotices;
  private readonly outputDir: string;

  constructor(
    private readonly spec: ResolvedTransformJobSpec,
    private readonly deps: JobDeps,
    private readonly jobDir: string,
    private readonly options: TransformRunOptions,
    private readonly createdAt: number,
    private readonly notices: string[],
    private readonly engine: EngineInfo,
  ) {
    this.modifiedAt = createdAt;
    this.masker = new SecretMasker().addEnvironment(Object.assign({}, spec.modelEnvironment, ...(spec.containers ?? []).map((c) => c.environment), spec.environment));
    this.once = new OnceNotices(notices, deps.log);
    this.outputDir = spec.output ? resolve(deps.cwd, spec.output) : join(jobDir, 'output');
    this.instances = Array.from({ length: spec.instanceCount }, (_, i) => withHostLog({ name: `algo-${i + 1}`, servings: [] as ServingContainer[] }, jobDir, `algo-${i + 1}`));
  }

  private enter(status: TransformJobStatus): void {
    this.status = status;
    this.modifiedAt = this.deps.now();
    if (status === 'Completed' || status === 'Failed' || status === 'Stopped') this.endedAt = this.modifiedAt;
  }

  private honourStop(): void {
    if (this.deps.stop?.aborted) throw new InterruptedError(`Transform job ${this.spec.transformJobName} stopped by the user.`);
  }

  async execute(): Promise<TransformResult> {
    const scope = new ResourceScope(this.deps.log);
    let error: unknown;
    try {
      await this.transform(scope);
    } catch (err) {
      error = err;
    } finally {
      // Stopping the containers is part of the job: SIGTERM, the grace, SIGKILL, then removal.
      await Promise.all(this.instances.flatMap((i) => i.servings.map((sv) => sv.stop(this.spec.stopGraceSeconds * 1000))));
      await Promise.all(this.instances.flatMap((i) => (i.chain ?? []).map((c) => c.pool.destroy())));
      if (!this.options.keep) await scope.dispose();
    }
    if (error instanceof InterruptedError || this.deps.stop?.aborted) this.enter('Stopped');
    else if (error) {
      this.failureReason ??= error instanceof Error ? error.message : String(error);
      this.enter('Failed');
    } else if (this.files.some((f) => f.error)) {
      this.failureReason = TRANSFORM_CLIENT_ERROR;
      this.enter('Failed');
    } else this.enter('Completed');
    const result = await this.finish();
    if (result.status === 'Completed') return result;
    if (result.status === 'Stopped') throw new InterruptedError(`Transform job ${this.spec.transformJobName} stopped by the user.`, result);
    if (error && !jobRecordOf(error) && !(error instanceof AlgorithmError) && !(error instanceof FileFailure) && !this.files.some((f) => f.error)) {
      // The containers never got ready, or the engine failed: that error, with the record written.
      (error as { details?: unknown }).details ??= result;
      throw error;
    }
    const failed = this.files.filter((f) => f.error);
    const named = failed.slice(0, 3).map((f) => `${f.key}: ${f.error}`).join('; ');
    throw new AlgorithmError(
      result.failureReason ?? TRANSFORM_CLIENT_ERROR,
      [],
      result,
      `${failed.length} of ${this.files.length} input file${this.files.length === 1 ? '' : 's'} failed, with no .out for them (${named}${failed.length > 3 ? '; …' : ''}). The container logs are in ${this.jobDir}.`,
      'Transform job',
    );
  }

  private async transform(scope: ResourceScope): Promise<void> {
    const { deps, spec } = this;
    // One container, or a pipeline model's (CONTRACT §8.2): every instance runs all of them.
    const defs: ResolvedContainer[] = spec.containers ?? [
      { hostname: PRIMARY_CONTAINER, image: spec.image, environment: spec.modelEnvironment, ...(spec.model !== undefined ? { model: spec.model } : {}), ...(spec.modelUri !== undefined ? { modelUri: spec.modelUri } : {}) },
    ];
    const pipeline = defs.length > 1;
    if (pipeline) {
      const images = new Map(await Promise.all([...new Set(defs.map((c) => c.image))].map(async (ref) => [ref, await deps.docker.requireLocalImage(ref)] as const)));
      requireBindToPortLabels(defs, images, `model ${spec.modelName}`);
    }
    const modelDirs = await Promise.all(defs.map((c) => prepareModel({ ...c, name: spec.transformJobName, jobType: JOB_TYPE }, deps, scope)));
    this.honourStop();
    const labels = ownerLabels(deps.owner, JOB_TYPE, spec.transformJobName);
    const suffix = randomBytes(3).toString('hex');
    const resources = instanceLimits(spec.instanceType, { engineInfo: this.engine, warnOnce: (m) => this.once.warn(m) });
    // The batch environment reaches every container, each over its own model Environment.
    const envOf = (c: ResolvedContainer, bind?: { port: number; safeRange: [number, number] }) =>
      toEnvList({ ...(resources?.gpus ? {} : { NVIDIA_VISIBLE_DEVICES: 'void' }), ...renderServingEnvironment(renderTransformEnvironment({ ...spec, modelEnvironment: c.environment }), bind) });
    // Every instance starts side by side; each is ready once GET /ping answers 200 (from every container).
    const started = await Promise.allSettled(
      this.instances.map(async (inst) => {
        const ports = pipeline ? instancePorts(defs.length) : [];
        const hostname = ec2Hostname(spec.region);
        inst.servings = await Promise.all(
          defs.map((c, i) =>
            startServingContainer(
              {
                name: resourceName(JOB_TYPE, spec.transformJobName, `${inst.name}${pipeline ? `-${c.hostname}` : ''}-${suffix}`),
                image: c.image,
                labels: { ...labels, [LABEL.role]: pipeline ? `${inst.name}/${c.hostname}` : inst.name },
                hostname: pipeline ? c.hostname : hostname,
                env: envOf(c, ports[i]),
                ...(modelDirs[i] ? { modelDir: modelDirs[i] } : {}),
                port: ports[i]?.port ?? SERVING_PORT,
                startupTimeoutSeconds: spec.startupTimeoutSeconds,
                ...(pipeline ? { note: ` as ${c.hostname}, SAGEMAKER_BIND_TO_PORT=${ports[i]!.port}` } : {}),
                onLine: (line) => {
                  const masked = this.masker.mask(line);
                  inst.log.write(`${pipeline ? `[${c.hostname}] ` : ''}${masked}\n`);
                  deps.onLine?.(line, pipeline ? `${inst.name}/${c.hostname}` : inst.name);
                },
                checkpoint: () => this.honourStop(),
                ...(resources ? { resources } : {}),
              },
              deps,
              scope,
            ),
          ),
        );
      }),
    );
    const failedStart = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failedStart) throw failedStart.reason;
    this.startedAt = deps.now();
    this.modifiedAt = this.startedAt;

    // CONTRACT §5.3: the request's values win, then the container's, then the defaults. Which
    // container of a pipeline is asked is UNCONFIRMED: the first, which receives the records.
    const first = this.instances[0]!.servings[0]!;
    const proposal = await this.executionParameters(`http://${first.upstream.host}:${first.upstream.port}`);
    const params = effectiveParameters(spec, proposal);
    this.parameters = params;
    deps.log.info(`Batch parameters: MaxConcurrentTransforms ${params.maxConcurrentTransforms}, BatchStrategy ${params.batchStrategy}, MaxPayloadInMB ${params.maxPayloadInMB}${Object.keys(proposal).length ? ' (GET /execution-parameters proposed some)' : ''}.`);
    const budget = new BufferBudget(Number.MAX_SAFE_INTEGER);
    for (const inst of this.instances) {
      inst.target = {
        endpoint: { endpointName: spec.transformJobName, region: spec.region, account: spec.account, variantName: 'AllTraffic' },
        // Batch answers have no 6 MiB cap; a gigabyte bounds one in memory.
        cap: 1024 ** 3,
        timeoutMs: spec.invocationsTimeoutInSeconds * 1000,
        budget,
      };
      inst.chain = inst.servings.map((sv, i) => ({ name: defs[i]!.hostname, pool: containerPool(sv.upstream) }));
    }

    // CONTRACT §5.1: objects divided between the instances by key; one object always to one instance.
    const [located] = (await locateChannels([{ channelName: 'input', source: spec.input }], deps.cwd)).located;
    const keys = await listChannelFiles(located!);
    const root = located!.kind === 'file' ? dirname(located!.source) : located!.source;
    const progress = this.startProgress(keys.length);
    try {
      await Promise.all(
        this.instances.map(async (inst, i) => {
          for (const key of shardKeys(keys, 'ShardedByS3Key', i, this.instances.length)) {
            this.honourStop();
            await this.transformFile(inst, join(root, key), key, params);
          }
        }),
      );
    } finally {
      progress();
    }
    this.honourStop();
  }

  private async executionParameters(base: string): Promise<ExecutionParameters> {
    try {
      const res = await request(`${base}/execution-parameters`, { method: 'GET', headersTimeout: 2000, bodyTimeout: 2000 });
      const body = await res.body.text();
      // Any answer but 200 (404 for a container without the route) means "no opinion".
      return res.statusCode === 200 ? parseExecutionParameters(body) : {};
    } catch {
      return {};
    }
  }

  private startProgress(files: number): () => void {
    const start = this.deps.now();
    const report = () => {
      const p: TransformProgress = { files, filesDone: this.files.length, records: this.records, recordsPerSecond: this.records / Math.max(0.001, (this.deps.now() - start) / 1000) };
      if (this.options.onProgress) this.options.onProgress(p);
      else this.deps.log.info(`Transform: ${p.filesDone}/${p.files} files, ${p.records} records, ${p.recordsPerSecond.toFixed(0)} records/s`);
    };
    // A progress bar wants frequent updates; a log line every 5 s is enough.
    const timer = setInterval(report, this.options.onProgress ? 500 : 5000);
    timer.unref();
    return () => {
      clearInterval(timer);
      if (this.options.onProgress) report();
    };
  }

  /** One input object: split, filtered, batched, sent; its `.out` written only when every batch succeeded. */
  private async transformFile(inst: Instance, path: string, key: string, params: Required<ExecutionParameters>): Promise<void> {
    const { spec } = this;
    const file: TransformFile = { key, host: inst.name, records: 0, requests: 0 };
    try {
      let data = await readFile(path);
      if (spec.compressionType === 'Gzip') data = await promisify(gunzip)(data).catch((err: Error) => {
        throw new FileFailure(`CompressionType Gzip, but the object is not gzip: ${err.message}`);
      });
      const records = splitRecords(data, spec.splitType);
      file.records = records.length;
      const sent = records.map((r) => ({ framed: filterInput(r.framed, spec.dataProcessing, spec.contentType ?? ''), bare: filterInput(r.bare, spec.dataProcessing, spec.contentType ?? '') }));
      const batches = spec.splitType === 'None' ? [{ indexes: [0], body: sent[0]!.bare }] : batchRecords(sent, params.batchStrategy, params.maxPayloadInMB * 1024 * 1024);
      if (spec.splitType === 'None' && params.maxPayloadInMB > 0 && data.length > params.maxPayloadInMB * 1024 * 1024) {
        throw new RecordError(`the object is ${data.length} bytes, more than MaxPayloadInMB (${params.maxPayloadInMB} MB), and SplitType None sends it whole: set a SplitType, or raise MaxPayloadInMB`);
      }
      file.requests = batches.length;
      const answers = await pooled(batches, params.maxConcurrentTransforms, (batch) => this.invoke(inst, batch.body, key, batch.indexes, params.maxPayloadInMB === 0));
      const joined = this.recordsOut(records.map((r) => r.bare), batches, answers);
      const out = join(this.outputDir, `${key}.out`);
      const body = assembleOutput(joined, spec.assembleWith);
      await writingTo(out, async () => {
        await mkdir(dirname(out), { recursive: true });
        // Written whole, then renamed: a half-written .out never appears.
        await writeFile(`${out}.sm-local-partial`, body);
        await rename(`${out}.sm-local-partial`, out);
      });
      file.output = out;
      this.records += records.length;
    } catch (err) {
      if (err instanceof InterruptedError) throw err;
      if (!(err instanceof FileFailure || err instanceof RecordError || err instanceof DataProcessingError)) throw err;
      file.error = err.message;
      this.once.warn(`${key}: ${err.message}; no ${key}.out is written, and the other files go on.`);
    } finally {
      this.files.push(file);
      this.modifiedAt = this.deps.now();
    }
  }

  /**
   * The answers as the output's records: with DataProcessing, each record's prediction joined and
   * filtered (a MultiRecord answer is split into lines, one per record); otherwise the answers as they came.
   */
  private recordsOut(inputs: readonly Buffer[], batches: readonly { indexes: number[] }[], answers: readonly Buffer[]): Buffer[] {
    const dp = this.spec.dataProcessing;
    if (dp.joinSource === 'None' && dp.outputFilter === '$') return [...answers];
    const out: Buffer[] = [];
    batches.forEach((batch, b) => {
      const answer = answers[b]!;
      const lines = batch.indexes.length === 1 ? [answer] : answer.toString('utf8').split('\n').filter((l, i, all) => l !== '' || i < all.length - 1).map((l) => Buffer.from(l));
      if (lines.length !== batch.indexes.length) {
        throw new DataProcessingError(`a MultiRecord answer has ${lines.length} lines for ${batch.indexes.length} records, so predictions cannot be joined with their records`);
      }
      batch.indexes.forEach((index, i) => out.push(joinAndFilterOutput(inputs[index]!, lines[i]!, dp, this.spec.contentType ?? '', this.spec.accept ?? '')));
    });
    return out;
  }

  /** One mini-batch, retried up to InvocationsMaxRetries times (CONTRACT §5.6); each retry said. */
  private async invoke(inst: Instance, body: Buffer, key: string, indexes: number[], unlimited: boolean): Promise<Buffer> {
    const { spec } = this;
    const headers: Record<string, string> = {
      ...(spec.contentType !== undefined ? { 'content-type': spec.contentType } : {}),
      ...(spec.accept !== undefined ? { accept: spec.accept } : {}),
    };
    const which = indexes.length === 1 ? `record ${indexes[0]! + 1}` : `records ${indexes[0]! + 1}–${indexes.at(-1)! + 1}`;
    for (let attempt = 0; ; attempt++) {
      this.honourStop();
      // MaxPayloadInMB 0: no limit, and the body goes with chunked transfer encoding (CONTRACT §5.4).
      // A pipeline's containers before the last answer first (CONTRACT §8.2); the last one's answer is the record's.
      const request = { headers, body: unlimited ? Readable.from([body]) : body };
      const staged = await throughStages(inst.target!, inst.chain!, request);
      const answer = staged.ok ? await invokeContainer(staged.target, staged.request) : staged;
      if (answer.ok) return answer.body!;
      // What the container did, in the words of the runtime's ModelError (its original status and message).
      const e = answer.error.body as { OriginalStatusCode?: number; OriginalMessage?: string; Message?: string };
      const why =
        e.OriginalStatusCode === 0 ? `no answer within ${spec.invocationsTimeoutInSeconds} s` : e.OriginalStatusCode !== undefined ? `the container answered ${e.OriginalStatusCode}${e.OriginalMessage ? ` ${JSON.stringify(e.OriginalMessage.slice(0, 200))}` : ''}` : (e.Message ?? answer.detail ?? 'no answer');
      if (attempt >= spec.invocationsMaxRetries) throw new FileFailure(`${which} failed after ${attempt + 1} attempt${attempt ? 's' : ''}: ${why}`);
      this.deps.log.warn(`${key}: ${which} failed (${why}); retry ${attempt + 1} of ${spec.invocationsMaxRetries}.`);
    }
  }

  describeNow(): Record<string, unknown> {
    const { spec } = this;
    const params = this.parameters;
    return {
      TransformJobName: spec.transformJobName,
      TransformJobArn: spec.transformJobArn,
      TransformJobStatus: this.status,
      ...(this.failureReason !== undefined && this.status === 'Failed' ? { FailureReason: [...this.failureReason].slice(0, 1024).join('') } : {}),
      ModelName: spec.modelName,
      ...(params ? { MaxConcurrentTransforms: params.maxConcurrentTransforms, MaxPayloadInMB: params.maxPayloadInMB, BatchStrategy: params.batchStrategy } : {}),
      ModelClientConfig: { InvocationsTimeoutInSeconds: spec.invocationsTimeoutInSeconds, InvocationsMaxRetries: spec.invocationsMaxRetries },
      ...(Object.keys(spec.environment).length ? { Environment: maskSecretValues(spec.environment) } : {}),
      TransformInput: {
        DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: spec.inputUri ?? resolve(this.deps.cwd, spec.input) } },
        ...(spec.contentType !== undefined ? { ContentType: spec.contentType } : {}),
        CompressionType: spec.compressionType,
        SplitType: spec.splitType,
      },
      TransformOutput: { S3OutputPath: spec.outputUri ?? this.outputDir, ...(spec.accept !== undefined ? { Accept: spec.accept } : {}), AssembleWith: spec.assembleWith },
      TransformResources: { InstanceType: spec.instanceType, InstanceCount: spec.instanceCount },
      CreationTime: epochSeconds(this.createdAt),
      ...(this.startedAt !== undefined ? { TransformStartTime: epochSeconds(this.startedAt) } : {}),
      ...(this.endedAt !== undefined ? { TransformEndTime: epochSeconds(this.endedAt) } : {}),
      DataProcessing: { InputFilter: spec.dataProcessing.inputFilter, OutputFilter: spec.dataProcessing.outputFilter, JoinSource: spec.dataProcessing.joinSource },
      ...spec.echo,
      SmLocal: {
        JobDir: this.jobDir,
        LogFiles: this.instances.map((i) => i.logFile),
        Files: this.files.map((f) => ({ Key: f.key, Host: f.host, Records: f.records, Requests: f.requests, ...(f.output ? { Output: f.output } : {}), ...(f.error ? { Error: f.error } : {}) })),
        LastModifiedTime: epochSeconds(this.modifiedAt),
        ...(this.notices.length ? { Notices: this.notices } : {}),
      },
    };
  }

  private async finish(): Promise<TransformResult> {
    await endHostLogs(this.instances);
    const describe = this.describeNow();
    const describeFile = join(this.jobDir, 'describe.json');
    await writeJobRecord(describeFile, describe);
    await throwIfLogFailed(this.instances);
    return {
      transformJobName: this.spec.transformJobName,
      status: this.status,
      jobDir: this.jobDir,
      describe,
      describeFile,
      outputDir: this.outputDir,
      files: [...this.files].sort((a, b) => a.key.localeCompare(b.key)),
      parameters: this.parameters ?? effectiveParameters(this.spec, {}),
      ...(this.failureReason !== undefined && this.status === 'Failed' ? { failureReason: this.failureReason } : {}),
      logFile: this.instances[0]!.logFile,
      logFiles: this.instances.map((i) => i.logFile),
      notices: this.notices,
    };
  }
}
