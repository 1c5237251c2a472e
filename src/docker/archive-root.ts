/**
 * The Engine API's archive of `/a/b` names its entries `b`, `b/…` (Docker Engine). Podman's
 * compatible API names them differently in two cases: the root of a volume (or any mount point)
 * comes back as `/`, `/f`, `/sub/z`; and a path that is a symlink comes back as the file it points
 * to, named after the target. It also names directories without the trailing slash. `rootedAt` gives every archive the Docker naming, so that what reads
 * it (the model, output data, checkpoints, the failure file) finds what the container left instead
 * of nothing.
 *
 * An archive that is already named after `base` passes through untouched (one peek at its first
 * header); any other is re-streamed entry by entry with only the names changed.
 */
import { PassThrough, type Readable } from 'node:stream';
import tarStream, { type Header } from 'tar-stream';

const BLOCK = 512;

/** The name in a tar header block (ustar prefix included), or undefined when the block does not name its entry itself. */
export function headerName(block: Buffer): string | undefined {
  const type = String.fromCharCode(block[156] ?? 0);
  // PAX ('x', 'g') and GNU long-name ('L', 'K') headers carry the name in the next entry's data.
  if ('xgLK'.includes(type) && type !== '\0') return undefined;
  const field = (from: number, to: number) => {
    const raw = block.subarray(from, to);
    const end = raw.indexOf(0);
    return raw.subarray(0, end < 0 ? raw.length : end).toString('utf8');
  };
  const name = field(0, 100);
  const ustar = block.subarray(257, 262).toString('latin1') === 'ustar';
  const prefix = ustar ? field(345, 500) : '';
  return prefix ? `${prefix}/${name}` : name;
}

/** `./x/`, `/x` and `x` are one name: `x`; the root itself is the empty name. */
function bare(name: string): string {
  return name.replace(/^(\.?\/)+/, '').replace(/\/+$/, '');
}

/** True when a first entry already has the Docker naming of `base`: under `base`, and a directory with its trailing slash. */
function namedAfter(name: string, type: string, base: string): boolean {
  const n = bare(name);
  return (n === base || n.startsWith(`${base}/`)) && (type !== '5' || name.endsWith('/'));
}

/**
 * Renames one entry: the archive's own root `root` (the bare name of its first entry) becomes
 * `base`, and everything under it follows. A name outside the root is left as it is, for the
 * extraction's own checks to refuse.
 */
export function renamedEntry(name: string, root: string, base: string): string {
  const n = bare(name);
  const dir = name.endsWith('/') ? '/' : '';
  if (n === root) return base + dir;
  if (root === '') return `${base}/${n}${dir}`;
  if (n.startsWith(`${root}/`)) return `${base}${n.slice(root.length)}${dir}`;
  return name;
}

/**
 * `header` under another name (and hard-link target). The PAX records read with it are kept (times,
 * long names) but for its old `path` and `linkpath`, which would otherwise win over the new name.
 */
export function renamedHeader(header: Header, name: string, linkname?: string): Header {
  const { path: _path, linkpath: _linkpath, ...pax } = (header.pax ?? {}) as Record<string, string>;
  const h: Header = { ...header, name, ...(linkname !== undefined ? { linkname } : {}) };
  if (header.pax) h.pax = pax;
  return h;
}

/** The archive of `path` named as Docker Engine names it: entries `base`, `base/…`, with `base` the last component of `path`. */
export function rootedAt(archive: Readable, path: string): Readable {
  const base = path.replace(/\/+$/, '').split('/').pop() ?? '';
  if (!base) return archive;
  const out = new PassThrough();
  // A reader that stops early (a full disk) must not leave the engine's answer open.
  out.once('close', () => archive.destroy());
  const fail = (err: Error) => out.destroy(err);
  archive.once('error', fail);
  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer) => {
    head = Buffer.concat([head, chunk]);
    if (head.length < BLOCK) return;
    archive.off('data', onData);
    archive.off('end', onEnd);
    archive.pause();
    archive.unshift(head);
    const name = headerName(head.subarray(0, BLOCK));
    if (name !== undefined && namedAfter(name, String.fromCharCode(head[156] ?? 0), base)) archive.pipe(out);
    else renamed(archive, base, out);
  };
  const onEnd = () => {
    // Shorter than one header: nothing to rename.
    out.end(head);
  };
  archive.on('data', onData);
  archive.once('end', onEnd);
  return out;
}

/** Re-streams `archive` into `out` with its entries renamed; the first failure anywhere, or `out` closing, stops all of it. */
function renamed(archive: Readable, base: string, out: PassThrough): void {
  const reader = tarStream.extract();
  const writer = tarStream.pack();
  let root: string | undefined;
  let stopped = false;
  const stop = (err?: Error) => {
    if (stopped) return;
    stopped = true;
    archive.destroy();
    reader.destroy();
    writer.destroy();
    if (err) out.destroy(err);
  };
  out.once('close', () => stop());
  reader.on('entry', (header: Header, stream, next) => {
    stream.once('error', (err: Error) => stop(err));
    if (stopped) return stream.resume();
    root ??= bare(header.name);
    const name = renamedEntry(header.name, root, base);
    // Docker names a directory with a trailing slash (Podman does not), and what reads these archives packs them on as they are.
    const h = renamedHeader(header, header.type === 'directory' && !name.endsWith('/') ? `${name}/` : name, header.type === 'link' && header.linkname ? renamedEntry(header.linkname, root, base) : undefined);
    let entry: ReturnType<typeof writer.entry>;
    try {
      entry = writer.entry(h, (err) => (err ? stop(err) : next()));
    } catch (err) {
      return stop(err as Error);
    }
    entry.once('error', (err: Error) => stop(err));
    stream.pipe(entry);
  });
  reader.once('finish', () => stopped || writer.finalize());
  reader.once('error', (err: Error) => stop(err));
  writer.once('error', (err: Error) => stop(err));
  writer.pipe(out);
  archive.pipe(reader);
}
