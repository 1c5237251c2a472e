/**
 * The job folder every job kind leaves behind (`<output>/<job name>/`): created once and only once
 * (SageMaker job names are unique), readable by this user only, with one log per host and the job's
 * records (describe.json, metrics.json) as pretty-printed JSON.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { JobExistsError } from '../errors.js';
import { writingTo } from './storage.js';

/**
 * Creates `jobDir` (mode 0700). Not recursive at the last step: of two jobs started with the same
 * name, exactly one gets the folder; the other gets JobExistsError.
 */
export async function createJobFolder(jobDir: string, jobName: string, jobKind?: string): Promise<void> {
  await writingTo(dirname(jobDir), async () => {
    await mkdir(dirname(jobDir), { recursive: true });
    await mkdir(jobDir, { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'EEXIST' ? new JobExistsError(jobName, jobDir, jobKind) : err;
    });
  });
}

/** A host's log file in the job folder (mode 0600: it holds what the job printed). */
export function openJobLog(path: string): WriteStream {
  return createWriteStream(path, { mode: 0o600 });
}

/** One of the job's records, as pretty-printed JSON with a final newline (mode 0600). */
export async function writeJobRecord(path: string, record: unknown): Promise<void> {
  await writingTo(path, () => writeFile(path, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 }));
}
