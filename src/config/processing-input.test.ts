import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Problems } from '../contract/problems.js';
import { InvalidSpecError } from '../errors.js';
import { parseInputFlag, parseOutputFlag, resolveProcessingInput } from './processing-input.js';
import { createUriMapper } from './uri-mapping.js';

const mapper = createUriMapper({ s3Root: '/s3', baseDir: '/here' });
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('--input and --output', () => {
  const input = (raw: string) => {
    const p = new Problems();
    return { spec: parseInputFlag(raw, 0, p, (uri, at) => mapper(uri, at, p), '/here'), problems: p.problems };
  };
  const output = (raw: string) => {
    const p = new Problems();
    return { spec: parseOutputFlag(raw, 0, p, (uri, at) => mapper(uri, at, p), '/here'), problems: p.problems };
  };

  it('reads NAME=SOURCE[:LOCAL_PATH] with options, an s3:// SOURCE mapped, and the LOCAL_PATH told apart from the URI', () => {
    expect(input('raw=./data/raw').spec).toEqual({ inputName: 'raw', source: '/here/data/raw' });
    expect(input('raw=./data/raw:/opt/ml/processing/in,mode=Pipe,compression=Gzip').spec).toEqual({
      inputName: 'raw',
      source: '/here/data/raw',
      localPath: '/opt/ml/processing/in',
      s3InputMode: 'Pipe',
      s3CompressionType: 'Gzip',
    });
    expect(input('raw=s3://bucket/raw/2024/').spec).toEqual({ inputName: 'raw', source: '/s3/bucket/raw/2024/', sourceUri: 's3://bucket/raw/2024/' });
    expect(input('raw=s3://bucket/raw:/opt/ml/processing/raw,distribution=ShardedByS3Key').spec).toEqual({
      inputName: 'raw',
      source: '/s3/bucket/raw',
      sourceUri: 's3://bucket/raw',
      localPath: '/opt/ml/processing/raw',
      s3DataDistributionType: 'ShardedByS3Key',
    });
    expect(input('raw=./a,b').spec).toMatchObject({ source: '/here/a,b' });
  });

  it('says what is wrong with a malformed --input', () => {
    expect(input('raw').problems[0]!.message).toMatch(/expected NAME=SOURCE/);
    expect(input('raw=./x,mode=Stream').problems[0]!.message).toMatch(/mode "Stream" is not one of File, Pipe/);
    expect(input('raw=./x,mode=File,colour=red').problems[0]!.message).toMatch(/unknown input option "colour=red"/);
  });

  it('reads NAME[=LOCAL_PATH[:DEST]] with the upload mode', () => {
    expect(output('train').spec).toEqual({ outputName: 'train' });
    expect(output('train,upload=Continuous').spec).toEqual({ outputName: 'train', s3UploadMode: 'Continuous' });
    expect(output('train=/opt/ml/processing/train').spec).toEqual({ outputName: 'train', localPath: '/opt/ml/processing/train' });
    expect(output('train=/opt/ml/processing/train:./out/train').spec).toEqual({ outputName: 'train', localPath: '/opt/ml/processing/train', destination: '/here/out/train' });
    expect(output('train=/opt/ml/processing/train:s3://b/features/train').spec).toEqual({
      outputName: 'train',
      localPath: '/opt/ml/processing/train',
      destination: '/s3/b/features/train',
      destinationUri: 's3://b/features/train',
    });
    expect(output('train=./out').problems[0]!.message).toMatch(/LOCAL_PATH comes first/);
  });

  it('merges a job file and flags by name, and reports every problem of both at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-local-process-input-'));
    dirs.push(dir);
    const file = join(dir, 'job.json');
    writeFileSync(
      file,
      JSON.stringify({
        ProcessingJobName: 'from-file',
        RoleArn: 'arn:aws:iam::123456789012:role/R',
        AppSpecification: { ImageUri: 'proc:1', ContainerArguments: ['--ratio', '0.8'] },
        ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.xlarge', VolumeSizeInGB: 30 } },
        Environment: { A: '1', B: '2' },
        ProcessingInputs: [{ InputName: 'raw', S3Input: { S3Uri: 's3://b/raw', LocalPath: '/opt/ml/processing/raw', S3DataType: 'S3Prefix' } }],
      }),
    );
    const config = { outputDir: '/out', logLevel: 'info' as const, s3Root: '/s3' };
    const { input } = await resolveProcessingInput({ job: file, env: ['B=3'], input: ['raw=./local:/opt/ml/processing/raw'], jobName: 'from-flags' }, config, { cwd: dir, env: {}, now: new Date() });
    expect(input).toMatchObject({
      processingJobName: 'from-flags',
      image: 'proc:1',
      instanceType: 'ml.m5.xlarge',
      containerArguments: ['--ratio', '0.8'],
      environment: { A: '1', B: '3' },
      inputs: [{ inputName: 'raw', source: join(dir, 'local'), localPath: '/opt/ml/processing/raw' }],
      outputDir: '/out',
    });
    const err = await resolveProcessingInput({ job: file, input: ['raw=./x:/data', 'raw=./y'], maxRuntime: 0 }, config, { cwd: dir, env: {}, now: new Date() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidSpecError);
    expect((err as InvalidSpecError).problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['--input #2 (raw=./y)', 'StoppingCondition.MaxRuntimeInSeconds']),
    );
  });
});
