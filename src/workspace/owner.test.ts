import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../log.js';
import { listWorkspaces, removeTree, writeOwnerMarker } from './owner.js';

describe('workspace owners', () => {
  it('lists only folders with an owner marker', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sm-local-ws-'));
    mkdirSync(join(root, 'ours'));
    mkdirSync(join(root, 'theirs'));
    await writeOwnerMarker(join(root, 'ours'), { session: 's', pid: 1, hostname: 'h', jobName: 'j', jobType: 'serving' });
    const found = await listWorkspaces(root);
    expect(found.map((w) => [w.path, w.marker.session, w.marker.jobName])).toEqual([[join(root, 'ours'), 's', 'j']]);
    expect(await listWorkspaces(join(root, 'missing'))).toEqual([]);
  });

  it('removes a tree, and turns a failure into a warning with the fix', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sm-local-rm-'));
    writeFileSync(join(root, 'f'), 'x');
    const log = createMemoryLogger();
    expect(await removeTree(root, log)).toBe(true);
    expect(existsSync(root)).toBe(false);
    // sysfs refuses unlink even to root (EPERM): the stand-in for root-owned files a container left.
    expect(await removeTree('/sys/kernel/uevent_seqnum', log)).toBe(false);
    expect(log.messages).toEqual([{ level: 'warn', message: expect.stringMatching(/^Could not remove \/sys\/kernel\/uevent_seqnum \((EPERM|EACCES)\).*sudo rm -rf \/sys\/kernel\/uevent_seqnum$/) }]);
  });
});
