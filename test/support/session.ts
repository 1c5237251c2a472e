import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, inject } from 'vitest';
import Docker from 'dockerode';
import { DockerClient } from '../../src/docker/client.js';
import { LABEL } from '../../src/docker/labels.js';
import type { JobDeps } from '../../src/jobs/deps.js';
import { pruneResources } from '../../src/jobs/prune.js';
import { createMemoryLogger, silentLogger } from '../../src/log.js';

export const dockerUnavailable = (): string => inject('dockerUnavailable');

/**
 * A test file's own sm-local session: its label on everything the tests create, temp folders, and
 * an afterAll that fails the file if any container, network or volume with that label is left, or
 * any workspace.
 */
export function useTestSession() {
  const session = `test-${randomBytes(4).toString('hex')}`;
  const owner = { session, pid: process.pid, hostname: hostname() };
  const docker = new DockerClient();
  const root = mkdtempSync(join(tmpdir(), 'sm-local-test-'));
  const tmpRoot = join(root, 'workspaces');

  afterAll(async () => {
    if (dockerUnavailable()) return;
    const left = await docker.listManaged([`${LABEL.session}=${session}`]);
    let workspaces: string[] = [];
    try {
      workspaces = readdirSync(tmpRoot);
    } catch {
      // never created: nothing left
    }
    await pruneResources({ docker, log: silentLogger, tmpRoot, session });
    await rm(root, { recursive: true, force: true });
    expect(left.map((r) => `${r.kind} ${r.name}`), 'containers, networks or volumes left behind').toEqual([]);
    expect(workspaces, 'workspaces left behind').toEqual([]);
  });

  return {
    session,
    owner,
    docker,
    /** The Engine API itself, for tests that look at what sm-local cannot show them. */
    dockerode: new Docker(),
    root,
    tmpRoot,
    /** A fresh folder under the session root, removed with it. */
    dir(prefix = 'out'): string {
      return mkdtempSync(join(root, `${prefix}-`));
    },
    /** Job deps with this session's owner, a memory logger and collected output lines. */
    deps(extra: Partial<JobDeps> = {}) {
      const log = createMemoryLogger();
      const lines: { line: string; source: string }[] = [];
      const deps: Partial<JobDeps> = { docker, owner, tmpRoot, log, onLine: (line, source) => lines.push({ line, source }), ...extra };
      return { deps, log, lines };
    },
  };
}
