import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../log.js';

/** Who created a workspace; written next to it so `sm-local prune` can tell leftovers from live jobs. */
export interface WorkspaceOwner {
  session: string;
  pid: number;
  hostname: string;
}

export interface WorkspaceMarker extends WorkspaceOwner {
  jobName: string;
  jobType: string;
  createdAt?: string;
}

export const OWNER_MARKER = '.sm-local-owner.json';

export async function writeOwnerMarker(dir: string, marker: WorkspaceMarker): Promise<void> {
  await writeFile(join(dir, OWNER_MARKER), `${JSON.stringify({ ...marker, createdAt: new Date().toISOString() }, null, 2)}\n`);
}

/**
 * `rm -rf`, never throwing: a failure (typically root-owned files a container wrote into a bind
 * mount while sm-local runs unprivileged) is a warning with the path and the command that fixes it.
 */
export async function removeTree(path: string, log: Logger): Promise<boolean> {
  try {
    await rm(path, { recursive: true, force: true, maxRetries: 2 });
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    log.warn(`Could not remove ${path} (${code}); files the container created as root can block this. Remove it with: sudo rm -rf ${path}`);
    return false;
  }
}

/** Workspaces under `tmpRoot` with their owner markers (folders without one are not sm-local's). */
export async function listWorkspaces(tmpRoot: string): Promise<{ path: string; marker: WorkspaceMarker }[]> {
  let names: string[];
  try {
    names = await readdir(tmpRoot);
  } catch {
    return [];
  }
  const found = await Promise.all(
    names.map(async (name) => {
      const path = join(tmpRoot, name);
      try {
        const marker = JSON.parse(await readFile(join(path, OWNER_MARKER), 'utf8')) as WorkspaceMarker;
        return { path, marker };
      } catch {
        return undefined;
      }
    }),
  );
  return found.filter((w): w is { path: string; marker: WorkspaceMarker } => w !== undefined);
}
