/**
 * `sm-local ps`, `logs` and `exec`: the jobs and endpoints sm-local runs on this engine, found by
 * the labels on their containers (whoever started them: a `train` in another terminal, `sm-local
 * api`, a test), one row per job with its containers by role (`algo-1`, an endpoint's `primary`).
 */
import type { ContainerEngine, ManagedResource } from '../docker/engine.js';
import { LABEL } from '../docker/labels.js';
import { JobNotFoundError, UsageError } from '../errors.js';

export interface JobContainer {
  id: string;
  name: string;
  /** `algo-1`, `primary`, `<variant>/<instance>/<hostname>` (the container's name when it has no role label). */
  role: string;
  state: string;
  status: string;
  created: number;
}

export interface RunningJob {
  name: string;
  /** training, processing, transform, serving, check. */
  kind: string;
  /** running while any container runs; else the state they are in (exited: kept with --keep, or ending). */
  status: string;
  /** An endpoint's InvokeEndpoint URL. */
  url?: string;
  /** The first container's creation (ms since the epoch). */
  created: number;
  /** The sm-local process that started it. */
  session: string;
  pid: number;
  containers: JobContainer[];
}

/** Containers grouped into jobs: by kind, name and owning session; in the order they were created. */
export function groupJobs(rows: readonly ManagedResource[]): RunningJob[] {
  const jobs = new Map<string, RunningJob>();
  for (const r of rows) {
    if (r.kind !== 'container') continue;
    const kind = r.labels[LABEL.jobType] ?? 'unknown';
    const name = r.labels[LABEL.jobName] ?? r.name;
    const session = r.labels[LABEL.session] ?? '';
    const key = `${kind}\u0000${name}\u0000${session}`;
    let job = jobs.get(key);
    if (!job) {
      job = { name, kind, status: '', created: Infinity, session, pid: Number(r.labels[LABEL.pid] ?? 0), containers: [] };
      jobs.set(key, job);
    }
    const port = r.labels[LABEL.proxyPort];
    if (kind === 'serving' && port) job.url = `http://127.0.0.1:${port}/endpoints/${name}/invocations`;
    job.created = Math.min(job.created, r.created ?? Infinity);
    job.containers.push({ id: r.id, name: r.name, role: r.labels[LABEL.role] ?? r.name, state: r.state ?? 'unknown', status: r.status ?? r.state ?? '', created: r.created ?? 0 });
  }
  for (const job of jobs.values()) {
    job.containers.sort((a, b) => a.role.localeCompare(b.role, undefined, { numeric: true }));
    const states = new Set(job.containers.map((c) => c.state));
    job.status = states.has('running') ? 'running' : [...states].join('/');
  }
  return [...jobs.values()].sort((a, b) => a.created - b.created || a.name.localeCompare(b.name));
}

/** Every job and endpoint with a container on the engine. */
export async function listJobs(docker: ContainerEngine): Promise<RunningJob[]> {
  return groupJobs(await docker.listContainers([LABEL.managed]));
}

/** The job or endpoint `name` (of `kind`, when several kinds share the name). */
export async function findJob(docker: ContainerEngine, name: string, kind?: string): Promise<RunningJob> {
  const all = await listJobs(docker);
  const named = all.filter((j) => j.name === name && (kind === undefined || j.kind === kind));
  if (!named.length) {
    const known = [...new Set(all.map((j) => j.name))];
    throw new JobNotFoundError(`No job or endpoint named "${name}"${kind ? ` (of kind ${kind})` : ''} has a container on this engine${known.length ? ` (there are: ${known.slice(0, 8).join(', ')}${known.length > 8 ? ', …' : ''})` : ''}.`);
  }
  if (named.length > 1) {
    const kinds = [...new Set(named.map((j) => j.kind))];
    if (kinds.length > 1) throw new UsageError(`"${name}" names ${named.length} jobs: ${kinds.join(', ')}.`, `Say which with --kind ${kinds.join('|')}.`);
  }
  // Of one kind and name, the newest run (an old run kept with --keep stays behind it).
  return named.sort((a, b) => b.created - a.created)[0]!;
}

/** The container of `job` on `host` (a role, or its first part: `algo-2`, `AllTraffic/2`); by default the first one running. */
export function pickContainer(job: RunningJob, host?: string): JobContainer {
  if (host === undefined) {
    const first = job.containers.find((c) => c.state === 'running') ?? job.containers[0]!;
    return first;
  }
  const found = job.containers.find((c) => c.role === host) ?? job.containers.find((c) => c.role.startsWith(`${host}/`));
  if (!found) throw new JobNotFoundError(`${job.kind} ${job.name} has no container on host ${host}.`, `Its hosts: ${job.containers.map((c) => c.role).join(', ')}.`);
  return found;
}
