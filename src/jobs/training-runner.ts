import { randomBytes } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { access, mkdir, writeFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { dirname, join, resolve } from 'node:path';
import { checkImage } from '../contract/image-checks.js';
import { resolveContainerCommand } from '../contract/container-command.js';
import { renderFailureReason } from '../contract/failure-reason.js';
import { TRAINING_LIMITS } from '../contract/limits.js';
import { hostName, TRAINING_PATHS } from '../contract/paths.js';
import { renderTrainingConfig, serializeConfigFile } from '../contract/training-config.js';
import { renderTrainingEnvironment, toEnvList } from '../contract/training-env.js';
import {
  renderDescribeTrainingJob,
  TrainingStatusTracker,
  type SecondaryStatus,
  type TrainingJobStatus,
} from '../contract/training-status.js';
import { resolveTrainingJobSpecOrThrow, type ChannelSpec, type ResolvedTrainingJobSpec, type TrainingJobSpec } from '../contract/training-spec.js';
import type { NetworkHandle } from '../docker/client.js';
import type { ContainerHandle, ExitInfo } from '../docker/container.js';
import { ownerLabels, resourceName } from '../docker/labels.js';
import {
  AlgorithmError,
  ContainerStartError,
  InterruptedError,
  InvalidSpecError,
  JobExistsError,
  JobTimeoutError,
} from '../errors.js';
import { channelTar, readHead, repackTarGz, skeletonTar, underPrefix, type SkeletonEntry } from '../workspace/archive.js';
import { channelMount, locateChannels, type LocatedChannel } from '../workspace/channels.js';
import { resolveJobDeps, type JobDeps } from './deps.js';
import { ec2Hostname } from './ec2-hostname.js';
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
  /** Leave the container, network and workspace in place for debugging. */
  keep?: boolean;
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
  modelArtifact?: string;
  outputArtifact?: string;
  logFile: string;
  exitCode?: number;
  failureReason?: string;
  notices: string[];
  transfer: TransferMode;
  /** Present with `keep`: what was left in place. */
  kept?: { containerId?: string; network?: string };
}

const JOB_TYPE = 'training';

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

function emptyTar(): Readable {
  return skeletonTar([]);
}


/**
 * Runs a training job the way SageMaker runs a TrainingJob (CONTRACT §2–§3): builds `/opt/ml`,
 * starts `<image> train` (or the entrypoint/arguments override), streams its output, applies
 * MaxRuntimeInSeconds and stop requests (SIGTERM, grace, SIGKILL), judges the exit code, and writes
 * `model.tar.gz`, `output.tar.gz`, `describe.json` and the container log to the job folder.
 *
 * Resolves with the result when the job is `Completed`. Rejects with `AlgorithmError` (Failed),
 * `JobTimeoutError` (MaxRuntimeExceeded) or `InterruptedError` (stopped), each carrying the result in
 * `details`; a job folder exists for all three. Every container, network and volume it created is
 * removed before it settles, unless `keep` is set.
 */
export async function runTrainingJob(input: TrainingJobInput, depsIn: Partial<JobDeps> = {}): Promise<TrainingResult> {
  const deps = resolveJobDeps(depsIn);
  const createdAt = deps.now();
  const { spec, notices } = resolveTrainingJobSpecOrThrow(input, { now: new Date(createdAt) });
  for (const n of notices) deps.log.warn(n);

  const { located, problems } = await locateChannels(spec.channels, deps.cwd);
  if (problems.length) throw new InvalidSpecError(problems);
  const jobDir = join(resolve(deps.cwd, input.outputDir ?? 'sm-local-output'), spec.trainingJobName);
  if (await exists(jobDir)) throw new JobExistsError(spec.trainingJobName, jobDir);

  await deps.docker.ping();
  const image = await deps.docker.requireLocalImage(spec.image);
  const imageWarnings = checkImage(image, { jobWord: 'train', entrypointOverridden: spec.containerEntrypoint !== undefined, instanceType: spec.instanceType });
  for (const w of imageWarnings) deps.log.warn(w);
  const transfer: TransferMode = input.transfer ?? (deps.docker.remote ? 'copy' : 'mount');
  if (transfer === 'mount' && deps.docker.remote) {
    deps.log.warn(`The engine at ${deps.docker.endpoint} looks remote; bind mounts name paths on the engine's machine. Use --transfer copy if the job sees empty folders.`);
  }

  await mkdir(dirname(jobDir), { recursive: true });
  // Not recursive: of two jobs started with the same name, exactly one gets the folder.
  await mkdir(jobDir).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EEXIST' ? new JobExistsError(spec.trainingJobName, jobDir) : err;
  });
  deps.log.info(`Training job ${spec.trainingJobName}: ${spec.image} on ${spec.instanceType}, ${spec.channels.length} channel${spec.channels.length === 1 ? '' : 's'}.`);
  const run = new TrainingRun(spec, deps, located, jobDir, transfer, input.keep ?? false, createdAt, [...notices, ...imageWarnings]);
  return run.execute();
}

class TrainingRun {
  private readonly tracker: TrainingStatusTracker;
  private readonly host = hostName(0);
  private readonly logFile: string;
  private log?: WriteStream;
  private exit?: ExitInfo;
  private failureReason?: string;
  private modelArtifact?: string;
  private outputArtifact?: string;
  private artifactBytes?: { model: number; output: number };
  private kept?: TrainingResult['kept'];
  private containerCommand?: { entrypoint?: string[]; cmd?: string[] };

  constructor(
    private readonly spec: ResolvedTrainingJobSpec,
    private readonly deps: JobDeps,
    private readonly channels: LocatedChannel[],
    private readonly jobDir: string,
    private readonly transfer: TransferMode,
    private readonly keep: boolean,
    createdAt: number,
    private readonly notices: string[],
  ) {
    this.tracker = new TrainingStatusTracker(createdAt);
    this.logFile = join(jobDir, `${this.host}.log`);
  }

  async execute(): Promise<TrainingResult> {
    const { deps, spec } = this;
    this.log = createWriteStream(this.logFile);
    try {
      const scope = new ResourceScope(deps.log);
      try {
        await this.train(scope);
      } finally {
        await scope.dispose();
      }
    } catch (err) {
      if (!(err instanceof ContainerStartError)) {
        this.failureReason ??= `sm-local could not run the job: ${(err as Error)?.message ?? String(err)}`;
        await this.finish();
        throw err;
      }
      // The engine could not exec the program: on SageMaker that is a failed job whose log shows the error.
      this.writeLog(err.detail);
      this.deps.onLine?.(err.detail, this.host);
      this.exit = { exitCode: err.containerExitCode, oomKilled: false, killed: false, tail: [err.detail] };
    }
    const result = await this.judge();
    if (result.status === 'Completed') return result;
    if (this.exit?.stopReason === 'timeout') throw new JobTimeoutError(spec.maxRuntimeInSeconds, result);
    if (this.exit?.stopReason === 'stopped') throw new InterruptedError(`Training job ${spec.trainingJobName} stopped by the user.`, result);
    throw new AlgorithmError(result.failureReason ?? '', this.exit?.tail ?? [], result, this.failureHint());
  }

  private failureHint(): string | undefined {
    if (this.exit?.oomKilled) return `The container was killed for running out of memory (exit ${this.exit.exitCode}).`;
    if (this.exit?.exitCode === 127 || this.exit?.exitCode === 126) {
      return 'SageMaker runs `docker run <image> train`: give the image an exec-form ENTRYPOINT, or put an executable named `train` on its PATH.';
    }
    return `The container log is in ${this.logFile}.`;
  }

  private writeLog(line: string): void {
    this.log?.write(`${line}\n`);
  }

  private async train(scope: ResourceScope): Promise<void> {
    const { deps, spec } = this;
    const labels = ownerLabels(deps.owner, JOB_TYPE, spec.trainingJobName);
    const name = resourceName(JOB_TYPE, spec.trainingJobName, randomBytes(3).toString('hex'));

    // The network is created while the container is created and filled; the container joins it before start.
    const creatingNetwork = deps.docker.createNetwork({ name, labels });
    creatingNetwork.catch(() => {});
    let network: NetworkHandle | undefined;
    let container: ContainerHandle | undefined;
    if (!this.keep) {
      // One step, so the container (which uses the network) always goes first.
      scope.defer(`container and network ${name}`, async () => {
        await container?.remove();
        network ??= await creatingNetwork.catch(() => undefined);
        await network?.remove();
      });
    }

    this.containerCommand = resolveContainerCommand('train', spec);
    container = await deps.docker.createContainer({
      name,
      image: spec.image,
      ...this.containerCommand,
      env: toEnvList(renderTrainingEnvironment(spec)),
      labels,
      hostname: ec2Hostname(spec.region),
      // The platform's own areas: fresh volumes that hide whatever the image ships there and never put
      // root-owned files on this machine. The image's other /opt/ml content (e.g. /opt/ml/code) stays visible.
      volumes: [TRAINING_PATHS.input, TRAINING_PATHS.model, TRAINING_PATHS.output, TRAINING_PATHS.checkpoints],
      mounts: this.transfer === 'mount' ? this.channels.map(channelMount) : [],
    });
    this.kept = { containerId: container.id, network: name };
    deps.log.info(`Starting container ${container.shortId} (${spec.image}) as ${this.host}, transfer=${this.transfer}…`);

    this.tracker.enter('Downloading', deps.now());
    await this.copyIn(container);
    deps.log.debug(`copied /opt/ml${this.transfer === 'copy' ? ' and channel data' : ''} into ${container.shortId}`);
    network = await creatingNetwork;
    await container.moveToNetwork(network.name, [this.host]);
    deps.log.debug(`connected ${container.shortId} to network ${network.name} as ${this.host}`);
    if (deps.stop?.aborted) {
      this.exit = { exitCode: 0, oomKilled: false, stopReason: 'stopped', killed: false, tail: [] };
      return;
    }

    this.exit = await container.runToExit({
      onLine: (line) => {
        this.writeLog(line);
        deps.onLine?.(line, this.host);
      },
      onAttached: () => deps.log.debug(`attached to ${container.shortId}`),
      onStarted: () => {
        deps.log.debug(`started ${container.shortId}`);
        this.tracker.enter('Training', deps.now());
      },
      onStopping: (reason) => {
        this.tracker.enter('Stopping', deps.now());
        deps.log.info(
          reason === 'timeout'
            ? `MaxRuntimeInSeconds (${spec.maxRuntimeInSeconds} s) reached: sending SIGTERM, SIGKILL in ${spec.stopGraceSeconds} s.`
            : `Stopping: sending SIGTERM, SIGKILL in ${spec.stopGraceSeconds} s.`,
        );
      },
      ...(deps.stop ? { stop: deps.stop } : {}),
      ...(deps.force ? { force: deps.force } : {}),
      timeoutMs: spec.maxRuntimeInSeconds * 1000,
      graceMs: spec.stopGraceSeconds * 1000,
    });

    deps.log.debug(`${container.shortId} exited with ${this.exit.exitCode}${this.exit.stopReason ? ` (${this.exit.stopReason})` : ''}`);
    // A stopped container no longer needs its network; removing it (a slow engine call) overlaps the uploads.
    if (!this.keep) void network.remove().catch(() => {});
    if (!deps.force?.aborted) await this.upload(container);
    if (this.keep) deps.log.info(`Kept container ${container.shortId} and network ${network.name} (--keep). Inspect with: docker cp ${container.shortId}:/opt/ml ./opt-ml`);
  }

  /**
   * The `/opt/ml` tree before the start: config files and the empty areas, then (copy mode) each
   * channel's data through the Engine's archive API.
   */
  private async copyIn(container: ContainerHandle): Promise<void> {
    const rel = (p: string) => p.replace(/^\//, '');
    const files = renderTrainingConfig(this.spec, this.host);
    const entries: SkeletonEntry[] = [
      { path: rel(TRAINING_PATHS.config) },
      ...Object.entries(files).map(([file, content]) => ({ path: `${rel(TRAINING_PATHS.config)}/${file}`, content: serializeConfigFile(content) })),
      { path: rel(TRAINING_PATHS.data) },
      // In mount mode the channel folders are bind mount points; the engine makes them.
      ...(this.transfer === 'copy' ? this.channels.map((c) => ({ path: `${rel(TRAINING_PATHS.data)}/${c.channelName}` })) : []),
      { path: rel(TRAINING_PATHS.model) },
      { path: rel(TRAINING_PATHS.outputData) },
      { path: rel(TRAINING_PATHS.checkpoints) },
    ];
    await container.putArchive(skeletonTar(entries), '/');
    if (this.transfer === 'copy') {
      for (const c of this.channels) await container.putArchive(await channelTar(c.source), `${TRAINING_PATHS.data}/${c.channelName}`);
    }
  }

  /**
   * What the platform uploads (CONTRACT §3.9): `model.tar.gz` from `/opt/ml/model` and `output.tar.gz`
   * from `/opt/ml/output/data`, both with paths relative to those folders; also after a failure or a
   * stop. `/opt/ml/output/failure` is read on the way through.
   */
  private async upload(container: ContainerHandle): Promise<void> {
    this.tracker.enter('Uploading', this.deps.now());
    const model = join(this.jobDir, 'model.tar.gz');
    const output = join(this.jobDir, 'output.tar.gz');
    const [modelTar, outputTar] = [await container.getArchive(TRAINING_PATHS.model), await container.getArchive(TRAINING_PATHS.output)];
    this.deps.log.debug(`reading /opt/ml/model and /opt/ml/output from ${container.shortId}`);
    let failureText: string | undefined;
    const data = underPrefix('output/data/');
    const [modelPacked, outputPacked] = await Promise.all([
      repackTarGz(modelTar ?? emptyTar(), model, underPrefix('model/')),
      repackTarGz(outputTar ?? emptyTar(), output, (entry) =>
        entry === 'output/failure'
          ? async (body: Readable) => {
              // Up to 4 bytes per character in UTF-8: enough bytes for the 1024 characters FailureReason keeps.
              failureText = await readHead(body, TRAINING_LIMITS.failureReasonMax * 4);
            }
          : data(entry),
      ),
    ]);
    this.artifactBytes = { model: modelPacked.bytes, output: outputPacked.bytes };
    this.modelArtifact = model;
    this.outputArtifact = output;
    if (this.exit && this.exit.exitCode !== 0 && !this.exit.stopReason) this.failureReason = renderFailureReason(failureText, this.exit.exitCode);
  }

  private async judge(): Promise<TrainingResult> {
    const exit = this.exit;
    const now = this.deps.now();
    if (exit?.stopReason === 'timeout') this.tracker.enter('MaxRuntimeExceeded', now);
    else if (exit?.stopReason === 'stopped') this.tracker.enter('Stopped', now);
    else if (exit && exit.exitCode === 0) this.tracker.enter('Completed', now);
    else {
      this.failureReason ??= renderFailureReason(undefined, exit?.exitCode ?? 1);
      this.tracker.enter('Failed', now);
    }
    return this.finish();
  }

  /** Writes describe.json and closes the log; runs for every outcome once the job folder exists. */
  private async finish(): Promise<TrainingResult> {
    const { spec, tracker } = this;
    if (tracker.status === 'InProgress' || tracker.status === 'Stopping') {
      // An environment error (engine gone, disk full) ended the job before it could be judged.
      tracker.enter('Failed', this.deps.now());
    }
    await new Promise<void>((r) => (this.log ? this.log.end(r) : r()));
    const local: Record<string, unknown> = {
      JobDir: this.jobDir,
      LogFiles: [this.logFile],
      TransferMode: this.transfer,
      ...(this.outputArtifact ? { OutputArtifacts: this.outputArtifact } : {}),
      ...(this.artifactBytes ? { ModelBytes: this.artifactBytes.model, OutputBytes: this.artifactBytes.output } : {}),
      ...(this.exit ? { ExitCode: this.exit.exitCode, OomKilled: this.exit.oomKilled, Killed: this.exit.killed } : {}),
      ...(this.containerCommand ? { ContainerCommand: this.containerCommand } : {}),
      ...(this.notices.length ? { Notices: this.notices } : {}),
      ...(this.keep && this.kept ? { Kept: this.kept } : {}),
    };
    const describe = renderDescribeTrainingJob(
      spec,
      {
        tracker,
        ...(this.failureReason !== undefined ? { failureReason: this.failureReason } : {}),
        ...(this.modelArtifact ? { modelArtifact: this.modelArtifact } : {}),
        local,
      },
      this.jobDir,
    );
    const describeFile = join(this.jobDir, 'describe.json');
    await writeFile(describeFile, `${JSON.stringify(describe, null, 2)}\n`);
    return {
      trainingJobName: spec.trainingJobName,
      status: tracker.status,
      secondaryStatus: tracker.secondaryStatus,
      jobDir: this.jobDir,
      describe,
      describeFile,
      ...(this.modelArtifact ? { modelArtifact: this.modelArtifact } : {}),
      ...(this.outputArtifact ? { outputArtifact: this.outputArtifact } : {}),
      logFile: this.logFile,
      ...(this.exit ? { exitCode: this.exit.exitCode } : {}),
      ...(this.failureReason !== undefined ? { failureReason: this.failureReason } : {}),
      notices: this.notices,
      transfer: this.transfer,
      ...(this.keep && this.kept ? { kept: this.kept } : {}),
    };
  }
}
