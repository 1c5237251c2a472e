import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureTag } from '../scripts/lib/images.js';
import { recordIOHeader, recordIOPadding } from '../src/contract/recordio.js';
import { tfRecord } from '../src/contract/transform-records.js';
import { AlgorithmError, InvalidSpecError } from '../src/errors.js';
import { runTransformJob, type TransformJobInput, type TransformResult } from '../src/jobs/transform-runner.js';
import { runCli } from './support/cli.js';
import { readExample } from './support/examples.js';
import { rejection } from './support/jobs.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

const IMAGE = fixtureTag('transform-echo');

/** The requests the container logged (programs/transform_server.py), in the order it got them. */
const requestsOf = (r: TransformResult, host = 'algo-1') =>
  readFileSync(join(r.jobDir, `${host}.log`), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('REQ '))
    .map((l) => Object.fromEntries(l.slice(4).split(' ').map((kv) => kv.split('='))) as Record<string, string>);
const envOf = (r: TransformResult) =>
  readFileSync(join(r.jobDir, 'algo-1.log'), 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('ENV '))
    .map((l) => l.slice(4));
const out = (r: TransformResult, key: string) => readFileSync(join(r.outputDir, `${key}.out`));
const detailsOf = (err: { details?: unknown }) => err.details as TransformResult;

describe.skipIf(dockerUnavailable())('sm-local transform: a SageMaker batch transform job on a real engine', () => {
  const s = useTestSession();
  let seq = 0;
  let data = '';
  let model = '';
  const csv = Array.from({ length: 40 }, (_, i) => `id${i},${i},${i * 2},${i % 7}\n`).join('');
  beforeAll(() => {
    data = s.dir('data');
    model = s.dir('model');
    writeFileSync(join(model, 'model.json'), '{}');
    mkdirSync(join(data, 'csv', 'day=2'), { recursive: true });
    writeFileSync(join(data, 'csv', 'part-0.csv'), csv);
    writeFileSync(join(data, 'csv', 'day=2', 'part-1.csv'), 'a,1\nb,2\n');
  });

  const job = (name: string, input: Omit<TransformJobInput, 'image' | 'input'> & { input?: string }) => {
    const { deps } = s.deps();
    return runTransformJob({ image: IMAGE, model, input: join(data, 'csv'), transformJobName: `${name}-${++seq}-${s.session}`, outputDir: s.dir(), stopGraceSeconds: 2, ...input }, deps);
  };

  it('splits by line into MultiRecord batches within MaxPayloadInMB, sends the headers, and writes <key>.out per object keeping the sub-path', async () => {
    const r = await job('lines', { contentType: 'text/csv', accept: 'text/csv', splitType: 'Line', assembleWith: 'Line' });
    expect(r.status).toBe('Completed');
    expect(out(r, 'part-0.csv').toString()).toBe(csv);
    expect(out(r, 'day=2/part-1.csv').toString()).toBe('a,1\nb,2\n');
    expect(r.files.map((f) => [f.key, f.records, f.requests])).toEqual([['day=2/part-1.csv', 2, 1], ['part-0.csv', 40, 1]]);
    expect(requestsOf(r).map((q) => [q.ct, q.accept])).toEqual([['text/csv', 'text/csv'], ['text/csv', 'text/csv']]);
    // §5.2: SAGEMAKER_BATCH only; the other three were not set by the request.
    expect(envOf(r)).toEqual(['SAGEMAKER_BATCH=true']);
    expect(r.describe).toMatchObject({ TransformJobStatus: 'Completed', BatchStrategy: 'MultiRecord', MaxPayloadInMB: 6, MaxConcurrentTransforms: 1, TransformOutput: { AssembleWith: 'Line' } });
  });

  it('takes the container’s /execution-parameters where the request is silent (either spelling), and the request’s values over them', async () => {
    const r = await job('exec-params', {
      splitType: 'Line',
      maxPayloadInMB: 1,
      environment: { EXEC_PARAMS: '{"MaxConcurrentTransforms": 3, "BatchStrategy": "SINGLE_RECORD", "MaxPayloadInMB": 9}' },
    });
    expect(r.parameters).toEqual({ maxConcurrentTransforms: 3, batchStrategy: 'SingleRecord', maxPayloadInMB: 1 });
    expect(requestsOf(r)).toHaveLength(42);
    expect(envOf(r)).toEqual(expect.arrayContaining(['SAGEMAKER_BATCH=true', 'SAGEMAKER_MAX_PAYLOAD_IN_MB=1']));
    expect(envOf(r).some((e) => e.startsWith('SAGEMAKER_BATCH_STRATEGY'))).toBe(false);
  });

  it('keeps the input order with 8 requests in flight, even when answers come back out of order', async () => {
    const r = await job('order', { splitType: 'Line', batchStrategy: 'SingleRecord', maxConcurrentTransforms: 8, assembleWith: 'Line', environment: { MODE: 'slow' } });
    expect(out(r, 'part-0.csv').toString()).toBe(csv);
    expect(requestsOf(r)).toHaveLength(42);
  });

  it("joins and filters as CONTRACT §5.7's example: drop the ID going in, keep the ID and the prediction coming out", async () => {
    const r = await job('join', {
      contentType: 'text/csv',
      accept: 'text/csv',
      splitType: 'Line',
      assembleWith: 'Line',
      batchStrategy: 'MultiRecord',
      environment: { MODE: 'count' },
      dataProcessing: { inputFilter: '$[1:]', joinSource: 'Input', outputFilter: '$[0,-1]' },
    });
    // The model counts the fields it received: 3 once the ID is dropped.
    expect(out(r, 'part-0.csv').toString()).toBe(Array.from({ length: 40 }, (_, i) => `id${i},3\n`).join(''));
    expect(out(r, 'day=2/part-1.csv').toString()).toBe('a,1\nb,1\n');
  });

  it('splits RecordIO and TFRecord: MultiRecord keeps the framing, SingleRecord sends the payload alone', async () => {
    const payloads = ['one', 'record two', 'three!'];
    const dir = s.dir('binary');
    const rio = Buffer.concat(payloads.map((p) => Buffer.concat([recordIOHeader(p.length), Buffer.from(p), recordIOPadding(p.length)])));
    const tfr = Buffer.concat(payloads.map((p) => tfRecord(Buffer.from(p))));
    writeFileSync(join(dir, 'data.rec'), rio);
    const multi = await job('recordio', { input: join(dir, 'data.rec'), splitType: 'RecordIO', batchStrategy: 'MultiRecord' });
    expect(out(multi, 'data.rec').equals(rio)).toBe(true);
    const single = await job('recordio-single', { input: join(dir, 'data.rec'), splitType: 'RecordIO', batchStrategy: 'SingleRecord' });
    expect(out(single, 'data.rec').toString()).toBe(payloads.join(''));
    writeFileSync(join(dir, 'data.tfrecord'), tfr);
    const tf = await job('tfrecord', { input: join(dir, 'data.tfrecord'), splitType: 'TFRecord', batchStrategy: 'SingleRecord', assembleWith: 'Line' });
    expect(out(tf, 'data.tfrecord').toString()).toBe('one\nrecord two\nthree!\n');
    const tfMulti = await job('tfrecord-multi', { input: join(dir, 'data.tfrecord'), splitType: 'TFRecord', batchStrategy: 'MultiRecord' });
    expect(out(tfMulti, 'data.tfrecord').equals(tfr)).toBe(true);
    expect(requestsOf(tfMulti)).toHaveLength(1);
  });

  it('decompresses Gzip input before splitting', async () => {
    const dir = s.dir('gz');
    writeFileSync(join(dir, 'rows.csv.gz'), gzipSync(Buffer.from('x,1\ny,2\n')));
    const r = await job('gzip', { input: dir, splitType: 'Line', compressionType: 'Gzip', batchStrategy: 'SingleRecord' });
    expect(out(r, 'rows.csv.gz').toString()).toBe('x,1\ny,2\n');
    expect(requestsOf(r).map((q) => q.bytes)).toEqual(['4', '4']);
  });

  it('a file with a failing record gets no .out after its retries, the others go on, and the job fails', async () => {
    const dir = s.dir('fail');
    writeFileSync(join(dir, 'good.csv'), 'a,1\n');
    writeFileSync(join(dir, 'bad.csv'), 'b,1\nFAIL,2\n');
    const err = await rejection(job('fail', { input: dir, splitType: 'Line', batchStrategy: 'SingleRecord', invocationsMaxRetries: 2, environment: { MODE: 'fail' } }), AlgorithmError);
    const r = detailsOf(err);
    expect(r.status).toBe('Failed');
    expect(r.failureReason).toBe('ClientError: See job logs for more information');
    expect(readdirSync(r.outputDir)).toEqual(['good.csv.out']);
    expect(r.files.find((f) => f.key === 'bad.csv')!.error).toMatch(/record 2 failed after 3 attempts: the container answered 500 "cannot score this record"/);
    // 1 good record, and 1 + 1 + 3 requests for the bad file's two records.
    expect(requestsOf(r)).toHaveLength(5);
    expect(err.hint).toMatch(/1 of 2 input files failed/);
  });

  it('a single record above MaxPayloadInMB fails its file with the reason', async () => {
    const dir = s.dir('big');
    writeFileSync(join(dir, 'big.csv'), `${'x'.repeat(1024 * 1024 + 10)}\n`);
    const err = await rejection(job('too-big', { input: dir, splitType: 'Line', maxPayloadInMB: 1 }), AlgorithmError);
    expect(detailsOf(err).files[0]!.error).toMatch(/record 1 is 1048587 bytes, more than MaxPayloadInMB/);
    expect(existsSync(join(detailsOf(err).outputDir, 'big.csv.out'))).toBe(false);
  });

  it('divides the objects between two instances by key, one object always to one instance', async () => {
    const dir = s.dir('many');
    for (let i = 0; i < 4; i++) writeFileSync(join(dir, `f${i}.csv`), `r${i}\n`);
    const r = await job('two', { input: dir, splitType: 'Line', instanceCount: 2 });
    expect(r.files.map((f) => `${f.key}@${f.host}`)).toEqual(['f0.csv@algo-1', 'f1.csv@algo-2', 'f2.csv@algo-1', 'f3.csv@algo-2']);
    expect(requestsOf(r, 'algo-1')).toHaveLength(2);
    expect(requestsOf(r, 'algo-2')).toHaveLength(2);
    for (let i = 0; i < 4; i++) expect(out(r, `f${i}.csv`).toString()).toBe(`r${i}\n`);
  });

  it('MaxPayloadInMB 0: no limit, one request per object, sent with chunked transfer encoding', async () => {
    const r = await job('unlimited', { splitType: 'Line', maxPayloadInMB: 0 });
    expect(requestsOf(r).map((q) => [q.lines, q.te])).toEqual([['2', 'chunked'], ['40', 'chunked']]);
    expect(out(r, 'part-0.csv').toString()).toBe(csv);
  });

  it('joins JSON Lines records with their predictions under SageMakerOutput', async () => {
    const dir = s.dir('jsonl');
    writeFileSync(join(dir, 'rows.jsonl'), '{"id":"a","x":[1,2]}\n[5,6,7]\n');
    const r = await job('jsonl', {
      input: dir,
      contentType: 'application/jsonlines',
      accept: 'application/jsonlines',
      splitType: 'Line',
      assembleWith: 'Line',
      environment: { MODE: 'count' },
      dataProcessing: { joinSource: 'Input' },
    });
    expect(out(r, 'rows.jsonl').toString()).toBe('{"id":"a","x":[1,2],"SageMakerOutput":{"fields":2}}\n{"SageMakerInput":[5,6,7],"SageMakerOutput":{"fields":3}}\n');
  });

  it('runs a CreateTransformJob file with its model from a CreateModel file, through the CLI', async () => {
    const dir = s.dir('cli');
    const s3 = join(dir, 's3');
    mkdirSync(join(s3, 'bucket', 'in'), { recursive: true });
    writeFileSync(join(s3, 'bucket', 'in', 'x.csv'), 'id9,1,2\n');
    writeFileSync(join(dir, 'model.json'), JSON.stringify({ ModelName: 'scorer', PrimaryContainer: { Image: IMAGE, ModelDataUrl: model, Environment: { MODE: 'count' } }, ExecutionRoleArn: 'arn:aws:iam::123456789012:role/R' }));
    const request = JSON.parse(readExample('api.create-transform-job.request.json')) as Record<string, Record<string, unknown>>;
    (request.TransformInput!.DataSource as { S3DataSource: { S3Uri: string } }).S3DataSource.S3Uri = 's3://bucket/in/';
    request.TransformOutput!.S3OutputPath = 's3://bucket/out/';
    request.TransformJobName = `cli-${s.session}` as never;
    writeFileSync(join(dir, 'job.json'), JSON.stringify(request));
    const env = { ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot, SM_LOCAL_SESSION: s.session };
    const r = await runCli(['transform', '--job', 'job.json', '--model-json', 'model.json', '--s3-root', 's3', '--output-dir', 'jobs', '--json'], { env, cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    // The example's DataProcessing: $[1:] in, joined with Input, $[0,-1] out.
    expect(readFileSync(join(s3, 'bucket', 'out', 'x.csv.out'), 'utf8')).toBe('id9,2\n');
    expect(JSON.parse(r.stdout)).toMatchObject({ TransformJobStatus: 'Completed', ModelName: 'churn-xgb-v3', MaxConcurrentTransforms: 2, BatchStrategy: 'MultiRecord', TransformOutput: { S3OutputPath: 's3://bucket/out/' } });
  });

  it('refuses what CreateTransformJob refuses before anything starts', async () => {
    const err = await rejection(job('bad', { maxConcurrentTransforms: 20, maxPayloadInMB: 6, dataProcessing: { inputFilter: '$..a' }, contentType: 'text/csv', accept: 'text/csv', splitType: 'Line', assembleWith: 'Line' }), InvalidSpecError);
    expect(err.problems.map((p) => p.path)).toEqual(['MaxConcurrentTransforms', 'DataProcessing.InputFilter']);
  });
});
