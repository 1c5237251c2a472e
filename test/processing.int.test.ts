import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixtureTag } from '../scripts/lib/images.js';
import { createUriMapper } from '../src/config/uri-mapping.js';
import { parseCreateProcessingJobRequest } from '../src/contract/create-processing-job.js';
import { AlgorithmError, InterruptedError, InvalidSpecError, JobTimeoutError } from '../src/errors.js';
import { runProcessingJob, startProcessingJob, type ProcessingJobInput, type ProcessingResult } from '../src/jobs/processing-runner.js';
import { readExample } from './support/examples.js';
import { rejection } from './support/jobs.js';
import { useProbeTarget } from './support/probe-target.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

const IMAGE = fixtureTag('processor');
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** What the processor fixture saw (fixtures/images/programs/processor.py), from report-<host>.json. */
interface Report {
  argv: string[];
  env: Record<string, string>;
  config: Record<'processingjobconfig.json' | 'resourceconfig.json', { raw: string; json: unknown }>;
  inputs: Record<string, { files?: Record<string, string>; writable?: boolean; pipe_sha256?: string }>;
  exists: Record<string, boolean>;
  writable: Record<string, boolean>;
  peers: Record<string, string>;
  probe?: string;
}

const reportOf = (folder: string, host = 'algo-1') => JSON.parse(readFileSync(join(folder, `report-${host}.json`), 'utf8')) as Report;
const describeOf = (r: ProcessingResult) => JSON.parse(readFileSync(r.describeFile, 'utf8')) as Record<string, unknown>;
const detailsOf = (err: { details?: unknown }) => err.details as ProcessingResult;

describe.skipIf(dockerUnavailable())('sm-local process: a SageMaker ProcessingJob on a real engine', () => {
  const s = useTestSession();
  let seq = 0;
  let data = '';
  beforeAll(() => {
    data = s.dir('data');
    mkdirSync(join(data, 'raw', 'day=1'), { recursive: true });
    for (let i = 0; i < 6; i++) writeFileSync(join(data, 'raw', i % 2 ? 'day=1' : '', `rows-${i}.csv`), `${i},${i * 2}\n`);
  });

  function job(name: string, input: Omit<ProcessingJobInput, 'image'>) {
    const { deps, lines } = s.deps();
    const outputDir = s.dir();
    const run = runProcessingJob({ image: IMAGE, processingJobName: `${name}-${++seq}-${s.session}`, outputDir, stopGraceSeconds: 5, ...input }, deps);
    return { run, lines, outputDir };
  }

  it("runs CONTRACT's example CreateProcessingJob request as it is and writes both config files byte for byte as the examples", async () => {
    const request = JSON.parse(readExample('api.create-processing-job.request.json')) as { AppSpecification: { ImageUri: string } };
    request.AppSpecification.ImageUri = IMAGE;
    const s3Root = s.dir('s3');
    mkdirSync(join(s3Root, 'acme-ml-data', 'churn', 'raw', '2024-05-01'), { recursive: true });
    writeFileSync(join(s3Root, 'acme-ml-data', 'churn', 'raw', '2024-05-01', 'part-0.csv'), 'a,b\n1,2\n');
    const parsed = parseCreateProcessingJobRequest(request, createUriMapper({ s3Root, baseDir: s3Root }));
    expect(parsed.problems).toEqual([]);
    const { deps } = s.deps();
    const result = await runProcessingJob({ ...parsed.spec, image: IMAGE, account: '123456789012', outputDir: s.dir() } as ProcessingJobInput, deps);
    expect(result.status).toBe('Completed');

    const train = join(s3Root, 'acme-ml-data', 'churn', 'features', '2024-05-01', 'train');
    expect(result.outputs).toEqual([
      { outputName: 'train', destination: train },
      { outputName: 'validation', destination: join(s3Root, 'acme-ml-data', 'churn', 'features', '2024-05-01', 'validation') },
    ]);
    const report = reportOf(train);
    const example = readExample('processing.processingjobconfig.json').replace('123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-preprocess:1.4.0', IMAGE);
    expect(report.config['processingjobconfig.json'].raw).toBe(example);
    expect(report.config['resourceconfig.json'].raw).toBe(readExample('processing.resourceconfig.json'));
    // §6.1: the entrypoint and arguments of the request, and no `train`/`serve` word.
    expect(report.argv).toEqual(['/opt/program/featurize.py', '--train-ratio', '0.8']);
    // §6.3: the request's Environment, no SM_* variables.
    expect(report.env.LOG_LEVEL).toBe('INFO');
    expect(Object.keys(report.env).filter((k) => k.startsWith('SM_'))).toEqual([]);
    expect(report.inputs.raw!.files).toEqual({ 'part-0.csv': sha256('a,b\n1,2\n') });
    expect(report.writable).toEqual({ '/opt/ml/processing/output/train': true, '/opt/ml/processing/output/validation': true, '/opt/ml/output': true });
    expect(report.exists).toMatchObject({ '/opt/ml/input': false, '/opt/ml/model': false });
    expect(describeOf(result)).toMatchObject({
      ProcessingJobName: 'churn-featurize-2024-05-02-09-58-41-070',
      ProcessingJobArn: 'arn:aws:sagemaker:us-east-1:123456789012:processing-job/churn-featurize-2024-05-02-09-58-41-070',
      ProcessingJobStatus: 'Completed',
      RoleArn: 'arn:aws:iam::123456789012:role/AcmeSageMakerExecution',
      StoppingCondition: { MaxRuntimeInSeconds: 3600 },
      ProcessingOutputConfig: { Outputs: [{ OutputName: 'train', S3Output: { S3Uri: 's3://acme-ml-data/churn/features/2024-05-01/train', S3UploadMode: 'EndOfJob' } }, { OutputName: 'validation' }] },
    });
    const d = describeOf(result);
    expect(typeof d.ProcessingStartTime).toBe('number');
    expect(d.ProcessingEndTime as number).toBeGreaterThanOrEqual(d.ProcessingStartTime as number);
  });

  it("starts the image's own ENTRYPOINT with no extra word, outputs default to the job folder, and both transfer modes give the same view", async () => {
    const seen: Record<string, Report> = {};
    for (const transfer of ['mount', 'copy'] as const) {
      const { run } = job(`view-${transfer}`, { transfer, inputs: [{ inputName: 'raw', source: join(data, 'raw') }], outputs: [{ outputName: 'out' }] });
      const result = await run;
      expect(result.outputs[0]!.destination).toBe(join(result.jobDir, 'out'));
      seen[transfer] = reportOf(join(result.jobDir, 'out'));
    }
    for (const r of Object.values(seen)) {
      expect(r.argv).toEqual(['/opt/program/processor.py']);
      expect(Object.keys(r.inputs.raw!.files!).sort()).toEqual(['day=1/rows-1.csv', 'day=1/rows-3.csv', 'day=1/rows-5.csv', 'rows-0.csv', 'rows-2.csv', 'rows-4.csv']);
    }
    expect(seen.mount!.inputs.raw!.files).toEqual(seen.copy!.inputs.raw!.files);
    // Copy mode gives writable copies, as SageMaker does; mount mode binds the user's folder read-only (a documented divergence).
    expect(seen.copy!.inputs.raw!.writable).toBe(true);
    expect(seen.mount!.inputs.raw!.writable).toBe(false);
  });

  it('fails with ExitMessage from /opt/ml/output/message and the FailureReason the service gives, and keeps the partial outputs', async () => {
    const { run } = job('fails', { containerArguments: ['fail', 'bad row 7 in rows-3.csv'], outputs: [{ outputName: 'out' }] });
    const err = await rejection(run, AlgorithmError);
    const result = detailsOf(err);
    expect(result.status).toBe('Failed');
    expect(result.exitCode).toBe(3);
    expect(describeOf(result)).toMatchObject({ ProcessingJobStatus: 'Failed', ExitMessage: 'bad row 7 in rows-3.csv', FailureReason: 'AlgorithmError: See job logs for more information' });
    expect(err.message).toMatch(/^Processing job failed\./);
    expect(existsSync(join(result.jobDir, 'out', 'report-algo-1.json'))).toBe(true);
    expect(readFileSync(result.logFile, 'utf8')).toContain('failing on purpose');
  });

  it('fails a job whose exit message is not UTF-8 with a ClientError, though the program exited 0', async () => {
    const err = await rejection(job('bad-message', { containerArguments: ['message-hex', 'c328ff'] }).run, AlgorithmError);
    const d = describeOf(detailsOf(err));
    expect(d.ProcessingJobStatus).toBe('Failed');
    expect(d.FailureReason).toMatch(/^ClientError: \/opt\/ml\/output\/message of algo-1 is not valid UTF-8/);
    expect(d.ExitMessage).toBeUndefined();
  });

  it('uploads a Continuous output while the job runs, and a stop ends it Stopped with the outputs kept', async () => {
    const { deps } = s.deps();
    const handle = await startProcessingJob(
      { image: IMAGE, processingJobName: `continuous-${++seq}-${s.session}`, outputDir: s.dir(), stopGraceSeconds: 5, containerArguments: ['continuous'], continuousUploadSeconds: 0.2, outputs: [{ outputName: 'live', s3UploadMode: 'Continuous' }] },
      deps,
    );
    const part = join(handle.jobDir, 'live', 'part-0.txt');
    // The file is there while the job is still InProgress: uploaded by the Continuous mode, not at the end.
    while (!existsSync(part)) {
      expect(handle.describe().ProcessingJobStatus).toBe('InProgress');
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(handle.describe().ProcessingJobStatus).toBe('InProgress');
    handle.stop();
    const err = await rejection(handle.done, InterruptedError);
    const result = detailsOf(err);
    expect(result.status).toBe('Stopped');
    expect(readFileSync(part, 'utf8')).toBe('written while the job runs\n');
    expect(existsSync(join(handle.jobDir, 'live', 'report-algo-1.json'))).toBe(true);
  });

  it('gives each of two hosts its shard of a ShardedByS3Key input (every object exactly once), and each resolves the other', async () => {
    const result = await job('sharded', { instanceCount: 2, inputs: [{ inputName: 'raw', source: join(data, 'raw'), s3DataDistributionType: 'ShardedByS3Key' }], outputs: [{ outputName: 'out' }] }).run;
    const out = join(result.jobDir, 'out');
    const reports = ['algo-1', 'algo-2'].map((h) => reportOf(out, h));
    const files = reports.flatMap((r) => Object.keys(r.inputs.raw!.files!));
    expect(files.sort()).toEqual(['day=1/rows-1.csv', 'day=1/rows-3.csv', 'day=1/rows-5.csv', 'rows-0.csv', 'rows-2.csv', 'rows-4.csv']);
    expect(new Set(files).size).toBe(6);
    for (const r of reports) {
      expect(Object.keys(r.inputs.raw!.files!).length).toBe(3);
      expect(Object.values(r.peers).every((ip) => /^\d+\.\d+\.\d+\.\d+$/.test(ip))).toBe(true);
    }
    expect(JSON.parse(reports[1]!.config['resourceconfig.json'].raw)).toEqual({ current_host: 'algo-2', hosts: ['algo-1', 'algo-2'] });
  });

  it('streams a Pipe input through a FIFO at <LocalPath>_0', async () => {
    const result = await job('pipe', { containerArguments: ['pipe'], inputs: [{ inputName: 'raw', source: join(data, 'raw'), s3InputMode: 'Pipe', localPath: '/opt/ml/processing/input/raw' }], outputs: [{ outputName: 'out' }] }).run;
    const keys = ['day=1/rows-1.csv', 'day=1/rows-3.csv', 'day=1/rows-5.csv', 'rows-0.csv', 'rows-2.csv', 'rows-4.csv'];
    const expected = sha256(Buffer.concat(keys.map((k) => readFileSync(join(data, 'raw', k)))));
    expect(reportOf(join(result.jobDir, 'out')).inputs.raw!.pipe_sha256).toBe(expected);
  });

  it('never follows a symbolic link in an output: it is left out, and said so', async () => {
    const result = await job('symlink', { containerArguments: ['symlink'], outputs: [{ outputName: 'out' }] }).run;
    expect(readdirSync(join(result.jobDir, 'out')).sort()).toEqual(['report-algo-1.json']);
    expect(result.notices.some((n) => /link-to-hostname.*symbolic link/.test(n))).toBe(true);
  });

  it('stops a job at MaxRuntimeInSeconds: SIGTERM, SIGKILL after the grace, Stopped with the reason', async () => {
    const err = await rejection(job('timeout', { containerArguments: ['sleep'], stoppingCondition: { maxRuntimeInSeconds: 1 }, stopGraceSeconds: 1 }).run, JobTimeoutError);
    const result = detailsOf(err);
    expect(result.status).toBe('Stopped');
    expect(result.hosts[0]).toMatchObject({ killed: true });
    expect(describeOf(result)).toMatchObject({ ProcessingJobStatus: 'Stopped', FailureReason: expect.stringMatching(/MaxRuntimeInSeconds/) });
  });

  it('refuses bad input before anything starts, every problem at once with its field path', async () => {
    const err = await rejection(
      job('bad', {
        inputs: [
          { inputName: 'raw', source: join(data, 'raw'), localPath: '/data/raw', s3CompressionType: 'Gzip' },
          { inputName: 'raw', source: join(data, 'nowhere') },
        ],
        outputs: [{ outputName: 'out', localPath: '/opt/ml/processing/input/raw' }],
        stoppingCondition: { maxRuntimeInSeconds: 777_601 },
      }).run,
      InvalidSpecError,
    );
    const paths = err.problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'ProcessingInputs[0].S3Input.LocalPath',
        'ProcessingInputs[0].S3Input.S3CompressionType',
        'ProcessingInputs[1].InputName',
        'StoppingCondition.MaxRuntimeInSeconds',
      ]),
    );
    expect(err.problems.find((p) => p.path === 'ProcessingInputs[0].S3Input.LocalPath')!.message).toMatch(/under \/opt\/ml\/processing\//);
    expect(err.problems.find((p) => p.path === 'ProcessingOutputConfig.Outputs[0].S3Output.LocalPath')!.message).toMatch(/already the LocalPath of input "raw"/);
  });

  describe('network isolation', () => {
    const probe = useProbeTarget(s, 'probe-p');

    it('without it the container reaches outside; with it, nothing outside the job, while the hosts still resolve each other', async () => {
      const target = probe.target();
      const open = await job('net-open', { environment: { PROBE: target }, outputs: [{ outputName: 'out' }] }).run;
      expect(reportOf(join(open.jobDir, 'out')).probe).toBe('connected');
      const closed = await job('net-closed', { instanceCount: 2, enableNetworkIsolation: true, environment: { PROBE: target }, outputs: [{ outputName: 'out' }] }).run;
      const r = reportOf(join(closed.jobDir, 'out'), 'algo-2');
      expect(r.probe).toMatch(/^failed/);
      expect(r.peers['algo-1']).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(describeOf(closed)).toMatchObject({ NetworkConfig: { EnableNetworkIsolation: true } });
    });
  });
});
