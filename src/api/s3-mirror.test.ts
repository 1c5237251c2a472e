import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3Mirror, startLocalS3 } from './s3-mirror.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

describe('S3Mirror over the local S3 endpoint (s3rver)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sm-local-s3-'));
  let s3: { url: string; close(): Promise<void> };
  let client: S3Client;
  let mirror: S3Mirror;
  beforeAll(async () => {
    s3 = await startLocalS3(join(dir, 'store'));
    // Any credentials do, as with every local emulator.
    client = new S3Client({ endpoint: s3.url, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'anything', secretAccessKey: 'at-all' } });
    await client.send(new CreateBucketCommand({ Bucket: 'bkt' }));
    for (const [key, body] of [['train/a.csv', 'a'], ['train/sub/c.csv', 'c'], ['training/b.csv', 'b']]) await client.send(new PutObjectCommand({ Bucket: 'bkt', Key: key, Body: body }));
    mirror = new S3Mirror(s3.url, join(dir, 'mirror'), 'us-east-1');
  });
  afterAll(async () => {
    mirror.destroy();
    client.destroy();
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pulls the objects under a prefix, not those of a sibling prefix that merely starts the same', async () => {
    expect(await mirror.pull('s3://bkt/train')).toBe(2);
    expect(readFileSync(join(dir, 'mirror', 'bkt', 'train', 'sub', 'c.csv'), 'utf8')).toBe('c');
    expect(existsSync(join(dir, 'mirror', 'bkt', 'training'))).toBe(false);
    expect(await mirror.pull('s3://bkt/training/b.csv')).toBe(1);
  });

  it('pushes what a job wrote under a URI, keyed by its path', async () => {
    mkdirSync(join(dir, 'mirror', 'bkt', 'out', 'job', 'output'), { recursive: true });
    writeFileSync(join(dir, 'mirror', 'bkt', 'out', 'job', 'output', 'model.tar.gz'), 'model');
    expect(await mirror.push('s3://bkt/out/job/output')).toBe(1);
    const got = await client.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'out/job/output/model.tar.gz' }));
    expect(await got.Body!.transformToString()).toBe('model');
    expect(await mirror.push('s3://bkt/nothing-here')).toBe(0);
  });
});
