import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobExistsError } from '../errors.js';
import { createJobFolder, writeJobRecord } from './job-folder.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

describe('the job folder', () => {
  it('is created once, private to this user; a second job of the same name gets JobExistsError', async () => {
    const root = mkdtempSync(join(tmpdir(), 'sm-local-job-folder-'));
    roots.push(root);
    const dir = join(root, 'out', 'job-1');
    const [first, second] = await Promise.allSettled([createJobFolder(dir, 'job-1'), createJobFolder(dir, 'job-1', 'processing job')]);
    expect([first.status, second.status].sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = [first, second].find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
    expect(rejected.reason).toBeInstanceOf(JobExistsError);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    await writeJobRecord(join(dir, 'describe.json'), { TrainingJobName: 'job-1' });
    expect(readFileSync(join(dir, 'describe.json'), 'utf8')).toBe('{\n  "TrainingJobName": "job-1"\n}\n');
    expect(statSync(join(dir, 'describe.json')).mode & 0o777).toBe(0o600);
  });
});
