import { createWriteStream, existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { ModelArchiveError } from '../errors.js';
import { extractModelArchive, safeEntryPath, safeLinkTarget } from './model-archive.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'sm-local-model-'));

async function archive(entries: { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; body?: string; linkname?: string }[]): Promise<string> {
  const path = join(tmp(), 'model.tar.gz');
  const pack = tarStream.pack();
  for (const e of entries) {
    if (e.type && e.type !== 'file') pack.entry({ name: e.name, type: e.type, ...(e.linkname ? { linkname: e.linkname } : {}) });
    else pack.entry({ name: e.name, mode: 0o640 }, e.body ?? '');
  }
  pack.finalize();
  await pipeline(pack, createGzip(), createWriteStream(path));
  return path;
}

describe('safe paths', () => {
  it('keeps paths inside the model folder and refuses the rest', () => {
    expect(['model.json', './model.json', 'a/./b', 'a/../b', './'].map(safeEntryPath)).toEqual(['model.json', 'model.json', 'a/b', 'b', '']);
    expect(['../x', '/etc/passwd', 'a/../../x', 'C:\\x'].map(safeEntryPath)).toEqual([undefined, undefined, undefined, undefined]);
    expect(safeLinkTarget('code/link', '../model.json', false)).toBe('model.json');
    expect(safeLinkTarget('link', '../outside', false)).toBeUndefined();
    expect(safeLinkTarget('link', '/etc/passwd', false)).toBeUndefined();
    expect(safeLinkTarget('code/hard', 'model.json', true)).toBe('model.json');
  });
});

describe('extractModelArchive', () => {
  it('extracts files, folders and inside links, keeping modes', async () => {
    const dest = join(tmp(), 'model');
    const result = await extractModelArchive(
      await archive([
        { name: './', type: 'directory' },
        { name: './model.json', body: '{"w": [1, 2]}' },
        { name: './code/', type: 'directory' },
        { name: './code/inference.py', body: 'print(1)\n' },
        { name: './latest', type: 'symlink', linkname: 'model.json' },
        { name: './code/model-copy.json', type: 'link', linkname: './model.json' },
      ]),
      dest,
    );
    expect(result).toEqual({ files: 2, bytes: 22, skipped: [] });
    expect(readFileSync(join(dest, 'model.json'), 'utf8')).toBe('{"w": [1, 2]}');
    expect(lstatSync(join(dest, 'model.json')).mode & 0o777).toBe(0o640);
    expect(readlinkSync(join(dest, 'latest'))).toBe('model.json');
    expect(readFileSync(join(dest, 'code', 'model-copy.json'), 'utf8')).toBe('{"w": [1, 2]}');
  });

  it.each([
    ['a path that climbs out', [{ name: '../evil.sh', body: 'x' }], /entry "\.\.\/evil\.sh" would land outside the model folder/],
    ['an absolute path', [{ name: '/etc/cron.d/evil', body: 'x' }], /entry "\/etc\/cron\.d\/evil" would land outside/],
    ['a symbolic link out', [{ name: 'link', type: 'symlink' as const, linkname: '../../etc' }], /symbolic link "link" points outside the model folder/],
    ['a hard link out', [{ name: 'hard', type: 'link' as const, linkname: '../etc/passwd' }], /hard link "hard" points outside/],
  ])('refuses %s, with a clear error, writing nothing outside', async (_what, entries, message) => {
    const root = tmp();
    const err = await extractModelArchive(await archive(entries), join(root, 'model')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelArchiveError);
    expect((err as Error).message).toMatch(message);
    expect((err as ModelArchiveError).exitCode).toBe(2);
    expect(existsSync(join(root, 'evil.sh'))).toBe(false);
  });

  it('refuses a file that is not gzip, and a corrupt archive', async () => {
    const plain = join(tmp(), 'model.tar.gz');
    writeFileSync(plain, 'not a tarball at all');
    await expect(extractModelArchive(plain, join(tmp(), 'm'))).rejects.toThrow(/not gzip-compressed/);
    const good = readFileSync(await archive([{ name: 'model.json', body: 'x'.repeat(5000) }]));
    const cut = join(tmp(), 'model.tar.gz');
    writeFileSync(cut, good.subarray(0, good.length - 20));
    await expect(extractModelArchive(cut, join(tmp(), 'm'))).rejects.toThrow(/is not a valid tar\.gz/);
    await expect(extractModelArchive('/no/such/model.tar.gz', join(tmp(), 'm'))).rejects.toThrow(/does not exist/);
  });
});
