/**
 * What every job kind does around its containers the same way: the stop and force a handle owns, the
 * `--platform` escape hatch, one log per host in the job folder, a private workspace on this machine,
 * notices said once, and the hint for a host that failed.
 */
import { engineProfile, untestedWarning } from '../docker/engine-profile.js';
import type { WriteStream } from 'node:fs';
import { access, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { instanceResources } from '../contract/instance-types.js';
import type { EngineInfo, ExitInfo, ImageInfo } from '../docker/engine.js';
import { ContainerStartError, InvalidSpecError, JobExistsError } from '../errors.js';
import type { SecretMasker } from '../log.js';
import { openJobLog } from '../workspace/job-folder.js';
import { removeTree, writeOwnerMarker } from '../workspace/owner.js';
import { explainStorageError, writingTo } from '../workspace/storage.js';
import type { JobDeps } from './deps.js';
import { ResourceScope } from './resource-scope.js';

/** A job that runs on after its start returned: its own stop and force, joined to the caller's signals. */
export function ownSignals(given: JobDeps): { deps: JobDeps; stop: () => void; force: () => void } {
  const stopper = new AbortController();
  const forcer = new AbortController();
  return {
    deps: {
      ...given,
      stop: given.stop ? AbortSignal.any([stopper.signal, given.stop]) : stopper.signal,
      force: given.force ? AbortSignal.any([forcer.signal, given.force]) : forcer.signal,
    },
    stop: () => stopper.abort(),
    force: () => {
      stopper.abort();
      forcer.abort();
    },
  };
}

/**
 * What every job needs from the engine and the disk before it starts, checked in this order: a job
 * folder that does not exist yet (job names are unique), the image in the engine, `--platform`, and
 * the engine's facts. Also the warning for bind mounts on an engine that looks remote.
 */
export async function prepareJob(
  deps: JobDeps,
  job: { jobName: string; jobKind: string; image: string; outputDir?: string; platform?: string; transfer: 'mount' | 'copy' },
): Promise<{ jobDir: string; image: ImageInfo; engine: EngineInfo; warnings: string[] }> {
  const jobDir = join(resolve(deps.cwd, job.outputDir ?? 'sm-local-output'), job.jobName);
  if (await access(jobDir).then(() => true, () => false)) throw new JobExistsError(job.jobName, jobDir, job.jobKind);
  // No ping first: an engine that does not answer fails these calls with DockerUnavailableError too.
  const [image, engine] = await Promise.all([deps.docker.requireLocalImage(job.image), deps.docker.info()]);
  requirePlatform(image, job.image, job.platform);
  const warnings =
    job.transfer === 'mount' && deps.docker.remote
      ? [`The engine at ${deps.docker.endpoint} looks remote; bind mounts name paths on the engine's machine. Use --transfer copy if the job sees empty folders.`]
      : [];
  const untested = untestedWarning(engineProfile(engine));
  if (untested) warnings.push(untested);
  return { jobDir, image, engine, warnings };
}

/** `--platform`: the image must be built for it, as the engine would refuse it otherwise. */
export function requirePlatform(image: Pick<ImageInfo, 'os' | 'architecture'>, ref: string, platform: string | undefined): void {
  if (!platform) return;
  const [os, arch] = platform.split('/');
  if (os !== image.os || arch !== image.architecture) {
    throw new InvalidSpecError([{ path: '--platform', message: `${ref} is built for ${image.os}/${image.architecture}, not ${platform}; rebuild it with --platform ${platform}, or drop --platform.` }]);
  }
}

/** One host's log file in the job folder. A failed write (a full or vanished disk) is kept, not thrown. */
export interface HostLog {
  logFile: string;
  log: WriteStream;
  /** The first write error of the log file. */
  logError?: unknown;
}

/** Gives `host` its log file `<jobDir>/<hostName>.log`; a write error is recorded on `host` itself. */
export function withHostLog<T extends object>(host: T, jobDir: string, hostName: string): T & HostLog {
  const logFile = join(jobDir, `${hostName}.log`);
  const withLog = Object.assign(host, { logFile, log: openJobLog(logFile) }) as T & HostLog;
  // Without a listener a failed write (disk full) would end the process with no cleanup.
  withLog.log.on('error', (err) => (withLog.logError ??= err));
  return withLog;
}

/** Ends every host's log, once all it was given is written. */
export async function endHostLogs(hosts: readonly HostLog[]): Promise<void> {
  await Promise.all(hosts.map((h) => new Promise<void>((r) => h.log.end(() => r()))));
}

/** After `endHostLogs`: a log that could not be written is the job's storage error (thrown once the job record is out). */
export async function throwIfLogFailed(hosts: readonly HostLog[]): Promise<void> {
  const unwritten = hosts.find((h) => h.logError);
  if (unwritten) throw (await explainStorageError(unwritten.logError, unwritten.logFile)) ?? unwritten.logError;
}

/**
 * A job's work in a resource scope of its own, disposed whatever happens. The engine refusing to exec
 * the program is, as on SageMaker, the job's own failure: `onStartError` records it and the job is
 * judged as usual. Any other error (the engine gone, a full disk) ends the job: `onEnvironmentError`
 * writes the job record if it can, and the error is rethrown as the one that ended the job.
 */
export async function runJobWork(
  log: JobDeps['log'],
  work: (scope: ResourceScope) => Promise<void>,
  handlers: { onStartError: (err: ContainerStartError) => void; onEnvironmentError: (err: unknown) => Promise<unknown> },
): Promise<void> {
  try {
    const scope = new ResourceScope(log);
    try {
      await work(scope);
    } finally {
      await scope.dispose();
    }
  } catch (err) {
    if (!(err instanceof ContainerStartError)) {
      await handlers.onEnvironmentError(err).catch((e: unknown) => log.warn(`The job record could not be written: ${(e as Error).message}`));
      throw err;
    }
    handlers.onStartError(err);
  }
}

/**
 * The engine could not exec the program (`exec: "train": executable file not found`): on SageMaker
 * that is a failed job whose log shows the error, so the host gets it as its output and its exit.
 */
export function recordStartFailure(host: HostLog & { name: string; exit?: ExitInfo }, err: ContainerStartError, masker: SecretMasker, deps: Pick<JobDeps, 'onLine'>): void {
  host.log.write(`${masker.mask(err.detail)}\n`);
  deps.onLine?.(err.detail, host.name);
  host.exit = { exitCode: err.containerExitCode, oomKilled: false, killed: false, tail: [err.detail] };
}

/**
 * How the hosts ended, for `SmLocal` in describe.json: the deciding host's exit (the failed one, else
 * the first), and with several hosts each one's and which failed.
 */
export function hostsRecord<H extends { name: string; exit?: ExitInfo }>(hosts: readonly H[], failed: H | undefined, extra: (host: H) => Record<string, unknown> = () => ({})): Record<string, unknown> {
  const exitOf = (h: H) => (h.exit ? { ExitCode: h.exit.exitCode, OomKilled: h.exit.oomKilled, Killed: h.exit.killed } : {});
  const decisive = failed ?? hosts[0]!;
  return {
    ...exitOf(decisive),
    ...(hosts.length > 1 ? { Hosts: hosts.map((h) => ({ Host: h.name, ...extra(h), ...exitOf(h) })) } : {}),
    ...(failed && hosts.length > 1 ? { FailedHost: failed.name } : {}),
  };
}

/** Says each notice once, to the log and into the job's notices (describe.json). */
export class OnceNotices {
  private readonly said = new Set<string>();

  constructor(
    readonly notices: string[],
    private readonly log: JobDeps['log'],
  ) {}

  warn(message: string): void {
    if (this.said.has(message)) return;
    this.said.add(message);
    this.notices.push(message);
    this.log.warn(message);
  }
}

/**
 * The hint under a failed job: the kernel's out-of-memory kill with the instance's memory, a program
 * the engine could not run (exit 126/127, with the job kind's start rule), or where the log is.
 */
export function failedHostHint(failed: (HostLog & { name: string; instanceType: string; exit?: ExitInfo }) | undefined, fallbackLog: string, kind: { program: string; notRunnable: string }): string {
  const exit = failed?.exit;
  if (exit?.oomKilled && failed) {
    const memory = instanceResources(failed.instanceType)?.memoryGiB;
    return `${failed.name} ran out of memory${memory ? `: ${failed.instanceType} has ${memory} GiB` : ''}, and the kernel killed the ${kind.program} (exit ${exit.exitCode}).`;
  }
  if (exit?.exitCode === 127 || exit?.exitCode === 126) return kind.notRunnable;
  return `The container log is in ${failed?.logFile ?? fallbackLog}.`;
}

/**
 * A private folder on this machine for a job's host-side files (Pipe FIFOs, an extracted model): only
 * this user may look inside, it carries an owner marker so `prune` finds it, and it is removed with
 * the scope unless `keep`.
 */
export async function createWorkspace(deps: JobDeps, scope: ResourceScope, opts: { name: string; jobName: string; jobType: string; keep?: boolean }): Promise<string> {
  const root = join(deps.tmpRoot, opts.name);
  await writingTo(root, async () => {
    await mkdir(deps.tmpRoot, { recursive: true });
    await mkdir(root, { mode: 0o700 });
  });
  if (!opts.keep) scope.defer(`workspace ${root}`, () => removeTree(root, deps.log));
  await writeOwnerMarker(root, { ...deps.owner, jobName: opts.jobName, jobType: opts.jobType });
  return root;
}
