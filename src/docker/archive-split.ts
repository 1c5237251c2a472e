/**
 * Docker Engine extracts an archive put at `/` through the container's mounts: an entry under a
 * volume lands in the volume. Podman's compatible API resolves only the destination path, so the
 * same entries land in the container's own layer, hidden under the volume once it starts (the job
 * then finds no `/opt/ml/input/config`). `splitByMounts` cuts such an archive into one archive per
 * mount point, each to be put at its mount point, plus the rest for the original path.
 */
import type { Readable } from 'node:stream';
import { posix } from 'node:path';
import tarStream, { type Header } from 'tar-stream';
import { streamToBuffer } from '../streams.js';
import { renamedHeader } from './archive-root.js';

export interface ArchivePart {
  /** Where to put it. */
  path: string;
  tar: Buffer;
}

/** The mount point an absolute path belongs to: the deepest of `mounts` at or above it, or undefined. */
export function mountOf(path: string, mounts: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const m of mounts) {
    if ((path === m || path.startsWith(m === '/' ? '/' : `${m}/`)) && (!best || m.length > best.length)) best = m;
  }
  return best;
}

/** Splits the archive meant for `path` by the `mounts` strictly below it; parts in the order they are first met, `path`'s own first. */
export async function splitByMounts(archive: Readable, path: string, mounts: readonly string[]): Promise<ArchivePart[]> {
  const base = posix.normalize(`/${path}`).replace(/(.)\/+$/, '$1');
  const below = mounts.map((m) => posix.normalize(m).replace(/(.)\/+$/, '$1')).filter((m) => m !== base && m.startsWith(base === '/' ? '/' : `${base}/`));
  const packs = new Map<string, ReturnType<typeof tarStream.pack>>();
  const buffers = new Map<string, Promise<Buffer>>();
  const packFor = (target: string) => {
    let p = packs.get(target);
    if (!p) {
      p = tarStream.pack();
      packs.set(target, p);
      buffers.set(target, streamToBuffer(p as unknown as Readable));
    }
    return p;
  };
  packFor(base);
  const reader = tarStream.extract();
  await new Promise<void>((resolve, reject) => {
    reader.on('entry', (header: Header, stream, next) => {
      const absolute = posix.join(base, header.name).replace(/(.)\/+$/, '$1');
      // An entry that leaves `path` stays in its part, for the engine's own refusal.
      const target = absolute.startsWith(base === '/' ? '/' : `${base}/`) || absolute === base ? (mountOf(absolute, below) ?? base) : base;
      const name = target === base ? header.name : absolute === target ? './' : posix.relative(target, absolute) + (header.type === 'directory' ? '/' : '');
      const h = renamedHeader(header, name, header.type === 'link' && header.linkname && target !== base ? posix.relative(target, posix.join(base, header.linkname)) : undefined);
      stream.pipe(packFor(target).entry(h, (err) => (err ? reject(err) : next())));
    });
    reader.once('finish', resolve);
    reader.once('error', reject);
    archive.once('error', reject);
    archive.pipe(reader);
  });
  for (const p of packs.values()) p.finalize();
  const parts: ArchivePart[] = [];
  for (const [target, buffer] of buffers) parts.push({ path: target, tar: await buffer });
  return parts;
}
