import { hostname as osHostname } from 'node:os';
import type { ContainerEngine, ManagedResource } from '../docker/engine.js';
import { LABEL } from '../docker/labels.js';
import type { Logger } from '../log.js';
import { listWorkspaces, removeTree } from '../workspace/owner.js';

export interface PruneOptions {
  docker: ContainerEngine;
  log: Logger;
  tmpRoot: string;
  /** Remove everything sm-local labelled, even what live processes own. */
  all?: boolean;
  /** Only one session's resources (tests use this). */
  session?: string;
  dryRun?: boolean;
  /** Defaults to this machine's name: pids of other machines cannot be checked. */
  hostname?: string;
  isAlive?: (pid: number) => boolean;
}

export interface PruneResult {
  containers: string[];
  networks: string[];
  /** Volumes a removed container did not take with it. */
  volumes: string[];
  workspaces: string[];
  /** Labelled resources left alone because their owner is alive or on another machine. */
  skipped: number;
  /** Shared resources kept for the next job (the job network); `all` removes them too. */
  shared: string[];
}

/** `kill(pid, 0)`: no error or EPERM means the process exists. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes containers, networks, volumes and workspaces that sm-local labelled and whose owning process
 * is gone (or, with `all`, every one of them). Containers go first so their networks and volumes are free.
 */
export async function pruneResources(opts: PruneOptions): Promise<PruneResult> {
  const host = opts.hostname ?? osHostname();
  const alive = opts.isAlive ?? isProcessAlive;
  const orphaned = (owner: { pid?: string | number; host?: string; session?: string }) => {
    if (opts.session !== undefined && owner.session !== opts.session) return false;
    if (opts.all || opts.session !== undefined) return true;
    return owner.host === host && !alive(Number(owner.pid));
  };

  const filters = [`${LABEL.managed}=true`, ...(opts.session ? [`${LABEL.session}=${opts.session}`] : [])];
  const resources = await opts.docker.listManaged(filters);
  const pick = (kind: ManagedResource['kind']) =>
    resources.filter((r) => r.kind === kind && orphaned({ pid: r.labels[LABEL.pid], host: r.labels[LABEL.host], session: r.labels[LABEL.session] }));
  const containers = pick('container');
  const isShared = (r: ManagedResource) => r.labels[LABEL.shared] === 'true';
  const networks = pick('network').filter((n) => opts.all || !isShared(n));
  const shared = resources.filter((r) => isShared(r) && !networks.includes(r)).map((r) => r.name);
  const volumes = pick('volume');
  const workspaces = (await listWorkspaces(opts.tmpRoot)).filter((w) => orphaned({ pid: w.marker.pid, host: w.marker.hostname, session: w.marker.session }));

  const result: PruneResult = {
    containers: containers.map((c) => c.name),
    networks: networks.map((n) => n.name),
    volumes: volumes.map((v) => v.name),
    workspaces: workspaces.map((w) => w.path),
    skipped: resources.length - containers.length - networks.length - volumes.length - shared.length,
    shared,
  };
  if (opts.dryRun) return result;

  for (const c of containers) await opts.docker.removeContainer(c.id);
  for (const n of networks) await opts.docker.removeNetwork(n.id);
  // Removing a container with its anonymous volumes usually took these already; 404 counts as done.
  for (const v of volumes) await opts.docker.removeVolume(v.name);
  for (const w of workspaces) await removeTree(w.path, opts.log);
  return result;
}
