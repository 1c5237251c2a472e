import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ModelArchiveError, StorageError } from '../errors.js';
import { safeExtract, UnsafeEntryError } from './safe-extract.js';

export { safeEntryPath, safeLinkTarget } from './safe-extract.js';

export interface ExtractResult {
  files: number;
  bytes: number;
  /** Entries of kinds a model folder has no use for (devices, FIFOs), skipped. */
  skipped: string[];
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

/**
 * Extracts a model.tar.gz into `dest` the way SageMaker fills /opt/ml/model (CONTRACT §4.1), with the
 * safe extractor's rules: an entry that would land outside `dest` (a `../` name, an absolute path, a
 * path through a symbolic link, a link that leads out) refuses the whole archive, naming the entry;
 * a disk that fills up stops it. Either way nothing it wrote is left.
 */
export async function extractModelArchive(archive: string, dest: string): Promise<ExtractResult> {
  let gzip: boolean;
  try {
    gzip = await isGzip(archive);
  } catch (err) {
    throw new ModelArchiveError(archive, 'the file does not exist or cannot be read.', err);
  }
  if (!gzip) throw new ModelArchiveError(archive, 'it is not gzip-compressed; SageMaker only accepts a .tar.gz here.');
  try {
    const gunzip = createGunzip();
    const file = createReadStream(archive);
    file.once('error', (err) => gunzip.destroy(err));
    const result = await safeExtract(file.pipe(gunzip) as Readable, dest, { links: 'inside', unsafe: 'refuse', what: `the model archive ${archive}`, folder: 'the model folder' });
    return { files: result.files, bytes: result.bytes, skipped: result.skipped.map((s) => s.name) };
  } catch (err) {
    if (err instanceof UnsafeEntryError) throw new ModelArchiveError(archive, `${err.message}; refusing to extract it.`, err);
    if (err instanceof StorageError) throw err;
    throw new ModelArchiveError(archive, `it is not a valid tar.gz (${(err as Error).message}).`, err);
  }
}
