import { createReadStream, mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { InvalidSpecError } from '../errors.js';
import { channelTar, packSourceDir, readHead, repackTarGz, skeletonTar, underPrefix } from './archive.js';

interface Entry {
  name: string;
  type: string;
  body: string;
  linkname?: string;
  uid?: number;
}

async function entries(stream: Readable): Promise<Entry[]> {
  const out: Entry[] = [];
  const ex = tarStream.extract();
  stream.pipe(ex);
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.push({ name: e.header.name, type: e.header.type ?? 'file', body: Buffer.concat(chunks).toString(), ...(e.header.linkname ? { linkname: e.header.linkname } : {}), uid: e.header.uid });
  }
  return out;
}

/** A tar shaped like `GET /containers/{id}/archive?path=/opt/ml/model`. */
function engineTar(files: { name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; body?: string; linkname?: string }[]): Readable {
  const pack = tarStream.pack();
  for (const f of files) {
    if (f.type === 'directory' || f.type === 'symlink' || f.type === 'link') pack.entry({ name: f.name, type: f.type, ...(f.linkname ? { linkname: f.linkname } : {}) });
    else pack.entry({ name: f.name }, f.body ?? '');
  }
  pack.finalize();
  return pack as unknown as Readable;
}

const tmp = () => mkdtempSync(join(tmpdir(), 'sm-local-archive-'));

describe('repackTarGz', () => {
  it('merges several hosts into one archive, in host order, and names the files more than one host wrote', async () => {
    const dest = join(tmp(), 'model.tar.gz');
    const result = await repackTarGz(
      [
        async () => engineTar([{ name: 'model/', type: 'directory' }, { name: 'model/algo-1.pt', body: '1' }, { name: 'model/config.json', body: 'from 1' }]),
        async () => undefined,
        async () => engineTar([{ name: 'model/', type: 'directory' }, { name: 'model/algo-3.pt', body: '3' }, { name: 'model/config.json', body: 'from 3' }]),
      ],
      dest,
      underPrefix('model/'),
    );
    const got = await entries(createReadStream(dest).pipe(createGunzip()));
    expect(got.map((e) => `${e.name}=${e.body}`)).toEqual(['algo-1.pt=1', 'config.json=from 1', 'algo-3.pt=3', 'config.json=from 3']);
    expect(result.clashes).toEqual(['config.json']);
  });

  it('writes model.tar.gz with paths relative to /opt/ml/model, no folder entry for the root', async () => {
    const dest = join(tmp(), 'model.tar.gz');
    const result = await repackTarGz(
      engineTar([
        { name: 'model/', type: 'directory' },
        { name: 'model/model.json', body: '{"w":1}' },
        { name: 'model/empty.txt', body: '' },
        { name: 'model/sub/', type: 'directory' },
        { name: 'model/sub/w.bin', body: 'x'.repeat(100_000) },
        { name: 'model/latest', type: 'symlink', linkname: 'sub/w.bin' },
        { name: 'model/hard', type: 'link', linkname: 'model/model.json' },
      ]),
      dest,
      underPrefix('model/'),
    );
    const got = await entries(createReadStream(dest).pipe(createGunzip()));
    expect(got.map((e) => [e.name, e.type])).toEqual([
      ['model.json', 'file'],
      ['empty.txt', 'file'],
      ['sub/', 'directory'],
      ['sub/w.bin', 'file'],
      ['latest', 'symlink'],
      ['hard', 'link'],
    ]);
    expect(got.find((e) => e.name === 'sub/w.bin')!.body).toHaveLength(100_000);
    expect(got.find((e) => e.name === 'latest')!.linkname).toBe('sub/w.bin');
    expect(got.find((e) => e.name === 'hard')!.linkname).toBe('model.json');
    expect(result.entries).toBe(6);
    expect(result.bytes).toBeGreaterThan(0);
  });

  it('keeps only output/data for output.tar.gz and hands output/failure to a reader', async () => {
    const dest = join(tmp(), 'output.tar.gz');
    let failure = '';
    await repackTarGz(
      engineTar([
        { name: 'output/', type: 'directory' },
        { name: 'output/failure', body: 'ValueError: boom' },
        { name: 'output/success', body: '' },
        { name: 'output/data/', type: 'directory' },
        { name: 'output/data/metrics.json', body: '{}' },
      ]),
      dest,
      (name) => (name === 'output/failure' ? async (body) => void (failure = await readHead(body, 4096)) : underPrefix('output/data/')(name)),
    );
    expect(failure).toBe('ValueError: boom');
    expect((await entries(createReadStream(dest).pipe(createGunzip()))).map((e) => e.name)).toEqual(['metrics.json']);
  });

  it('writes a valid empty archive when nothing is kept', async () => {
    const dest = join(tmp(), 'empty.tar.gz');
    expect((await repackTarGz(engineTar([{ name: 'model/', type: 'directory' }]), dest, underPrefix('model/'))).entries).toBe(0);
    expect(await entries(createReadStream(dest).pipe(createGunzip()))).toEqual([]);
  });
});

describe('readHead', () => {
  it('reads at most n bytes and drains the rest', async () => {
    expect(await readHead(Readable.from([Buffer.from('abc'), Buffer.from('defgh')]), 5)).toBe('abcde');
  });
});

describe('skeletonTar', () => {
  it('makes root-owned folders and files', async () => {
    const got = await entries(skeletonTar([{ path: 'opt/ml/input/config' }, { path: 'opt/ml/input/config/a.json', content: '{}\n' }]));
    expect(got).toEqual([
      { name: 'opt/ml/input/config/', type: 'directory', body: '', uid: 0 },
      { name: 'opt/ml/input/config/a.json', type: 'file', body: '{}\n', uid: 0 },
    ]);
  });
});

describe('channelTar', () => {
  it('packs a folder\'s contents (no root entry) as root, links included', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'part'));
    writeFileSync(join(dir, 'part', 'b.csv'), '1,2\n');
    writeFileSync(join(dir, 'a.csv'), '0,1\n');
    symlinkSync('a.csv', join(dir, 'link.csv'));
    const got = await entries(await channelTar(dir));
    expect(got.map((e) => e.name)).toEqual(['a.csv', 'link.csv', 'part', 'part/b.csv']);
    expect(got.every((e) => e.uid === 0)).toBe(true);
    expect(got.find((e) => e.name === 'part/b.csv')!.body).toBe('1,2\n');
  });

  it('packs a single file under its own name', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'only.csv'), 'x\n');
    writeFileSync(join(dir, 'other.csv'), 'y\n');
    expect((await entries(await channelTar(join(dir, 'only.csv')))).map((e) => e.name)).toEqual(['only.csv']);
  });
});

describe('packSourceDir', () => {
  const gunzipped = (buf: Buffer) => entries(Readable.from([buf]).pipe(createGunzip()) as unknown as Readable);

  it('follows links that stay inside the folder, as the SDK packs with dereference=True', async () => {
    const src = mkdtempSync(join(tmpdir(), 'sm-local-src-'));
    mkdirSync(join(src, 'lib'));
    writeFileSync(join(src, 'lib', 'util.py'), 'X = 1\n');
    writeFileSync(join(src, 'train.py'), 'import util\n');
    symlinkSync('lib/util.py', join(src, 'util.py'));
    const got = await gunzipped(await packSourceDir(src, false));
    expect(got.filter((e) => e.type === 'file').map((e) => [e.name, e.body]).sort()).toEqual([
      ['lib/util.py', 'X = 1\n'],
      ['train.py', 'import util\n'],
      ['util.py', 'X = 1\n'],
    ]);
  });

  it('refuses a link out of the folder, a dangling link and a loop, naming each; nothing is packed from outside', async () => {
    const base = mkdtempSync(join(tmpdir(), 'sm-local-src-'));
    const src = join(base, 'src');
    mkdirSync(join(src, 'sub'), { recursive: true });
    writeFileSync(join(base, 'credentials'), 'aws_secret_access_key = x');
    writeFileSync(join(src, 'train.py'), '');
    symlinkSync(join(base, 'credentials'), join(src, 'creds'));
    symlinkSync('nowhere', join(src, 'gone'));
    symlinkSync('..', join(src, 'sub', 'up'));
    const err = await packSourceDir(src, false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidSpecError);
    expect((err as InvalidSpecError).problems.map((p) => p.message)).toEqual([
      `"creds" is a symbolic link to ${join(base, 'credentials')}, outside ${src}: sm-local never packs files from outside the folder. Copy what it needs into the folder.`,
      '"gone" is a symbolic link to nothing (nowhere).',
      `"sub/up" is a symbolic link to a folder that contains it (${src}): packing it would never end.`,
    ]);
  });
});
