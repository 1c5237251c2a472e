/**
 * A container engine in memory, for unit tests of `jobs/`: containers run a script (lines printed
 * after delays, an exit code, what they do on SIGTERM, the files they leave) instead of a program, so
 * the outcome logic (first failure wins, time limits, stop and force, grace then SIGKILL, cleanup) can
 * be tested in milliseconds, without an engine. Archives in and out are real tar streams; bind mounts
 * are recorded, not served. A container scripted to `serve` answers HTTP for real, on 127.0.0.1 (its
 * published port and its address both lead there), so readiness and the runtime proxy can be tested too.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { posix } from 'node:path';
import { Readable } from 'node:stream';
import { extract, pack } from 'tar-stream';
import { ContainerStartError, DockerError, ImageNotFoundError } from '../errors.js';
import type {
  ContainerChange,
  ContainerEngine,
  ContainerInput,
  EngineContainer,
  EngineImage,
  EngineInfo,
  EngineNetwork,
  EngineProcess,
  EngineVolume,
  ExecIO,
  ExitInfo,
  ImageInfo,
  ImageManifests,
  ManagedResource,
  NetworkInfo,
  NetworkInput,
  OutputStream,
  PathStat,
  RunToExitOptions,
  Signal,
} from './engine.js';
import { LABEL } from './labels.js';
import { envRecord, Tail } from './lines.js';
import { ContainerRun, runToExit } from './run.js';

/** What a scripted container does once started. Times are in ms from the start. */
export interface ScriptedBehaviour {
  /** Lines it prints, in order, each at its time (default: at once). */
  output?: { line: string; stream?: OutputStream; atMs?: number }[];
  /** When it exits on its own, and with what; without `exitAtMs` it runs until it is signalled. */
  exitAtMs?: number;
  exitCode?: number;
  /** What SIGTERM does: exit with this code after `afterMs`; absent, SIGTERM is ignored (PID 1 without a handler). */
  onSigterm?: { exitCode: number; afterMs?: number };
  /** Files it has written when it ends, by absolute path (read back through `getArchive`). */
  files?: Record<string, string>;
  /** Its own layer's changes, as `changes()` reports them. */
  changes?: ContainerChange[];
  /** The start fails as an unrunnable program does (`exec: "train": executable file not found`). */
  startError?: string;
  oomKilled?: boolean;
  /** What a command run in it (`exec`) prints and exits with; without it, no program is found (127). */
  exec?: (argv: string[]) => { stdout?: string; stderr?: string; exitCode: number };
  /** An HTTP server it runs while it is up (from `afterMs`), on 127.0.0.1; closed when it exits. */
  serve?: { handler: (req: IncomingMessage, res: ServerResponse) => void; afterMs?: number };
}

/** A container the memory engine created, with what happened to it, for assertions. */
export interface MemoryContainerRecord {
  id: string;
  input: ContainerInput;
  state: 'created' | 'running' | 'exited';
  removed: boolean;
  /** Signals in the order they were sent. */
  signals: Signal[];
  /** Files put in with `putArchive`, and those the script wrote, by absolute path. */
  files: Map<string, string>;
  /**
   * Folders' modification times as the engine reports them (RFC 3339 with nanoseconds): a folder's
   * from its archive entry (with its PAX time), then now whenever the script writes a file into it,
   * as the kernel does.
   */
  folderTimes: Map<string, string>;
  /** How many times each path was read through `getArchive`. */
  archiveReads: Map<string, number>;
  network?: { name: string; aliases: string[]; ipv4Address?: string };
  exit?: { exitCode: number };
  created: number;
  /** Its output so far (the engine's log), and who follows it. */
  printed: { line: string; stream: OutputStream }[];
  followers: Set<(line: { line: string; stream: OutputStream } | undefined) => void>;
}

export interface MemoryEngineOptions {
  /** Images the engine has, by reference; anything else is not found. */
  images?: Record<string, Partial<ImageInfo>>;
  /** The script of each container, chosen from its create request (the hostname tells hosts apart). */
  behaviour?: (input: ContainerInput) => ScriptedBehaviour;
  remote?: boolean;
  /** What `info()` says the engine is (Docker Engine turns on what sm-local only trusts there). */
  product?: EngineInfo['product'];
}

let nextId = 1;
const newId = () => (nextId++).toString(16).padStart(64, '0');

function imageInfo(ref: string, partial: Partial<ImageInfo>): ImageInfo {
  return {
    id: `sha256:${Buffer.from(ref).toString('hex').padEnd(64, '0').slice(0, 64)}`,
    tags: [ref],
    entrypoint: null,
    cmd: null,
    user: '',
    os: 'linux',
    architecture: 'amd64',
    labels: {},
    env: {},
    created: '2026-01-01T00:00:00Z',
    ...partial,
  };
}

const matches = (labels: Record<string, string>, filters: string[]) =>
  filters.every((f) => {
    const eq = f.indexOf('=');
    return eq < 0 ? f in labels : labels[f.slice(0, eq)] === f.slice(eq + 1);
  });

/** A tar of the files at or below `root`, named after its last component, as the Engine's archive API does. */
function tarOf(files: Map<string, string>, root: string): Readable | undefined {
  const base = posix.basename(root);
  const found = [...files.entries()].filter(([p]) => p === root || p.startsWith(`${root}/`));
  const isDir = found.some(([p]) => p !== root);
  if (!found.length) return undefined;
  const tar = pack();
  if (isDir) tar.entry({ name: `${base}/`, type: 'directory', mode: 0o755 });
  const dirs = new Set<string>();
  for (const [path, content] of found.sort(([a], [b]) => a.localeCompare(b))) {
    const rel = path === root ? base : `${base}/${path.slice(root.length + 1)}`;
    for (let d = posix.dirname(rel); d !== '.' && d !== base && !dirs.has(d); d = posix.dirname(d)) {
      dirs.add(d);
      tar.entry({ name: `${d}/`, type: 'directory', mode: 0o755 });
    }
    tar.entry({ name: rel, mode: 0o644 }, content);
  }
  tar.finalize();
  return tar as unknown as Readable;
}

/** Now, as Docker reports a modification time: RFC 3339, nanoseconds (trailing zeros dropped). */
let lastNanos = 0n;
function engineTime(): string {
  // Strictly increasing, as two writes in one clock tick still differ from a stamp.
  const now = BigInt(Date.now()) * 1_000_000n + 7n;
  lastNanos = now > lastNanos ? now : lastNanos + 1n;
  return nanosToRfc3339(lastNanos);
}

function nanosToRfc3339(nanos: bigint): string {
  const seconds = nanos / 1_000_000_000n;
  const fraction = String(nanos % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
  return `${new Date(Number(seconds) * 1000).toISOString().slice(0, 19)}${fraction ? `.${fraction}` : ''}Z`;
}

function paxToRfc3339(pax: string): string {
  const [sec = '0', frac = ''] = pax.split('.');
  return nanosToRfc3339(BigInt(sec) * 1_000_000_000n + BigInt(frac.padEnd(9, '0').slice(0, 9) || '0'));
}

/**
 * A file written at `path`, with the folder times the kernel would leave: a new file is a new entry in
 * its folder (now), a folder that did not exist is a new entry in its own, and so on up; rewriting a
 * file changes no folder.
 */
function writeFile(record: MemoryContainerRecord, path: string, content: string): void {
  const isNew = !record.files.has(path);
  const existed = (d: string) => record.folderTimes.has(d) || [...record.files.keys()].some((p) => p.startsWith(`${d}/`));
  const created: string[] = [];
  for (let d = posix.dirname(path); isNew && d !== '/' && d !== '.'; d = posix.dirname(d)) {
    created.push(d);
    if (existed(d)) break;
  }
  record.files.set(path, content);
  for (const d of created) record.folderTimes.set(d, engineTime());
}

class MemoryContainer implements EngineContainer {
  private run?: ContainerRun;
  private signalled?: (signal: Signal) => void;
  private server?: Server;
  /** The port its server listens on, once it does. */
  private serverPort = 0;

  constructor(
    readonly record: MemoryContainerRecord,
    private readonly behaviour: ScriptedBehaviour,
    private readonly engine: MemoryEngine,
  ) {}

  get id() {
    return this.record.id;
  }
  get shortId() {
    return this.record.id.slice(0, 12);
  }
  get name() {
    return this.record.input.name;
  }

  async kill(signal: Signal): Promise<void> {
    if (this.record.state !== 'running') return;
    this.record.signals.push(signal);
    this.signalled?.(signal);
  }

  async moveToNetwork(network: string, aliases: string[]): Promise<void> {
    if (!this.engine.networks.has(network)) throw new DockerError(`connect ${this.shortId} to network ${network}`, `network ${network} not found`, undefined);
    this.record.network = { name: network, aliases };
  }

  async addresses(containerPort: number | undefined): Promise<{ hostPort: number; ip?: string }> {
    if (this.behaviour.serve) {
      // Not listening yet: a port nothing listens on, as a published port is before the server binds it.
      if (!this.serverPort) this.serverPort = await freePort();
      return { hostPort: containerPort === undefined ? 0 : this.serverPort, ip: '127.0.0.1' };
    }
    return { hostPort: containerPort === undefined ? 0 : 40_000 + (containerPort % 1000), ip: '10.99.0.2' };
  }

  async putArchive(tar: Readable, path: string): Promise<void> {
    const ex = extract();
    const done = new Promise<void>((resolve, reject) => {
      ex.on('entry', (header, stream, next) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: unknown) => chunks.push(c as Buffer));
        stream.on('end', () => {
          const at = posix.join(path, header.name).replace(/(.)\/$/, '$1');
          if (header.type === 'file') writeFile(this.record, at, Buffer.concat(chunks).toString('utf8'));
          const paxTime = (header.pax as { mtime?: string } | undefined)?.mtime;
          if (header.type === 'directory') this.record.folderTimes.set(at, paxTime ? paxToRfc3339(paxTime) : engineTime());
          next();
        });
        stream.resume();
      });
      ex.on('finish', resolve);
      ex.on('error', reject);
    });
    tar.pipe(ex);
    await done;
  }

  async statPath(path: string): Promise<PathStat | undefined> {
    const content = this.record.files.get(path);
    if (content !== undefined) return { type: 'file', mode: 0o644, size: Buffer.byteLength(content) };
    const mtime = this.record.folderTimes.get(path);
    if (mtime) return { type: 'directory', mode: 0o755, size: 4096, mtime };
    return [...this.record.files.keys()].some((p) => p.startsWith(`${path}/`)) ? { type: 'directory', mode: 0o755, size: 4096 } : undefined;
  }

  async changes(): Promise<ContainerChange[]> {
    return this.behaviour.changes ?? [];
  }

  async volumeAt(path: string): Promise<string | undefined> {
    return (this.record.input.volumes ?? []).includes(path) ? `${this.shortId}-${posix.basename(path)}` : undefined;
  }

  async getArchive(path: string): Promise<Readable | undefined> {
    this.record.archiveReads.set(path, (this.record.archiveReads.get(path) ?? 0) + 1);
    return tarOf(this.record.files, path);
  }

  async remove(): Promise<void> {
    if (this.record.state === 'running') void this.kill('SIGKILL');
    this.record.removed = true;
  }

  start(opts: { onLine?: (line: string, stream: OutputStream) => void; onAttached?: () => void; tailSize?: number } = {}): Promise<ContainerRun> {
    if (this.run) throw new DockerError(`start ${this.shortId}`, 'container already started', undefined);
    opts.onAttached?.();
    const b = this.behaviour;
    if (b.startError) return Promise.reject(new ContainerStartError(b.startError, 127, undefined));
    this.record.state = 'running';
    const tail = new Tail<string>(opts.tailSize ?? 50);
    const timers: NodeJS.Timeout[] = [];
    const exited = new Promise<{ exitCode: number; oomKilled: boolean; tail: string[] }>((resolve) => {
      const exit = (exitCode: number) => {
        if (this.record.state === 'exited') return;
        for (const t of timers) clearTimeout(t);
        this.record.state = 'exited';
        this.record.exit = { exitCode };
        for (const f of this.record.followers) f(undefined);
        this.server?.closeAllConnections();
        this.server?.close();
        // What the program wrote stays in its layer and volumes, as on an engine.
        for (const [path, content] of Object.entries(b.files ?? {})) writeFile(this.record, path, content);
        resolve({ exitCode, oomKilled: Boolean(b.oomKilled), tail: tail.values() });
      };
      for (const o of b.output ?? []) {
        timers.push(
          setTimeout(() => {
            tail.push(o.line);
            const printed = { line: o.line, stream: o.stream ?? 'stdout' };
            this.record.printed.push(printed);
            for (const f of this.record.followers) f(printed);
            opts.onLine?.(o.line, o.stream ?? 'stdout');
          }, o.atMs ?? 0),
        );
      }
      if (b.exitAtMs !== undefined) timers.push(setTimeout(() => exit(b.exitCode ?? 0), b.exitAtMs));
      if (b.serve) {
        const { handler, afterMs } = b.serve;
        timers.push(
          setTimeout(async () => {
            if (!this.serverPort) this.serverPort = await freePort();
            if (this.record.state !== 'running') return;
            this.server = createServer(handler);
            this.server.listen(this.serverPort, '127.0.0.1');
          }, afterMs ?? 0),
        );
      }
      this.signalled = (signal) => {
        if (signal === 'SIGKILL') exit(137);
        else if (signal === 'SIGTERM' && b.onSigterm) timers.push(setTimeout(() => exit(b.onSigterm!.exitCode), b.onSigterm.afterMs ?? 0));
      };
    });
    this.run = new ContainerRun(this, exited);
    return Promise.resolve(this.run);
  }

  runToExit(opts: RunToExitOptions): Promise<ExitInfo> {
    return runToExit(this, opts);
  }
}

/** A port on 127.0.0.1 that was free a moment ago. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** See the module comment. Everything created is kept in `containers`, `networks` and `volumes` for assertions. */
export class MemoryEngine implements ContainerEngine {
  readonly endpoint = 'memory://';
  readonly remote: boolean;
  readonly containers: MemoryContainerRecord[] = [];
  readonly networks = new Map<string, { id: string; input: NetworkInput; removed: boolean }>();
  readonly volumes = new Map<string, { labels: Record<string, string>; removed: boolean }>();
  private readonly images: Map<string, ImageInfo>;
  private readonly handles = new Map<string, MemoryContainer>();

  constructor(private readonly opts: MemoryEngineOptions = {}) {
    this.remote = opts.remote ?? false;
    this.images = new Map(Object.entries(opts.images ?? {}).map(([ref, info]) => [ref, imageInfo(ref, info)]));
  }

  /** What is still there: containers, networks and volumes not removed. */
  leftovers(): string[] {
    return [
      ...this.containers.filter((c) => !c.removed).map((c) => `container ${c.input.name}`),
      // The shared job network outlives every job by design (jobs/job-network.ts).
      ...[...this.networks.entries()].filter(([, n]) => !n.removed && !n.input.labels[LABEL.shared]).map(([name]) => `network ${name}`),
      ...[...this.volumes.entries()].filter(([, v]) => !v.removed).map(([name]) => `volume ${name}`),
    ];
  }

  async ping(): Promise<void> {}

  async reach(hostPort: number): Promise<{ host: string; port: number }> {
    return { host: '127.0.0.1', port: hostPort };
  }

  async info(): Promise<EngineInfo> {
    return {
      endpoint: this.endpoint,
      remote: this.remote,
      serverVersion: 'memory',
      apiVersion: '1.41',
      operatingSystem: 'memory',
      osType: 'linux',
      architecture: 'x86_64',
      cpus: 2,
      memTotalBytes: 8 * 1024 ** 3,
      storageDriver: 'memory',
      rootDir: '/',
      runtimes: ['runc'],
      rootless: false,
      ...(this.opts.product ? { product: this.opts.product } : {}),
    };
  }

  async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    return this.images.get(ref);
  }

  async requireLocalImage(ref: string): Promise<ImageInfo> {
    const info = this.images.get(ref);
    if (!info) throw new ImageNotFoundError(ref);
    return info;
  }

  async imageHistory(): Promise<string[]> {
    return [];
  }

  async imageManifests(): Promise<ImageManifests> {
    return { known: false, reason: 'the memory engine keeps no manifests' };
  }

  async volumeSizes(): Promise<Map<string, number>> {
    return new Map();
  }

  async createContainer(input: ContainerInput): Promise<EngineContainer> {
    if (!this.images.has(input.image)) throw new ImageNotFoundError(input.image);
    if (input.network && !this.networks.has(input.network.name)) throw new DockerError(`create container ${input.name}`, `network ${input.network.name} not found`, undefined);
    const record: MemoryContainerRecord = { id: newId(), input, state: 'created', removed: false, signals: [], created: Date.now(), printed: [], followers: new Set(), files: new Map(), folderTimes: new Map(), archiveReads: new Map(), ...(input.network ? { network: input.network } : {}) };
    this.containers.push(record);
    const handle = new MemoryContainer(record, this.opts.behaviour?.(input) ?? { exitAtMs: 0, exitCode: 0 }, this);
    this.handles.set(record.id, handle);
    return handle;
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<EngineVolume> {
    this.volumes.set(name, { labels, removed: false });
    return { name, remove: async () => void (this.volumes.get(name)!.removed = true) };
  }

  async createNetwork(input: NetworkInput): Promise<EngineNetwork> {
    const existing = this.networks.get(input.name);
    if (existing && !existing.removed) throw new DockerError(`create network ${input.name}`, `network with name ${input.name} already exists`, undefined);
    const id = newId();
    this.networks.set(input.name, { id, input, removed: false });
    return { id, name: input.name, remove: async () => void (this.networks.get(input.name)!.removed = true) };
  }

  async listContainers(labelFilters: string[]): Promise<ManagedResource[]> {
    return this.containers
      .filter((c) => !c.removed && matches(c.input.labels, labelFilters))
      .map((c) => ({ kind: 'container' as const, id: c.id, name: c.input.name, labels: c.input.labels, state: c.state, created: c.created, status: c.state === 'exited' ? `Exited (${c.exit?.exitCode ?? 0})` : c.state === 'running' ? 'Up' : 'Created' }));
  }

  async listManaged(labelFilters: string[]): Promise<ManagedResource[]> {
    return [
      ...(await this.listContainers(labelFilters)),
      ...[...this.networks.entries()].filter(([, n]) => !n.removed && matches(n.input.labels, labelFilters)).map(([name, n]) => ({ kind: 'network' as const, id: n.id, name, labels: n.input.labels })),
      ...[...this.volumes.entries()].filter(([, v]) => !v.removed && matches(v.labels, labelFilters)).map(([name, v]) => ({ kind: 'volume' as const, id: name, name, labels: v.labels })),
    ];
  }

  async removeContainer(id: string): Promise<void> {
    await this.handles.get(id)?.remove();
  }

  async removeVolume(name: string): Promise<void> {
    const v = this.volumes.get(name);
    if (v) v.removed = true;
  }

  async inspectNetwork(name: string): Promise<NetworkInfo | undefined> {
    const n = this.networks.get(name);
    if (!n || n.removed) return undefined;
    // Like an engine's default pool: a network created without a subnet gets one of its own.
    const subnet = n.input.subnet ?? `172.${20 + ([...this.networks.keys()].indexOf(name) % 10)}.0.0/16`;
    const addresses = this.containers.filter((c) => !c.removed && c.state === 'running' && c.network?.name === name && c.network.ipv4Address).map((c) => c.network!.ipv4Address!);
    return { id: n.id, name, labels: n.input.labels, subnet, addresses };
  }

  async removeNetwork(id: string): Promise<void> {
    for (const n of this.networks.values()) if (n.id === id) n.removed = true;
  }

  async listImages(label: string): Promise<EngineImage[]> {
    return [...this.images.values()].filter((i) => matches(i.labels, [label])).map((i) => ({ id: i.id, tags: i.tags, labels: i.labels, created: 0, size: 0 }));
  }

  async removeImage(ref: string): Promise<void> {
    this.images.delete(ref);
  }

  async processes(containerId: string): Promise<EngineProcess[] | undefined> {
    const c = this.containers.find((r) => r.id === containerId);
    if (c?.state !== 'running') return undefined;
    return [{ pid: 1000, ppid: 1, args: [...(c.input.entrypoint ?? []), ...(c.input.cmd ?? [])].join(' ') }];
  }

  async execOutput(): Promise<string | undefined> {
    return undefined;
  }

  private record(containerId: string): MemoryContainerRecord {
    const c = this.containers.find((r) => r.id === containerId && !r.removed);
    if (!c) throw new DockerError(`inspect container ${containerId.slice(0, 12)}`, `No such container: ${containerId}`);
    return c;
  }

  async containerLogs(containerId: string, opts: { follow?: boolean; tail?: number; signal?: AbortSignal; onLine: (line: string, stream: OutputStream) => void }): Promise<void> {
    const c = this.record(containerId);
    for (const p of opts.tail !== undefined ? c.printed.slice(-opts.tail) : c.printed) opts.onLine(p.line, p.stream);
    if (!opts.follow || c.state === 'exited') return;
    await new Promise<void>((resolve) => {
      const follower = (p: { line: string; stream: OutputStream } | undefined) => {
        if (p) return opts.onLine(p.line, p.stream);
        c.followers.delete(follower);
        resolve();
      };
      c.followers.add(follower);
      opts.signal?.addEventListener('abort', () => follower(undefined), { once: true });
    });
  }

  async containerEnvironment(containerId: string): Promise<Record<string, string>> {
    return envRecord(this.record(containerId).input.env ?? []);
  }

  async exec(containerId: string, argv: string[], io: ExecIO): Promise<number> {
    const c = this.record(containerId);
    if (c.state !== 'running') throw new DockerError(`exec in ${containerId.slice(0, 12)}`, `container ${containerId} is not running`);
    const answer = this.opts.behaviour?.(c.input).exec?.(argv);
    if (!answer) {
      io.stderr.write(`exec: "${argv[0]}": executable file not found in $PATH\n`);
      return 127;
    }
    if (answer.stdout) io.stdout.write(answer.stdout);
    if (answer.stderr) io.stderr.write(answer.stderr);
    return answer.exitCode;
  }

  async hostPid(): Promise<number | undefined> {
    return undefined;
  }
}
