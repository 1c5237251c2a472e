import { mkdir, mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InputPathError } from '../errors.js';
import { ignoredChange, watchPaths, type FileWatch } from './file-watch.js';

describe('ignoredChange', () => {
  it('leaves out caches and editor scratch files, not code', () => {
    for (const p of ['code/__pycache__/inference.cpython-311.pyc', 'code/x.pyc', '.git/index', 'code/.inference.py.swp', 'code/inference.py~', 'code/.#inference.py', 'code/4913']) expect(ignoredChange(p), p).toBe(true);
    for (const p of ['code/inference.py', 'model.pkl', 'code/requirements.txt']) expect(ignoredChange(p), p).toBe(false);
  });
});

describe('watchPaths', () => {
  let dir: string;
  let w: FileWatch | undefined;
  afterEach(async () => {
    w?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const nextChange = (paths: string[], cwd: string) =>
    new Promise<{ watch: Promise<FileWatch>; changed: Promise<string[]> }>((outer) => {
      let resolveChanged!: (c: string[]) => void;
      const changed = new Promise<string[]>((r) => (resolveChanged = r));
      outer({ watch: watchPaths(paths, { cwd, settleMs: 50, onChange: resolveChanged }), changed });
    });

  it('reports a burst of changes in a folder, nested ones too, once, relative to cwd', async () => {
    dir = await mkdtemp(join(tmpdir(), 'watch-'));
    await mkdir(join(dir, 'model', 'code'), { recursive: true });
    const { watch, changed } = await nextChange(['model'], dir);
    w = await watch;
    await writeFile(join(dir, 'model', 'code', 'inference.py'), 'x = 1\n');
    await writeFile(join(dir, 'model', 'code', 'inference.py.swp'), 'scratch');
    await writeFile(join(dir, 'model', 'weights.bin'), 'w');
    expect(await changed).toEqual(['model/code/inference.py', 'model/weights.bin']);
  });

  it('sees a file replaced by a rename, as editors save', async () => {
    dir = await mkdtemp(join(tmpdir(), 'watch-'));
    await writeFile(join(dir, 'serve.py'), 'a');
    await writeFile(join(dir, 'other.py'), 'b');
    const { watch, changed } = await nextChange(['serve.py'], dir);
    w = await watch;
    await writeFile(join(dir, 'other.py'), 'changed, but not watched');
    await writeFile(join(dir, 'serve.py.tmp'), 'new');
    await rename(join(dir, 'serve.py.tmp'), join(dir, 'serve.py'));
    expect(await changed).toEqual(['serve.py']);
  });

  it('refuses a path that does not exist, naming it', async () => {
    dir = await mkdtemp(join(tmpdir(), 'watch-'));
    await expect(watchPaths(['nope'], { cwd: dir, onChange: () => {} })).rejects.toThrow(InputPathError);
    await expect(watchPaths(['nope'], { cwd: dir, onChange: () => {} })).rejects.toThrow(/nope/);
  });
});
