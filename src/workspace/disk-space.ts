import { statfs } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import { StorageError } from '../errors.js';

/** Free space is looked at again after at most this many bytes are written (sooner as the disk fills). */
const CHECK_EVERY_BYTES = 4 * 1024 * 1024;
const CHECK_EVERY_MIN_BYTES = 64 * 1024;

/** What is left free for everything else on the disk: 2 % of it, at most 64 MiB. */
export function reserveBytes(totalBytes: number): number {
  return Math.min(64 * 1024 * 1024, Math.floor(totalBytes * 0.02));
}

const MiB = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;

/**
 * Keeps a writer from filling the disk of `folder`: before a file of known size is written, and after
 * every few MiB of any write, the free space is read (statfs) and the write stops with a StorageError
 * once it would leave less than the reserve. A gzip bomb, an oversized model or a huge artifact ends
 * as "the disk is full" naming the folder, while the disk still has room for the job's record and
 * for other programs.
 */
export class SpaceGuard {
  private sinceCheck = 0;
  private checkEvery = CHECK_EVERY_BYTES;
  /** Bytes written through this guard. */
  written = 0;

  constructor(
    /** The folder whose disk is watched. */
    private readonly folder: string,
    /** What is being written, for the message ("the model archive …"). */
    private readonly what: string,
    /** The path the error names (default: the folder). */
    private readonly path = folder,
  ) {}

  /** Fails at once if `bytes` more would not fit. */
  async expect(bytes: number): Promise<void> {
    if (bytes > 0) await this.check(bytes);
  }

  /** Counts `bytes` just written; every few MiB, returns the look at the disk to wait for. */
  charge(bytes: number): Promise<void> | undefined {
    this.written += bytes;
    this.sinceCheck += bytes;
    return this.sinceCheck >= this.checkEvery ? this.check(0) : undefined;
  }

  private async check(upcoming: number): Promise<void> {
    this.sinceCheck = 0;
    // A file system that cannot say (statfs unsupported) is written to as it is; ENOSPC still stops it.
    const fs = await statfs(this.folder).catch(() => undefined);
    if (!fs) return;
    const free = fs.bavail * fs.bsize;
    const reserve = reserveBytes(fs.blocks * fs.bsize);
    // Half of what is left above the reserve may go before the next look.
    this.checkEvery = Math.max(CHECK_EVERY_MIN_BYTES, Math.min(CHECK_EVERY_BYTES, Math.floor((free - reserve) / 2)));
    if (free - upcoming < reserve) {
      throw new StorageError(
        this.path,
        'full',
        `not enough free space for ${this.what}: ${MiB(this.written)} written, ${upcoming ? `${MiB(upcoming)} more needed, ` : ''}${MiB(free)} free, and sm-local leaves ${MiB(reserve)} of the disk free`,
      );
    }
  }

  /** A pass-through stream that charges every chunk (pipe a file's bytes through it). */
  stream(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, done: TransformCallback) => {
        const looking = this.charge(chunk.length);
        if (!looking) return done(null, chunk);
        looking.then(
          () => done(null, chunk),
          (err: unknown) => done(err as Error),
        );
      },
    });
  }
}
