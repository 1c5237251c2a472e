import type Docker from 'dockerode';
import type { Readable } from 'node:stream';
import { ContainerStartError } from '../errors.js';
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
  /** Attach to this network at creation; without it the container starts out on the default bridge (see `moveToNetwork`). */
  network?: { name: string; aliases: string[] };
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
  /** The last lines of output, stdout and stderr interleaved as read. */
  tail: string[];
}

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

  async putArchive(tar: Readable, path: string): Promise<void> {
    try {
      await this.container.putArchive(tar as unknown as NodeJS.ReadableStream, { path });
    } catch (err) {
      throw this.client.wrap(`copy files into ${this.shortId}:${path}`, err);
    }
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
   * Attaches before start so no output is lost, starts, and waits for the exit. A stop (the `stop`
   * signal or `timeoutMs`) sends SIGTERM and, after `graceMs`, SIGKILL; `force` sends SIGKILL at once.
   * Start failures (program not found, bad mount) become ContainerStartError.
   */
  async runToExit(opts: RunToExitOptions): Promise<ExitInfo> {
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
      if (status === 400 || status === 500) {
        const state = await this.container.inspect().then((i) => i.State as { ExitCode?: number }, () => undefined);
        throw new ContainerStartError(engineMessage(err), state?.ExitCode || 128, err);
      }
      throw this.client.wrap(`start ${this.shortId}`, err);
    }
    opts.onStarted?.();

    let stopReason: StopReason | undefined;
    let killed = false;
    const cleanups: (() => void)[] = [];
    const sigkill = () => {
      killed = true;
      void this.kill('SIGKILL').catch(() => {});
    };
    const requestStop = (reason: StopReason) => {
      if (stopReason) return;
      stopReason = reason;
      opts.onStopping?.(reason);
      void this.kill('SIGTERM').catch(() => {});
      cleanups.push(longTimeout(sigkill, opts.graceMs));
    };
    const onStop = () => requestStop('stopped');
    const onForce = () => {
      stopReason ??= 'stopped';
      sigkill();
    };
    if (opts.timeoutMs !== undefined && Number.isFinite(opts.timeoutMs)) cleanups.push(longTimeout(() => requestStop('timeout'), opts.timeoutMs));
    if (opts.stop) {
      if (opts.stop.aborted) onStop();
      else {
        opts.stop.addEventListener('abort', onStop, { once: true });
        cleanups.push(() => opts.stop?.removeEventListener('abort', onStop));
      }
    }
    if (opts.force) {
      if (opts.force.aborted) onForce();
      else {
        opts.force.addEventListener('abort', onForce, { once: true });
        cleanups.push(() => opts.force?.removeEventListener('abort', onForce));
      }
    }

    let exitCode: number;
    try {
      const result = (await this.container.wait()) as { StatusCode: number };
      exitCode = result.StatusCode;
    } catch (err) {
      throw this.client.wrap(`wait for ${this.shortId}`, err);
    } finally {
      for (const c of cleanups) c();
    }

    // The attach stream ends just after the exit; don't hang if an engine keeps it open.
    await Promise.race([outputDone, new Promise((r) => setTimeout(r, 2000).unref())]);
    attached.destroy();
    stdout.end();
    stderr.end();
    let oomKilled = false;
    try {
      const state = (await this.container.inspect()).State as { OOMKilled?: boolean };
      oomKilled = Boolean(state.OOMKilled);
    } catch {
      // The container may already be gone (removed by `prune` from another shell); exit code is known.
    }
    return { exitCode, oomKilled, ...(stopReason ? { stopReason } : {}), killed, tail: tail.values() };
  }
}
