import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LABEL, ownerLabels } from '../docker/labels.js';
import { MemoryEngine } from '../docker/memory-engine.js';
import { silentLogger } from '../log.js';
import { sharedJobNetwork, SHARED_JOB_NETWORK } from './job-network.js';
import { pruneResources } from './prune.js';

describe('pruneResources and the shared job network', () => {
  const tmpRoot = mkdtempSync(join(tmpdir(), 'sm-local-prune-'));
  const gone = { session: 's-gone', pid: 999_999_999, hostname: 'here' };

  it("removes what a dead process left, keeps the shared job network for the next job and says so, and removes it too with --all", async () => {
    const engine = new MemoryEngine({});
    await sharedJobNetwork(engine);
    await engine.createNetwork({ name: 'sm-local-training-old-abc', labels: ownerLabels(gone, 'training', 'old') });
    const first = await pruneResources({ docker: engine, log: silentLogger, tmpRoot, hostname: 'here', isAlive: () => false });
    expect(first).toMatchObject({ networks: ['sm-local-training-old-abc'], shared: [SHARED_JOB_NETWORK], skipped: 0 });
    expect(await engine.inspectNetwork(SHARED_JOB_NETWORK)).toBeDefined();
    const all = await pruneResources({ docker: engine, log: silentLogger, tmpRoot, all: true });
    expect(all).toMatchObject({ networks: [SHARED_JOB_NETWORK], shared: [] });
    expect(await engine.inspectNetwork(SHARED_JOB_NETWORK)).toBeUndefined();
  });

  it('leaves the shared network out of a session prune (it belongs to no session)', async () => {
    const engine = new MemoryEngine({});
    await sharedJobNetwork(engine);
    const r = await pruneResources({ docker: engine, log: silentLogger, tmpRoot, session: 's-gone' });
    expect(r).toMatchObject({ networks: [], shared: [] });
    expect((await engine.inspectNetwork(SHARED_JOB_NETWORK))?.labels[LABEL.shared]).toBe('true');
  });
});
