/**
 * Knowing, without reading it, that a folder a job's container was given empty is still empty.
 *
 * Reading a folder back through the Engine's archive API costs a process start in the engine (Docker
 * runs each copy in a re-executed, chrooted helper: ≈60 ms here, and the reads of one container queue
 * up), where a `stat` of the same path costs ≈3 ms. Most short jobs leave `/opt/ml/output/data` empty,
 * and a check's bad-input run leaves `/opt/ml/model` empty too.
 *
 * The folder is created by the job's skeleton archive with a modification time of our own, to the
 * nanosecond (a PAX `mtime`), in the current second, so the container sees an ordinary time. The kernel
 * sets a folder's modification time to now whenever an entry is created, removed or renamed in it, so a
 * folder that still carries that exact time after the exit has had nothing added to it. A filesystem
 * that keeps coarser times cannot store the stamp and never matches: the folder is then read, as before.
 * Only a program that set the folder's time back to the stamp on purpose, after writing into it, could
 * make a folder look untouched; that is its own output it hides.
 */
import { randomInt } from 'node:crypto';

/** A modification time to the nanosecond. */
export interface FolderStamp {
  seconds: number;
  nanos: number;
}

/**
 * A stamp in the current second. Its nanoseconds are never a whole number of microseconds, so a
 * filesystem that keeps microseconds (or less) cannot match it by truncation.
 */
export function newFolderStamp(now: number = Date.now(), random: (max: number) => number = randomInt): FolderStamp {
  let nanos = random(1e9);
  if (nanos % 1000 === 0) nanos += 1;
  return { seconds: Math.floor(now / 1000), nanos };
}

/** The PAX `mtime` record of a stamp: `seconds.nnnnnnnnn`. */
export function paxMtime(stamp: FolderStamp): string {
  return `${stamp.seconds}.${String(stamp.nanos).padStart(9, '0')}`;
}

/**
 * Whether a time as the Engine reports it (Go's RFC 3339 with nanoseconds, in any zone:
 * `2026-12-01T21:43:46.123456789Z`, trailing zeros dropped) is exactly the stamp.
 */
export function isStamp(reported: string | undefined, stamp: FolderStamp): boolean {
  const m = reported ? /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(reported) : null;
  if (!m) return false;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  return Number.isFinite(ms) && ms / 1000 === stamp.seconds && Number((m[2] ?? '').padEnd(9, '0')) === stamp.nanos;
}
