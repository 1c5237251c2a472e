import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ResolvedChannel } from '../contract/training-spec.js';
import { channelMount, locateChannels } from './channels.js';

const ch = (channelName: string, source: string, sourceUri?: string): ResolvedChannel => ({
  channelName,
  source,
  ...(sourceUri ? { sourceUri } : {}),
  inputMode: 'File',
  s3DataDistributionType: 'FullyReplicated',
  recordWrapperType: 'None',
  compressionType: 'None',
});

describe('locateChannels', () => {
  it('finds folders and single files, relative to cwd', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-local-ch-'));
    writeFileSync(join(dir, 'one.csv'), '1\n');
    const { located, problems } = await locateChannels([ch('a', '.'), ch('b', 'one.csv')], dir);
    expect(problems).toEqual([]);
    expect(located.map((c) => [c.channelName, c.source, c.kind])).toEqual([
      ['a', dir, 'directory'],
      ['b', join(dir, 'one.csv'), 'file'],
    ]);
    expect(channelMount(located[1]!)).toEqual({ source: join(dir, 'one.csv'), target: '/opt/ml/input/data/b/one.csv', readOnly: true });
  });

  it('reports every missing source, naming the request field when it came from a job file', async () => {
    const { problems } = await locateChannels([ch('a', '/nope/a'), ch('b', '/nope/b', 's3://bucket/b')], '/');
    expect(problems.map((p) => p.path)).toEqual(['channel "a" (--channel)', 'InputDataConfig[1].DataSource.S3DataSource.S3Uri']);
    expect(problems[1]!.message).toMatch(/mapped from s3:\/\/bucket\/b/);
  });
});
