/** Labels on every container and network sm-local creates, so leftovers can be found and pruned. */
export const LABEL = {
  managed: 'sm-local.managed',
  session: 'sm-local.session',
  jobType: 'sm-local.job-type',
  jobName: 'sm-local.job-name',
  pid: 'sm-local.pid',
  host: 'sm-local.host',
  workspace: 'sm-local.workspace',
  /** A resource every job shares (the job network): it has no owner, and `prune --all` removes it once unused. */
  shared: 'sm-local.shared',
  /** Serving: the 127.0.0.1 port of the endpoint's proxy, so `sm-local invoke NAME` can find it. */
  proxyPort: 'sm-local.proxy-port',
  /** Which of a job's containers this is: its host (`algo-2`), an endpoint's `primary` or `<variant>/<instance>/<hostname>`. */
  role: 'sm-local.role',
} as const;

export interface Owner {
  /** One id per sm-local process (or per test file). */
  session: string;
  pid: number;
  /** The machine the owning process runs on; a pid means nothing on another machine. */
  hostname: string;
}

export function ownerLabels(owner: Owner, jobType: string, jobName: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.session]: owner.session,
    [LABEL.jobType]: jobType,
    [LABEL.jobName]: jobName,
    [LABEL.pid]: String(owner.pid),
    [LABEL.host]: owner.hostname,
    ...extra,
  };
}

/** `sm-local-<job-type>-<sanitised job name>-<suffix>`, within Docker's name rules. */
export function resourceName(jobType: string, jobName: string, suffix: string): string {
  const clean = jobName.toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').slice(0, 40).replace(/^[-.]+|[-.]+$/g, '');
  return `sm-local-${jobType}-${clean || 'job'}-${suffix}`;
}
