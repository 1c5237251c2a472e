/**
 * A processing job the way SageMaker runs a ProcessingJob (CONTRACT §2, §6): one container per host
 * (`algo-1` … `algo-N` on a private network), started by the image's own ENTRYPOINT/CMD or the
 * four-way override, the inputs at their LocalPaths (File by bind mount or copy, Pipe through FIFOs,
 * replicated or sharded), `/opt/ml/config/` written, every output folder created before the start
 * and uploaded at the end (EndOfJob) or while the job runs (Continuous), ExitMessage from
 * `/opt/ml/output/message`, and `describe.json` shaped like DescribeProcessingJob.
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { resolveContainerCommand } from '../contract/container-command.js';
import { planHosts, shardKeys, type HostPlan } from '../contract/hosts.js';
import { checkImage } from '../contract/image-checks.js';
import { renderProcessingEnvironment, renderProcessingJobConfig, renderProcessingResourceConfig } from '../contract/processing-config.js';
import { PROCESSING_PATHS, resolveProcessingJobSpecOrThrow, type ProcessingJobSpec, type ResolvedProcessingInput, type ResolvedProcessingJobSpec } from '../contract/processing-spec.js';
import {
  PROCESSING_ALGORITHM_ERROR,
  processingMaxRuntimeReason,
  renderDescribeProcessingJob,
  renderExitMessage,
  type ProcessingJobStatus,
  type ProcessingTimes,
} from '../contract/processing-status.js';
import { PROCESSING_LIMITS } from '../contract/limits.js';
import { serializeConfigFile } from '../contract/training-config.js';
import { toEnvList } from '../contract/training-env.js';
import type { EngineInfo, ExitInfo } from '../docker/engine.js';
import { AlgorithmError, InterruptedError, InvalidSpecError, JobTimeoutError, type SpecProblem } from '../errors.js';
import { SecretMasker } from '../log.js';
import { channelTar, extractRouted, readTarEntryBytes, underPrefix, type SkeletonEntry } from '../workspace/archive.js';
import { channelMount, channelRoot, listChannelFiles, locateChannels, shardMounts, type BindMount } from '../workspace/channels.js';
import { createJobFolder, writeJobRecord } from '../workspace/job-folder.js';
import { feedPipeChannel, makeFifo } from '../workspace/pipe-feeder.js';
import { writingTo } from '../workspace/storage.js';
import { eachHost, JobCluster, type StopCause } from './cluster.js';
import { verifyReadBack, type ReadBack } from './read-back.js';
import { resolveJobDeps, type JobDeps } from './deps.js';
import { ec2Hostname } from './ec2-hostname.js';
import { createWorkspace, endHostLogs, prepareJob, failedHostHint, hostsRecord, OnceNotices, recordStartFailure, runJobWork, ownSignals, throwIfLogFailed, withHostLog, type HostLog } from './job-run.js';
import { ResourceScope } from './resource-scope.js';
import type { TransferMode } from './training-runner.js';

const JOB_TYPE = 'processing';

/** Local choices that are not part of a SageMaker request. */
export interface ProcessingRunOptions {
  /** Parent folder of job folders; default `./sm-local-output`. */
  outputDir?: string;
  /** Default: `copy` when the engine is remote, else `mount`. */
  transfer?: TransferMode;
  /** Leave the containers and network in place for debugging. */
  keep?: boolean;
  /** How often Continuous outputs are uploaded while the job runs (default 2 s). */
  continuousUploadSeconds?: number;
  /** Escape hatches, as for training. */
  shmSizeBytes?: number;
  gpus?: number | 'all';
  platform?: string;
  /** List what each container wrote outside its volumes and mounts (`result.changes`), e.g. for `sm-local check`. */
  reportChanges?: boolean;
}

export type ProcessingJobInput = ProcessingJobSpec & ProcessingRunOptions;

/** How one host ended. */
export interface ProcessingHostOutcome {
  host: string;
  exitCode?: number;
  oomKilled?: boolean;
  killed?: boolean;
  /** From SIGTERM to the exit, when the job was stopped. */
  stopMs?: number;
}

export interface ProcessingResult {
  processingJobName: string;
  status: ProcessingJobStatus;
  jobDir: string;
  /** The DescribeProcessingJob-shaped record, also written to `describe.json`. */
  describe: Record<string, unknown>;
  describeFile: string;
  /** Where each output was uploaded (a local folder). */
  outputs: { outputName: string; destination: string }[];
  logFile: string;
  logFiles: string[];
  /** The exit code of the host that decided the outcome (the failed one, else algo-1). */
  exitCode?: number;
  exitMessage?: string;
  failureReason?: string;
  notices: string[];
  transfer: TransferMode;
  hosts: ProcessingHostOutcome[];
  /** With `reportChanges`: paths each container added, changed or deleted in its own layer. */
  changes?: { host: string; path: string; kind: 'added' | 'changed' | 'deleted' }[];
  /** Present with `keep`: what was left in place. */
  kept?: { containerIds: string[]; network?: string };
}

/** A processing job under way: what CreateProcessingJob returns to, and DescribeProcessingJob and StopProcessingJob act on. */
export interface ProcessingJobHandle {
  readonly processingJobName: string;
  readonly jobDir: string;
  /** DescribeProcessingJob as of now. */
  describe(): Record<string, unknown>;
  /** StopProcessingJob: SIGTERM to every host, SIGKILL after the grace; outputs are still uploaded; the job ends Stopped. */
  stop(): void;
  /** SIGKILL at once, uploads skipped (the second Ctrl-C). */
  force(): void;
  /** The result when Completed; else rejects with AlgorithmError, JobTimeoutError or InterruptedError carrying it. */
  readonly done: Promise<ProcessingResult>;
}

/** Problems with input sources (missing or empty paths), for callers validating input up front. */
export async function checkInputSources(inputs: readonly { inputName: string; source: string; sourceUri?: string }[], cwd: string): Promise<SpecProblem[]> {
  return (await locateInputs(inputs, cwd)).problems;
}

function locateInputs<I extends { inputName: string; source: string; sourceUri?: string }>(inputs: readonly I[], cwd: string) {
  return locateChannels(
    inputs.map((i) => ({ ...i, channelName: i.inputName })),
    cwd,
    (c, n) => (c.sourceUri !== undefined ? `ProcessingInputs[${n}].S3Input.S3Uri` : `input "${c.inputName}" (--input)`),
  );
}

/** Runs a processing job to its end: {@link startProcessingJob}, then `done`. */
export async function runProcessingJob(input: ProcessingJobInput, depsIn: Partial<JobDeps> = {}): Promise<ProcessingResult> {
  return (await startProcessingJob(input, depsIn)).done;
}

/**
 * Validates the job, creates its folder and starts it; returns once the request is known to be good
 * (every InvalidSpecError, JobExistsError or missing image is thrown here, before anything runs).
 */
export async function startProcessingJob(input: ProcessingJobInput, depsIn: Partial<JobDeps> = {}): Promise<ProcessingJobHandle> {
  const own = ownSignals(resolveJobDeps(depsIn));
  const { deps } = own;
  const createdAt = deps.now();
  const { spec, notices } = resolveProcessingJobSpecOrThrow(input, { now: new Date(createdAt) });
  for (const n of notices) deps.log.warn(n);

  const { located, problems } = await locateInputs(spec.inputs, deps.cwd);
  const transfer: TransferMode = input.transfer ?? (deps.docker.remote ? 'copy' : 'mount');
  const allProblems: SpecProblem[] = [...problems];
  if (transfer === 'copy' && spec.inputs.some((i) => i.s3InputMode === 'Pipe')) {
    allProblems.push({ path: 'ProcessingInputs', message: 'Pipe mode feeds named pipes through a folder shared with the container, which needs bind mounts: use a local engine and --transfer mount.' });
  }
  if (allProblems.length) throw new InvalidSpecError(allProblems);
  const { jobDir, image, engine, warnings: remote } = await prepareJob(deps, {
    jobName: spec.processingJobName,
    jobKind: 'processing job',
    image: spec.image,
    ...(input.outputDir !== undefined ? { outputDir: input.outputDir } : {}),
    ...(input.platform !== undefined ? { platform: input.platform } : {}),
    transfer,
  });
  const warnings = new Set([...checkImage(image, { jobWord: undefined, entrypointOverridden: spec.containerEntrypoint !== undefined, instanceType: spec.instanceType }), ...remote]);
  for (const w of warnings) deps.log.warn(w);

  await createJobFolder(jobDir, spec.processingJobName, 'processing job');
  deps.log.info(
    `Processing job ${spec.processingJobName}: ${spec.image} on ${spec.instanceCount > 1 ? `${spec.instanceCount} × ` : ''}${spec.instanceType}, ${spec.inputs.length} input${spec.inputs.length === 1 ? '' : 's'}, ${spec.outputs.length} output${spec.outputs.length === 1 ? '' : 's'}.`,
  );
  const byName = new Map(located.map((c) => [c.inputName, c.kind]));
  const run = new ProcessingRun(spec, deps, jobDir, transfer, input, createdAt, [...notices, ...warnings], engine, (name) => byName.get(name) ?? 'directory');
  const done = run.execute();
  done.catch(() => {});
  return {
    processingJobName: spec.processingJobName,
    jobDir,
    describe: () => run.describeNow(),
    stop: own.stop,
    force: own.force,
    done,
  };
}

/** An input as one host gets it: all of its objects, or its shard. */
interface HostInput {
  input: ResolvedProcessingInput & { kind: 'directory' | 'file' };
  /** Object keys relative to the input's root; undefined means all of them, as they are. */
  keys?: string[];
}

interface Host extends HostLog {
  plan: HostPlan;
  name: string;
  instanceType: string;
  index: number;
  inputs: HostInput[];
  exit?: ExitInfo;
  /** Pipe mode: host folders bound at the parent folders of Pipe inputs, by container path. */
  pipeDirs: Map<string, string>;
}

class ProcessingRun {
  private readonly hosts: Host[];
  private readonly times: ProcessingTimes;
  private readonly masker: SecretMasker;
  private readonly keep: boolean;
  private cluster?: JobCluster<Host>;
  private stopCause?: StopCause;
  private failedHost?: Host;
  private failureReason?: string;
  private exitMessage?: string;
  private changes?: NonNullable<ProcessingResult['changes']>;
  private containerCommand?: { entrypoint?: string[]; cmd?: string[] };
  private readonly once: OnceNotices;
  /** One upload at a time: the Continuous timer and the final upload never write a folder together. */
  private uploading?: Promise<void>;

  constructor(
    private readonly spec: ResolvedProcessingJobSpec,
    private readonly deps: JobDeps,
    private readonly jobDir: string,
    private readonly transfer: TransferMode,
    private readonly options: ProcessingRunOptions,
    createdAt: number,
    private readonly notices: string[],
    private readonly engine: EngineInfo,
    kindOf: (inputName: string) => 'directory' | 'file',
  ) {
    this.keep = options.keep ?? false;
    this.times = { status: 'InProgress', createdAt, modifiedAt: createdAt };
    this.masker = new SecretMasker().addEnvironment(spec.environment);
    this.once = new OnceNotices(notices, deps.log);
    this.hosts = planHosts(spec).map((plan, index) =>
      withHostLog(
        { plan, name: plan.name, instanceType: plan.instanceType, index, inputs: spec.inputs.map((input) => ({ input: { ...input, kind: kindOf(input.inputName) } })), pipeDirs: new Map<string, string>() },
        jobDir,
        plan.name,
      ),
    );
  }

  /** Where an output goes on this machine: its mapped destination, or a folder of its name in the job folder. */
  private destination = (outputName: string): string => {
    const output = this.spec.outputs.find((o) => o.outputName === outputName);
    return output?.destination ?? join(this.jobDir, outputName);
  };

  private enter(status: ProcessingJobStatus): void {
    const now = this.deps.now();
    this.times.status = status;
    this.times.modifiedAt = now;
    if (status === 'Completed' || status === 'Failed' || status === 'Stopped') this.times.endedAt = now;
  }

  private warnOnce(message: string): void {
    this.once.warn(message);
  }

  async execute(): Promise<ProcessingResult> {
    await runJobWork(this.deps.log, (scope) => this.process(scope), {
      onStartError: (err) => {
        const host = this.hosts.find((h) => this.cluster?.hasContainer(h) && !h.exit) ?? this.hosts[0]!;
        recordStartFailure(host, err, this.masker, this.deps);
        this.failedHost = host;
      },
      onEnvironmentError: (err) => {
        this.failureReason ??= `sm-local could not run the job: ${(err as Error)?.message ?? String(err)}`;
        this.enter('Failed');
        return this.finish();
      },
    });
    this.judge();
    const result = await this.finish();
    if (result.status === 'Completed') return result;
    if (this.stopCause === 'timeout') throw new JobTimeoutError(this.spec.maxRuntimeInSeconds, result, 'Processing job');
    if (this.stopCause === 'stopped') throw new InterruptedError(`Processing job ${this.spec.processingJobName} stopped by the user.`, result);
    throw new AlgorithmError(result.failureReason ?? '', this.failedHost?.exit?.tail ?? [], result, this.failureHint(), 'Processing job');
  }

  /** The outcome as §6.1 judges it: every host exited 0 → Completed; any non-zero → Failed; a stop → Stopped. */
  private judge(): void {
    if (this.times.status === 'Failed') return;
    if (this.stopCause === 'timeout') {
      this.failureReason = processingMaxRuntimeReason(this.spec.maxRuntimeInSeconds);
      this.enter('Stopped');
    } else if (this.stopCause === 'stopped') this.enter('Stopped');
    else if (!this.failedHost && this.failureReason === undefined && this.hosts.every((h) => h.exit?.exitCode === 0)) this.enter('Completed');
    else {
      this.failedHost ??= this.hosts.find((h) => h.exit && h.exit.exitCode !== 0);
      this.failureReason ??= PROCESSING_ALGORITHM_ERROR;
      this.enter('Failed');
    }
  }

  private failureHint(): string {
    return failedHostHint(this.failedHost, this.hosts[0]!.logFile, {
      program: 'program',
      notRunnable: 'SageMaker runs `docker run <image>` for a processing job (no extra word): give the image an ENTRYPOINT, or pass --entrypoint.',
    });
  }

  private onLine(host: Host, line: string): void {
    host.log.write(`${this.masker.mask(line)}\n`);
    this.deps.onLine?.(line, host.name);
  }

  /** Which objects each host gets: sharded inputs split by key across the hosts; Pipe inputs listed in key order. */
  private async assignShards(): Promise<void> {
    for (const [i, input] of this.hosts[0]!.inputs.map((hi) => hi.input).entries()) {
      const sharded = input.s3DataDistributionType === 'ShardedByS3Key' && this.hosts.length > 1;
      if (!sharded && input.s3InputMode !== 'Pipe') continue;
      const keys = await listChannelFiles(input);
      this.hosts.forEach((h, n) => (h.inputs[i]!.keys = shardKeys(keys, input.s3DataDistributionType, n, this.hosts.length)));
    }
  }

  /** Pipe inputs: FIFOs `<LocalPath>_0`, `_1`, … (as training's `<channel>_<epoch>`; the names are UNCONFIRMED for processing, CONTRACT §6.2), in a host folder bound at the LocalPath's parent. */
  private async preparePipes(scope: ResourceScope, suffix: string): Promise<void> {
    if (!this.spec.inputs.some((i) => i.s3InputMode === 'Pipe')) return;
    const { deps, spec } = this;
    const root = await createWorkspace(deps, scope, { name: `${spec.processingJobName}-${suffix}`, jobName: spec.processingJobName, jobType: JOB_TYPE, keep: this.keep });
    for (const h of this.hosts) {
      for (const { input } of h.inputs.filter((hi) => hi.input.s3InputMode === 'Pipe')) {
        const parent = dirname(input.localPath);
        let dir = h.pipeDirs.get(parent);
        if (!dir) {
          dir = join(root, h.name, String(h.pipeDirs.size));
          await mkdir(dir, { recursive: true });
          h.pipeDirs.set(parent, dir);
        }
        await makeFifo(join(dir, `${basename(input.localPath)}_0`));
      }
    }
  }

  private mountsFor(host: Host): BindMount[] {
    const mounts: BindMount[] = [...host.pipeDirs.entries()].map(([target, source]) => ({ source, target }));
    if (this.transfer !== 'mount') return mounts;
    for (const { input, keys } of host.inputs) {
      if (input.s3InputMode === 'Pipe') continue;
      const c = { ...input, channelName: input.inputName };
      // Divergence: File-mode inputs are writable copies on SageMaker; a read-only bind keeps the user's data safe and costs nothing.
      mounts.push(...(keys ? shardMounts(c, keys, input.localPath) : [channelMount(c, input.localPath)]));
    }
    return mounts;
  }

  private async process(scope: ResourceScope): Promise<void> {
    const { deps, spec } = this;
    await this.assignShards();
    const cluster = new JobCluster<Host>(
      {
        deps,
        engineInfo: this.engine,
        jobType: JOB_TYPE,
        jobName: spec.processingJobName,
        image: spec.image,
        isolated: spec.enableNetworkIsolation,
        keep: this.keep,
        collect: [...spec.outputs.map((o) => o.localPath), PROCESSING_PATHS.message],
        escapes: this.options,
        warnOnce: (m) => this.warnOnce(m),
      },
      this.hosts,
      scope,
    );
    this.cluster = cluster;
    await this.preparePipes(scope, cluster.suffix);
    this.containerCommand = resolveContainerCommand(undefined, spec);
    // Fresh volumes: /opt/ml/config, /opt/ml/output and every output folder start empty (created before
    // the entrypoint runs, CONTRACT §6.2), hiding what the image has there; in copy mode the File inputs too.
    const volumes = [
      PROCESSING_PATHS.config,
      PROCESSING_PATHS.output,
      ...spec.outputs.map((o) => o.localPath),
      ...(this.transfer === 'copy' ? spec.inputs.filter((i) => i.s3InputMode === 'File').map((i) => i.localPath) : []),
    ];
    await cluster.createContainers(
      (host, resources) => ({
        ...this.containerCommand,
        env: toEnvList({ ...(resources?.gpus ? {} : { NVIDIA_VISIBLE_DEVICES: 'void' }), ...renderProcessingEnvironment(spec) }),
        hostname: ec2Hostname(spec.region),
        volumes,
        mounts: this.mountsFor(host),
        ...(this.options.platform ? { platform: this.options.platform } : {}),
      }),
      `, transfer=${this.transfer}`,
    );
    await eachHost(this.hosts, (host) => this.copyIn(host));
    await cluster.connect();
    if (deps.stop?.aborted) {
      this.stopCause = 'stopped';
      return;
    }

    const continuous = this.startContinuousUpload();
    try {
      await cluster.run({
        maxRuntimeMs: spec.maxRuntimeInSeconds * 1000,
        graceMs: spec.stopGraceSeconds * 1000,
        ...(deps.stop ? { stop: deps.stop } : {}),
        ...(deps.force ? { force: deps.force } : {}),
        onLine: (host, line) => this.onLine(host, line),
        onFirstStart: () => {
          this.times.startedAt = deps.now();
          this.times.modifiedAt = this.times.startedAt;
        },
        onStopping: (cause, failed) => {
          this.stopCause = cause === 'failed' ? undefined : cause;
          if (failed) this.failedHost = failed;
          if (cause !== 'failed') this.enter('Stopping');
        },
        alongside: (host, done) => (host.pipeDirs.size ? this.feedPipes(host, done).catch((err: unknown) => deps.log.warn(`Feeding Pipe inputs of ${host.name} stopped: ${(err as Error).message}`)) : Promise.resolve()),
        onExit: (host, exit) => {
          host.exit = exit;
          deps.log.debug(`${host.name} exited with ${exit.exitCode}`);
        },
      });
    } finally {
      await continuous.stop();
    }
    cluster.releaseNetwork();
    if (this.options.reportChanges) this.changes = await cluster.changes();
    if (!deps.force?.aborted) {
      await this.readExitMessage();
      await this.upload(() => this.uploadAll());
    }
    if (this.keep) {
      deps.log.info(cluster.keptNote());
    }
  }

  /** One host's `/opt/ml/config` and the empty output folders, then (copy mode) each File input, or its shard. */
  private async copyIn(host: Host): Promise<void> {
    const rel = (p: string) => p.replace(/^\//, '');
    const { spec } = this;
    const config = rel(PROCESSING_PATHS.config);
    const entries: SkeletonEntry[] = [
      { path: config },
      { path: `${config}/processingjobconfig.json`, content: serializeConfigFile(renderProcessingJobConfig(spec, this.destination)) },
      { path: `${config}/resourceconfig.json`, content: serializeConfigFile(renderProcessingResourceConfig(this.hosts.map((h) => h.plan), host.plan)) },
      { path: rel(PROCESSING_PATHS.output) },
      ...spec.outputs.map((o) => ({ path: rel(o.localPath) })),
    ];
    const container = this.cluster!.container(host);
    await container.putArchive(this.cluster!.skeleton(host, entries), '/');
    if (this.transfer !== 'copy') return;
    for (const { input, keys } of host.inputs) {
      if (input.s3InputMode !== 'File') continue;
      await container.putArchive(keys ? await channelTar(channelRoot(input), keys) : await channelTar(input.source), input.localPath);
    }
  }

  private async feedPipes(host: Host, done: AbortSignal): Promise<void> {
    await Promise.all(
      host.inputs
        .filter((hi) => hi.input.s3InputMode === 'Pipe')
        .map(({ input, keys }) => {
          const root = channelRoot(input);
          return feedPipeChannel(
            host.pipeDirs.get(dirname(input.localPath))!,
            { channelName: basename(input.localPath), files: (keys ?? []).map((k) => join(root, k)), recordWrapperType: 'None', compressionType: input.s3CompressionType },
            done,
            (epoch) => this.deps.log.debug(`${host.name}: Pipe input ${input.inputName} epoch ${epoch} done`),
          );
        }),
    );
  }

  /** Runs uploads one at a time. */
  private upload(work: () => Promise<void>): Promise<void> {
    const next = (this.uploading ?? Promise.resolve()).then(work, work);
    this.uploading = next.catch(() => {});
    return next;
  }

  /**
   * Continuous outputs (CONTRACT §6.2): what each running host has written so far is copied to the
   * destination every few seconds, so files appear there while the job runs. Uploads add and replace
   * files, never delete them, as S3 objects stay once uploaded.
   */
  private startContinuousUpload(): { stop: () => Promise<void> } {
    const outputs = this.spec.outputs.filter((o) => o.s3UploadMode === 'Continuous');
    if (!outputs.length) return { stop: async () => {} };
    const seconds = this.options.continuousUploadSeconds ?? 2;
    let running = false;
    const tick = () => {
      if (running) return;
      running = true;
      void this.upload(async () => {
        for (const output of outputs) {
          for (const host of this.hosts) {
            if (host.exit) continue;
            await this.extractOutput(output, await this.cluster!.container(host).getArchive(output.localPath));
          }
        }
      })
        .catch((err: unknown) => this.warnOnce(`A Continuous upload failed (tried again every ${seconds} s and at the end): ${(err as Error).message}`))
        .finally(() => (running = false));
    };
    const timer = setInterval(tick, seconds * 1000);
    return {
      stop: async () => {
        clearInterval(timer);
        await this.uploading;
      },
    };
  }

  /** Every output of every host, at the end of the job (also a failed or stopped one): partial outputs are kept. */
  private async uploadAll(): Promise<void> {
    const reads: ReadBack[] = [];
    for (const output of this.spec.outputs) {
      const dest = this.destination(output.outputName);
      await writingTo(dest, () => mkdir(dest, { recursive: true }));
      for (const host of this.hosts) {
        const files = await this.extractOutput(output, await this.cluster!.archive(host, output.localPath));
        reads.push({ host: host.name, container: this.cluster!.container(host), path: output.localPath, files });
      }
    }
    await verifyReadBack(this.deps.docker, this.engine, reads, 'the output');
  }

  /** Files and links it wrote. */
  private async extractOutput(output: ResolvedProcessingJobSpec['outputs'][number], tar: Readable | undefined): Promise<number> {
    if (!tar) return 0;
    const dest = this.destination(output.outputName);
    await writingTo(dest, () => mkdir(dest, { recursive: true }));
    const r = await extractRouted(tar, dest, underPrefix(`${basename(output.localPath)}/`), `output ${output.outputName} (${output.localPath})`, 'none');
    for (const s of r.skipped) this.warnOnce(`${output.localPath}: ${s.why}; it was left out and the rest uploaded.`);
    return r.files + r.links;
  }

  /** ExitMessage from every host's /opt/ml/output/message (CONTRACT §6.2): concatenated, cut to 1 KB; not UTF-8 fails the job. */
  private async readExitMessage(): Promise<void> {
    const messages = await Promise.all(
      this.hosts.map(async (host) => {
        const tar = await this.cluster!.archive(host, PROCESSING_PATHS.message);
        // Enough bytes for 1024 characters of up to 4 bytes each.
        const bytes = tar ? await readTarEntryBytes(tar, 'message', PROCESSING_LIMITS.exitMessageMax * 4) : undefined;
        return { host: host.name, ...(bytes ? { bytes } : {}) };
      }),
    );
    const { exitMessage, clientError } = renderExitMessage(messages);
    if (exitMessage !== undefined) this.exitMessage = exitMessage;
    if (clientError !== undefined) this.failureReason = clientError;
  }

  describeNow(): Record<string, unknown> {
    const local: Record<string, unknown> = {
      JobDir: this.jobDir,
      LogFiles: this.hosts.map((h) => h.logFile),
      TransferMode: this.transfer,
      ...hostsRecord(this.hosts, this.failedHost),
      ...(this.containerCommand ? { ContainerCommand: this.containerCommand } : {}),
      ...(this.notices.length ? { Notices: this.notices } : {}),
      ...(this.keep ? { Kept: { ContainerIds: this.cluster?.containerIds() ?? [], ...(this.cluster?.ownNetwork ? { Network: this.cluster.ownNetwork } : {}) } } : {}),
    };
    const final = this.times.status === 'Failed' || this.times.status === 'Stopped';
    return renderDescribeProcessingJob(this.spec, {
      times: this.times,
      ...(this.exitMessage !== undefined ? { exitMessage: this.exitMessage } : {}),
      ...(final && this.failureReason !== undefined ? { failureReason: this.failureReason } : {}),
      outputDestination: this.destination,
      local,
    });
  }

  /** Writes describe.json and closes the logs; runs for every outcome once the job folder exists. */
  private async finish(): Promise<ProcessingResult> {
    await endHostLogs(this.hosts);
    const describe = this.describeNow();
    const describeFile = join(this.jobDir, 'describe.json');
    await writeJobRecord(describeFile, describe);
    await throwIfLogFailed(this.hosts);
    const decisive = this.failedHost ?? this.hosts[0]!;
    const { status } = this.times;
    return {
      processingJobName: this.spec.processingJobName,
      status,
      jobDir: this.jobDir,
      describe,
      describeFile,
      outputs: this.spec.outputs.map((o) => ({ outputName: o.outputName, destination: this.destination(o.outputName) })),
      logFile: this.hosts[0]!.logFile,
      logFiles: this.hosts.map((h) => h.logFile),
      ...(decisive.exit ? { exitCode: decisive.exit.exitCode } : {}),
      ...(this.exitMessage !== undefined ? { exitMessage: this.exitMessage } : {}),
      ...(this.failureReason !== undefined && (status === 'Failed' || status === 'Stopped') ? { failureReason: this.failureReason } : {}),
      notices: this.notices,
      transfer: this.transfer,
      hosts: this.hosts.map((h) => ({
        host: h.name,
        ...(h.exit ? { exitCode: h.exit.exitCode, oomKilled: h.exit.oomKilled, killed: h.exit.killed, ...(h.exit.stopMs !== undefined ? { stopMs: h.exit.stopMs } : {}) } : {}),
      })),
      ...(this.changes ? { changes: this.changes } : {}),
      ...(this.keep ? { kept: { containerIds: this.cluster?.containerIds() ?? [], ...(this.cluster?.ownNetwork ? { network: this.cluster.ownNetwork } : {}) } } : {}),
    };
  }
}
