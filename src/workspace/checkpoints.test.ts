import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { syncCheckpoints } from './checkpoints.js';

/** A tar shaped like the Engine's archive of /opt/ml/checkpoints: entries under `checkpoints/`. */
function engineArchive(files: Record<string, string>): () => Promise<Readable> {
  return async () => {
    const p = pack();
    p.entry({ name: 'checkpoints', type: 'directory' });
    for (const [name, text] of Object.entries(files)) p.entry({ name: `checkpoints/${name}` }, text);
    p.finalize();
    return Readable.from(p);
  };
}

describe('syncCheckpoints', () => {
  it('mirrors the container folder into the local one, deletions included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-local-ckpt-'));
    const dest = join(dir, 'ckpt');
    mkdirSync(dest);
    writeFileSync(join(dest, 'stale.pt'), 'old');
    const { entries: n } = await syncCheckpoints(dest, '/opt/ml/checkpoints', [engineArchive({ 'step.txt': '3', 'sub/model.pt': 'weights' })]);
    expect(n).toBeGreaterThanOrEqual(2);
    expect(readFileSync(join(dest, 'step.txt'), 'utf8')).toBe('3');
    expect(readFileSync(join(dest, 'sub', 'model.pt'), 'utf8')).toBe('weights');
    expect(existsSync(join(dest, 'stale.pt'))).toBe(false);
    // Nothing of the staging is left next to it.
    expect(readdirSync(dir)).toEqual(['ckpt']);
  });

  it('merges the hosts in order and creates the folder when missing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-local-ckpt-'));
    const dest = join(dir, 'deep', 'ckpt');
    await syncCheckpoints(dest, '/opt/ml/checkpoints', [engineArchive({ 'algo-1.pt': '1', 'shared.txt': 'from 1' }), engineArchive({ 'algo-2.pt': '2', 'shared.txt': 'from 2' }), async () => undefined]);
    expect(readdirSync(dest).sort()).toEqual(['algo-1.pt', 'algo-2.pt', 'shared.txt']);
    expect(readFileSync(join(dest, 'shared.txt'), 'utf8')).toBe('from 2');
  });

  it('names entries after the last component of a custom local path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-local-ckpt-'));
    const dest = join(dir, 'ckpt');
    const p = pack();
    p.entry({ name: 'state/step.txt' }, '9');
    p.finalize();
    await syncCheckpoints(dest, '/tmp/state', [async () => Readable.from(p)]);
    expect(readFileSync(join(dest, 'step.txt'), 'utf8')).toBe('9');
  });
});
