/**
 * The container engine as sm-local's jobs see it: our own types only, no dockerode. `DockerClient`
 * (the Docker Engine API through dockerode, also Podman's compatible socket) implements it, and
 * `MemoryEngine` does for unit tests of `jobs/` (scripted exits, output, files). Nothing here knows
 * SageMaker.
 */
import type { Readable } from 'node:stream';
import type { ContainerRun } from './run.js';

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
  /**
   * Attach to this network at creation, with DNS aliases and, on a network with a subnet of its own,
   * a fixed address; without it the container starts out on the default bridge (see `moveToNetwork`).
   */
  network?: { name: string; aliases: string[]; ipv4Address?: string };
  /** `/etc/hosts` lines the engine adds, `name:address` (docker run --add-host). */
  extraHosts?: string[];
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
  /** Last modification, as the engine reports it (RFC 3339 with nanoseconds), when it does. */
  mtime?: string;
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

/** How a stop ended: the exit code, whether SIGKILL was needed, and how long after SIGTERM it exited. */
export interface StopOutcome {
  exitCode?: number;
  killed: boolean;
  stopMs: number;
}

/** One change in a container's own layer. */
export interface ContainerChange {
  path: string;
  kind: 'added' | 'changed' | 'deleted';
}

/** One process of a running container, as the engine's `top` lists it (host pids). */
export interface EngineProcess {
  pid: number;
  ppid: number;
  /** The full command line. */
  args: string;
}

export type Signal = 'SIGTERM' | 'SIGKILL' | 'SIGINT';

export interface EngineInfo {
  endpoint: string;
  remote: boolean;
  serverVersion: string;
  apiVersion: string;
  operatingSystem: string;
  osType: string;
  architecture: string;
  cpus: number;
  memTotalBytes: number;
  storageDriver: string;
  rootDir: string;
  /** Container runtimes the engine offers (`nvidia` when GPUs can be requested). */
  runtimes: string[];
  /** Which engine answers, from its version's components: Docker Engine, Podman; unset for any other. */
  product?: 'docker' | 'podman';
  /** The engine runs without root (its security options say `rootless`). */
  rootless: boolean;
}

/** The parts of an image sm-local looks at. */
export interface ImageInfo {
  id: string;
  tags: string[];
  entrypoint: string[] | null;
  cmd: string[] | null;
  user: string;
  os: string;
  architecture: string;
  labels: Record<string, string>;
  /** The image's ENV, as KEY → value. */
  env: Record<string, string>;
  created: string;
}

/** How the engine stores an image: its manifests, when the engine can say (API 1.47+ with the containerd store). */
export type ImageManifests = { known: false; reason: string } | { known: true; index: boolean; platforms: string[]; attestations: number };

export interface NetworkInput {
  name: string;
  labels: Record<string, string>;
  /**
   * Network isolation: no route out of the network, and no address of this machine on it either, so
   * the containers reach each other and nothing else (an internal bridge alone still lets them reach
   * every service listening on this machine through its gateway address).
   */
  isolated?: boolean;
  /** No route out of the network, but this machine keeps its address on it (and reaches the containers). */
  internal?: boolean;
  /** An IPv4 subnet of its own (`172.18.0.0/16`), so containers can be given fixed addresses on it. */
  subnet?: string;
}

/** A network as the engine has it: its subnet, and the addresses its containers hold now. */
export interface NetworkInfo {
  id: string;
  name: string;
  labels: Record<string, string>;
  /** The first IPv4 subnet of its address configuration. */
  subnet?: string;
  /** The IPv4 addresses of the containers attached to it (running ones; the engine reserves them at start). */
  addresses: string[];
}

export interface ManagedResource {
  kind: 'container' | 'network' | 'volume';
  id: string;
  name: string;
  labels: Record<string, string>;
  state?: string;
  /** Containers: when it was created (ms since the epoch), and the engine's status line ("Up 3 minutes"). */
  created?: number;
  status?: string;
}

/** `sm-local exec`: what the command is attached to. */
export interface ExecIO {
  stdin?: NodeJS.ReadableStream;
  /** A terminal: stdout and stderr come as one stream, on `stdout`. */
  tty?: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** The terminal's size, with `tty`. */
  size?: { rows: number; columns: number };
}

/** A container sm-local created. `remove()` is idempotent and tolerates "already gone". */
export interface EngineContainer {
  readonly id: string;
  readonly shortId: string;
  readonly name: string;
  /** Sends a signal; a container that is no longer running is not an error. */
  kill(signal: Signal): Promise<void>;
  /**
   * Moves a created (not yet started) container from the default bridge to `network`, where the
   * engine's DNS resolves it under `aliases`.
   */
  moveToNetwork(network: string, aliases: string[]): Promise<void>;
  /** The 127.0.0.1 port `containerPort` is published at (0 when none is asked for), and the container's own address. */
  addresses(containerPort: number | undefined): Promise<{ hostPort: number; ip?: string }>;
  putArchive(tar: Readable, path: string): Promise<void>;
  /** What is at `path` (without following a final symlink), or undefined; works before the start (it reads the image). */
  statPath(path: string): Promise<PathStat | undefined>;
  /** Paths the container added, changed or deleted in its own layer (not in volumes or mounts). */
  changes(): Promise<ContainerChange[]>;
  /** The name of the volume mounted at `path` in this container, if one is. */
  volumeAt(path: string): Promise<string | undefined>;
  /** A tar stream of `path`; entries are named after its last component (`model/…`); undefined when nothing is there. */
  getArchive(path: string): Promise<Readable | undefined>;
  remove(): Promise<void>;
  /** Attaches (no output is lost), then starts; the run reports the exit and can be stopped or killed. */
  start(opts?: { onLine?: (line: string, stream: OutputStream) => void; onAttached?: () => void; tailSize?: number }): Promise<ContainerRun>;
  /** Runs to the exit: a stop (`stop`, `timeoutMs`) sends SIGTERM, then SIGKILL after `graceMs`; `force` SIGKILL at once. */
  runToExit(opts: RunToExitOptions): Promise<ExitInfo>;
}

export interface EngineNetwork {
  readonly id: string;
  readonly name: string;
  /** Idempotent. */
  remove(): Promise<void>;
}

export interface EngineVolume {
  readonly name: string;
  /** Idempotent. */
  remove(): Promise<void>;
}

export interface EngineImage {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  created: number;
  size: number;
}

/** Everything `jobs/` asks of an engine. */
export interface ContainerEngine {
  /** Where the engine is (`unix:///var/run/docker.sock`, `tcp://…`). */
  readonly endpoint: string;
  /** The engine runs on another machine: bind mounts and this machine's addresses mean nothing there. */
  readonly remote: boolean;
  /** Fails with DockerUnavailableError when no engine answers. */
  ping(): Promise<void>;
  /** How this machine reaches `hostPort`, published by a container (`ContainerInput.publish`) on the engine's machine. */
  reach(hostPort: number): Promise<{ host: string; port: number }>;
  info(): Promise<EngineInfo>;
  inspectImage(ref: string): Promise<ImageInfo | undefined>;
  /** Never pulls: an image that is not there is an ImageNotFoundError. */
  requireLocalImage(ref: string): Promise<ImageInfo>;
  /** The build steps of an image, newest first. */
  imageHistory(ref: string): Promise<string[]>;
  imageManifests(ref: string, apiVersion: string): Promise<ImageManifests>;
  /** Bytes the engine counts in each local volume; a size it does not know is left out. */
  volumeSizes(apiVersion: string): Promise<Map<string, number>>;
  createContainer(input: ContainerInput): Promise<EngineContainer>;
  createVolume(name: string, labels: Record<string, string>): Promise<EngineVolume>;
  createNetwork(input: NetworkInput): Promise<EngineNetwork>;
  /** Containers (running or not) carrying every given label. */
  listContainers(labelFilters: string[]): Promise<ManagedResource[]>;
  /** Containers, networks and volumes carrying every given label (`key=value` or bare `key`). */
  listManaged(labelFilters: string[]): Promise<ManagedResource[]>;
  removeContainer(id: string): Promise<void>;
  removeVolume(name: string): Promise<void>;
  removeNetwork(id: string): Promise<void>;
  /** The network named `name`, or undefined when there is none. */
  inspectNetwork(name: string): Promise<NetworkInfo | undefined>;
  listImages(label: string): Promise<EngineImage[]>;
  removeImage(ref: string): Promise<void>;
  /** A running container's processes, or undefined when the engine cannot say. */
  processes(containerId: string): Promise<EngineProcess[] | undefined>;
  /** Runs `argv` inside a running container (no shell); its stdout, or undefined when it could not run or failed. */
  execOutput(containerId: string, argv: string[], timeoutMs?: number): Promise<string | undefined>;
  /** The host pid of a running container's first process, when the engine is on this machine. */
  hostPid(containerId: string): Promise<number | undefined>;
  /** A container's output so far (the last `tail` lines), line by line; with `follow`, until it exits or `signal` aborts. */
  containerLogs(containerId: string, opts: { follow?: boolean; tail?: number; signal?: AbortSignal; onLine: (line: string, stream: OutputStream) => void }): Promise<void>;
  /** The environment a container was created with (so what it prints can be masked). */
  containerEnvironment(containerId: string): Promise<Record<string, string>>;
  /** Runs `argv` in a running container (no shell) attached to `io`; resolves with its exit code. */
  exec(containerId: string, argv: string[], io: ExecIO): Promise<number>;
}
