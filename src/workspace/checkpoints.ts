import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { extractRouted, underPrefix } from './archive.js';

/**
 * Saves what the containers have in their checkpoint folder into the local folder standing in for
 * CheckpointConfig.S3Uri. SageMaker mirrors the folder, deletions included (CONTRACT §3.2), so the
 * local folder is replaced as a whole: extracted next to it, then swapped in. With several hosts their
 * folders are merged in host order.
 *
 * `archives` opens each host's archive of the checkpoint folder (entries named after its last
 * path component, as the Engine's archive API names them).
 */
export async function syncCheckpoints(dest: string, localPath: string, archives: readonly (() => Promise<Readable | undefined>)[]): Promise<number> {
  const prefix = `${basename(localPath)}/`;
  const staging = join(dirname(dest), `.${basename(dest)}.sm-local-${randomBytes(3).toString('hex')}`);
  await mkdir(dirname(dest), { recursive: true });
  let entries = 0;
  try {
    await mkdir(staging);
    for (const open of archives) {
      const tar = await open();
      if (tar) entries += await extractRouted(tar, staging, underPrefix(prefix));
    }
    const old = `${staging}.old`;
    const existed = await stat(dest).then(() => true, () => false);
    if (existed) await rename(dest, old);
    await rename(staging, dest);
    if (existed) await rm(old, { recursive: true, force: true });
    return entries;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
