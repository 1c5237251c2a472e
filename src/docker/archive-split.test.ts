import { Readable } from 'node:stream';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { mountOf, splitByMounts } from './archive-split.js';

function archiveOf(entries: { name: string; body?: string; linkname?: string }[]): Readable {
  const p = tarStream.pack();
  for (const e of entries) {
    if (e.linkname) p.entry({ name: e.name, type: 'link', linkname: e.linkname });
    else if (e.name.endsWith('/')) p.entry({ name: e.name, type: 'directory', mode: 0o755 });
    else p.entry({ name: e.name, mode: 0o644 }, e.body ?? '');
  }
  p.finalize();
  return p as unknown as Readable;
}

async function names(tar: Buffer): Promise<string[]> {
  const out: string[] = [];
  const x = tarStream.extract();
  x.on('entry', (h, stream, next) => {
    out.push(h.linkname ? `${h.name} -> ${h.linkname}` : h.name);
    stream.resume();
    stream.on('end', next);
  });
  await new Promise<void>((resolve, reject) => x.on('finish', () => resolve()).on('error', reject).end(tar));
  return out;
}

describe('splitByMounts: an archive put through the mounts below its path, one part per mount point', () => {
  it('gives each mount its own entries, relative to it, and keeps the rest for the path', async () => {
    const skeleton = archiveOf([
      { name: 'opt/' },
      { name: 'opt/ml/' },
      { name: 'opt/ml/input/' },
      { name: 'opt/ml/input/config/' },
      { name: 'opt/ml/input/config/hyperparameters.json', body: '{}' },
      { name: 'opt/ml/input/data/train/' },
      { name: 'opt/ml/input/data/train/a.csv', body: '1' },
      { name: 'opt/ml/model/' },
      { name: 'etc/x', body: 'x' },
    ]);
    const parts = await splitByMounts(skeleton, '/', ['/opt/ml/input', '/opt/ml/model', '/opt/ml/input/data/train']);
    const listed = await Promise.all(parts.map(async (p) => [p.path, await names(p.tar)]));
    expect(Object.fromEntries(listed)).toEqual({
      '/': ['opt/', 'opt/ml/', 'etc/x'],
      '/opt/ml/input': ['./', 'config/', 'config/hyperparameters.json'],
      '/opt/ml/input/data/train': ['./', 'a.csv'],
      '/opt/ml/model': ['./'],
    });
  });

  it('renames entries that came with PAX records (folder stamps), so their old path does not win', async () => {
    const p = tarStream.pack();
    p.entry({ name: 'opt/ml/input/config/', type: 'directory', mode: 0o755, pax: { mtime: '1764633600.123456789' } });
    p.finalize();
    const parts = await splitByMounts(p as unknown as Readable, '/', ['/opt/ml/input']);
    expect(await names(parts.find((x) => x.path === '/opt/ml/input')!.tar)).toEqual(['config/']);
  });

  it('keeps hard links pointing at their file inside the mount', async () => {
    const parts = await splitByMounts(archiveOf([{ name: 'ml/model/a', body: 'w' }, { name: 'ml/model/b', linkname: 'ml/model/a' }]), '/opt', ['/opt/ml/model']);
    expect(await names(parts.find((p) => p.path === '/opt/ml/model')!.tar)).toEqual(['a', 'b -> a']);
  });

  it('leaves an entry that climbs out of the path in the path\'s own part, for the engine to refuse', async () => {
    const parts = await splitByMounts(archiveOf([{ name: '../../etc/passwd', body: 'x' }, { name: 'm/f', body: 'y' }]), '/opt/ml', ['/opt/ml/m']);
    expect(await names(parts.find((p) => p.path === '/opt/ml')!.tar)).toEqual(['../../etc/passwd']);
  });

  it('finds the deepest mount at or above a path', () => {
    expect(mountOf('/opt/ml/input/data/train/x', ['/opt/ml/input', '/opt/ml/input/data/train'])).toBe('/opt/ml/input/data/train');
    expect(mountOf('/opt/ml/inputs', ['/opt/ml/input'])).toBeUndefined();
    expect(mountOf('/anything', ['/'])).toBe('/');
  });
});
