import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StorageError, storageErrorOf } from '../errors.js';

/** The nearest folder at or above `path` that exists. */
async function nearestExisting(path: string): Promise<string> {
  let at = path;
  while (!(await access(at).then(() => true, () => false))) {
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  return at;
}

/**
 * The StorageError a file system error stands for, naming `path`, or undefined when `err` is not one.
 * A recursive mkdir on a read-only disk reports ENOENT: the nearest existing folder says it is read-only.
 */
export async function explainStorageError(err: unknown, path: string): Promise<StorageError | undefined> {
  const e = storageErrorOf(err, path);
  if (!e || (e.problem !== 'missing' && e.problem !== 'permission')) return e;
  const why = await access(await nearestExisting(path), constants.W_OK).then(
    () => undefined,
    (x: NodeJS.ErrnoException) => x.code,
  );
  return why === 'EROFS' ? new StorageError(path, 'read-only', undefined, err) : e;
}

/** Runs `fn`; a file system error becomes a StorageError naming `path`. */
export async function writingTo<T>(path: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw (await explainStorageError(err, path)) ?? err;
  }
}
