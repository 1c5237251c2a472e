import type Docker from 'dockerode';
import { onAbort } from '../abort.js';
import type { Readable } from 'node:stream';
import { ContainerStartError, DockerError } from '../errors.js';
import type { DockerClient } from './client.js';
import { engineMessage, removeTolerant, statusCodeOf } from './client.js';
import { LineSplitter, lineWritable, Tail } from './lines.js';

export interface MountSpec {
  source: string;
  target: string;
  readOnly?: boolean;
}

export interface ContainerInput {
  name: string;
  image: string;
  /** Undefined keeps the image's ENTRYPOINT. */
  entrypoint?: string[];
  /** Undefined keeps the image's CMD. */
  cmd?: string[];
  env: string[];
  labels: Record<string, string>;
  hostname?: string;
  domainname?: string;
  mounts?: MountSpec[];
  /** Paths that get a fresh, empty anonymous volume (hiding whatever the image has there); removed with the container. */
  volumes?: string[];
  /** Named volumes (see `DockerClient.createVolume`) mounted at `target`; they outlive the container. */
  namedVolumes?: { name: string; target: string; readOnly?: boolean }[];
  /** Attach to this network at creation; without it the container starts out on the default bridge (see `moveToNetwork`). */
  network?: { name: string; aliases: string[] };
  /** Container TCP ports to publish on 127.0.0.1: a number gets a free host port (see `addresses`), a pair its own. */
  publish?: (number | PortPair)[];
  /** `os/arch[/variant]` the image must be for; the engine refuses an image of another platform. */
  platform?: string;
  /** CPU, memory (without swap) and /dev/shm limits, and GPUs to request from the engine. */
  resources?: { nanoCpus?: number; memoryBytes?: number; shmBytes?: number; /** -1: all. */ gpus?: number };
}

/** What `statPath` found. */
export interface PathStat {
  type: 'file' | 'directory' | 'symlink';
  /** Permission bits (0o755). */
  mode: number;
  size: number;
  linkTarget?: string;
}

/** A published port: `containerPort` inside, `hostPort` on 127.0.0.1. */
export interface PortPair {
  hostPort: number;
  containerPort: number;
}

export type OutputStream = 'stdout' | 'stderr';

export interface RunToExitOptions {
  onLine?: (line: string, stream: OutputStream) => void;
  /** Aborting asks the container to stop: SIGTERM, then SIGKILL after `graceMs`. */
  stop?: AbortSignal;
  /** Aborting sends SIGKILL at once. */
  force?: AbortSignal;
  /** Stop the container this long after it started (SIGTERM, grace, SIGKILL). */
  timeoutMs?: number;
  graceMs: number;
  /** Called once when a stop begins, before SIGTERM is sent. */
  onStopping?: (reason: StopReason) => void;
  /** Called once output is attached, just before the start request. */
  onAttached?: () => void;
  /** Called right after the container started. */
  onStarted?: () => void;
  tailSize?: number;
}

export type StopReason = 'timeout' | 'stopped';

export interface ExitInfo {
  exitCode: number;
  oomKilled: boolean;
  /** Set when sm-local stopped the container rather than it exiting on its own. */
  stopReason?: StopReason;
  /** True when SIGKILL was needed (the grace ran out, or a forced stop). */
  killed: boolean;
  /** From SIGTERM to the exit, when sm-local stopped the container. */
  stopMs?: number;
  /** The last lines of output, stdout and stderr interleaved as read. */
  tail: string[];
}

/** How runc words a program it could not execute. */
const PROGRAM_START_FAILURE = /exec:|exec format error|executable file not found|permission denied|no such file or directory|not a directory/;

/** The network a container is on when created without one. */
export const DEFAULT_NETWORK = 'bridge';

/** Timers above 2^31-1 ms fire at once in Node; MaxRuntimeInSeconds goes up to 28 days. */
function longTimeout(fn: () => void, ms: number): () => void {
  const MAX = 2 ** 31 - 1;
  let handle: NodeJS.Timeout;
  const arm = (left: number) => {
    handle = setTimeout(() => (left > MAX ? arm(left - MAX) : fn()), Math.min(left, MAX));
  };
  arm(ms);
  return () => clearTimeout(handle);
}

/** A container sm-local created. `remove()` is idempotent and tolerates "already gone". */
export class ContainerHandle {
  private removal?: Promise<void>;

  constructor(
    private readonly container: Docker.Container,
    readonly name: string,
    private readonly client: DockerClient,
  ) {}

  get id(): string {
    return this.container.id;
  }

  get shortId(): string {
    return this.container.id.slice(0, 12);
  }

  async kill(signal: 'SIGTERM' | 'SIGKILL' | 'SIGINT'): Promise<void> {
    try {
      await this.container.kill({ signal });
    } catch (err) {
      const status = statusCodeOf(err);
      // 409: not running any more; 404: gone. Both mean there is nothing left to signal.
      if (status === 409 || status === 404) return;
      throw this.client.wrap(`send ${signal} to ${this.shortId}`, err);
    }
  }

  /**
   * Moves a created (not yet started) container from the default bridge to `network`, where the
   * engine's DNS resolves it under `aliases`. Lets the network be created while the container is.
   */
  async moveToNetwork(network: string, aliases: string[]): Promise<void> {
    try {
      await this.client.docker.getNetwork(DEFAULT_NETWORK).disconnect({ Container: this.id });
      await this.client.docker.getNetwork(network).connect({ Container: this.id, EndpointConfig: { Aliases: aliases } });
    } catch (err) {
      throw this.client.wrap(`connect ${this.shortId} to network ${network}`, err);
    }
  }

  /**
   * Where a started container can be reached: the 127.0.0.1 port the engine published `containerPort`
   * at (0 when none is asked for), and the container's own address on its first network (reachable
   * from a local Linux engine's host).
   */
  async addresses(containerPort: number | undefined): Promise<{ hostPort: number; ip?: string }> {
    let info;
    try {
      info = await this.container.inspect();
    } catch (err) {
      throw this.client.wrap(`inspect ${this.shortId}`, err);
    }
    const first = Object.values(info.NetworkSettings.Networks ?? {})[0] as { IPAddress?: string } | undefined;
    const ip = first?.IPAddress || (info.NetworkSettings as { IPAddress?: string }).IPAddress || undefined;
    if (containerPort === undefined) return { hostPort: 0, ...(ip ? { ip } : {}) };
    const binding = (info.NetworkSettings.Ports?.[`${containerPort}/tcp`] ?? [])[0];
    const hostPort = Number(binding?.HostPort);
    if (!Number.isInteger(hostPort) || hostPort <= 0) throw this.client.wrap(`publish port ${containerPort} of ${this.shortId}`, new Error('the engine reported no host port'));
    return { hostPort, ...(ip ? { ip } : {}) };
  }

  async putArchive(tar: Readable, path: string): Promise<void> {
    try {
      await this.container.putArchive(tar as unknown as NodeJS.ReadableStream, { path });
    } catch (err) {
      throw this.client.wrap(`copy files into ${this.shortId}:${path}`, err);
    }
  }

  /**
   * What is at `path` in the container's filesystem (without following a final symlink), or
   * undefined when nothing is. Works on a container that never started: it reads the image.
   */
  async statPath(path: string): Promise<PathStat | undefined> {
    try {
      const res = (await this.container.infoArchive({ path })) as unknown as { headers: Record<string, string | undefined>; resume?: () => void };
      res.resume?.();
      const header = res.headers['x-docker-container-path-stat'];
      if (!header) return undefined;
      const stat = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as { name: string; size: number; mode: number; linkTarget?: string };
      // Go's os.FileMode: type bits on top, permission bits below.
      const mode = stat.mode >>> 0;
      const type = mode & (1 << 31) ? 'directory' : mode & (1 << 27) ? 'symlink' : 'file';
      return { type, mode: mode & 0o777, size: stat.size, ...(stat.linkTarget ? { linkTarget: stat.linkTarget } : {}) };
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw this.client.wrap(`stat ${this.shortId}:${path}`, err);
    }
  }

  /** Paths the container added, changed or deleted in its own layer (not in volumes or mounts). */
  async changes(): Promise<{ path: string; kind: 'added' | 'changed' | 'deleted' }[]> {
    let list: { Path: string; Kind: number }[] | null;
    try {
      list = (await this.container.changes()) as { Path: string; Kind: number }[] | null;
    } catch (err) {
      throw this.client.wrap(`list the changes of ${this.shortId}`, err);
    }
    return (list ?? []).map((c) => ({ path: c.Path, kind: c.Kind === 1 ? 'added' : c.Kind === 2 ? 'deleted' : 'changed' }));
  }

  /** The name of the volume mounted at `path` in this container, if one is. */
  async volumeAt(path: string): Promise<string | undefined> {
    let info;
    try {
      info = await this.container.inspect();
    } catch (err) {
      throw this.client.wrap(`inspect ${this.shortId}`, err);
    }
    const mounts = (info.Mounts ?? []) as { Type?: string; Name?: string; Destination?: string }[];
    return mounts.find((m) => m.Type === 'volume' && m.Destination === path)?.Name;
  }

  /** A tar stream of `path`; entries are named after its last component (`model/…`). */
  async getArchive(path: string): Promise<Readable | undefined> {
    try {
      return (await this.container.getArchive({ path })) as unknown as Readable;
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw this.client.wrap(`copy ${this.shortId}:${path} out`, err);
    }
  }

  remove(): Promise<void> {
    this.removal ??= removeTolerant(
      () => this.container.remove({ force: true, v: true }),
      (e) => this.client.wrap(`remove container ${this.shortId}`, e),
    );
    return this.removal;
  }

  /**
   * Attaches before start so no output is lost, then starts. The returned run reports the exit
   * (`exited`), can be asked to stop (SIGTERM, then SIGKILL after a grace) or killed. Start failures
   * (program not found, bad mount) become ContainerStartError.
   */
  async start(opts: { onLine?: (line: string, stream: OutputStream) => void; onAttached?: () => void; tailSize?: number } = {}): Promise<ContainerRun> {
    const tail = new Tail<string>(opts.tailSize ?? 50);
    const splitterFor = (stream: OutputStream) =>
      new LineSplitter((line) => {
        tail.push(line);
        opts.onLine?.(line, stream);
      });
    const stdout = lineWritable(splitterFor('stdout'));
    const stderr = lineWritable(splitterFor('stderr'));

    const attached = (await this.container
      .attach({ stream: true, stdout: true, stderr: true, logs: false })
      .catch((err: unknown) => {
        throw this.client.wrap(`attach to ${this.shortId}`, err);
      })) as unknown as Readable;
    const outputDone = new Promise<void>((resolve) => {
      attached.once('end', resolve);
      attached.once('close', resolve);
      attached.once('error', () => resolve());
    });
    this.container.modem.demuxStream(attached, stdout, stderr);
    opts.onAttached?.();

    try {
      await this.container.start();
    } catch (err) {
      attached.destroy();
      const status = statusCodeOf(err);
      const detail = engineMessage(err);
      // The image's program could not be executed (missing, not executable, wrong architecture): the
      // job's own failure. Anything else (GPUs, ports, networks) is the engine's, reported as such.
      if ((status === 400 || status === 500) && PROGRAM_START_FAILURE.test(detail)) {
        const state = await this.container.inspect().then((i) => i.State as { ExitCode?: number }, () => undefined);
        throw new ContainerStartError(detail, state?.ExitCode || 128, err);
      }
      if (/could not select device driver/.test(detail)) {
        throw new DockerError(`start ${this.shortId} with GPUs`, detail, err, 'The engine cannot hand out GPUs: install the NVIDIA Container Toolkit, or run without --gpus (a CPU instance type).');
      }
      throw this.client.wrap(`start ${this.shortId}`, err);
    }

    const exited = (async () => {
      let exitCode: number;
      try {
        exitCode = ((await this.container.wait()) as { StatusCode: number }).StatusCode;
      } catch (err) {
        throw this.client.wrap(`wait for ${this.shortId}`, err);
      }
      // The attach stream ends just after the exit; don't hang if an engine keeps it open.
      await Promise.race([outputDone, new Promise((r) => setTimeout(r, 2000).unref())]);
      attached.destroy();
      stdout.end();
      stderr.end();
      let oomKilled = false;
      try {
        oomKilled = Boolean(((await this.container.inspect()).State as { OOMKilled?: boolean }).OOMKilled);
      } catch {
        // Already gone (removed by `prune` from another shell); the exit code is known.
      }
      return { exitCode, oomKilled, tail: tail.values() };
    })();
    exited.catch(() => {});
    return new ContainerRun(this, exited);
  }

  /**
   * Runs to the exit. A stop (the `stop` signal or `timeoutMs`) sends SIGTERM and, after `graceMs`,
   * SIGKILL; `force` sends SIGKILL at once.
   */
  async runToExit(opts: RunToExitOptions): Promise<ExitInfo> {
    const run = await this.start(opts);
    opts.onStarted?.();
    let stopReason: StopReason | undefined;
    const cleanups: (() => void)[] = [];
    const requestStop = (reason: StopReason) => {
      if (stopReason) return;
      stopReason = reason;
      opts.onStopping?.(reason);
      void run.stop(opts.graceMs);
    };
    const onStop = () => requestStop('stopped');
    const onForce = () => {
      stopReason ??= 'stopped';
      run.kill();
    };
    if (opts.timeoutMs !== undefined && Number.isFinite(opts.timeoutMs)) cleanups.push(longTimeout(() => requestStop('timeout'), opts.timeoutMs));
    cleanups.push(onAbort(opts.stop, onStop), onAbort(opts.force, onForce));
    try {
      const exit = await run.exited;
      // A stop in progress settles right after the exit; its outcome says how long the exit took.
      const stopped = stopReason ? await run.stop(opts.graceMs) : undefined;
      return { ...exit, ...(stopReason ? { stopReason } : {}), killed: run.killed, ...(stopped ? { stopMs: stopped.stopMs } : {}) };
    } finally {
      for (const c of cleanups) c();
    }
  }
}

/** How a stop ended: the exit code, whether SIGKILL was needed, and how long after SIGTERM it exited. */
export interface StopOutcome {
  exitCode?: number;
  killed: boolean;
  stopMs: number;
}

/** A started container: its exit, and the two ways to end it early. */
export class ContainerRun {
  /** True once SIGKILL was sent (grace over, or `kill()`). */
  killed = false;
  private stopping?: Promise<StopOutcome>;
  private graceTimer?: () => void;

  private hasExited = false;

  constructor(
    private readonly handle: ContainerHandle,
    readonly exited: Promise<{ exitCode: number; oomKilled: boolean; tail: string[] }>,
  ) {
    const clear = () => {
      this.hasExited = true;
      this.graceTimer?.();
    };
    exited.then(clear, clear);
  }

  /**
   * SIGTERM, then SIGKILL if it has not exited `graceMs` after the engine accepted the SIGTERM (a slow
   * engine call must not eat the grace). Resolves when it has exited.
   */
  stop(graceMs: number): Promise<StopOutcome> {
    this.stopping ??= (async () => {
      await this.handle.kill('SIGTERM').catch(() => {});
      const sent = Date.now();
      if (!this.hasExited) this.graceTimer = longTimeout(() => this.kill(), graceMs);
      const exit = await this.exited.catch(() => undefined);
      return { ...(exit ? { exitCode: exit.exitCode } : {}), killed: this.killed, stopMs: Date.now() - sent };
    })();
    return this.stopping;
  }

  /** SIGKILL now. */
  kill(): void {
    this.killed = true;
    void this.handle.kill('SIGKILL').catch(() => {});
  }
}

