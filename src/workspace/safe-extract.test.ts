import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statfsSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { StorageError } from '../errors.js';
import { SpaceGuard } from './disk-space.js';
import { resolveThroughLinks, safeExtract, UnsafeEntryError, type SafeExtractOptions } from './safe-extract.js';

type Entry = { name: string; type?: 'file' | 'directory' | 'symlink' | 'link' | 'character-device' | 'fifo'; body?: string; linkname?: string };

function tar(entries: Entry[]): Readable {
  const pack = tarStream.pack();
  for (const e of entries) {
    if (e.type && e.type !== 'file') pack.entry({ name: e.name, type: e.type, ...(e.linkname ? { linkname: e.linkname } : {}), ...(e.type === 'character-device' ? { devmajor: 1, devminor: 3 } : {}) });
    else pack.entry({ name: e.name }, e.body ?? '');
  }
  pack.finalize();
  return pack as unknown as Readable;
}

const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A workspace with the folder to extract into and a sibling that must stay untouched. */
function workspace() {
  const root = mkdtempSync(join(tmpdir(), 'sm-local-extract-'));
  made.push(root);
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(root, 'outside', 'secret.txt'), 'host secret');
  return { root, dest: join(root, 'ws', 'model'), outside: () => readdirSync(join(root, 'outside')).sort() };
}

const refuse: SafeExtractOptions = { links: 'inside', unsafe: 'refuse', what: 'the test archive' };
const keep: SafeExtractOptions = { links: 'any', unsafe: 'skip', what: 'the test archive' };

/** `d/l -> ..`, `d/l/l2 -> ..`, … : each link looks harmless alone, together they climb out. */
const chain = (depth: number): Entry[] => {
  const entries: Entry[] = [{ name: 'd/', type: 'directory' }];
  let at = 'd';
  for (let i = 1; i <= depth; i++) {
    at = `${at}/l${i}`;
    entries.push({ name: at, type: 'symlink', linkname: '..' });
  }
  return entries;
};

describe('safeExtract', () => {
  it('refuses a chain of symbolic links that climbs out, naming the entry, and leaves nothing', async () => {
    const w = workspace();
    const entries = [...chain(4), { name: 'd/l1/l2/l3/l4/PWNED.txt', body: 'pwned' }];
    const err = await safeExtract(tar(entries), w.dest, refuse).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafeEntryError);
    expect((err as Error).message).toBe('the entry "d/l1/l2" would be written through the symbolic link "d/l1"');
    expect(w.outside()).toEqual(['secret.txt']);
    expect(existsSync(join(w.root, 'PWNED.txt'))).toBe(false);
    expect(existsSync(w.dest)).toBe(false);
  });

  it('refuses a hard link through the chain to a host file', async () => {
    const w = workspace();
    const entries = [...chain(1), { name: 'stolen', type: 'link' as const, linkname: 'd/l1/../outside/secret.txt' }];
    const err = await safeExtract(tar(entries), w.dest, refuse).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/^the hard link "stolen" points (outside|at)/);
    expect(existsSync(w.dest)).toBe(false);
  });

  it('takes hard links only to regular files it already extracted', async () => {
    const w = workspace();
    const r = await safeExtract(
      tar([
        { name: 'a.bin', body: 'weights' },
        { name: 'copy.bin', type: 'link', linkname: 'a.bin' },
        { name: 'later', type: 'link', linkname: 'b.bin' },
        { name: 'b.bin', body: 'b' },
      ]),
      w.dest,
      keep,
    );
    expect(readFileSync(join(w.dest, 'copy.bin'), 'utf8')).toBe('weights');
    expect(r.skipped).toEqual([{ name: 'later', why: 'the hard link "later" points at "b.bin", which is not a file extracted before it' }]);
    expect(existsSync(join(w.dest, 'later'))).toBe(false);
  });

  it('replaces a link at an entry\'s own path instead of writing through it', async () => {
    const w = workspace();
    const r = await safeExtract(
      tar([
        { name: 'x', type: 'symlink', linkname: '../../outside/secret.txt' },
        { name: 'x', body: 'model bytes' },
      ]),
      w.dest,
      keep,
    );
    expect(r.skipped).toEqual([]);
    expect(lstatSync(join(w.dest, 'x')).isFile()).toBe(true);
    expect(readFileSync(join(w.root, 'outside', 'secret.txt'), 'utf8')).toBe('host secret');
  });

  it('never writes into a link that was already there before the extraction', async () => {
    const w = workspace();
    mkdirSync(w.dest, { recursive: true });
    symlinkSync(join(w.root, 'outside'), join(w.dest, 'sub'));
    const r = await safeExtract(tar([{ name: 'sub/new.txt', body: 'x' }, { name: 'ok.txt', body: 'y' }]), w.dest, keep);
    expect(r.skipped.map((s) => s.why)).toEqual(['the entry "sub/new.txt" would be written through the symbolic link "sub"']);
    expect(w.outside()).toEqual(['secret.txt']);
    expect(readFileSync(join(w.dest, 'ok.txt'), 'utf8')).toBe('y');
  });

  it('keeps links as links, absolute ones too, when what a container left is extracted', async () => {
    const w = workspace();
    const r = await safeExtract(
      tar([
        { name: 'model/m1/', type: 'directory' },
        { name: 'model/m1/weights.bin', body: 'w' },
        { name: 'model/latest', type: 'symlink', linkname: '/opt/ml/model/m1' },
      ]),
      w.dest,
      { ...keep, route: (n) => (n.startsWith('model/') ? n.slice(6) || null : null) },
    );
    expect(readlinkSync(join(w.dest, 'latest'))).toBe('/opt/ml/model/m1');
    expect(readFileSync(join(w.dest, 'm1', 'weights.bin'), 'utf8')).toBe('w');
    expect(r).toMatchObject({ files: 1, links: 1, skipped: [] });
  });

  it('refuses, in a model archive, a link that only leads out through other links', async () => {
    const w = workspace();
    // `x` spelled out stays inside (d/l1/../.. is ''), but d/l1 is itself a link to `..`.
    const err = await safeExtract(tar([{ name: 'x', type: 'symlink', linkname: 'd/l1/../..' }, ...chain(1)]), w.dest, refuse).catch((e: unknown) => e);
    expect((err as Error).message).toBe('the symbolic link "x" leads outside the folder through other links (d/l1/../..)');
  });

  it('never creates devices or FIFOs', async () => {
    const w = workspace();
    const r = await safeExtract(tar([{ name: 'null', type: 'character-device' }, { name: 'pipe', type: 'fifo' }, { name: 'f', body: '1' }]), w.dest, refuse);
    expect(r.skipped.map((s) => s.name)).toEqual(['null', 'pipe']);
    expect(readdirSync(w.dest)).toEqual(['f']);
  });
});

describe('resolveThroughLinks', () => {
  it('follows the links it knows, and says when the path leaves the folder', () => {
    const links = new Map([
      ['d/l', '..'],
      ['up', '../..'],
      ['abs', '/etc'],
      ['loop', 'loop'],
    ]);
    expect(resolveThroughLinks('d/l/m.bin', links)).toBe('m.bin');
    expect(resolveThroughLinks('d/l/..', links)).toBeUndefined();
    expect(resolveThroughLinks('up/x', links)).toBeUndefined();
    expect(resolveThroughLinks('abs/passwd', links)).toBeUndefined();
    expect(resolveThroughLinks('loop/x', links)).toBe('loop');
  });
});

describe('SpaceGuard', () => {
  it('stops before a write that would not leave the reserve free, naming the folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-local-space-'));
    made.push(dir);
    const fs = statfsSync(dir);
    const guard = new SpaceGuard(dir, 'the test archive');
    await expect(guard.expect(1024)).resolves.toBeUndefined();
    const err = await guard.expect(fs.bavail * fs.bsize).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ code: 'E_STORAGE', exitCode: 3, problem: 'full', path: dir });
    expect((err as Error).message).toMatch(/^Cannot write .*: not enough free space for the test archive: 0\.0 MiB written, .* more needed/);
  });
});
