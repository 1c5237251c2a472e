import { createWriteStream, lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { readdir, realpath, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack as packDirectory, type Headers as FsHeaders, type PackOptions } from 'tar-fs';
import tarStream, { type Header } from 'tar-stream';
import { InvalidSpecError, type SpecProblem } from '../errors.js';
import { streamToBuffer } from '../streams.js';
import { SpaceGuard } from './disk-space.js';
import { explainStorageError } from './storage.js';
import { paxMtime, type FolderStamp } from './folder-stamp.js';
import { safeExtract, type SafeExtractResult } from './safe-extract.js';

/**
 * Tar streams between the host and a container's `/opt/ml`: the skeleton and config files going in,
 * channel data going in (copy mode), and `model.tar.gz` / `output.tar.gz` re-packed straight from the
 * Engine's archive stream without touching the host's disk in between.
 */

export interface SkeletonEntry {
  /** Path inside the container, without the leading slash. */
  path: string;
  /** File content; a directory when absent. */
  content?: string | Buffer;
  /** Default 0644 for files, 0755 for directories. */
  mode?: number;
}

/**
 * An in-memory tar of directories and small files, owned by root, for `PUT /containers/{id}/archive`.
 * With a stamp, every entry carries it to the nanosecond (folder-stamp.ts); else the current second.
 */
export function skeletonTar(entries: readonly SkeletonEntry[], stamp?: FolderStamp): Readable {
  const pack = tarStream.pack();
  const mtime = stamp ? new Date(stamp.seconds * 1000) : new Date();
  const pax = stamp ? { pax: { mtime: paxMtime(stamp) } } : {};
  for (const e of entries) {
    if (e.content === undefined) pack.entry({ name: `${e.path.replace(/\/$/, '')}/`, type: 'directory', mode: e.mode ?? 0o755, uid: 0, gid: 0, mtime, ...pax });
    else pack.entry({ name: e.path, type: 'file', mode: e.mode ?? 0o644, uid: 0, gid: 0, mtime, ...pax }, e.content);
  }
  pack.finalize();
  return pack as unknown as Readable;
}

/** What the Engine's archive API gives for an empty folder: the folder's own entry, `name/`. */
export function emptyFolderTar(name: string): Readable {
  const pack = tarStream.pack();
  pack.entry({ name: `${name}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: new Date() });
  pack.finalize();
  return pack as unknown as Readable;
}

const asRoot = (header: FsHeaders): FsHeaders => Object.assign({ ...header, uid: 0, gid: 0 }, { uname: 'root', gname: 'root' });

/**
 * A tar stream of a channel's local data (a directory's contents, or one file), owned by root,
 * for `PUT /containers/{id}/archive?path=/opt/ml/input/data/<channel>`. `keys` picks some files
 * (a host's shard) by their paths relative to the folder.
 */
export async function channelTar(source: string, keys?: readonly string[]): Promise<Readable> {
  const info = await stat(source);
  const opts = info.isDirectory()
    ? { entries: keys ? [...keys] : (await readdir(source)).sort(), map: asRoot, sort: true }
    : { entries: [basename(source)], map: asRoot };
  // `sort` is a tar-fs option its type definitions lack.
  return packDirectory(info.isDirectory() ? source : dirname(source), opts as PackOptions) as unknown as Readable;
}

/**
 * sourcedir.tar.gz as the SageMaker Python SDK makes it (`tarfile.open(..., dereference=True)`): the
 * folder's contents, or the one entry point file, with symbolic links followed. A link is only followed
 * while it stays inside the folder: one that leads out (to ~/.aws, say) would carry a file of this
 * machine into the container, so it is refused, as are dangling links and loops (the SDK fails on those too).
 */
export async function packSourceDir(source: string, isFile: boolean): Promise<Buffer> {
  const root = isFile ? dirname(source) : source;
  const realRoot = await realpath(root);
  const problems: SpecProblem[] = [];
  const where = isFile ? 'entry point (--entry-point)' : 'source dir (--source-dir)';
  const inside = (real: string, dir: string) => real === dir || real.startsWith(`${dir}/`);
  const ignore = (name: string): boolean => {
    const info = lstatSync(name);
    if (!info.isSymbolicLink()) return false;
    const shown = relative(root, name);
    let real: string;
    try {
      real = realpathSync(name);
    } catch {
      problems.push({ path: where, message: `"${shown}" is a symbolic link to nothing (${readlinkSync(name)}).` });
      return true;
    }
    if (!inside(real, realRoot)) {
      problems.push({ path: where, message: `"${shown}" is a symbolic link to ${real}, outside ${root}: sm-local never packs files from outside the folder. Copy what it needs into the folder.` });
      return true;
    }
    if (statSync(real).isDirectory() && inside(realpathSync(dirname(name)), real)) {
      problems.push({ path: where, message: `"${shown}" is a symbolic link to a folder that contains it (${real}): packing it would never end.` });
      return true;
    }
    return false;
  };
  // tar-fs asks `ignore` about what it finds in folders, not about the entries it is given.
  const entries = (isFile ? [basename(source)] : (await readdir(source)).sort()).filter((e) => !ignore(join(root, e)));
  // `sort` is a tar-fs option its type definitions lack.
  const tar = packDirectory(root, { entries, sort: true, dereference: true, ignore } as PackOptions) as unknown as Readable;
  const gzip = createGzip();
  const packing = pipeline(tar, gzip);
  const [packed] = await Promise.all([streamToBuffer(gzip), packing]);
  if (problems.length) throw new InvalidSpecError(problems, 'the script-mode source');
  return packed;
}

export interface RepackResult {
  /** Size of the written .tar.gz. */
  bytes: number;
  /** Entries written. */
  entries: number;
  /** File names more than one source wrote (with several sources: hosts). */
  clashes: string[];
  /** Entries other than folders each source gave (0 for a source with no archive). */
  filesPerSource: number[];
}

/**
 * Where an entry of the source archive goes: a new name (kept), `null` (dropped), or a handler that
 * consumes its body (to read a file such as `output/failure` on the way through).
 */
export type EntryRoute = (name: string) => string | null | ((body: Readable) => Promise<void>);

/**
 * Copies the entries `route` keeps from a tar stream into a gzip'd tar at `dest`, renaming them
 * (hard links follow their renamed targets). Bodies stream through; nothing lands on disk but `dest`,
 * which a SpaceGuard keeps from filling the disk. A write that fails (disk full, folder read-only or
 * gone) removes the partial `dest` and is a StorageError naming it.
 */
export async function repackTarGz(source: Readable | readonly (() => Promise<Readable | undefined>)[], dest: string, route: EntryRoute): Promise<RepackResult> {
  const out = tarStream.pack();
  const guard = new SpaceGuard(dirname(dest), basename(dest), dest);
  // Larger zlib chunks mean fewer thread-pool round trips; the compressed bytes are the same.
  const written = pipeline(out, createGzip({ chunkSize: 256 * 1024 }), guard.stream(), createWriteStream(dest, { highWaterMark: 256 * 1024 }));
  // Once the file cannot be written, entries waiting on `out` never finish: the copy races this.
  const failed = new Promise<never>((_, reject) => written.catch(reject));
  failed.catch(() => {});
  let entries = 0;
  const filesPerSource: number[] = [];
  // Several sources (one per host) are written one after the other into the same archive; a name
  // two of them wrote appears twice, and extraction keeps the later one.
  const owners = new Map<string, number>();
  const clashes = new Set<string>();
  const sources = Array.isArray(source) ? source : [async () => source as Readable];
  let tar: Readable | undefined;
  try {
    for (const [index, open] of sources.entries()) {
      filesPerSource[index] = 0;
      tar = await Promise.race([open(), failed]);
      if (!tar) continue;
      const copying = copyEntries(tar, out, route, (name) => {
        filesPerSource[index]! += 1;
        if ((owners.get(name) ?? index) !== index) clashes.add(name);
        owners.set(name, index);
      });
      entries += await Promise.race([copying, failed]);
    }
    out.finalize();
    await written;
    return { bytes: (await stat(dest)).size, entries, clashes: [...clashes], filesPerSource };
  } catch (err) {
    tar?.destroy();
    out.destroy();
    await rm(dest, { force: true }).catch(() => {});
    throw (await explainStorageError(err, dest)) ?? err;
  }
}

async function copyEntries(source: Readable, out: tarStream.Pack, route: EntryRoute, onFile: (name: string) => void): Promise<number> {
  const extract = tarStream.extract();
  const reading = pipeline(source, extract);
  reading.catch(() => {});
  let entries = 0;
  for await (const entry of extract) {
    const header = entry.header;
    const target = route(header.name);
    if (typeof target === 'function') {
      await target(entry as unknown as Readable);
      continue;
    }
    if (target === null) {
      entry.resume();
      await new Promise<void>((r) => entry.once('end', () => r()));
      continue;
    }
    const renamed: Header = { ...header, name: target };
    if (header.type !== 'directory') onFile(target);
    if (header.type === 'link' && header.linkname) {
      const linkTarget = route(header.linkname);
      if (typeof linkTarget === 'string') renamed.linkname = linkTarget;
    }
    // tar-stream calls back once the entry is fully written; only file entries carry a body.
    await new Promise<void>((resolve, reject) => {
      const sink = out.entry(renamed, (err) => (err ? reject(err) : resolve()));
      // A destroyed pack (its file could not be written) errors the sink too; the callback reports it.
      sink.on('error', () => {});
      if (header.type === 'file' || header.type === 'contiguous-file') entry.pipe(sink);
      else entry.resume();
    });
    entries += 1;
  }
  await reading;
  return entries;
}

/**
 * Extracts the entries `route` keeps from a container archive into `dest` (for
 * OutputDataConfig.CompressionType NONE and checkpoint sync) with the safe extractor: links are kept
 * as links whatever they point at (SageMaker uploads them as they are), nothing is written through
 * one, and an unsafe entry is left out (and listed) rather than losing the rest of the folder. With
 * `links: 'none'` symbolic links are left out (and listed) instead: processing outputs.
 */
export function extractRouted(source: Readable, dest: string, route: EntryRoute, what: string, links: 'any' | 'none' = 'any'): Promise<SafeExtractResult> {
  return safeExtract(source, dest, {
    route: (name) => {
      const target = route(name);
      return typeof target === 'string' ? target : null;
    },
    links,
    unsafe: 'skip',
    what,
  });
}

/** Renames `<prefix><rest>` to `<rest>`; drops the prefix folder itself and anything outside it. */
export function underPrefix(prefix: string): (name: string) => string | null {
  return (name) => {
    if (!name.startsWith(prefix)) return null;
    const rest = name.slice(prefix.length);
    return rest === '' || rest === '/' ? null : rest;
  };
}

/** The first `maxBytes` (as UTF-8) of the entry `name` of a tar stream, or undefined when it has none. */
export async function readTarEntry(tar: Readable, name: string, maxBytes: number): Promise<string | undefined> {
  const bytes = await readTarEntryBytes(tar, name, maxBytes);
  return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
}

/** The first `maxBytes` of the entry `name` of a tar stream, as bytes, or undefined when it has none. */
export async function readTarEntryBytes(tar: Readable, name: string, maxBytes: number): Promise<Buffer | undefined> {
  const ex = tarStream.extract();
  const reading = pipeline(tar, ex);
  reading.catch(() => {});
  let bytes: Buffer | undefined;
  for await (const entry of ex) {
    if (entry.header.name === name && bytes === undefined) bytes = await readHeadBytes(entry as unknown as Readable, maxBytes);
    else entry.resume();
  }
  await reading;
  return bytes;
}

/** Reads at most `maxBytes` of an entry body as UTF-8 and drains the rest. */
export async function readHead(body: Readable, maxBytes: number): Promise<string> {
  return new TextDecoder().decode(await readHeadBytes(body, maxBytes));
}

async function readHeadBytes(body: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let have = 0;
  for await (const chunk of body) {
    const buf = chunk as Buffer;
    if (have < maxBytes) {
      chunks.push(buf.subarray(0, maxBytes - have));
      have += Math.min(buf.length, maxBytes - have);
    }
  }
  return Buffer.concat(chunks);
}

export { streamToBuffer };

/**
 * The file entries of a tar stream (not folders), counted up to `max`, with the first `sample` names;
 * stops reading (and destroys the stream) once `max` is reached.
 */
export async function listTarFiles(tar: Readable, opts: { max: number; sample: number }): Promise<{ count: number; sample: string[]; truncated: boolean }> {
  const ex = tarStream.extract();
  tar.pipe(ex);
  let count = 0;
  const sample: string[] = [];
  let truncated = false;
  for await (const entry of ex) {
    if (entry.header.type !== 'directory') {
      count += 1;
      if (sample.length < opts.sample) sample.push(entry.header.name);
    }
    entry.resume();
    if (count >= opts.max) {
      truncated = true;
      tar.destroy();
      ex.destroy();
      break;
    }
  }
  return { count, sample, truncated };
}
