import { createWriteStream } from 'node:fs';
import { link, lstat, mkdir, rm, symlink, unlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream, { type Header } from 'tar-stream';
import { SpaceGuard } from './disk-space.js';
import { explainStorageError } from './storage.js';

/**
 * The one extractor for every tar sm-local unpacks on this machine (model archives, checkpoints,
 * uncompressed job output, anything an engine hands back). Archives are hostile: every entry is
 * resolved against what has already been extracted, never against its spelled-out path alone.
 *
 * - A name must stay inside the folder once normalised (no `..` out, no absolute path).
 * - No entry is ever written through a symbolic link: every folder on its way must be a real folder
 *   this extraction made or found (lstat), so a chain of links (`d/l -> ..`, `d/l/l2 -> ..`, …)
 *   cannot carry a later entry out. An existing link at the entry's own path is replaced, not followed.
 * - Hard links may only point at regular files this extraction wrote.
 * - Devices, FIFOs and other special entries are never created.
 * - The disk is watched as it fills (SpaceGuard): a gzip bomb stops with "the disk is full".
 */

export interface SafeExtractOptions {
  /** Renames (or drops, with null) entries; the Engine's archives name entries after the folder (`model/…`). */
  route?: (name: string) => string | null;
  /**
   * `inside`: symbolic links must resolve inside the folder (a model archive: what the container sees in
   * /opt/ml/model stays there). `any`: links are kept as links whatever they point at (what a container
   * left: SageMaker uploads links as they are, and sm-local never reads through them). `none`:
   * symbolic links are left out and listed (processing outputs: SageMaker does not follow them).
   */
  links: 'inside' | 'any' | 'none';
  /** `refuse`: the first unsafe entry fails the extraction. `skip`: it is left out and listed, the rest kept. */
  unsafe: 'refuse' | 'skip';
  /** What is extracted, for messages ("the model archive /x/model.tar.gz"). */
  what: string;
  /** The folder, for messages; default "the folder". */
  folder?: string;
}

export interface SafeExtractResult {
  /** Regular files written. */
  files: number;
  /** Symbolic and hard links written. */
  links: number;
  bytes: number;
  /** Entries written (files, folders, links). */
  entries: number;
  /** Entries left out, with why (special files always; unsafe ones with `unsafe: 'skip'`). */
  skipped: { name: string; why: string }[];
}

/** An entry that would reach outside the folder; the message names it and says how. */
export class UnsafeEntryError extends Error {
  constructor(
    readonly entry: string,
    message: string,
  ) {
    super(message);
  }
}

/** The entry's path inside the folder, or undefined when it would land outside it. */
export function safeEntryPath(name: string): string | undefined {
  if (name.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(name)) return undefined;
  const normal = posix.normalize(name.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (normal === '..' || normal.startsWith('../')) return undefined;
  return normal === '.' ? '' : normal.replace(/^\.\//, '');
}

/** A link target, read from the link's own folder, spelled out inside the folder (not yet resolved through other links). */
export function safeLinkTarget(entry: string, target: string, hard: boolean): string | undefined {
  if (target.startsWith('/')) return undefined;
  return safeEntryPath(hard ? target : posix.join(posix.dirname(entry), target));
}

/**
 * Where a path ends up once the symbolic links in `links` (folder-relative path → target) are
 * followed, or undefined when it leaves the folder. A loop counts as staying (the container gets ELOOP).
 */
export function resolveThroughLinks(path: string, links: ReadonlyMap<string, string>): string | undefined {
  const parts: string[] = [];
  const pending = path.split('/').filter((p) => p !== '' && p !== '.');
  let hops = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '..') {
      if (!parts.length) return undefined;
      parts.pop();
      continue;
    }
    parts.push(part);
    const target = links.get(parts.join('/'));
    if (target === undefined) continue;
    if (target.startsWith('/')) return undefined;
    if (++hops > 40) return parts.join('/');
    parts.pop();
    pending.unshift(...target.split('/').filter((p) => p !== '' && p !== '.'));
  }
  return parts.join('/');
}

type TarEntry = Readable & { header: Header };

class Extraction {
  /** Folders (relative) known to be real folders, not links. */
  private readonly dirs = new Set<string>(['']);
  /** Regular files (relative) this extraction wrote, the only valid hard link targets. */
  private readonly regular = new Set<string>();
  private readonly symlinks = new Map<string, string>();
  readonly result: SafeExtractResult = { files: 0, links: 0, bytes: 0, entries: 0, skipped: [] };
  readonly guard: SpaceGuard;

  constructor(
    private readonly dest: string,
    private readonly opts: SafeExtractOptions,
  ) {
    this.guard = new SpaceGuard(dest, opts.what);
  }

  private get folder(): string {
    return this.opts.folder ?? 'the folder';
  }

  private unsafe(entry: string, why: string): void {
    if (this.opts.unsafe === 'refuse') throw new UnsafeEntryError(entry, why);
    this.result.skipped.push({ name: entry, why });
  }

  /** Makes sure every folder above `rel` is a real folder (made here if missing); names the link in the way if not. */
  private async parentsOf(entry: string, rel: string): Promise<boolean> {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (this.dirs.has(dir)) continue;
      const info = await lstat(join(this.dest, dir)).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (!info) await mkdir(join(this.dest, dir));
      else if (info.isSymbolicLink()) {
        this.unsafe(entry, `the entry "${entry}" would be written through the symbolic link "${dir}"`);
        return false;
      } else if (!info.isDirectory()) {
        this.unsafe(entry, `the entry "${entry}" would be written below "${dir}", which is not a folder`);
        return false;
      }
      this.dirs.add(dir);
    }
    return true;
  }

  /** Removes what is at `rel` so an entry can take its place; a folder stays (and blocks non-folders). */
  private async clear(entry: string, rel: string): Promise<boolean> {
    const target = join(this.dest, rel);
    const info = await lstat(target).catch(() => undefined);
    if (!info) return true;
    if (info.isDirectory()) {
      this.unsafe(entry, `the entry "${entry}" would replace the folder "${rel}"`);
      return false;
    }
    await unlink(target);
    this.regular.delete(rel);
    this.symlinks.delete(rel);
    return true;
  }

  async write(entry: TarEntry): Promise<void> {
    const h = entry.header;
    const routed = this.opts.route ? this.opts.route(h.name) : h.name;
    if (routed === null) return void entry.resume();
    const rel = safeEntryPath(routed);
    if (rel === undefined) {
      entry.resume();
      return this.unsafe(h.name, `the entry "${h.name}" would land outside ${this.folder}`);
    }
    if (rel === '') return void entry.resume();
    const target = join(this.dest, rel);
    if (!(await this.parentsOf(h.name, rel))) return void entry.resume();

    if (h.type === 'directory') {
      entry.resume();
      const info = await lstat(target).catch(() => undefined);
      if (info && !info.isDirectory()) {
        if (!(await this.clear(h.name, rel))) return;
      }
      if (!info?.isDirectory()) await mkdir(target);
      this.dirs.add(rel);
    } else if (h.type === 'file' || h.type === 'contiguous-file') {
      if (!(await this.clear(h.name, rel))) return void entry.resume();
      await this.guard.expect(h.size ?? 0);
      // O_EXCL: never opens through a link that appeared in between.
      await pipeline(entry, this.guard.stream(), createWriteStream(target, { flags: 'wx', mode: (h.mode ?? 0o644) & 0o777 }));
      this.regular.add(rel);
      this.result.files += 1;
      this.result.bytes += h.size ?? 0;
    } else if (h.type === 'symlink') {
      entry.resume();
      const to = h.linkname ?? '';
      if (this.opts.links === 'none') {
        this.result.skipped.push({ name: h.name, why: `"${h.name}" is a symbolic link (to ${to}), which SageMaker does not follow when it uploads an output` });
        return;
      }
      if (this.opts.links === 'inside' && safeLinkTarget(rel, to, false) === undefined) {
        return this.unsafe(h.name, `the symbolic link "${h.name}" points outside ${this.folder} (${to})`);
      }
      if (!(await this.clear(h.name, rel))) return;
      await symlink(to, target);
      this.symlinks.set(rel, to);
      this.result.links += 1;
    } else if (h.type === 'link') {
      entry.resume();
      const routedTarget = this.opts.route ? this.opts.route(h.linkname ?? '') : h.linkname ?? '';
      const to = routedTarget === null ? undefined : safeLinkTarget(rel, routedTarget, true);
      if (to === undefined) return this.unsafe(h.name, `the hard link "${h.name}" points outside ${this.folder} (${h.linkname})`);
      if (!this.regular.has(to)) {
        return this.unsafe(h.name, `the hard link "${h.name}" points at "${h.linkname}", which is not a file extracted before it`);
      }
      if (to === rel) return;
      if (!(await this.clear(h.name, rel))) return;
      await link(join(this.dest, to), target);
      this.regular.add(rel);
      this.result.links += 1;
    } else {
      entry.resume();
      this.result.skipped.push({ name: h.name, why: `the entry "${h.name}" is a ${h.type ?? 'special'} entry, not a file, folder or link` });
      return;
    }
    this.result.entries += 1;
  }

  /** With `links: 'inside'`: every link, followed through the others, still lands inside. */
  checkLinks(): void {
    if (this.opts.links !== 'inside') return;
    for (const [rel, to] of this.symlinks) {
      // Joined, not normalised: `..` must be taken after the links before it are followed.
      if (resolveThroughLinks(`${posix.dirname(rel)}/${to}`, this.symlinks) === undefined) {
        throw new UnsafeEntryError(rel, `the symbolic link "${rel}" leads outside ${this.folder} through other links (${to})`);
      }
    }
  }
}

/**
 * Extracts the tar stream `source` into `dest` by the rules above. When the extraction fails, what it
 * wrote is removed if it made `dest` itself; file system errors become StorageError naming `dest`.
 */
export async function safeExtract(source: Readable, dest: string, opts: SafeExtractOptions): Promise<SafeExtractResult> {
  const made = (await lstat(dest).catch(() => undefined)) === undefined;
  try {
    await mkdir(dest, { recursive: true });
  } catch (err) {
    throw (await explainStorageError(err, dest)) ?? err;
  }
  const extraction = new Extraction(dest, opts);
  const extract = tarStream.extract();
  const reading = pipeline(source, extract);
  // A corrupt stream fails the pipeline while an entry's body is being written; that body never ends.
  const failed = new Promise<never>((_, reject) => reading.catch(reject));
  failed.catch(() => {});
  try {
    for await (const entry of extract) await Promise.race([extraction.write(entry as unknown as TarEntry), failed]);
    await reading;
    extraction.checkLinks();
    return extraction.result;
  } catch (err) {
    if (made) await rm(dest, { recursive: true, force: true }).catch(() => {});
    throw (await explainStorageError(err, dest)) ?? err;
  } finally {
    extract.destroy();
  }
}
