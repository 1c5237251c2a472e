/**
 * bench/api: the local SageMaker (`sm-local api`) against its floors.
 * - DescribeTrainingJob through boto3, p50/p99 of 500 calls, against the same boto3 call answered by
 *   a bare HTTP server (node:http) with the same body: what the control plane adds per call.
 * - CreateTrainingJob until the job is Completed (boto3's own calls: create, then describe every
 *   50 ms), against `sm-local train` of the same job; interleaved rounds. Target ≤ 1.1×.
 * - The server's resident memory idle, and with 4 endpoints up. Target ≤ 150 MB.
 *
 * Usage: tsx bench/api.ts [rounds=5]
 */
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DockerClient } from '../src/docker/client.js';
import { ensureExample, ensureFixtures, EXAMPLE_IMAGE, fixtureTag, REPO_ROOT } from '../scripts/lib/images.js';
import { CLI_BIN } from '../scripts/lib/paths.js';
import { interleave, table, timeCommand, verdict } from './lib.js';

const run = promisify(execFile);
const rounds = Number(process.argv[2] ?? 5);
const docker = new DockerClient();
await docker.ping();
await ensureExample(docker);
await ensureFixtures(docker);

const dir = mkdtempSync(join(tmpdir(), 'sm-local-bench-api-'));
const s3 = join(dir, 's3');
mkdirSync(join(s3, 'bucket'), { recursive: true });
cpSync(join(REPO_ROOT, 'examples', 'logistic-regression', 'data', 'train'), join(s3, 'bucket', 'train'), { recursive: true });
const env = { ...process.env, NO_COLOR: '1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_DEFAULT_REGION: 'us-east-1' };
const server = spawn(CLI_BIN, ['api', '--port', '0', '--s3-root', s3, '--output', join(dir, 'jobs'), '--state', join(dir, 'state')], { env, stdio: ['ignore', 'pipe', 'ignore'] });
const url = await new Promise<string>((resolve, reject) => {
  server.stdout.once('data', (c: Buffer) => resolve(c.toString().trim()));
  server.once('exit', (code) => reject(new Error(`sm-local api exited with ${code}`)));
});
const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const request = (name: string) => ({
  TrainingJobName: name,
  RoleArn: 'arn:aws:iam::000000000000:role/R',
  AlgorithmSpecification: { TrainingImage: EXAMPLE_IMAGE, TrainingInputMode: 'File' },
  HyperParameters: { epochs: '50' },
  InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bucket/train' } } }],
  OutputDataConfig: { S3OutputPath: 's3://bucket/out' },
  ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
  StoppingCondition: { MaxRuntimeInSeconds: 600 },
});
const call = async (op: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers: { 'x-amz-target': `SageMaker.${op}`, 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) });
  const out = (await res.json()) as Record<string, unknown>;
  if (res.status !== 200) throw new Error(`${op}: ${JSON.stringify(out)}`);
  return out;
};
/** CreateTrainingJob, then DescribeTrainingJob every 50 ms until Completed. */
const apiJob = async (name: string) => {
  await call('CreateTrainingJob', request(name));
  for (;;) {
    const status = (await call('DescribeTrainingJob', { TrainingJobName: name })).TrainingJobStatus;
    if (status === 'Completed') return;
    if (status !== 'InProgress') throw new Error(`${name} ended ${String(status)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const lines: string[] = [];
try {
  const idle = rss();
  await apiJob('bench-describe');
  // DescribeTrainingJob through boto3: the server, and a bare server giving the same body.
  const body = JSON.stringify(await call('DescribeTrainingJob', { TrainingJobName: 'bench-describe' }));
  const bare = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'r' });
      res.end(body);
    });
  });
  await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;
  const latency = async (target: string) => JSON.parse((await run('python3', [join(REPO_ROOT, 'bench', 'clients', 'describe_latency.py'), target, 'bench-describe', '500'])).stdout) as { p50: number; p99: number };
  const results: Record<string, { p50: number; p99: number }[]> = { bare: [], api: [] };
  for (let r = 0; r < 3; r++) {
    results.bare!.push(await latency(bareUrl));
    results.api!.push(await latency(url));
  }
  bare.close();
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const row = (k: string) => `p50 ${med(results[k]!.map((x) => x.p50)).toFixed(2)} ms, p99 ${med(results[k]!.map((x) => x.p99)).toFixed(2)} ms`;
  lines.push(`DescribeTrainingJob through boto3 (500 calls, median of 3 runs): bare server with the same body ${row('bare')}; sm-local api ${row('api')}; p50 ratio ${(med(results.api!.map((x) => x.p50)) / med(results.bare!.map((x) => x.p50))).toFixed(3)}`);

  // CreateTrainingJob → Completed against sm-local train of the same job.
  let n = 0;
  const jobFile = join(dir, 'job.json');
  const series = await interleave(rounds, [
    {
      name: 'sm-local train --job',
      run: () => {
        writeFileSync(jobFile, JSON.stringify(request(`bench-train-${++n}`)));
        return timeCommand(CLI_BIN, ['train', '--job', jobFile, '--s3-root', s3, '--output', join(dir, 'cli-jobs')], { env });
      },
    },
    {
      name: 'sm-local api (create + describe)',
      run: async () => {
        const t = performance.now();
        await apiJob(`bench-api-${++n}`);
        return performance.now() - t;
      },
    },
  ]);
  lines.push(table('CreateTrainingJob until Completed (example, 50 epochs)', series, 'sm-local train --job'));
  const ratio = (s: number[]) => [...s].sort((a, b) => a - b)[Math.floor(s.length / 2)]!;
  lines.push(`target ≤ 1.1×: ${verdict(ratio(series[1]!.samples) / ratio(series[0]!.samples), 1.1)}`);

  // Memory: idle, and with 4 endpoints up.
  await call('CreateModel', { ModelName: 'bench-model', PrimaryContainer: { Image: fixtureTag('serve-good') } });
  await call('CreateEndpointConfig', { EndpointConfigName: 'bench-config', ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: 'bench-model', InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] });
  for (let i = 0; i < 4; i++) await call('CreateEndpoint', { EndpointName: `bench-ep-${i}`, EndpointConfigName: 'bench-config' });
  for (let i = 0; i < 4; i++) {
    while ((await call('DescribeEndpoint', { EndpointName: `bench-ep-${i}` })).EndpointStatus !== 'InService') await new Promise((r) => setTimeout(r, 100));
  }
  const withEndpoints = rss();
  lines.push(`server RSS: idle ${idle.toFixed(0)} MB; after training jobs and with 4 endpoints up ${withEndpoints.toFixed(0)} MB (target ≤ 150 MB: ${withEndpoints <= 150 ? 'PASS' : 'MISS'})`);
} finally {
  server.kill('SIGINT');
  await new Promise((r) => server.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
console.log(lines.join('\n'));
