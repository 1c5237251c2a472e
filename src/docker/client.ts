import Docker from 'dockerode';
import { statSync } from 'node:fs';
import { PassThrough, Writable, type Duplex, type Readable } from 'node:stream';
import { pack } from 'tar-fs';
import { DockerError, DockerUnavailableError, ImageBuildError, ImageNotFoundError, SmLocalError } from '../errors.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { streamDone } from '../streams.js';
import { ContainerHandle, DEFAULT_NETWORK } from './container.js';
import type { ContainerEngine, ContainerInput, EngineImage, ExecIO, OutputStream, EngineNetwork, EngineVolume, EngineInfo, EngineProcess, ImageInfo, ImageManifests, ManagedResource, NetworkInfo, NetworkInput } from './engine.js';
import { envRecord, jsonLines, LineSplitter, lineWritable } from './lines.js';
import { connectEngine, connectionOf, type EngineConnection } from './connection.js';

export type { EngineInfo, ImageInfo, ImageManifests, ManagedResource, NetworkInput } from './engine.js';

/** `KEY=VALUE` of an image's ENV as [KEY, VALUE]; a bare `KEY` has the empty value. */
function splitEnvEntry(kv: string): [string, string] {
  const eq = kv.indexOf('=');
  return eq < 0 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)];
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ENOENT', 'EACCES', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ETIMEDOUT', 'ENOTFOUND']);

interface EngineErrorShape {
  code?: string;
  statusCode?: number;
  reason?: string;
  json?: { message?: string } | null;
  message?: string;
}

/** The Engine's own message of a failed call ("No such container: …"), without dockerode's prefix. */
export function engineMessage(err: unknown): string {
  const e = err as EngineErrorShape;
  const fromJson = e?.json && typeof e.json === 'object' ? e.json.message : undefined;
  return (fromJson ?? e?.message ?? String(err)).trim();
}

/** Docker Engine names its main component `Engine`; Podman's compatible API says `Podman Engine`. */
function productOf(version: { Components?: { Name?: string }[] | null }): Pick<EngineInfo, 'product'> {
  const names = (version.Components ?? []).map((c) => c.Name ?? '');
  if (names.some((n) => /podman/i.test(n))) return { product: 'podman' };
  return names.includes('Engine') ? { product: 'docker' } : {};
}

/** Where Podman's API socket usually is (rootless first), when one is there. */
function podmanSocket(): string | undefined {
  const candidates = [process.env.XDG_RUNTIME_DIR && `${process.env.XDG_RUNTIME_DIR}/podman/podman.sock`, '/run/podman/podman.sock'];
  return candidates.find((p): p is string => Boolean(p) && isSocket(p!));
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

function isConnection(engine: Docker | EngineConnection): engine is EngineConnection {
  return typeof (engine as Partial<EngineConnection>).reach === 'function' && 'docker' in engine;
}

export function statusCodeOf(err: unknown): number | undefined {
  return (err as EngineErrorShape)?.statusCode;
}

/**
 * A thin adapter over dockerode. It knows nothing about SageMaker: it takes generic inputs
 * (image, command, env, mounts, labels) and returns sm-local's own types. It connects the way the
 * Docker CLI does (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH), through docker-modem.
 */
export class DockerClient implements ContainerEngine {
  readonly endpoint: string;
  readonly remote: boolean;
  private readonly docker: Docker;
  private readonly connection: EngineConnection;

  /** Without `engine`: the engine the environment names, as the Docker CLI finds it (see connection.ts). */
  constructor(
    engine: Docker | EngineConnection = connectEngine(),
    private readonly log: Logger = silentLogger,
  ) {
    this.connection = isConnection(engine) ? engine : connectionOf(engine);
    this.docker = this.connection.docker;
    this.endpoint = this.connection.endpoint;
    this.remote = this.connection.remote;
  }

  /** How this machine reaches a port a container published (through the SSH connection to a remote engine). */
  reach(hostPort: number): Promise<{ host: string; port: number }> {
    return this.connection.reach(hostPort);
  }

  /** Ends the connection to a remote engine (SSH) and its tunnels; a no-op for a local one. */
  close(): void {
    this.connection.close();
  }

  /** Turns a dockerode failure into the error a user can act on. */
  wrap(action: string, err: unknown): SmLocalError {
    if (err instanceof SmLocalError) return err;
    const code = (err as EngineErrorShape)?.code;
    if (code && UNAVAILABLE_CODES.has(code)) {
      const podman = this.connection.source === 'the default socket' ? podmanSocket() : undefined;
      return new DockerUnavailableError(this.endpoint, err, podman ? { reason: 'no engine answers there', hint: `A Podman socket is at ${podman}: export DOCKER_HOST=unix://${podman} to use it (Podman 4 is tested; see the README, Engines).` } : undefined);
    }
    return new DockerError(action, engineMessage(err), err);
  }

  private async call<T>(action: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.wrap(action, err);
    }
  }

  private productAnswer?: Promise<EngineInfo['product']>;

  /** Which engine answers (Docker Engine, Podman), asked once: where their archive APIs differ, the handles follow it. */
  product(): Promise<EngineInfo['product']> {
    this.productAnswer ??= this.call('report its version', () => this.docker.version()).then((v) => productOf(v).product);
    return this.productAnswer;
  }

  /** Fails with DockerUnavailableError when no engine answers; call it first in every command. */
  async ping(): Promise<void> {
    await this.call('answer a ping', () => this.docker.ping());
  }

  async info(): Promise<EngineInfo> {
    const [info, version] = await this.call('report its version', () => Promise.all([this.docker.info(), this.docker.version()]));
    return {
      endpoint: this.endpoint,
      remote: this.remote,
      serverVersion: String(info.ServerVersion ?? version.Version ?? ''),
      apiVersion: String(version.ApiVersion ?? ''),
      operatingSystem: String(info.OperatingSystem ?? ''),
      osType: String(info.OSType ?? version.Os ?? ''),
      architecture: String(info.Architecture ?? version.Arch ?? ''),
      cpus: Number(info.NCPU ?? 0),
      memTotalBytes: Number(info.MemTotal ?? 0),
      storageDriver: String(info.Driver ?? ''),
      rootDir: String(info.DockerRootDir ?? ''),
      runtimes: Object.keys((info.Runtimes as Record<string, unknown> | undefined) ?? {}),
      rootless: ((info.SecurityOptions as string[] | undefined) ?? []).some((o) => /(^|,)name=rootless(,|$)/.test(o)),
      ...productOf(version),
    };
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    try {
      const img = await this.docker.getImage(ref).inspect();
      const config = (img.Config ?? {}) as { Entrypoint?: string[] | string | null; Cmd?: string[] | string | null; User?: string; Labels?: Record<string, string> | null; Env?: string[] | null };
      const asList = (v: string[] | string | null | undefined) => (v == null ? null : Array.isArray(v) ? v : [v]);
      return {
        id: img.Id,
        tags: img.RepoTags ?? [],
        entrypoint: asList(config.Entrypoint),
        cmd: asList(config.Cmd),
        user: config.User ?? '',
        os: img.Os ?? '',
        architecture: img.Architecture ?? '',
        labels: config.Labels ?? {},
        env: Object.fromEntries((config.Env ?? []).map(splitEnvEntry)),
        created: img.Created ?? '',
      };
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw this.wrap(`inspect image ${ref}`, err);
    }
  }

  /** The build steps of an image (`docker history`), newest first. */
  async imageHistory(ref: string): Promise<string[]> {
    const history = (await this.call(`read the history of ${ref}`, () => this.docker.getImage(ref).history())) as { CreatedBy?: string }[];
    return history.map((h) => h.CreatedBy ?? '');
  }

  /**
   * The manifests behind an image. Engines from API 1.47 with the containerd image store list them
   * (`?manifests=1`); the classic store keeps one platform per image and cannot say what a push
   * would send.
   */
  async imageManifests(ref: string, apiVersion: string): Promise<ImageManifests> {
    const [major, minor] = apiVersion.split('.').map(Number);
    if (!(major! > 1 || (major === 1 && minor! >= 47))) {
      return { known: false, reason: `the engine (API ${apiVersion}) stores one platform per image and does not list manifests; the containerd image store (Docker 27+, API 1.47+) does` };
    }
    // dockerode's inspect sends no query string; the modem does.
    const inspect = () =>
      new Promise<unknown>((resolve, reject) =>
        this.docker.modem.dial(
          { path: `/images/${ref}/json?`, method: 'GET', options: { manifests: true }, statusCodes: { 200: true, 404: 'no such image', 500: 'server error' } },
          (err: unknown, data: unknown) => (err ? reject(err) : resolve(data)),
        ),
      );
    const img = (await this.call(`inspect image ${ref}`, inspect)) as {
      Manifests?: { Kind?: string; ImageData?: { Platform?: { os?: string; architecture?: string; variant?: string } } }[];
      Descriptor?: { mediaType?: string };
    };
    if (!img.Manifests) return { known: false, reason: 'the engine did not list the image\'s manifests (the classic image store keeps one platform per image)' };
    const images = img.Manifests.filter((m) => m.Kind === 'image');
    const platforms = images.map((m) => [m.ImageData?.Platform?.os, m.ImageData?.Platform?.architecture, m.ImageData?.Platform?.variant].filter(Boolean).join('/'));
    return {
      known: true,
      index: /index|manifest\.list/.test(img.Descriptor?.mediaType ?? ''),
      platforms,
      attestations: img.Manifests.filter((m) => m.Kind === 'attestation').length,
    };
  }

  /**
   * How many bytes the engine counts in each of its local volumes (`docker system df`): the engine's own
   * view of a volume, independent of its archive API. A size the engine does not know is left out.
   */
  async volumeSizes(apiVersion: string): Promise<Map<string, number>> {
    const [major, minor] = apiVersion.split('.').map(Number);
    // `type` (API 1.42+) spares the engine from sizing images and containers too.
    const options = major! > 1 || (major === 1 && minor! >= 42) ? { type: 'volume' } : {};
    const dial = () =>
      new Promise<unknown>((resolve, reject) =>
        this.docker.modem.dial({ path: '/system/df?', method: 'GET', options, statusCodes: { 200: true, 500: 'server error' } }, (err: unknown, data: unknown) => (err ? reject(err) : resolve(data))),
      );
    // The engine runs one disk-usage count at a time and refuses the others ("a disk usage operation
    // is already running"): another job on the same engine may be counting. Wait for it, a while.
    const deadline = Date.now() + 10_000;
    let df: { Volumes?: { Name: string; UsageData?: { Size?: number } | null }[] | null } | undefined;
    while (!df) {
      try {
        df = (await dial()) as typeof df;
      } catch (err) {
        // Podman counts every container too, and fails when a container or a volume is removed
        // meanwhile (by another job): counting again is all it takes.
        if (!/already running|does not exist in database|no such container|no such volume|\/volumes\/\S+: no such file or directory/i.test(engineMessage(err))) throw this.wrap('report its disk usage', err);
        if (Date.now() > deadline) {
          this.log.warn('The engine kept another disk-usage count running for 10 s: volume sizes are unknown this time.');
          return new Map();
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const sizes = new Map<string, number>();
    for (const v of df.Volumes ?? []) {
      const size = v.UsageData?.Size;
      if (typeof size === 'number' && size >= 0) sizes.set(v.Name, size);
    }
    return sizes;
  }

  /** Never pulls: an image that is not in the engine is an ImageNotFoundError with a hint. */
  async requireLocalImage(ref: string): Promise<ImageInfo> {
    const info = await this.inspectImage(ref);
    if (!info) throw new ImageNotFoundError(ref);
    return info;
  }

  async createContainer(input: ContainerInput): Promise<ContainerHandle> {
    if (input.resources?.gpus && (await this.product()) === 'podman') {
      // Podman's compatible API accepts DeviceRequests and starts the container without any GPU.
      throw new DockerError(
        `start ${input.name} with GPUs`,
        "Podman's Docker-compatible API ignores GPU requests (it hands out GPUs through CDI devices instead)",
        undefined,
        'Use Docker Engine with the NVIDIA Container Toolkit for GPU jobs, or run without --gpus (a CPU instance type).',
      );
    }
    const binds = (input.mounts ?? []).map((m) => `${m.source}:${m.target}${m.readOnly ? ':ro' : ''}`);
    const ports = (input.publish ?? []).map((p) => (typeof p === 'number' ? { containerPort: p, hostPort: undefined } : p));
    const container = await this.call(`create container ${input.name}`, () =>
      this.docker.createContainer({
        name: input.name,
        ...(input.platform ? { platform: input.platform } : {}),
        Image: input.image,
        ...(input.entrypoint !== undefined ? { Entrypoint: input.entrypoint } : {}),
        ...(input.cmd !== undefined ? { Cmd: input.cmd } : {}),
        Env: input.env,
        Labels: input.labels,
        ...(input.hostname ? { Hostname: input.hostname } : {}),
        ...(input.domainname ? { Domainname: input.domainname } : {}),
        ...(ports.length ? { ExposedPorts: Object.fromEntries(ports.map((p) => [`${p.containerPort}/tcp`, {}])) } : {}),
        AttachStdin: false,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        OpenStdin: false,
        HostConfig: {
          Binds: binds,
          // Anonymous volumes carry the container's labels; `v: true` on removal deletes them with it.
          Mounts: [
            ...(input.volumes ?? []).map((target) => ({ Type: 'volume', Source: '', Target: target, VolumeOptions: { NoCopy: true, Labels: input.labels } })),
            ...(input.namedVolumes ?? []).map((v) => ({ Type: 'volume', Source: v.name, Target: v.target, ReadOnly: v.readOnly ?? false, VolumeOptions: { NoCopy: true } })),
          ] as unknown as Docker.MountSettings[],
          NetworkMode: input.network ? input.network.name : DEFAULT_NETWORK,
          ...(input.extraHosts?.length ? { ExtraHosts: input.extraHosts } : {}),
          ...(input.resources?.nanoCpus ? { NanoCpus: input.resources.nanoCpus } : {}),
          // Swap equal to memory: no swap, as on an instance; an out-of-memory kill is then reported.
          ...(input.resources?.memoryBytes ? { Memory: input.resources.memoryBytes, MemorySwap: input.resources.memoryBytes } : {}),
          ...(input.resources?.shmBytes ? { ShmSize: input.resources.shmBytes } : {}),
          // Count -1: every GPU the engine has (docker run --gpus all).
          ...(input.resources?.gpus ? { DeviceRequests: [{ Driver: 'nvidia', Count: input.resources.gpus, Capabilities: [['gpu']] }] } : {}),
          ...(ports.length
            ? { PortBindings: Object.fromEntries(ports.map((p) => [`${p.containerPort}/tcp`, [{ HostIp: this.connection.publishIp, HostPort: p.hostPort ? String(p.hostPort) : '' }]])) }
            : {}),
        },
        ...(input.network
          ? { NetworkingConfig: { EndpointsConfig: { [input.network.name]: { Aliases: input.network.aliases, ...(input.network.ipv4Address ? { IPAMConfig: { IPv4Address: input.network.ipv4Address } } : {}) } } } }
          : {}),
      }),
    );
    this.log.debug(`created container ${container.id.slice(0, 12)} (${input.name})`);
    return new ContainerHandle(container, input.name, this, this.docker);
  }

  /** A named local volume, labelled so `prune` finds it. */
  async createVolume(name: string, labels: Record<string, string>): Promise<VolumeHandle> {
    await this.call(`create volume ${name}`, () => this.docker.createVolume({ Name: name, Labels: labels }));
    this.log.debug(`created volume ${name}`);
    return new VolumeHandle(name, this);
  }

  async createNetwork(input: NetworkInput): Promise<NetworkHandle> {
    const network = await this.call(`create network ${input.name}`, () =>
      this.docker.createNetwork({
        Name: input.name,
        Driver: 'bridge',
        Internal: Boolean(input.isolated || input.internal),
        ...(input.isolated ? { Options: { 'com.docker.network.bridge.inhibit_ipv4': 'true' } } : {}),
        ...(input.subnet ? { IPAM: { Driver: 'default', Config: [{ Subnet: input.subnet }] } } : {}),
        Labels: input.labels,
        CheckDuplicate: true,
      }),
    );
    this.log.debug(`created network ${input.name}`);
    return new NetworkHandle(network, input.name, this);
  }

  async inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
    let info: { Id: string; Name: string; Labels?: Record<string, string> | null; IPAM?: { Config?: { Subnet?: string }[] | null }; Containers?: Record<string, { IPv4Address?: string }> | null };
    try {
      info = (await this.docker.getNetwork(name).inspect()) as typeof info;
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw this.wrap(`inspect network ${name}`, err);
    }
    const subnet = (info.IPAM?.Config ?? []).map((c) => c.Subnet).find((s): s is string => typeof s === 'string' && s.includes('.'));
    return {
      id: info.Id,
      name: info.Name,
      labels: info.Labels ?? {},
      ...(subnet ? { subnet } : {}),
      addresses: Object.values(info.Containers ?? {}).flatMap((c) => (c.IPv4Address ? [c.IPv4Address.split('/')[0]!] : [])),
    };
  }

  /** Containers (running or not) carrying every given label. */
  async listContainers(labelFilters: string[]): Promise<ManagedResource[]> {
    const containers = await this.call('list containers', () => this.docker.listContainers({ all: true, filters: JSON.stringify({ label: labelFilters }) }));
    return containers.map(containerRow);
  }

  /** Containers, networks and volumes carrying every given label (`key=value` or bare `key`). */
  async listManaged(labelFilters: string[]): Promise<ManagedResource[]> {
    const filters = JSON.stringify({ label: labelFilters });
    const [containers, networks, volumes] = await this.call('list sm-local resources', () =>
      Promise.all([this.docker.listContainers({ all: true, filters }), this.docker.listNetworks({ filters }), this.docker.listVolumes({ filters })]),
    );
    return [
      ...containers.map(containerRow),
      ...networks.map((n) => ({ kind: 'network' as const, id: n.Id, name: n.Name, labels: n.Labels ?? {} })),
      ...(volumes.Volumes ?? []).map((v) => ({ kind: 'volume' as const, id: v.Name, name: v.Name, labels: v.Labels ?? {} })),
    ];
  }

  async removeContainer(id: string): Promise<void> {
    await removeTolerant(() => this.docker.getContainer(id).remove({ force: true, v: true }), (e) => this.wrap(`remove container ${id.slice(0, 12)}`, e));
  }

  async removeVolume(name: string): Promise<void> {
    await removeTolerant(() => this.docker.getVolume(name).remove(), (e) => this.wrap(`remove volume ${name}`, e));
  }

  async removeNetwork(id: string): Promise<void> {
    await removeTolerant(() => this.docker.getNetwork(id).remove(), (e) => this.wrap(`remove network ${id}`, e));
  }

  /** Builds `contextDir` (its Dockerfile) into `tag`, failing with the builder's own message. */
  async buildImage(contextDir: string, tag: string, opts: { labels?: Record<string, string>; onLine?: (line: string) => void; dockerfile?: string } = {}): Promise<void> {
    const stream = await this.call(`build ${tag}`, () =>
      this.docker.buildImage(pack(contextDir) as unknown as NodeJS.ReadableStream, {
        t: tag,
        labels: opts.labels ?? {},
        rm: true,
        forcerm: true,
        ...(opts.dockerfile ? { dockerfile: opts.dockerfile } : {}),
      }),
    );
    await consumeProgress(stream as unknown as Readable, tag, opts.onLine);
  }

  /** Creates an image from a root file system tarball (`docker import`). */
  async importImage(rootfsTar: Readable, tag: string, opts: { changes?: string[]; onLine?: (line: string) => void } = {}): Promise<void> {
    const [repo, version] = splitTag(tag);
    const stream = await this.call(`import ${tag}`, () =>
      this.docker.importImage(rootfsTar as unknown as NodeJS.ReadableStream, { repo, tag: version, ...(opts.changes ? { changes: opts.changes } : {}) }),
    );
    await consumeProgress(stream as unknown as Readable, tag, opts.onLine);
  }

  /** `docker load`: images from a `docker save` archive (manifest.json, configs, layers). */
  async loadImage(archive: Readable, opts: { onLine?: (line: string) => void } = {}): Promise<void> {
    const stream = await this.call('load image', () => this.docker.loadImage(archive as unknown as NodeJS.ReadableStream, { quiet: true }));
    await consumeProgress(stream as unknown as Readable, 'load', opts.onLine);
  }

  /** `docker save`: one archive of the given images, sharing their common layers (what `loadImage` takes). */
  async saveImages(refs: string[]): Promise<Readable> {
    return (await this.call(`save ${refs.join(', ')}`, () => (this.docker as unknown as { getImages(opts: { names: string[] }): Promise<unknown> }).getImages({ names: refs }))) as unknown as Readable;
  }

  /** Images carrying the given label (`key` or `key=value`). */
  async listImages(label: string): Promise<EngineImage[]> {
    const images = await this.call('list images', () => this.docker.listImages({ filters: JSON.stringify({ label: [label] }) }));
    return images.map((i) => ({ id: i.Id, tags: i.RepoTags ?? [], labels: i.Labels ?? {}, created: i.Created, size: i.Size }));
  }

  async removeImage(ref: string): Promise<void> {
    await removeTolerant(() => this.docker.getImage(ref).remove({ force: true }), (e) => this.wrap(`remove image ${ref}`, e));
  }

  /**
   * The processes of a running container as the engine's `top` lists them (host pids), or undefined
   * when the engine cannot say (stopped, gone, an engine without `top`).
   */
  async processes(containerId: string): Promise<EngineProcess[] | undefined> {
    try {
      // Podman runs `ps -o …` inside the container, which most images lack; its own descriptors
      // (no dash) it reads from /proc itself.
      const psArgs = (await this.product()) === 'podman' ? 'pid,ppid,args' : '-o pid,ppid,args';
      const top = (await this.docker.getContainer(containerId).top({ ps_args: psArgs })) as { Titles?: string[]; Processes?: string[][] };
      const { titles, rows } = topColumns(top.Titles ?? [], top.Processes ?? []);
      const at = (...names: string[]) => titles.findIndex((t) => names.includes(t.toUpperCase()));
      const [pid, ppid, args] = [at('PID'), at('PPID'), at('COMMAND', 'CMD', 'ARGS')];
      if (pid < 0 || ppid < 0 || args < 0) return undefined;
      return rows.map((row) => ({ pid: Number(row[pid]), ppid: Number(row[ppid]), args: row.slice(args).join(' ') }));
    } catch {
      return undefined;
    }
  }

  async hostPid(containerId: string): Promise<number | undefined> {
    if (this.remote) return undefined;
    const state = await this.docker.getContainer(containerId).inspect().then((i) => i.State as { Pid?: number }, () => undefined);
    return state?.Pid || undefined;
  }

  async containerLogs(containerId: string, opts: { follow?: boolean; tail?: number; signal?: AbortSignal; onLine: (line: string, stream: OutputStream) => void }): Promise<void> {
    const container = this.docker.getContainer(containerId);
    const options = { stdout: true, stderr: true, follow: opts.follow === true, ...(opts.tail !== undefined ? { tail: opts.tail } : {}) };
    const stream = (await this.call(`read the log of ${containerId.slice(0, 12)}`, () => container.logs(options as Docker.ContainerLogsOptions & { follow: true }))) as unknown as Readable | Buffer;
    const splitters = { stdout: new LineSplitter((l) => opts.onLine(l, 'stdout')), stderr: new LineSplitter((l) => opts.onLine(l, 'stderr')) };
    const flush = () => (splitters.stdout.end(), splitters.stderr.end());
    // Without follow, some engines answer with the whole log as one buffer.
    if (Buffer.isBuffer(stream)) {
      const pass = new PassThrough();
      const done = new Promise<void>((resolve) => pass.once('end', resolve));
      this.docker.modem.demuxStream(pass, lineWritable(splitters.stdout), lineWritable(splitters.stderr));
      pass.end(stream);
      await done;
      return flush();
    }
    this.docker.modem.demuxStream(stream, lineWritable(splitters.stdout), lineWritable(splitters.stderr));
    const onAbort = () => stream.destroy();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    await streamDone(stream);
    opts.signal?.removeEventListener('abort', onAbort);
    flush();
  }

  async containerEnvironment(containerId: string): Promise<Record<string, string>> {
    const info = await this.call(`inspect container ${containerId.slice(0, 12)}`, () => this.docker.getContainer(containerId).inspect());
    return envRecord(info.Config?.Env ?? []);
  }

  async exec(containerId: string, argv: string[], io: ExecIO): Promise<number> {
    const container = this.docker.getContainer(containerId);
    const exec = await this.call(`exec in ${containerId.slice(0, 12)}`, () =>
      container.exec({ Cmd: argv, AttachStdin: Boolean(io.stdin), AttachStdout: true, AttachStderr: true, Tty: Boolean(io.tty) }),
    );
    const stream = (await this.call(`start exec in ${containerId.slice(0, 12)}`, () => exec.start({ hijack: true, stdin: Boolean(io.stdin), Tty: Boolean(io.tty) }))) as unknown as Duplex;
    if (io.tty && io.size) await exec.resize({ h: io.size.rows, w: io.size.columns }).catch(() => {});
    if (io.tty) stream.pipe(io.stdout as Writable, { end: false });
    else this.docker.modem.demuxStream(stream, io.stdout, io.stderr);
    if (io.stdin) {
      const stdin = io.stdin;
      stdin.pipe(stream);
      // The end of stdin ends the command's input (a half-close), as `docker exec -i` does.
      stdin.once('end', () => (stream as Duplex & { end(): void }).end());
    }
    await streamDone(stream);
    io.stdin?.unpipe(stream);
    const { ExitCode } = (await this.call('inspect the exec', () => exec.inspect())) as { ExitCode: number | null };
    return ExitCode ?? 1;
  }

  /**
   * Runs `argv` inside a running container through the engine (no shell) and returns its stdout, or
   * undefined when it cannot run there (no such program, the container stopped) or takes too long.
   */
  async execOutput(containerId: string, argv: string[], timeoutMs = 5000): Promise<string | undefined> {
    try {
      const exec = await this.docker.getContainer(containerId).exec({ Cmd: argv, AttachStdout: true, AttachStderr: true });
      const stream = (await exec.start({ hijack: true, stdin: false })) as unknown as Readable;
      const chunks: Buffer[] = [];
      const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (chunks.push(chunk), done()) });
      this.docker.modem.demuxStream(stream, sink, new Writable({ write: (_c, _e, done) => done() }));
      const ended = streamDone(stream);
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([ended, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]).finally(() => clearTimeout(timer));
      stream.destroy();
      if (!done) return undefined;
      const { ExitCode } = (await exec.inspect()) as { ExitCode: number | null };
      return ExitCode === 0 ? Buffer.concat(chunks).toString('utf8') : undefined;
    } catch {
      return undefined;
    }
  }
}

/** A container of a list, as sm-local reports it. */
function containerRow(c: Docker.ContainerInfo): ManagedResource {
  return { kind: 'container', id: c.Id, name: (c.Names?.[0] ?? c.Id).replace(/^\//, ''), labels: c.Labels ?? {}, state: c.State, created: c.Created * 1000, status: c.Status };
}

/**
 * `top`'s table in columns. Docker Engine gives one title and one field per column; Podman gives the
 * whole header as one title and each process as one string ("1     0 sleep 30"), its last column
 * (the command line) holding spaces of its own.
 */
export function topColumns(titles: string[], rows: string[][]): { titles: string[]; rows: string[][] } {
  if (titles.length !== 1 || !/\s/.test(titles[0]!.trim())) return { titles, rows };
  const names = titles[0]!.trim().split(/\s+/);
  const split = (line: string) => {
    const fields = line.trim().split(/\s+/);
    return [...fields.slice(0, names.length - 1), fields.slice(names.length - 1).join(' ')];
  };
  return { titles: names, rows: rows.map((r) => (r.length === 1 ? split(r[0]!) : r)) };
}

export function splitTag(ref: string): [string, string] {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
}

async function consumeProgress(stream: Readable, tag: string, onLine?: (line: string) => void): Promise<void> {
  // The Engine reports build failures inside a successful (200) stream: read every event.
  for await (const event of jsonLines(stream)) {
    if (event.error) {
      const detail = (event.errorDetail as { message?: string } | undefined)?.message ?? String(event.error);
      throw new ImageBuildError(tag, detail.trim());
    }
    if (typeof event.stream === 'string') {
      for (const line of event.stream.split('\n')) if (line.trim()) onLine?.(line.trimEnd());
    } else if (typeof event.status === 'string') onLine?.(event.status);
  }
}

/** Removal that treats "already gone" (404) and "removal in progress" (409) as done. */
export async function removeTolerant(fn: () => Promise<unknown>, wrap: (err: unknown) => Error): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const status = statusCodeOf(err);
    if (status === 404) return;
    if (status === 409 && /in progress|already/i.test(engineMessage(err))) return;
    throw wrap(err);
  }
}

export class NetworkHandle implements EngineNetwork {
  private removal?: Promise<void>;
  constructor(
    private readonly network: Docker.Network,
    readonly name: string,
    private readonly client: DockerClient,
  ) {}

  get id(): string {
    return this.network.id;
  }

  /** Idempotent: repeat calls share the first call's promise. */
  remove(): Promise<void> {
    this.removal ??= removeTolerant(() => this.network.remove(), (e) => this.client.wrap(`remove network ${this.name}`, e));
    return this.removal;
  }
}

/** A named volume sm-local created; `remove()` is idempotent. */
export class VolumeHandle implements EngineVolume {
  private removal?: Promise<void>;
  constructor(
    readonly name: string,
    private readonly client: DockerClient,
  ) {}

  remove(): Promise<void> {
    this.removal ??= this.client.removeVolume(this.name);
    return this.removal;
  }
}
