import { Readable } from 'node:stream';
import { pack, extract } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { headerName, renamedEntry, rootedAt } from './archive-root.js';

type Entry = { name: string; body?: string; type?: 'file' | 'directory' | 'symlink' | 'link'; linkname?: string };

function archiveOf(entries: Entry[]): Readable {
  const p = pack();
  for (const e of entries) {
    const type = e.type ?? (e.name.endsWith('/') ? 'directory' : 'file');
    const header = { name: e.name, type, ...(e.linkname ? { linkname: e.linkname } : {}), mode: type === 'directory' ? 0o755 : 0o644 };
    if (type === 'file') p.entry(header, e.body ?? '');
    else p.entry(header);
  }
  p.finalize();
  return p as unknown as Readable;
}

async function listing(archive: Readable): Promise<string[]> {
  const out: string[] = [];
  const x = extract();
  x.on('entry', (h, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c) => chunks.push(c as Buffer));
    stream.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      out.push(`${h.name}${h.linkname ? ` -> ${h.linkname}` : ''}${body ? ` = ${body}` : ''}`);
      next();
    });
  });
  await new Promise<void>((resolve, reject) => {
    x.on('finish', resolve);
    x.on('error', reject);
    archive.on('error', reject);
    archive.pipe(x);
  });
  return out;
}

describe('rootedAt: every engine archive named as Docker Engine names it', () => {
  it('names a mount point given as "/" (Podman) after the folder asked for', async () => {
    const podman = archiveOf([{ name: '/' }, { name: '/model.pkl', body: 'weights' }, { name: '/sub/' }, { name: '/sub/z', body: 'z' }, { name: '/l', type: 'symlink', linkname: 'model.pkl' }]);
    expect(await listing(rootedAt(podman, '/opt/ml/model'))).toEqual(['model/', 'model/model.pkl = weights', 'model/sub/', 'model/sub/z = z', 'model/l -> model.pkl']);
  });

  it('gives directories their trailing slash (Podman names them without)', async () => {
    const podman = archiveOf([{ name: 'data', type: 'directory' }, { name: 'data/sub', type: 'directory' }, { name: 'data/sub/f', body: 'x' }]);
    expect(await listing(rootedAt(podman, '/opt/ml/output/data'))).toEqual(['data/', 'data/sub/', 'data/sub/f = x']);
  });

  it('names a followed symlink (Podman) after the path asked for', async () => {
    expect(await listing(rootedAt(archiveOf([{ name: 'target.txt', body: 'why' }]), '/opt/ml/output/failure'))).toEqual(['failure = why']);
  });

  it('renames hard-link targets with their entries', async () => {
    const podman = archiveOf([{ name: '/' }, { name: '/a', body: 'x' }, { name: '/b', type: 'link', linkname: '/a' }]);
    expect(await listing(rootedAt(podman, '/opt/ml/model/'))).toEqual(['model/', 'model/a = x', 'model/b -> model/a']);
  });

  it('passes a Docker-named archive through as it is', async () => {
    const docker = archiveOf([{ name: 'model/' }, { name: 'model/m', body: 'w' }]);
    expect(await listing(rootedAt(docker, '/opt/ml/model'))).toEqual(['model/', 'model/m = w']);
  });

  it('keeps names with long paths (PAX headers) right', async () => {
    const long = `${'d'.repeat(120)}/f`;
    const podman = archiveOf([{ name: '/' }, { name: `/${long}`, body: 'deep' }]);
    expect(await listing(rootedAt(podman, '/opt/ml/model'))).toEqual(['model/', `model/${long} = deep`]);
  });

  it('leaves an entry outside the root alone, for the extraction to refuse', () => {
    expect(renamedEntry('../../etc/passwd', 'model', 'model')).toBe('../../etc/passwd');
    expect(renamedEntry('other/x', 'model', 'data')).toBe('other/x');
    expect(renamedEntry('/', '', 'data')).toBe('data/');
  });

  it('reads the name of a ustar header, and none from a PAX one', () => {
    const block = Buffer.alloc(512);
    block.write('model/m', 0);
    block[156] = '0'.charCodeAt(0);
    expect(headerName(block)).toBe('model/m');
    block.write('ustar', 257, 'latin1');
    block.write('opt/ml', 345);
    expect(headerName(block)).toBe('opt/ml/model/m');
    block[156] = 'x'.charCodeAt(0);
    expect(headerName(block)).toBeUndefined();
  });

  it('stops reading the engine, without an unhandled error, when its reader goes away (a full disk)', async () => {
    for (const first of ['/', 'model/']) {
      const engine = archiveOf([{ name: first }, { name: `${first === '/' ? '/' : first}big.bin`, body: 'x'.repeat(4 << 20) }, { name: `${first === '/' ? '/' : first}after`, body: 'y' }]);
      const out = rootedAt(engine, '/opt/ml/model');
      await new Promise<void>((resolve) => out.once('data', () => resolve()));
      out.destroy(new Error('not enough free space'));
      await new Promise((r) => setTimeout(r, 50));
      expect(engine.destroyed, first).toBe(true);
    }
  });

  it('passes an error of the engine stream on', async () => {
    const broken = new Readable({ read() { this.destroy(new Error('engine went away')); } });
    await expect(listing(rootedAt(broken, '/opt/ml/model'))).rejects.toThrow('engine went away');
  });
});
