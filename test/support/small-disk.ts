import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface SmallDisk {
  /** The mount point: a file system of its own, `sizeMiB` large. */
  path: string;
  /** Remounts it read-only (as a disk that turned read-only under a running job). */
  readOnly(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A tmpfs of `sizeMiB` MiB mounted on a fresh folder: a disk that fills up (or turns read-only) on cue,
 * without touching the machine's own disks. Needs root (CI runs as root).
 */
export async function mountSmallDisk(sizeMiB: number): Promise<SmallDisk> {
  const path = mkdtempSync(join(tmpdir(), 'sm-local-small-disk-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m,mode=0755`, 'tmpfs', path]);
  } catch (err) {
    await rm(path, { recursive: true, force: true });
    throw new Error(`This test mounts a ${sizeMiB} MiB tmpfs and needs root: ${(err as Error).message}`);
  }
  let mounts = 1;
  return {
    path,
    // A mount with files open for writing cannot turn read-only; a fresh bind mount over it can, and
    // from then on every new write through the path fails with EROFS (open files keep working).
    readOnly: async () => {
      await run('mount', ['--bind', path, path]);
      mounts += 1;
      await run('mount', ['-o', 'remount,bind,ro', path]);
    },
    close: async () => {
      for (; mounts > 0; mounts--) await run('umount', ['-l', path]).catch(() => undefined);
      await rm(path, { recursive: true, force: true });
    },
  };
}
