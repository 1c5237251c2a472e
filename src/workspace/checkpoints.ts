import { randomBytes } from 'node:crypto';
import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { extractRouted, underPrefix } from './archive.js';
import { writingTo } from './storage.js';
import type { SafeExtractResult } from './safe-extract.js';

/**
 * Saves what the containers have in their checkpoint folder into the local folder standing in for
 * CheckpointConfig.S3Uri. SageMaker mirrors the folder, deletions included (CONTRACT §3.2), so the
 * local folder is replaced as a whole: extracted next to it, then swapped in. With several hosts their
 * folders are merged in host order.
 *
 * `archives` opens each host's archive of the checkpoint folder (entries named after its last
 * path component, as the Engine's archive API names them).
 */
export async function syncCheckpoints(dest: string, localPath: string, archives: readonly (() => Promise<Readable | undefined>)[]): Promise<{ entries: number; skipped: SafeExtractResult['skipped'] }> {
  const prefix = `${basename(localPath)}/`;
  const staging = join(dirname(dest), `.${basename(dest)}.sm-local-${randomBytes(3).toString('hex')}`);
  let entries = 0;
  const skipped: SafeExtractResult['skipped'] = [];
  try {
    await writingTo(dest, async () => {
      await mkdir(dirname(dest), { recursive: true });
      await mkdir(staging);
    });
    for (const open of archives) {
      const tar = await open();
      if (!tar) continue;
      const r = await extractRouted(tar, staging, underPrefix(prefix), `the checkpoints (${localPath})`);
      entries += r.entries;
      skipped.push(...r.skipped);
    }
    await writingTo(dest, async () => {
      const old = `${staging}.old`;
      const existed = await lstat(dest).then(() => true, () => false);
      if (existed) await rename(dest, old);
      await rename(staging, dest);
      if (existed) await rm(old, { recursive: true, force: true });
    });
    return { entries, skipped };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
