import { randomBytes } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerClient } from '../docker/client.js';
import type { ContainerEngine } from '../docker/engine.js';
import type { Owner } from '../docker/labels.js';
import { silentLogger, type LineHandler, type Logger } from '../log.js';

/** What a job runner needs from the outside world. Library callers may pass any subset. */
export interface JobDeps {
  /** The container engine: the Docker Engine API by default, any ContainerEngine (a MemoryEngine in unit tests). */
  docker: ContainerEngine;
  log: Logger;
  /** Container output, one line at a time, with the host that printed it. */
  onLine?: LineHandler;
  owner: Owner;
  /** Parent folder of job workspaces. */
  tmpRoot: string;
  /** Relative paths in a spec are resolved against this. */
  cwd: string;
  /** Aborting stops the job the way StopTrainingJob does (SIGTERM, grace, SIGKILL). */
  stop?: AbortSignal;
  /** Aborting kills the container at once and skips packaging. */
  force?: AbortSignal;
  now: () => number;
}

export function newSessionId(): string {
  return randomBytes(6).toString('hex');
}

export function defaultTmpRoot(): string {
  return join(tmpdir(), 'sm-local');
}

export function resolveJobDeps(partial: Partial<JobDeps> = {}): JobDeps {
  const log = partial.log ?? silentLogger;
  return {
    docker: partial.docker ?? new DockerClient(undefined, log),
    log,
    ...(partial.onLine ? { onLine: partial.onLine } : {}),
    owner: partial.owner ?? { session: newSessionId(), pid: process.pid, hostname: hostname() },
    tmpRoot: partial.tmpRoot ?? defaultTmpRoot(),
    cwd: partial.cwd ?? process.cwd(),
    ...(partial.stop ? { stop: partial.stop } : {}),
    ...(partial.force ? { force: partial.force } : {}),
    now: partial.now ?? Date.now,
  };
}
