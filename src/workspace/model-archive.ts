import { createReadStream, createWriteStream } from 'node:fs';
import { link, mkdir, open, symlink } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import tarStream, { type Header } from 'tar-stream';
import { ModelArchiveError } from '../errors.js';

export interface ExtractResult {
  files: number;
  bytes: number;
  /** Entries of kinds a model folder has no use for (devices, FIFOs), skipped. */
  skipped: string[];
}

/** The entry's path inside the model folder, or undefined when it would land outside it. */
export function safeEntryPath(name: string): string | undefined {
  if (name.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(name)) return undefined;
  const normal = posix.normalize(name.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) return undefined;
  return normal === '.' ? '' : normal.replace(/^\.\//, '');
}

/** A link target, resolved from the link's own folder, stays inside the model folder. */
export function safeLinkTarget(entry: string, target: string, hard: boolean): string | undefined {
  if (target.startsWith('/')) return undefined;
  return safeEntryPath(hard ? target : posix.join(posix.dirname(entry), target));
}

async function isGzip(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === 0x1f && head[1] === 0x8b;
  } finally {
    await handle.close();
  }
}

type TarEntry = Readable & { header: Header };

/** Writes one entry under `dest`, refusing paths and links that would land outside it. */
async function writeEntry(entry: TarEntry, dest: string, archive: string, result: ExtractResult): Promise<void> {
  const h = entry.header;
  const rel = safeEntryPath(h.name);
  if (rel === undefined) throw new ModelArchiveError(archive, `the entry "${h.name}" would land outside the model folder; refusing to extract it.`);
  const target = join(dest, rel);
  if (h.type === 'directory') {
    await mkdir(target, { recursive: true });
    entry.resume();
  } else if (h.type === 'file' || h.type === 'contiguous-file') {
    await mkdir(dirname(target), { recursive: true });
    await pipeline(entry, createWriteStream(target, { mode: (h.mode ?? 0o644) & 0o777 }));
    result.files += 1;
    result.bytes += h.size ?? 0;
  } else if (h.type === 'symlink' || h.type === 'link') {
    const linkTarget = safeLinkTarget(rel, h.linkname ?? '', h.type === 'link');
    if (linkTarget === undefined) {
      throw new ModelArchiveError(archive, `the ${h.type === 'link' ? 'hard link' : 'symbolic link'} "${h.name}" points outside the model folder (${h.linkname}); refusing to extract it.`);
    }
    await mkdir(dirname(target), { recursive: true });
    if (h.type === 'symlink') await symlink(h.linkname!, target);
    else await link(join(dest, linkTarget), target);
    entry.resume();
  } else {
    result.skipped.push(h.name);
    entry.resume();
  }
}

/**
 * Extracts a model.tar.gz into `dest` the way SageMaker fills /opt/ml/model (CONTRACT §4.1), refusing
 * any entry whose path or link target would land outside `dest` (`../`, absolute paths, links out).
 */
export async function extractModelArchive(archive: string, dest: string): Promise<ExtractResult> {
  let gzip: boolean;
  try {
    gzip = await isGzip(archive);
  } catch (err) {
    throw new ModelArchiveError(archive, 'the file does not exist or cannot be read.', err);
  }
  if (!gzip) throw new ModelArchiveError(archive, 'it is not gzip-compressed; SageMaker only accepts a .tar.gz here.');

  await mkdir(dest, { recursive: true });
  const result: ExtractResult = { files: 0, bytes: 0, skipped: [] };
  const extract = tarStream.extract();
  const reading = pipeline(createReadStream(archive), createGunzip(), extract);
  // A corrupt archive fails the pipeline while an entry's body is being written; that body never ends.
  const failed = new Promise<never>((_, reject) => reading.catch(reject));
  failed.catch(() => {});
  try {
    for await (const entry of extract) await Promise.race([writeEntry(entry as unknown as TarEntry, dest, archive, result), failed]);
    await reading;
  } catch (err) {
    if (err instanceof ModelArchiveError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOSPC' || code === 'EACCES') throw err;
    throw new ModelArchiveError(archive, `it is not a valid tar.gz (${(err as Error).message}).`, err);
  } finally {
    extract.destroy();
  }
  return result;
}
