import type Docker from 'dockerode';
import { Readable } from 'node:stream';
import { ContainerStartError, DockerError } from '../errors.js';
import { streamDone } from '../streams.js';
import type { DockerClient } from './client.js';
import { engineMessage, removeTolerant, statusCodeOf } from './client.js';
import type { ContainerChange, EngineContainer, ExitInfo, OutputStream, PathStat, RunToExitOptions, Signal } from './engine.js';
import { rootedAt } from './archive-root.js';
import { mountOf, splitByMounts } from './archive-split.js';
import { LineSplitter, lineWritable, Tail } from './lines.js';
import { ContainerRun, runToExit } from './run.js';

/** How runc words a program it could not execute. */
const PROGRAM_START_FAILURE = /exec:|exec format error|executable file not found|permission denied|no such file or directory|not a directory/;

/** The network a container is on when created without one. */
export const DEFAULT_NETWORK = 'bridge';

/** A container sm-local created, through the Docker Engine API. `remove()` is idempotent and tolerates "already gone". */
export class ContainerHandle implements EngineContainer {
  private removal?: Promise<void>;
  /** sm-local sent SIGKILL: a 137 is then its own doing, not the OOM killer's. */
  private sentKill = false;
  /** The copy operations in flight on this container, one after another on Podman (see `serial`). */
  private copies: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly container: Docker.Container,
    readonly name: string,
    private readonly client: DockerClient,
    private readonly docker: Docker,
  ) {}

  get id(): string {
    return this.container.id;
  }

  get shortId(): string {
    return this.container.id.slice(0, 12);
  }

  async kill(signal: Signal): Promise<void> {
    if (signal === 'SIGKILL') this.sentKill = true;
    try {
      await this.container.kill({ signal });
    } catch (err) {
      const status = statusCodeOf(err);
      // 409: not running any more; 404: gone. Both mean there is nothing left to signal. Podman
      // answers a container that has exited with a 500 ("… is in state exited: container state improper").
      if (status === 409 || status === 404 || /container state improper|is not running/i.test(engineMessage(err))) return;
      throw this.client.wrap(`send ${signal} to ${this.shortId}`, err);
    }
  }

  /**
   * Moves a created (not yet started) container from the default bridge to `network`, where the
   * engine's DNS resolves it under `aliases`. Lets the network be created while the container is.
   */
  async moveToNetwork(network: string, aliases: string[]): Promise<void> {
    try {
      await this.docker.getNetwork(DEFAULT_NETWORK).disconnect({ Container: this.id });
      await this.docker.getNetwork(network).connect({ Container: this.id, EndpointConfig: { Aliases: aliases } });
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

  putArchive(tar: Readable, path: string): Promise<void> {
    return this.serial(() => this.putArchiveNow(tar, path));
  }

  private async putArchiveNow(tar: Readable, path: string): Promise<void> {
    // Podman extracts into the container's own layer only, not through the mounts below `path` (see archive-split.ts).
    const mounts = (await this.onPodman()) ? await this.mountPoints() : [];
    const parts = mounts.some((m) => m !== path && mountOf(m, [path]) !== undefined) ? await splitByMounts(tar, path, mounts) : [{ path, tar }];
    for (const part of parts) {
      try {
        const body = Buffer.isBuffer(part.tar) ? Readable.from([part.tar]) : part.tar;
        await this.container.putArchive(body as unknown as NodeJS.ReadableStream, { path: part.path });
      } catch (err) {
        throw this.client.wrap(`copy files into ${this.shortId}:${part.path}`, err);
      }
    }
  }

  /**
   * Podman 4.3 mounts a container's storage for every copy or stat and unmounts it after; two at once
   * on one container race ("mounting storage …: lstat …/merged: no such file or directory", or a bare
   * 500), so there they run one after another. Docker Engine runs them side by side.
   */
  private async serial<T>(fn: () => Promise<T>): Promise<T> {
    if (!(await this.onPodman())) return fn();
    const run = this.copies.then(fn, fn);
    this.copies = run.catch(() => {});
    return run;
  }

  /** The engine is Podman, where its archive and process APIs differ from Docker Engine's (see each use). */
  private async onPodman(): Promise<boolean> {
    return (await this.client.product()) === 'podman';
  }

  /** Where volumes and bind mounts are mounted in this container. */
  private async mountPoints(): Promise<string[]> {
    try {
      const info = await this.container.inspect();
      return ((info.Mounts ?? []) as { Destination?: string }[]).flatMap((m) => (m.Destination ? [m.Destination] : []));
    } catch (err) {
      throw this.client.wrap(`inspect ${this.shortId}`, err);
    }
  }

  /**
   * What is at `path` in the container's filesystem (without following a final symlink), or
   * undefined when nothing is. Works on a container that never started: it reads the image.
   */
  async statPath(path: string): Promise<PathStat | undefined> {
    try {
      const res = (await this.serial(() => this.container.infoArchive({ path }))) as unknown as { headers: Record<string, string | undefined>; resume?: () => void };
      res.resume?.();
      const header = res.headers['x-docker-container-path-stat'];
      if (!header) return undefined;
      const stat = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as { name: string; size: number; mode: number; linkTarget?: string; mtime?: string };
      // Go's os.FileMode: type bits on top, permission bits below.
      const mode = stat.mode >>> 0;
      const type = mode & (1 << 31) ? 'directory' : mode & (1 << 27) ? 'symlink' : 'file';
      return { type, mode: mode & 0o777, size: stat.size, ...(stat.linkTarget ? { linkTarget: stat.linkTarget } : {}), ...(typeof stat.mtime === 'string' ? { mtime: stat.mtime } : {}) };
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw this.client.wrap(`stat ${this.shortId}:${path}`, err);
    }
  }

  /** Paths the container added, changed or deleted in its own layer (not in volumes or mounts). */
  async changes(): Promise<ContainerChange[]> {
    let list: { Path: string; Kind: number }[] | null;
    try {
      list = (await this.container.changes()) as { Path: string; Kind: number }[] | null;
    } catch (err) {
      throw this.client.wrap(`list the changes of ${this.shortId}`, err);
    }
    const changes: ContainerChange[] = (list ?? []).map((c) => ({ path: c.Path, kind: c.Kind === 1 ? 'added' : c.Kind === 2 ? 'deleted' : 'changed' }));
    if (!(await this.onPodman())) return changes;
    // Podman lists a folder as changed when it made a mount target in it (/etc for /etc/hosts,
    // /etc/hostname, /etc/resolv.conf), with nothing under it: its own doing, not the container's.
    return changes.filter((c) => c.kind !== 'changed' || changes.some((o) => o.path.startsWith(`${c.path}/`)));
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
      // Serial until the engine answers; the stream itself is read whenever the caller reads it.
      return rootedAt((await this.serial(() => this.container.getArchive({ path }))) as unknown as Readable, path);
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

    const attached = (await this.container.attach({ stream: true, stdout: true, stderr: true, logs: false }).catch(async (err: unknown) => {
      // Podman creates the container's process to attach to it, so a program it cannot execute fails here.
      const detail = engineMessage(err);
      if (PROGRAM_START_FAILURE.test(detail)) throw await this.startError(detail, err);
      throw this.client.wrap(`attach to ${this.shortId}`, err);
    })) as unknown as Readable;
    const outputDone = streamDone(attached);
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
      if ((status === 400 || status === 500) && PROGRAM_START_FAILURE.test(detail)) throw await this.startError(detail, err);
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
        const info = await this.container.inspect();
        oomKilled = Boolean((info.State as { OOMKilled?: boolean }).OOMKilled);
        // Podman (4.3 on cgroup v1, seen here) never sets OOMKilled. A SIGKILL (137) that sm-local did
        // not send, to a container with a memory limit, is the kernel's OOM killer there.
        if (!oomKilled && exitCode === 137 && !this.sentKill && (info.HostConfig?.Memory ?? 0) > 0) oomKilled = await this.onPodman();
      } catch {
        // Already gone (removed by `prune` from another shell); the exit code is known.
      }
      return { exitCode, oomKilled, tail: tail.values() };
    })();
    exited.catch(() => {});
    return new ContainerRun(this, exited);
  }

  /** The image's program could not be executed: the exit code the engine recorded, as the job's own failure. */
  private async startError(detail: string, err: unknown): Promise<ContainerStartError> {
    const state = await this.container.inspect().then((i) => i.State as { ExitCode?: number }, () => undefined);
    // Podman records no exit code for it: the codes Docker Engine (and a shell) gives, 127 not found, 126 not executable.
    return new ContainerStartError(detail, state?.ExitCode || (/not found|no such file/.test(detail) ? 127 : 126), err);
  }

  runToExit(opts: RunToExitOptions): Promise<ExitInfo> {
    return runToExit(this, opts);
  }
}
