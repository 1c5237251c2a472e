import { access, mkdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { resolveContainerCommand } from '../contract/container-command.js';
import { renderFailureReason } from '../contract/failure-reason.js';
import { planHosts, shardKeys, type HostPlan } from '../contract/hosts.js';
import { bakedCodeWarning } from '../contract/conformance.js';
import { checkImage } from '../contract/image-checks.js';
import { TRAINING_LIMITS } from '../contract/limits.js';
import { compileMetrics, finalMetrics, matchMetrics, type MetricPoint } from '../contract/metrics.js';
import { TRAINING_PATHS } from '../contract/paths.js';
import { channelsFor, renderTrainingConfig, serializeConfigFile } from '../contract/training-config.js';
import { renderTrainingEnvironment, toEnvList } from '../contract/training-env.js';
import { renderDescribeTrainingJob, TrainingStatusTracker, type SecondaryStatus, type TrainingJobStatus } from '../contract/training-status.js';
import {
  resolveTrainingJobSpecOrThrow,
  SOURCE_ARCHIVE_PATH,
  type ChannelSpec,
  type ResolvedTrainingJobSpec,
  type TrainingJobSpec,
} from '../contract/training-spec.js';
import type { EngineContainer, EngineInfo, ExitInfo, PortPair } from '../docker/engine.js';
import {
  AlgorithmError,
  InterruptedError,
  InvalidSpecError,
  JobTimeoutError,
  PortInUseError,
  type SpecProblem,
} from '../errors.js';
import { SecretMasker } from '../log.js';
import { probePort } from '../http/ports.js';
import { channelTar, extractRouted, packSourceDir, readTarEntry, repackTarGz, streamToBuffer, underPrefix, type RepackResult, type SkeletonEntry } from '../workspace/archive.js';
import { channelMount, channelRoot, listChannelFiles, locateChannels, shardMounts, type BindMount, type LocatedChannel } from '../workspace/channels.js';
import { syncCheckpoints } from '../workspace/checkpoints.js';
import { createJobFolder, writeJobRecord } from '../workspace/job-folder.js';
import { writingTo } from '../workspace/storage.js';
import { feedPipeChannel, makeFifo } from '../workspace/pipe-feeder.js';
import { resolveJobDeps, type JobDeps } from './deps.js';
import { verifyReadBack } from './read-back.js';
import { eachHost, JobCluster, type StopCause } from './cluster.js';
import { createWorkspace, endHostLogs, prepareJob, failedHostHint, hostsRecord, OnceNotices, recordStartFailure, runJobWork, ownSignals, throwIfLogFailed, withHostLog, type HostLog } from './job-run.js';
import { ec2Hostname } from './ec2-hostname.js';
import { filesUnder } from './image-probe.js';
import { ResourceScope } from './resource-scope.js';

/**
 * How channel data and the `/opt/ml` tree reach the container: `mount` binds host folders (O(1) in
 * data size; needs an engine that sees this machine's files), `copy` streams them through the
 * Engine's archive API (works with any engine, including a remote `DOCKER_HOST`).
 */
export type TransferMode = 'mount' | 'copy';

/** Local choices that are not part of a SageMaker request. */
export interface TrainingRunOptions {
  /** Parent folder of job folders; default `./sm-local-output`. */
  outputDir?: string;
  /** Default: `copy` when the engine is remote, else `mount`. */
  transfer?: TransferMode;
  /** Leave the containers and network in place for debugging. */
  keep?: boolean;
  /** How often checkpoints are saved back while the job runs (default 5 s). */
  checkpointSyncSeconds?: number;
  /** Escape hatch: /dev/shm size in bytes, instead of half the instance type's memory. */
  shmSizeBytes?: number;
  /** Escape hatch: GPUs to request from the engine (`all`, or a count), whatever the instance type says. */
  gpus?: number | 'all';
  /** Escape hatch: the image platform (`linux/amd64`, `linux/arm64`); the engine refuses an image of another. */
  platform?: string;
  /** Escape hatch: ports of algo-1 published on 127.0.0.1 (for a debugger); not part of the SageMaker contract. */
  publish?: PortPair[];
  /** List what each container wrote outside its volumes and mounts (`result.changes`), e.g. for `sm-local check`. */
  reportChanges?: boolean;
  /**
   * Called with the model artifact as soon as it is written, when every host exited 0 (the job
   * completes), before the containers' changes are listed and everything is removed: `sm-local check`
   * starts serving the model meanwhile.
   */
  onModelReady?: (modelArtifact: string) => void;
}

export type TrainingJobInput = TrainingJobSpec & TrainingRunOptions;

export interface TrainingResult {
  trainingJobName: string;
  status: TrainingJobStatus;
  secondaryStatus: SecondaryStatus;
  jobDir: string;
  /** The DescribeTrainingJob-shaped record, also written to `describe.json`. */
  describe: Record<string, unknown>;
  describeFile: string;
  /** model.tar.gz, or the `model` folder with OutputDataConfig.CompressionType NONE. */
  modelArtifact?: string;
  /** output.tar.gz, or the `output` folder with CompressionType NONE. */
  outputArtifact?: string;
  /** The log of the first host (`algo-1.log`); `logFiles` has every host's. */
  logFile: string;
  logFiles: string[];
  /** The exit code of the host that decided the outcome (the failed one, else algo-1). */
  exitCode?: number;
  failureReason?: string;
  /** Every metric value the MetricDefinitions found in the logs, in order. */
  metrics: MetricPoint[];
  /** Metrics defined but never seen in the logs. */
  unmatchedMetrics: string[];
  notices: string[];
  transfer: TransferMode;
  /** How each host ended. */
  hosts: HostOutcome[];
  /** A failed job: whether the failed host wrote /opt/ml/output/failure (with any text). */
  failureFile?: boolean;
  /** With `reportChanges`: paths each container added, changed or deleted in its own layer. */
  changes?: { host: string; path: string; kind: 'added' | 'changed' | 'deleted' }[];
  /** Present with `keep`: what was left in place. */
  kept?: { containerIds: string[]; network?: string };
}

/** How one host ended. */
export interface HostOutcome {
  host: string;
  instanceGroup: string;
  exitCode?: number;
  oomKilled?: boolean;
  /** SIGKILL was needed: it did not exit within the grace period after SIGTERM. */
  killed?: boolean;
  /** From SIGTERM to the exit, when the job was stopped. */
  stopMs?: number;
}

const JOB_TYPE = 'training';

/** Where images built on the training toolkit keep (and script mode unpacks) the training code. */
const CODE_DIR = '/opt/ml/code';

/**
 * FailureReason when the kernel killed the algorithm for memory. The service's wording is
 * UNCONFIRMED (a public notebook quotes "use an instance type with more memory, or reduce the size of
 * job data"); this is the closest reading.
 */
const OOM_FAILURE_REASON = 'OutOfMemoryError: Please use an instance type with more memory, or reduce the size of job data processed on an instance.';

/** Problems with channel sources (missing or unreadable paths), for callers validating input up front. */
export async function checkChannelSources(channels: readonly Pick<ChannelSpec, 'channelName' | 'source' | 'sourceUri'>[], cwd: string) {
  return (await locateChannels(channels, cwd)).problems;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Runs a training job the way SageMaker runs a TrainingJob (CONTRACT §2–§3): builds `/opt/ml` on
 * every host (`algo-1` … `algo-N` on a private network), starts `<image> train` (or the
 * entrypoint/arguments override), feeds the channels (File, FastFile, Pipe; replicated or sharded),
 * streams the output, applies MaxRuntimeInSeconds and stop requests (SIGTERM, grace, SIGKILL), fails
 * the job with the first host that fails, and writes the artifacts, `describe.json` and one log per
 * host to the job folder.
 *
 * Resolves with the result when the job is `Completed`. Rejects with `AlgorithmError` (Failed),
 * `JobTimeoutError` (MaxRuntimeExceeded) or `InterruptedError` (stopped), each carrying the result in
 * `details`; a job folder exists for all three. Every container, network, volume and workspace it
 * created is removed before it settles, unless `keep` is set.
 */
export async function runTrainingJob(input: TrainingJobInput, depsIn: Partial<JobDeps> = {}): Promise<TrainingResult> {
  return (await startTrainingJob(input, depsIn)).done;
}

/** A training job that is under way: what CreateTrainingJob returns to, and DescribeTrainingJob and StopTrainingJob act on. */
export interface TrainingJobHandle {
  readonly trainingJobName: string;
  readonly jobDir: string;
  /** DescribeTrainingJob as of now: status, secondary status and its transitions as they happen. */
  describe(): Record<string, unknown>;
  /** StopTrainingJob: SIGTERM to every host, SIGKILL after the grace; the job ends Stopped. */
  stop(): void;
  /** SIGKILL at once, packaging skipped (the second Ctrl-C). */
  force(): void;
  /** Settles as `runTrainingJob` does: the result when Completed, else the error that carries it. */
  readonly done: Promise<TrainingResult>;
}

/**
 * Validates the job, creates its folder and starts it; returns once the request is known to be good
 * (every InvalidSpecError, JobExistsError or missing image is thrown here, before anything runs). The
 * job then runs on, and `done` settles as `runTrainingJob` does.
 */
export async function startTrainingJob(input: TrainingJobInput, depsIn: Partial<JobDeps> = {}): Promise<TrainingJobHandle> {
  const own = ownSignals(resolveJobDeps(depsIn));
  const { deps } = own;
  const createdAt = deps.now();
  const { spec, notices } = resolveTrainingJobSpecOrThrow(input, { now: new Date(createdAt) });
  for (const n of notices) deps.log.warn(n);

  const { located, problems } = await locateChannels(spec.channels, deps.cwd);
  const problemsAll: SpecProblem[] = [...problems];
  if (spec.scriptMode && !(await exists(resolve(deps.cwd, spec.scriptMode.source)))) {
    problemsAll.push({ path: spec.scriptMode.sourceIsFile ? 'entry point (--entry-point)' : 'source dir (--source-dir)', message: `${resolve(deps.cwd, spec.scriptMode.source)} does not exist.` });
  }
  const transfer: TransferMode = input.transfer ?? (deps.docker.remote ? 'copy' : 'mount');
  if (transfer === 'copy' && located.some((c) => c.inputMode === 'Pipe')) {
    problemsAll.push({ path: 'InputDataConfig', message: 'Pipe mode feeds named pipes through a folder shared with the container, which needs bind mounts: use a local engine and --transfer mount.' });
  }
  if (input.publish?.length && transfer === 'copy' && deps.docker.remote) {
    problemsAll.push({ path: '--publish', message: `ports are published on the engine's machine (${deps.docker.endpoint}), not on 127.0.0.1 here.` });
  }
  if (problemsAll.length) throw new InvalidSpecError(problemsAll);
  // Packed before anything starts: a link out of the source folder is refused here.
  const sourceArchive = spec.scriptMode
    ? await packSourceDir(resolve(deps.cwd, spec.scriptMode.source), spec.scriptMode.sourceIsFile)
    : spec.submittedSource
      ? await readFile(spec.submittedSource.archive)
      : undefined;
  for (const { hostPort } of input.publish ?? []) {
    await probePort(hostPort).catch((err: unknown) => {
      throw err instanceof PortInUseError ? new PortInUseError(hostPort, err, 'Pick another host port for --publish HOST:CONTAINER.') : err;
    });
  }
  const { jobDir, image, engine, warnings: remote } = await prepareJob(deps, {
    jobName: spec.trainingJobName,
    jobKind: 'training job',
    image: spec.image,
    ...(input.outputDir !== undefined ? { outputDir: input.outputDir } : {}),
    ...(input.platform !== undefined ? { platform: input.platform } : {}),
    transfer,
  });
  const plan = planHosts(spec);
  const warnings = new Set<string>();
  for (const type of new Set(plan.map((h) => h.instanceType))) {
    for (const w of checkImage(image, { jobWord: 'train', entrypointOverridden: spec.containerEntrypoint !== undefined, instanceType: type })) warnings.add(w);
  }
  for (const w of remote) warnings.add(w);
  if (input.publish?.length && spec.enableNetworkIsolation) {
    warnings.add('--publish has no effect with network isolation: an isolated container has no ports on this machine.');
  }
  for (const w of warnings) deps.log.warn(w);

  await createJobFolder(jobDir, spec.trainingJobName);
  deps.log.info(
    `Training job ${spec.trainingJobName}: ${spec.image} on ${spec.instanceCount > 1 ? `${spec.instanceCount} × ` : ''}${spec.instanceGroups ? spec.instanceGroups.map((g) => `${g.instanceCount} ${g.instanceType} (${g.instanceGroupName})`).join(' + ') : spec.instanceType}, ${spec.channels.length} channel${spec.channels.length === 1 ? '' : 's'}.`,
  );
  const run = new TrainingRun(spec, deps, plan, located, jobDir, transfer, input, createdAt, [...notices, ...warnings], engine, sourceArchive);
  const done = run.execute();
  // The caller may only look at `done` later (or never): its rejection is theirs to see, not unhandled.
  done.catch(() => {});
  return {
    trainingJobName: spec.trainingJobName,
    jobDir,
    describe: () => run.describeNow(),
    stop: own.stop,
    force: own.force,
    done,
  };
}

/** A channel as one host gets it: all of its objects, or its shard. */
interface HostChannel {
  channel: LocatedChannel;
  /** Object keys relative to the channel root; undefined means all of them, as they are. */
  keys?: string[];
}

interface Host extends HostLog {
  plan: HostPlan;
  /** The host's name (`algo-1`) and instance type, as the cluster core knows it. */
  name: string;
  instanceType: string;
  index: number;
  channels: HostChannel[];
  exit?: ExitInfo;
  /** Host folder bound at /opt/ml/input/data when a channel is in Pipe mode. */
  dataDir?: string;
  /** Copy mode: FastFile channels in named volumes, mounted read-only. */
  readOnlyVolumes: { name: string; target: string; readOnly: true }[];
}

class TrainingRun {
  private readonly tracker: TrainingStatusTracker;
  private readonly hosts: Host[];
  private readonly metrics;
  private readonly series: MetricPoint[] = [];
  private stopCause?: StopCause;
  private failedHost?: Host;
  private failureReason?: string;
  private failureFile?: boolean;
  private changes?: NonNullable<TrainingResult['changes']>;
  private modelArtifact?: string;
  private outputArtifact?: string;
  private artifactBytes?: { model: number; output: number };
  private cluster?: JobCluster<Host>;
  private containerCommand?: { entrypoint?: string[]; cmd?: string[] };
  private readonly keep: boolean;
  /** Log files get the container's lines with the job's secret environment values masked. */
  private readonly masker: SecretMasker;

  constructor(
    private readonly spec: ResolvedTrainingJobSpec,
    private readonly deps: JobDeps,
    plan: HostPlan[],
    channels: LocatedChannel[],
    private readonly jobDir: string,
    private readonly transfer: TransferMode,
    private readonly options: TrainingRunOptions,
    createdAt: number,
    private readonly notices: string[],
    private readonly engine: EngineInfo,
    /** sourcedir.tar.gz in script mode. */
    private readonly sourceArchive: Buffer | undefined,
  ) {
    this.keep = options.keep ?? false;
    this.once = new OnceNotices(notices, deps.log);
    this.tracker = new TrainingStatusTracker(createdAt);
    this.metrics = compileMetrics(spec.metricDefinitions).metrics;
    this.masker = new SecretMasker().addEnvironment(spec.environment);
    this.hosts = plan.map((p, index) =>
      withHostLog({ plan: p, name: p.name, instanceType: p.instanceType, index, channels: channelsFor({ channels }, p).map((channel) => ({ channel })), readOnlyVolumes: [] }, jobDir, p.name),
    );
  }

  async execute(): Promise<TrainingResult> {
    await runJobWork(this.deps.log, (scope) => this.train(scope), {
      onStartError: (err) => {
        const host = this.hosts.find((h) => this.cluster?.hasContainer(h) && !h.exit) ?? this.hosts[0]!;
        recordStartFailure(host, err, this.masker, this.deps);
        this.failedHost = host;
        this.failureReason = renderFailureReason(undefined, err.containerExitCode);
      },
      onEnvironmentError: (err) => {
        this.failureReason ??= `sm-local could not run the job: ${(err as Error)?.message ?? String(err)}`;
        return this.finish();
      },
    });
    const result = await this.judge();
    if (result.status === 'Completed') return result;
    if (this.stopCause === 'timeout') throw new JobTimeoutError(this.spec.maxRuntimeInSeconds, result);
    if (this.stopCause === 'stopped') throw new InterruptedError(`Training job ${this.spec.trainingJobName} stopped by the user.`, result);
    throw new AlgorithmError(result.failureReason ?? '', this.failedHost?.exit?.tail ?? [], result, this.failureHint());
  }

  private failureHint(): string {
    return failedHostHint(this.failedHost, this.hosts[0]!.logFile, {
      program: 'algorithm',
      notRunnable: 'SageMaker runs `docker run <image> train`: give the image an exec-form ENTRYPOINT, or put an executable named `train` on its PATH.',
    });
  }

  private onLine(host: Host, line: string): void {
    host.log.write(`${this.masker.mask(line)}\n`);
    this.deps.onLine?.(line, host.plan.name);
    if (this.metrics.length) this.series.push(...matchMetrics(line, this.metrics, Math.round(this.deps.now()) / 1000));
  }

  private readonly once: OnceNotices;
  private warnOnce(message: string): void {
    this.once.warn(message);
  }

  /** Which objects each host gets: sharded channels split by key across the hosts that get the channel. */
  private async assignShards(): Promise<void> {
    for (const c of new Set(this.hosts.flatMap((h) => h.channels.map((hc) => hc.channel)))) {
      const holders = this.hosts.filter((h) => h.channels.some((hc) => hc.channel === c));
      const keys = c.inputMode === 'Pipe' || (c.s3DataDistributionType === 'ShardedByS3Key' && holders.length > 1) ? await listChannelFiles(c) : undefined;
      holders.forEach((h, i) => {
        const hc = h.channels.find((x) => x.channel === c)!;
        if (keys) hc.keys = shardKeys(keys, c.s3DataDistributionType, i, holders.length);
      });
    }
  }

  private mountsFor(host: Host): BindMount[] {
    const mounts: BindMount[] = [];
    if (host.dataDir) mounts.push({ source: host.dataDir, target: TRAINING_PATHS.data });
    if (this.transfer !== 'mount') return mounts;
    for (const { channel, keys } of host.channels) {
      if (channel.inputMode === 'Pipe') continue;
      // Divergence: File-mode channels are writable copies on SageMaker; read-only binds keep the user's data safe and cost nothing.
      mounts.push(...(keys ? shardMounts(channel, keys) : [channelMount(channel)]));
    }
    return mounts;
  }

  private async train(scope: ResourceScope): Promise<void> {
    const { deps, spec } = this;
    await this.assignShards();
    const cluster = new JobCluster<Host>(
      {
        deps,
        engineInfo: this.engine,
        jobType: JOB_TYPE,
        jobName: spec.trainingJobName,
        image: spec.image,
        isolated: spec.enableNetworkIsolation,
        keep: this.keep,
        collect: [TRAINING_PATHS.model, TRAINING_PATHS.outputData],
        escapes: this.options,
        warnOnce: (m) => this.warnOnce(m),
      },
      this.hosts,
      scope,
    );
    this.cluster = cluster;
    const suffix = cluster.suffix;

    if (this.hosts.some((h) => h.channels.some((hc) => hc.channel.inputMode === 'Pipe'))) {
      // Containers see their data folder through its bind mount only.
      const root = await createWorkspace(deps, scope, { name: `${spec.trainingJobName}-${suffix}`, jobName: spec.trainingJobName, jobType: JOB_TYPE, keep: this.keep });
      for (const h of this.hosts) {
        h.dataDir = join(root, h.plan.name, 'data');
        await mkdir(h.dataDir, { recursive: true });
        for (const { channel } of h.channels) {
          if (channel.inputMode === 'Pipe') await makeFifo(join(h.dataDir, `${channel.channelName}_0`));
          else await mkdir(join(h.dataDir, channel.channelName), { recursive: true });
        }
      }
    }

    const checkpointSource = spec.checkpoint ? resolve(deps.cwd, spec.checkpoint.source) : undefined;
    const restoreCheckpoints = checkpointSource ? await stat(checkpointSource).then((s) => s.isDirectory(), () => false) : false;
    this.containerCommand = resolveContainerCommand('train', spec);
    const volumes = [TRAINING_PATHS.input, TRAINING_PATHS.model, TRAINING_PATHS.output, spec.checkpoint?.localPath ?? TRAINING_PATHS.checkpoints];

    if (this.transfer === 'copy') await this.fillReadOnlyVolumes(cluster);

    await cluster.createContainers(
      (host, resources) => ({
        ...this.containerCommand,
        env: toEnvList({ ...(resources?.gpus ? {} : { NVIDIA_VISIBLE_DEVICES: 'void' }), ...renderTrainingEnvironment(spec) }),
        hostname: ec2Hostname(spec.region),
        // The platform's own areas: fresh volumes that hide whatever the image ships there and never put
        // root-owned files on this machine. The image's other /opt/ml content (e.g. /opt/ml/code) stays visible.
        volumes,
        mounts: this.mountsFor(host),
        namedVolumes: host.readOnlyVolumes,
        ...(this.options.platform ? { platform: this.options.platform } : {}),
        ...(host.index === 0 && this.options.publish?.length ? { publish: this.options.publish } : {}),
      }),
      `, transfer=${this.transfer}`,
    );

    this.tracker.enter('Downloading', deps.now());
    if (spec.scriptMode && !spec.scriptMode.sourceIsFile) await this.warnOfBakedCode(cluster.container(this.hosts[0]!), spec.scriptMode.source);
    const checkpointTar = restoreCheckpoints ? await streamToBuffer(await channelTar(checkpointSource!)) : undefined;
    await eachHost(this.hosts, async (host) => {
      await this.copyIn(host, this.sourceArchive);
      if (checkpointTar) await cluster.container(host).putArchive(Readable.from([checkpointTar]), spec.checkpoint!.localPath);
    });
    await cluster.connect();
    deps.log.debug(`copied /opt/ml into ${this.hosts.length} container${this.hosts.length > 1 ? 's' : ''} and connected them to ${cluster.networkName}`);
    if (deps.stop?.aborted) {
      this.stopCause = 'stopped';
      return;
    }

    await this.runHosts(cluster);

    cluster.releaseNetwork();
    if (this.failedHost && this.failedHost.exit?.exitCode !== 0) this.failureReason = await this.readFailureReason(this.failedHost);
    if (!deps.force?.aborted) {
      await this.upload();
      if (!this.stopCause && this.hostsSucceeded() && this.modelArtifact) this.options.onModelReady?.(this.modelArtifact);
      if (checkpointSource) await this.saveCheckpoints(checkpointSource);
    }
    // After the upload: the engine's diff of each layer takes ≈0.4 s on overlay2 without a native
    // diff, and holds the container meanwhile (Docker Engine runs one archive or diff call at a time).
    if (this.options.reportChanges) this.changes = await cluster.changes();
    if (this.keep) {
      deps.log.info(cluster.keptNote());
    }
  }

  /**
   * Copy mode gives FastFile channels read-only, as the service does (CONTRACT §3.6): the data goes
   * into a named volume through a container that is never started, and the volume is mounted
   * read-only. One volume per host, as shards differ.
   */
  private async fillReadOnlyVolumes(cluster: JobCluster<Host>): Promise<void> {
    for (const host of this.hosts) {
      for (const { channel, keys } of host.channels) {
        if (channel.inputMode !== 'FastFile') continue;
        const name = await cluster.filledVolume(`${host.plan.name}-${channel.channelName}`, keys ? await channelTar(channelRoot(channel), keys) : await channelTar(channel.source));
        host.readOnlyVolumes.push({ name, target: `${TRAINING_PATHS.data}/${channel.channelName}`, readOnly: true });
      }
    }
  }

  /** Starts every host, feeds Pipe channels, saves checkpoints as it goes, and waits for all to exit. */
  private async runHosts(cluster: JobCluster<Host>): Promise<void> {
    const { deps, spec } = this;
    const checkpointTimer = spec.checkpoint ? this.startCheckpointSync(resolve(deps.cwd, spec.checkpoint.source)) : undefined;
    try {
      await cluster.run({
        maxRuntimeMs: spec.maxRuntimeInSeconds * 1000,
        graceMs: spec.stopGraceSeconds * 1000,
        ...(deps.stop ? { stop: deps.stop } : {}),
        ...(deps.force ? { force: deps.force } : {}),
        onLine: (host, line) => this.onLine(host, line),
        onFirstStart: () => this.tracker.enter('Training', deps.now()),
        onStopping: (cause, failed) => {
          this.stopCause = cause;
          if (failed) this.failedHost = failed;
          if (cause !== 'failed') this.tracker.enter('Stopping', deps.now());
        },
        alongside: (host, done) =>
          host.dataDir ? this.feedPipes(host, done).catch((err: unknown) => deps.log.warn(`Feeding Pipe channels of ${host.plan.name} stopped: ${(err as Error).message}`)) : Promise.resolve(),
        onExit: (host, exit) => {
          host.exit = exit;
          deps.log.debug(`${host.plan.name} exited with ${exit.exitCode}`);
        },
      });
    } finally {
      await checkpointTimer?.stop();
    }
  }

  private async feedPipes(host: Host, done: AbortSignal): Promise<void> {
    await Promise.all(
      host.channels
        .filter((hc) => hc.channel.inputMode === 'Pipe')
        .map(({ channel, keys }) => {
          const root = channelRoot(channel);
          return feedPipeChannel(
            host.dataDir!,
            {
              channelName: channel.channelName,
              files: (keys ?? []).map((k) => join(root, k)),
              recordWrapperType: channel.recordWrapperType,
              compressionType: channel.compressionType,
              ...(channel.shuffleSeed !== undefined ? { shuffleSeed: channel.shuffleSeed } : {}),
            },
            done,
            (epoch) => this.deps.log.debug(`${host.plan.name}: Pipe channel ${channel.channelName} epoch ${epoch} done`),
          );
        }),
    );
  }

  /** Saves checkpoints back every few seconds while the job runs (one save at a time). */
  private startCheckpointSync(dest: string): { stop: () => Promise<void> } {
    let running: Promise<void> | undefined;
    const tick = () => {
      if (running) return;
      // A container may be between writes; a save that fails is said once and tried again next time.
      running = this.saveCheckpoints(dest)
        .catch((err: unknown) => this.warnOnce(`Saving checkpoints to ${dest} failed (tried again every ${this.options.checkpointSyncSeconds ?? 5} s and at the end): ${(err as Error).message}`))
        .finally(() => (running = undefined));
    };
    const timer = setInterval(tick, (this.options.checkpointSyncSeconds ?? 5) * 1000);
    return {
      stop: async () => {
        clearInterval(timer);
        await running;
      },
    };
  }

  private async saveCheckpoints(dest: string): Promise<void> {
    const localPath = this.spec.checkpoint!.localPath;
    const { entries, skipped } = await syncCheckpoints(dest, localPath, this.hosts.map((h) => () => this.cluster!.container(h).getArchive(localPath)));
    this.warnSkipped(localPath, skipped);
    this.deps.log.debug(`saved ${entries} checkpoint entries to ${dest}`);
  }

  /** What the safe extractor left out of a folder the container wrote; the rest of it is kept. */
  private warnSkipped(area: string, skipped: readonly { why: string }[]): void {
    for (const s of skipped) this.warnOnce(`${area}: ${s.why}; it was left out and the rest kept.`);
  }

  /** A model that came back empty from a volume the engine counts bytes in is the engine's failure (see read-back.ts). */
  private checkEmptyModel(filesPerHost: readonly number[]): Promise<void> {
    const reads = this.hosts.map((host, i) => ({ host: host.plan.name, container: this.cluster!.container(host), path: TRAINING_PATHS.model, files: filesPerHost[i] ?? 0 }));
    return verifyReadBack(this.deps.docker, this.engine, reads, 'the model');
  }

  /**
   * Script mode on an image that bakes code into /opt/ml/code: the training toolkit unpacks the
   * source only into an empty /opt/ml/code, so the baked program runs, as on SageMaker. Said once,
   * before the start, rather than discovered from a puzzling log.
   */
  private async warnOfBakedCode(container: EngineContainer, source: string): Promise<void> {
    const baked = await filesUnder(container, CODE_DIR);
    if (!baked?.count) return;
    const program = this.spec.environment.SAGEMAKER_PROGRAM ?? (await this.deps.docker.inspectImage(this.spec.image))?.env.SAGEMAKER_PROGRAM;
    this.deps.log.warn(bakedCodeWarning(baked, program, resolve(this.deps.cwd, source)));
  }

  /**
   * One host's `/opt/ml` before the start: config files and the empty areas, the script-mode source
   * archive, then (copy mode) each channel's data, or its shard, through the Engine's archive API.
   */
  private async copyIn(host: Host, sourceArchive: Buffer | undefined): Promise<void> {
    const rel = (p: string) => p.replace(/^\//, '');
    const files = renderTrainingConfig(this.spec, this.hosts.map((h) => h.plan), host.plan);
    const entries: SkeletonEntry[] = [
      { path: rel(TRAINING_PATHS.config) },
      ...Object.entries(files).map(([file, content]) => ({ path: `${rel(TRAINING_PATHS.config)}/${file}`, content: serializeConfigFile(content) })),
      // In mount mode the channel folders are bind mount points, and with Pipe channels the whole data folder is.
      ...(host.dataDir ? [] : [{ path: rel(TRAINING_PATHS.data) }]),
      ...(this.transfer === 'copy' ? host.channels.filter((hc) => hc.channel.inputMode !== 'FastFile').map((hc) => ({ path: `${rel(TRAINING_PATHS.data)}/${hc.channel.channelName}` })) : []),
      { path: rel(TRAINING_PATHS.model) },
      { path: rel(TRAINING_PATHS.outputData) },
      { path: rel(this.spec.checkpoint?.localPath ?? TRAINING_PATHS.checkpoints) },
      ...(sourceArchive ? [{ path: rel(SOURCE_ARCHIVE_PATH), content: sourceArchive }] : []),
    ];
    const container = this.cluster!.container(host);
    await container.putArchive(this.cluster!.skeleton(host, entries), '/');
    if (this.transfer === 'copy') {
      for (const { channel, keys } of host.channels) {
        if (channel.inputMode === 'FastFile') continue;
        const tar = keys ? await channelTar(channelRoot(channel), keys) : await channelTar(channel.source);
        await container.putArchive(tar, `${TRAINING_PATHS.data}/${channel.channelName}`);
      }
    }
  }

  /** FailureReason from the failed host's `/opt/ml/output/failure` (CONTRACT §3.10), or the OOM wording. */
  private async readFailureReason(host: Host): Promise<string> {
    if (host.exit?.oomKilled) return OOM_FAILURE_REASON;
    const tar = await this.cluster!.container(host).getArchive(TRAINING_PATHS.failure);
    // Up to 4 bytes per character in UTF-8: enough bytes for the 1024 characters FailureReason keeps.
    const text = tar ? await readTarEntry(tar, 'failure', TRAINING_LIMITS.failureReasonMax * 4) : undefined;
    this.failureFile = Boolean(text?.trim());
    return renderFailureReason(text, host.exit!.exitCode);
  }

  /**
   * What the platform uploads (CONTRACT §3.9): `/opt/ml/model` of every host merged into model.tar.gz,
   * and `/opt/ml/output/data` into output.tar.gz, paths relative to those folders; also after a failure
   * or a stop. With OutputDataConfig.CompressionType NONE they are plain folders instead.
   */
  private async upload(): Promise<void> {
    this.tracker.enter('Uploading', this.deps.now());
    const sources = (path: string) => this.hosts.map((h) => () => this.cluster!.archive(h, path));
    if (this.spec.outputCompression === 'NONE') {
      const model = join(this.jobDir, 'model');
      const output = join(this.jobDir, 'output');
      const modelFiles: number[] = [];
      const areas: [string, string, string, number[]][] = [[TRAINING_PATHS.model, model, 'model/', modelFiles], [TRAINING_PATHS.outputData, output, 'data/', []]];
      for (const [area, dest, prefix, files] of areas) {
        for (const open of sources(area)) {
          const tar = await open();
          const r = tar ? await extractRouted(tar, dest, underPrefix(prefix), area) : undefined;
          files.push(r ? r.files + r.links : 0);
          if (r) this.warnSkipped(area, r.skipped);
        }
        await writingTo(dest, () => mkdir(dest, { recursive: true }));
      }
      await this.checkEmptyModel(modelFiles);
      this.modelArtifact = model;
      this.outputArtifact = output;
      return;
    }
    const model = join(this.jobDir, 'model.tar.gz');
    const output = join(this.jobDir, 'output.tar.gz');
    // Both settle before anything else happens: a failed one must not leave the other writing.
    const packed = await Promise.allSettled([
      repackTarGz(sources(TRAINING_PATHS.model), model, underPrefix('model/')),
      repackTarGz(sources(TRAINING_PATHS.outputData), output, underPrefix('data/')),
    ]);
    const failed = packed.find((p): p is PromiseRejectedResult => p.status === 'rejected');
    if (failed) throw failed.reason;
    const [modelPacked, outputPacked] = packed.map((p) => (p as PromiseFulfilledResult<RepackResult>).value) as [RepackResult, RepackResult];
    await this.checkEmptyModel(modelPacked.filesPerSource);
    this.artifactBytes = { model: modelPacked.bytes, output: outputPacked.bytes };
    this.deps.log.debug(`packed model.tar.gz (${modelPacked.entries} entries) and output.tar.gz (${outputPacked.entries} entries)`);
    for (const [what, packed] of [['/opt/ml/model', modelPacked], ['/opt/ml/output/data', outputPacked]] as const) {
      if (!packed.clashes.length) continue;
      const names = packed.clashes.slice(0, 3).join(', ') + (packed.clashes.length > 3 ? ` and ${packed.clashes.length - 3} more` : '');
      this.warnOnce(
        `Several hosts wrote ${names} in ${what}: the archive holds each copy and extraction keeps the last host's. SageMaker also merges the hosts' files, and clashes are the algorithm's to avoid: write from algo-1 only, or use per-host names.`,
      );
    }
    this.modelArtifact = model;
    this.outputArtifact = output;
  }

  /** No host failed and every one exited 0: the job completes unless it was stopped. */
  private hostsSucceeded(): boolean {
    return !this.failedHost && this.hosts.every((h) => h.exit?.exitCode === 0);
  }

  private async judge(): Promise<TrainingResult> {
    const now = this.deps.now();
    if (this.stopCause === 'timeout') this.tracker.enter('MaxRuntimeExceeded', now);
    else if (this.stopCause === 'stopped') this.tracker.enter('Stopped', now);
    else if (this.hostsSucceeded()) this.tracker.enter('Completed', now);
    else {
      this.failedHost ??= this.hosts.find((h) => h.exit && h.exit.exitCode !== 0) ?? this.hosts[0];
      this.failureReason ??= renderFailureReason(undefined, this.failedHost?.exit?.exitCode ?? 1);
      this.tracker.enter('Failed', now);
    }
    return this.finish();
  }

  /** DescribeTrainingJob as of now, for a job still running as much as for one that ended. */
  describeNow(): Record<string, unknown> {
    return this.renderDescribe();
  }

  private unmatchedMetrics(): string[] {
    return this.metrics.filter((m) => !this.series.some((p) => p.MetricName === m.name)).map((m) => m.name);
  }

  /** The DescribeTrainingJob record of the job as it stands, with sm-local's own `SmLocal` block. */
  private renderDescribe(): Record<string, unknown> {
    const { spec, tracker } = this;
    const unmatchedMetrics = this.unmatchedMetrics();
    const local: Record<string, unknown> = {
      JobDir: this.jobDir,
      LogFiles: this.hosts.map((h) => h.logFile),
      TransferMode: this.transfer,
      ...(this.outputArtifact ? { OutputArtifacts: this.outputArtifact } : {}),
      ...(this.artifactBytes ? { ModelBytes: this.artifactBytes.model, OutputBytes: this.artifactBytes.output } : {}),
      ...hostsRecord(this.hosts, this.failedHost, (h) => ({ InstanceGroup: h.plan.groupName })),
      ...(this.containerCommand ? { ContainerCommand: this.containerCommand } : {}),
      ...(this.metrics.length ? { MetricsFile: join(this.jobDir, 'metrics.json'), UnmatchedMetrics: unmatchedMetrics } : {}),
      ...(this.notices.length ? { Notices: this.notices } : {}),
      ...(this.keep ? { Kept: { ContainerIds: this.cluster?.containerIds() ?? [], ...(this.cluster?.ownNetwork ? { Network: this.cluster.ownNetwork } : {}) } } : {}),
    };
    return renderDescribeTrainingJob(
      spec,
      {
        tracker,
        ...(this.failureReason !== undefined && tracker.status === 'Failed' ? { failureReason: this.failureReason } : {}),
        ...(this.modelArtifact ? { modelArtifact: this.modelArtifact } : {}),
        finalMetrics: finalMetrics(this.series, this.metrics),
        local,
      },
      this.jobDir,
    );
  }

  /** Writes describe.json (and metrics.json) and closes the logs; runs for every outcome once the job folder exists. */
  private async finish(): Promise<TrainingResult> {
    const { spec, tracker } = this;
    if (tracker.status === 'InProgress' || tracker.status === 'Stopping') {
      // An environment error (engine gone, disk full) ended the job before it could be judged.
      tracker.enter('Failed', this.deps.now());
    }
    await endHostLogs(this.hosts);
    const decisive = this.failedHost ?? this.hosts[0]!;
    const unmatchedMetrics = this.unmatchedMetrics();
    const metricsFile = join(this.jobDir, 'metrics.json');
    if (this.metrics.length) await writeJobRecord(metricsFile, { MetricDefinitions: spec.metricDefinitions, Series: this.series });
    const describe = this.renderDescribe();
    const describeFile = join(this.jobDir, 'describe.json');
    await writeJobRecord(describeFile, describe);
    await throwIfLogFailed(this.hosts);
    return {
      trainingJobName: spec.trainingJobName,
      status: tracker.status,
      secondaryStatus: tracker.secondaryStatus,
      jobDir: this.jobDir,
      describe,
      describeFile,
      ...(this.modelArtifact ? { modelArtifact: this.modelArtifact } : {}),
      ...(this.outputArtifact ? { outputArtifact: this.outputArtifact } : {}),
      logFile: this.hosts[0]!.logFile,
      logFiles: this.hosts.map((h) => h.logFile),
      ...(decisive.exit ? { exitCode: decisive.exit.exitCode } : {}),
      ...(this.failureReason !== undefined && tracker.status === 'Failed' ? { failureReason: this.failureReason } : {}),
      metrics: [...this.series],
      unmatchedMetrics,
      notices: this.notices,
      transfer: this.transfer,
      hosts: this.hosts.map((h) => ({
        host: h.plan.name,
        instanceGroup: h.plan.groupName,
        ...(h.exit ? { exitCode: h.exit.exitCode, oomKilled: h.exit.oomKilled, killed: h.exit.killed, ...(h.exit.stopMs !== undefined ? { stopMs: h.exit.stopMs } : {}) } : {}),
      })),
      ...(this.failureFile !== undefined && tracker.status === 'Failed' ? { failureFile: this.failureFile } : {}),
      ...(this.changes ? { changes: this.changes } : {}),
      ...(this.keep ? { kept: { containerIds: this.cluster?.containerIds() ?? [], ...(this.cluster?.ownNetwork ? { network: this.cluster.ownNetwork } : {}) } } : {}),
    };
  }
}

