/**
 * The multi-host container core every multi-instance job kind shares (training now, processing
 * next): run one container per host side by side, stop them all when the first one fails, when the
 * job's time limit passes or when the user stops the job (SIGTERM, the grace, SIGKILL), and force
 * them (SIGKILL) on a second Ctrl-C. What a host does besides running (feeding Pipe channels,
 * fetching archives) is the job kind's, through the callbacks. `runCluster` only runs containers it
 * is given; `JobCluster` also owns them: the job network, creation with the instance limits, volumes,
 * collected archives and cleanup.
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { onAbort } from '../abort.js';
import { containerLimits } from '../contract/instance-types.js';
import type { ContainerChange, ContainerInput, EngineContainer, EngineInfo, EngineNetwork, EngineVolume, ExitInfo } from '../docker/engine.js';
import { LABEL, ownerLabels, resourceName } from '../docker/labels.js';
import { emptyFolderTar, skeletonTar, type SkeletonEntry } from '../workspace/archive.js';
import { isStamp, newFolderStamp } from '../workspace/folder-stamp.js';
import type { JobDeps } from './deps.js';
import { leaseAddresses, SHARED_JOB_NETWORK, sharedJobNetwork } from './job-network.js';
import type { ResourceScope } from './resource-scope.js';

/** Why a cluster was stopped before every host ended on its own. */
export type StopCause = 'timeout' | 'stopped' | 'failed';

export interface ClusterRun<H> {
  hosts: readonly H[];
  /** Each host's container, created and ready to start. */
  containerOf: (host: H) => EngineContainer;
  /** The job's time limit (MaxRuntimeInSeconds) from the start. */
  maxRuntimeMs: number;
  /** SIGTERM → SIGKILL. */
  graceMs: number;
  /** The user's stop (StopTrainingJob) and force (the second Ctrl-C). */
  stop?: AbortSignal;
  force?: AbortSignal;
  onLine: (host: H, line: string) => void;
  /** Once, when the first container has started. */
  onFirstStart?: () => void;
  /** Once, when the cluster begins to stop, with why (and for `failed`, the host that failed). */
  onStopping?: (cause: StopCause, failed?: H) => void;
  /** For each host still running when the stop reaches it, just before its SIGTERM. */
  onHostStopping?: (host: H) => void;
  /** Work beside a host's run (Pipe feeding), ended by `done` when the host exits. */
  alongside?: (host: H, done: AbortSignal) => Promise<void>;
  /** Right after a host exits, before the others are told to stop. */
  onExit?: (host: H, exit: ExitInfo) => void;
}

export interface ClusterOutcome<H> {
  stopCause?: StopCause;
  /** The first host that failed, when that is what ended the job (not after a stop or the time limit). */
  failedHost?: H;
}

/** Runs `fn` for every host at once; waits for all to settle, then rethrows the first failure. */
export async function eachHost<T>(hosts: readonly T[], fn: (host: T) => Promise<unknown>): Promise<void> {
  const settled = await Promise.allSettled(hosts.map(fn));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Starts every host and waits for all to exit. The first non-zero exit stops the others (CONTRACT
 * §3.1: any instance failing fails the job); so do the time limit and the user's stop.
 */
export async function runCluster<H>(run: ClusterRun<H>): Promise<ClusterOutcome<H>> {
  const clusterStop = new AbortController();
  let stopCause: StopCause | undefined;
  let failedHost: H | undefined;
  const stopAll = (cause: StopCause, failed?: H) => {
    if (clusterStop.signal.aborted) return;
    stopCause = cause;
    run.onStopping?.(cause, failed);
    clusterStop.abort(cause);
  };
  const stopListening = onAbort(run.stop, () => stopAll('stopped'));
  const maxRuntime = setTimeout(() => stopAll('timeout'), Math.min(run.maxRuntimeMs, 2 ** 31 - 1));
  let started = 0;
  try {
    await Promise.all(
      run.hosts.map(async (host) => {
        const hostDone = new AbortController();
        const beside = run.alongside ? run.alongside(host, hostDone.signal) : Promise.resolve();
        let exit: ExitInfo;
        try {
          exit = await run.containerOf(host).runToExit({
            onLine: (line) => run.onLine(host, line),
            onStarted: () => {
              if (++started === 1) run.onFirstStart?.();
            },
            ...(run.onHostStopping ? { onStopping: () => run.onHostStopping!(host) } : {}),
            stop: clusterStop.signal,
            ...(run.force ? { force: run.force } : {}),
            graceMs: run.graceMs,
          });
        } finally {
          hostDone.abort();
          await beside;
        }
        run.onExit?.(host, exit);
        if (exit.exitCode !== 0 && !clusterStop.signal.aborted) {
          failedHost = host;
          stopAll('failed', host);
        }
      }),
    );
  } finally {
    clearTimeout(maxRuntime);
    stopListening();
  }
  // A host that fails after the cluster began stopping does not count as the cause.
  return { ...(stopCause ? { stopCause } : {}), ...(failedHost ? { failedHost } : {}) };
}

/**
 * The collected folders a host's skeleton gives empty and nothing else can fill before the start: each
 * is a folder of the skeleton with nothing of the skeleton below it, inside a fresh anonymous volume
 * (which hides what the image has there), with no bind mount or named volume at, above or below it and
 * no other volume below it. Only these may be known to be empty by their stamp (folder-stamp.ts).
 */
export function foldersGivenEmpty(collect: readonly string[], entries: readonly SkeletonEntry[], input: Pick<ContainerInput, 'mounts' | 'volumes' | 'namedVolumes'>): string[] {
  const abs = (p: string) => `/${p.replace(/^\/+|\/+$/g, '')}`;
  const within = (p: string, root: string) => p === root || p.startsWith(`${root}/`);
  const skeleton = entries.map((e) => ({ path: abs(e.path), folder: e.content === undefined }));
  const fresh = (input.volumes ?? []).map(abs);
  const given = [...(input.mounts ?? []).map((m) => abs(m.target)), ...(input.namedVolumes ?? []).map((v) => abs(v.target))];
  return collect.filter((c) => {
    const p = abs(c);
    return (
      skeleton.some((e) => e.folder && e.path === p) &&
      !skeleton.some((e) => e.path !== p && within(e.path, p)) &&
      fresh.some((v) => within(p, v)) &&
      !fresh.some((v) => v !== p && within(v, p)) &&
      !given.some((m) => within(m, p) || within(p, m))
    );
  });
}

/** What the cluster needs to know of a host: its name on the job network and its instance type. */
export interface ClusterHost {
  name: string;
  instanceType: string;
}

/** One job's side of the engine: who owns what it creates, and what the platform collects from its hosts. */
export interface ClusterSetup {
  /** The engine, the log and who owns what is created. */
  deps: Pick<JobDeps, 'docker' | 'log' | 'owner'>;
  engineInfo: EngineInfo;
  /** `training`, `processing`: in labels and resource names, so `prune` finds leftovers. */
  jobType: string;
  jobName: string;
  image: string;
  /** EnableNetworkIsolation: a job network with no route out. */
  isolated: boolean;
  /** Leave containers, volumes and the network in place (for debugging). */
  keep: boolean;
  /** Folders read back from a host as soon as it exits: what the platform uploads (/opt/ml/model, processing outputs). */
  collect: readonly string[];
  /** Escape hatches over the instance type: GPUs to request (`all` or a count), and a /dev/shm size in bytes. */
  escapes?: { gpus?: number | 'all'; shmSizeBytes?: number };
  /** Says something once (a limit that cannot be applied); the job kind keeps it among its notices. */
  warnOnce: (message: string) => void;
}

/** The container fields a job kind decides; the cluster adds the name, the job's labels, the image and the instance limits. */
export type HostContainerInput = Omit<ContainerInput, 'name' | 'labels' | 'image' | 'resources'>;

/** CPU, memory and /dev/shm of an instance type (CONTRACT §3.13), GPUs when the engine can give them, then the escape hatches. */
export function instanceLimits(instanceType: string, setup: Pick<ClusterSetup, 'engineInfo' | 'warnOnce' | 'escapes'>): ContainerInput['resources'] {
  const { engineInfo, warnOnce } = setup;
  const limits = containerLimits(instanceType, { cpus: engineInfo.cpus, memoryBytes: engineInfo.memTotalBytes });
  if (!limits) warnOnce(`${instanceType} is not in sm-local's instance table; the container runs without CPU and memory limits.`);
  for (const n of limits?.notes ?? []) warnOnce(n);
  let gpus = 0;
  const escapes = setup.escapes ?? {};
  if (escapes.gpus !== undefined) gpus = escapes.gpus === 'all' ? -1 : escapes.gpus;
  else if (limits && limits.gpus > 0) {
    if (engineInfo.runtimes.includes('nvidia')) gpus = limits.gpus;
    else {
      warnOnce(
        `${instanceType} has ${limits.gpus} GPU${limits.gpus > 1 ? 's' : ''}, but the engine has no NVIDIA runtime: the container runs without GPUs. Pass --gpus all if the engine can give GPUs another way.`,
      );
    }
  }
  const shmBytes = escapes.shmSizeBytes ?? limits?.shmBytes;
  return {
    ...(limits ? { nanoCpus: limits.nanoCpus, memoryBytes: limits.memoryBytes } : {}),
    ...(shmBytes ? { shmBytes } : {}),
    ...(gpus ? { gpus } : {}),
  };
}

/**
 * The multi-host core as a job's owner of engine resources: the job network (created while the
 * containers are filled, joined before the start), one container per host with its instance type's
 * limits, volumes, the archives collected from each host as it exits, and their removal, whatever
 * the outcome (unless `keep`). A job kind gives it the hosts and the containers' content, and keeps
 * only what is its own (channels, configs, uploads).
 */
export class JobCluster<H extends ClusterHost> {
  /** Ties every resource of one run together (a job name may be reused once a job has ended). */
  readonly suffix = randomBytes(3).toString('hex');
  readonly labels: Record<string, string>;
  /** The job's network: its own internal one with network isolation, else the shared job network. */
  readonly networkName: string;
  private readonly containers = new Map<H, EngineContainer>();
  /** What each host's container was created with (its mounts and volumes). */
  private readonly inputs = new Map<H, HostContainerInput>();
  /** The modification time of every skeleton entry, and the collected folders each host was given empty with it. */
  private readonly stamp = newFolderStamp();
  private readonly givenEmpty = new Map<H, Set<string>>();
  private readonly archives = new Map<H, Map<string, Promise<Readable | undefined>>>();
  private readonly volumes: EngineVolume[] = [];
  /** With network isolation: the job's own network, created while the containers are filled. */
  private readonly creatingNetwork?: Promise<EngineNetwork>;
  private network?: EngineNetwork;
  /** Without it: the shared job network (job-network.ts), found or made from the start, beside the job's other preparations. */
  private readonly shared?: Promise<{ name: string; subnet: string }>;
  /** Gives the hosts' addresses back once their containers are gone. */
  private releaseAddresses?: () => void;

  constructor(
    private readonly setup: ClusterSetup,
    readonly hosts: readonly H[],
    scope: ResourceScope,
  ) {
    this.labels = ownerLabels(setup.deps.owner, setup.jobType, setup.jobName);
    if (setup.isolated) {
      this.networkName = this.resourceName();
      // The network is created while the containers are created and filled; they join it before the start.
      this.creatingNetwork = setup.deps.docker.createNetwork({ name: this.networkName, labels: this.labels, isolated: true });
      this.creatingNetwork.catch(() => {});
    } else {
      this.networkName = SHARED_JOB_NETWORK;
      this.shared = sharedJobNetwork(setup.deps.docker);
      this.shared.catch(() => {});
    }
    if (!setup.keep) {
      // One step, so the containers (which use the network and the volumes) always go first.
      scope.defer(this.creatingNetwork ? `containers, volumes and network ${this.networkName}` : 'containers and volumes', async () => {
        await eachHost([...this.containers.values()], (c) => c.remove());
        this.releaseAddresses?.();
        await Promise.all(this.volumes.map((v) => v.remove()));
        if (this.creatingNetwork) {
          this.network ??= await this.creatingNetwork.catch(() => undefined);
          await this.network?.remove();
        }
      });
    }
    // Runs before the containers go (cleanup is last in, first out): no archive stream is left open.
    scope.defer('archive streams', () => this.dropArchives());
  }

  /**
   * Where each host is on the shared network: a free address apiece, and the `/etc/hosts` lines that
   * name every host of the job, the same in every container.
   */
  private async placement(): Promise<{ network: string; addresses: Map<H, string>; extraHosts: string[] } | undefined> {
    if (!this.shared) return undefined;
    const lease = await leaseAddresses(this.setup.deps.docker, this.hosts.length);
    this.releaseAddresses = lease.release;
    const addresses = new Map(this.hosts.map((h, i) => [h, lease.addresses[i]!] as const));
    return { network: lease.network, addresses, extraHosts: this.hosts.map((h) => `${h.name}:${addresses.get(h)}`) };
  }

  /** `sm-local-<job type>-<job name>[-<part>]-<suffix>`. */
  resourceName(part?: string): string {
    return resourceName(this.setup.jobType, this.setup.jobName, part ? `${part}-${this.suffix}` : this.suffix);
  }

  /** CPU, memory and /dev/shm of an instance type (CONTRACT §3.13), GPUs when the engine can give them, then the escape hatches. */
  resourcesFor(instanceType: string): ContainerInput['resources'] {
    return instanceLimits(instanceType, this.setup);
  }

  /**
   * Creates every host's container side by side, each named after its host, labelled as the job's,
   * and limited as its instance type; all settle before this returns, so cleanup sees every container.
   */
  async createContainers(inputOf: (host: H, resources: ContainerInput['resources']) => HostContainerInput, note = ''): Promise<void> {
    const placed = await this.placement();
    await eachHost(this.hosts, async (host) => {
      const resources = this.resourcesFor(host.instanceType);
      const input = inputOf(host, resources);
      this.inputs.set(host, input);
      const container = await this.setup.deps.docker.createContainer({
        name: this.resourceName(host.name),
        image: this.setup.image,
        labels: { ...this.labels, [LABEL.role]: host.name },
        resources,
        ...input,
        ...(placed ? { network: { name: placed.network, aliases: [], ipv4Address: placed.addresses.get(host)! }, extraHosts: placed.extraHosts } : {}),
      });
      this.containers.set(host, container);
      this.setup.deps.log.info(`Created container ${container.shortId} (${this.setup.image}) as ${host.name}${note}…`);
    });
  }

  /** The host's container; only after `createContainers`. */
  container(host: H): EngineContainer {
    const c = this.containers.get(host);
    if (!c) throw new Error(`no container for ${host.name}`);
    return c;
  }

  /** Whether the host's container exists (a failed creation leaves some without). */
  hasContainer(host: H): boolean {
    return this.containers.has(host);
  }

  /**
   * A named volume of this job holding `tar`, for hosts to mount read-only: filled through a
   * container of the job's image that is never started, so it works with any engine.
   */
  async filledVolume(part: string, tar: Readable): Promise<string> {
    const name = this.resourceName(part);
    this.volumes.push(await this.setup.deps.docker.createVolume(name, this.labels));
    const filler = await this.setup.deps.docker.createContainer({ name: `${name}-fill`, image: this.setup.image, cmd: ['fill'], env: [], labels: this.labels, namedVolumes: [{ name, target: '/fill' }] });
    try {
      await filler.putArchive(tar, '/fill');
    } finally {
      await filler.remove();
    }
    return name;
  }

  /**
   * With network isolation, puts every host on the job's own network under its host name (`algo-1`),
   * once the network exists. On the shared network they are there from their creation.
   */
  async connect(): Promise<void> {
    if (!this.creatingNetwork) return;
    this.network = await this.creatingNetwork;
    await eachHost(this.hosts, (host) => this.container(host).moveToNetwork(this.networkName, [host.name]));
  }

  /**
   * Starts every host and waits for all to exit (`runCluster`); the collected folders of each host are
   * requested as it exits, unless the run was forced.
   */
  run(run: Omit<ClusterRun<H>, 'hosts' | 'containerOf'>): Promise<ClusterOutcome<H>> {
    let stopping: { cause: StopCause; failed?: H } | undefined;
    const grace = `SIGKILL in ${run.graceMs / 1000} s`;
    return runCluster({
      ...run,
      hosts: this.hosts,
      containerOf: (host) => this.container(host),
      onStopping: (cause, failed) => {
        stopping = { cause, ...(failed ? { failed } : {}) };
        run.onStopping?.(cause, failed);
      },
      // Said once, by the first host, when the stop reaches it still running.
      onHostStopping: (host) => {
        if (host === this.hosts[0] && stopping) {
          this.setup.deps.log.info(
            stopping.cause === 'timeout'
              ? `MaxRuntimeInSeconds (${run.maxRuntimeMs / 1000} s) reached: sending SIGTERM, ${grace}.`
              : stopping.cause === 'failed'
                ? `${stopping.failed?.name} failed: stopping the other hosts (SIGTERM, ${grace}).`
                : `Stopping: sending SIGTERM, ${grace}.`,
          );
        }
        run.onHostStopping?.(host);
      },
      onExit: (host, exit) => {
        if (!run.force?.aborted) this.collected(host);
        run.onExit?.(host, exit);
      },
    });
  }

  /**
   * A host's `/opt/ml` skeleton (config files and empty areas) for `putArchive` at `/`, every entry
   * stamped, so that a collected folder it gives empty is known to be still empty after the exit
   * without reading it (see `collected`).
   */
  skeleton(host: H, entries: readonly SkeletonEntry[]): Readable {
    this.givenEmpty.set(host, new Set(foldersGivenEmpty(this.setup.collect, entries, this.inputs.get(host) ?? {})));
    return skeletonTar(entries, this.stamp);
  }

  /** The archive of a collected folder of an exited host, requested once; the stream waits, paused, until read. */
  archive(host: H, path: string): Promise<Readable | undefined> {
    const archive = this.collected(host).get(path);
    if (!archive) throw new Error(`${path} is not collected`);
    return archive;
  }

  private collected(host: H): Map<string, Promise<Readable | undefined>> {
    let archives = this.archives.get(host);
    if (!archives) {
      const container = this.container(host);
      // Docker Engine is the engine the stamp's round trip (PAX time in, stat time out) is tested on.
      const empty = this.setup.engineInfo.product === 'docker' ? this.givenEmpty.get(host) : undefined;
      archives = new Map(this.setup.collect.map((path) => [path, empty?.has(path) ? this.readUnlessUntouched(container, path) : container.getArchive(path)]));
      for (const archive of archives.values()) archive.catch(() => {});
      this.archives.set(host, archives);
    }
    return archives;
  }

  /**
   * A folder given empty: when it still carries the skeleton's stamp, nothing was created, removed or
   * renamed in it (folder-stamp.ts), and its archive is the empty folder's, made here instead of read
   * through the engine (a process start there, ≈60 ms). Anything else is read.
   */
  private async readUnlessUntouched(container: EngineContainer, path: string): Promise<Readable | undefined> {
    const stat = await container.statPath(path).catch(() => undefined);
    if (stat?.type === 'directory' && isStamp(stat.mtime, this.stamp)) return emptyFolderTar(posix.basename(path));
    return container.getArchive(path);
  }

  /** Releases archives that were requested but not read (a forced stop skips the upload). */
  private async dropArchives(): Promise<void> {
    for (const archives of this.archives.values()) {
      for (const archive of archives.values()) (await archive.catch(() => undefined))?.destroy();
    }
  }

  /** Once the hosts have exited the network is no longer needed; removing it (a slow engine call) overlaps the uploads. */
  releaseNetwork(): void {
    if (!this.setup.keep && this.creatingNetwork) void this.network?.remove().catch(() => {});
  }

  /** What each host's container added, changed or deleted in its own layer. */
  async changes(): Promise<(ContainerChange & { host: string })[]> {
    return (await Promise.all(this.hosts.map(async (h) => (await this.container(h).changes()).map((c) => ({ host: h.name, ...c }))))).flat();
  }

  /** The network of this job alone (with network isolation), which `keep` leaves; none on the shared network. */
  get ownNetwork(): string | undefined {
    return this.creatingNetwork ? this.networkName : undefined;
  }

  /** What `keep` left, and how to look inside. */
  keptNote(): string {
    const ids = this.hosts.filter((h) => this.containers.has(h)).map((h) => this.container(h).shortId);
    return `Kept ${ids.map((id) => `container ${id}`).join(', ')}${this.creatingNetwork ? ` and network ${this.networkName}` : ''} (--keep). Inspect with: docker cp ${ids[0]}:/opt/ml ./opt-ml`;
  }

  /** The containers that exist, in host order (what `keep` leaves). */
  containerIds(): string[] {
    return this.hosts.flatMap((h) => (this.containers.has(h) ? [this.containers.get(h)!.id] : []));
  }
}
