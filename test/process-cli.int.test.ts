import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureTag, REPO_ROOT } from '../scripts/lib/images.js';
import { CLI_BIN } from '../scripts/lib/paths.js';
import { LABEL } from '../src/docker/labels.js';
import { runCli } from './support/cli.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

const EXAMPLE_DATA = join(REPO_ROOT, 'examples', 'logistic-regression', 'data');

describe.skipIf(dockerUnavailable())('sm-local process on the command line, and the one-image pipeline example', () => {
  const s = useTestSession();
  const env = { ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot, SM_LOCAL_SESSION: s.session };
  let n = 0;
  const jobName = () => `pcli-${s.session}-${++n}`;
  const cli = (args: string[]) => runCli(args, { env, cwd: s.root });

  afterEach(async () => {
    const left = await s.docker.listManaged([`${LABEL.session}=${s.session}`]);
    expect(left.map((r) => `${r.kind} ${r.name}`)).toEqual([]);
  });

  it('prints the job folder on stdout (describe.json with --json), progress and container output on stderr', async () => {
    const out = s.dir('pcli');
    const name = jobName();
    const r = await cli(['process', fixtureTag('processor'), '--job-name', name, '--output-dir', out, '--input', `raw=${EXAMPLE_DATA}/train`, '--output', 'report', '--env', 'LOG_LEVEL=DEBUG']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${join(out, name)}\n`);
    expect(r.stderr).toMatch(/^\[algo-1\] \| processed on algo-1$/m);
    expect(r.stderr).toMatch(new RegExp(`Processing job ${name}: Completed in [\\d.]+s`));
    expect(r.stderr).toContain(`output report: ${join(out, name, 'report')}`);
    const report = JSON.parse(readFileSync(join(out, name, 'report', 'report-algo-1.json'), 'utf8')) as { env: Record<string, string>; inputs: Record<string, { files: Record<string, string> }> };
    expect(report.env.LOG_LEVEL).toBe('DEBUG');
    expect(Object.keys(report.inputs.raw!.files)).toEqual(['train.csv']);

    const json = await cli(['process', fixtureTag('processor'), '--job-name', jobName(), '--output-dir', out, '--json', '--', 'fail', 'row 9 is bad']);
    expect(json.code).toBe(1);
    const d = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(d).toMatchObject({ ProcessingJobStatus: 'Failed', ExitMessage: 'row 9 is bad', AppSpecification: { ContainerArguments: ['fail', 'row 9 is bad'] } });
    expect(json.stderr).toMatch(/Processing job failed\. FailureReason: AlgorithmError: See job logs for more information/);
    expect(json.stderr).toContain('ExitMessage: row 9 is bad');
  });

  it('refuses bad flags with every problem and exit code 2, before anything runs', async () => {
    const r = await cli(['process', fixtureTag('processor'), '--job-name', jobName(), '--output-dir', s.dir('pcli'), '--input', 'raw=./nowhere:/data', '--output', 'o=./not-a-container-path', '--max-runtime', '0']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/the processing job has 4 problems/);
    expect(r.stderr).toMatch(/ProcessingInputs\[0\]\.S3Input\.LocalPath: "\/data" must be an absolute path under \/opt\/ml\/processing\//);
    expect(r.stderr).toMatch(/input "raw" \(--input\): local data path .*nowhere does not exist/);
    expect(r.stderr).toMatch(/LOCAL_PATH comes first/);
    expect(r.stderr).toMatch(/StoppingCondition\.MaxRuntimeInSeconds/);
  });

  it('runs the one-image pipeline end to end: process, then train on its outputs, then serve and invoke', async () => {
    const out = s.dir('pipeline');
    const run = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn('bash', [join(REPO_ROOT, 'examples', 'one-image-pipeline', 'run.sh'), out], { env: { ...env, SM_LOCAL: CLI_BIN }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
    expect(run.code, run.stderr).toBe(0);
    const jobs = readdirSync(out).sort();
    expect(jobs.map((j) => j.replace(/^pipeline-[\d-]+-/, ''))).toEqual(['preprocess', 'train']);
    const [preprocess, train] = jobs.map((j) => join(out, j));
    const rows = (split: string) => readFileSync(join(preprocess!, split, `${split}.csv`), 'utf8').trim().split('\n').length;
    expect([rows('train'), rows('validation')]).toEqual([800, 200]);
    expect(existsSync(join(train!, 'model.tar.gz'))).toBe(true);
    const trained = JSON.parse(readFileSync(join(train!, 'describe.json'), 'utf8')) as { AlgorithmSpecification: { ContainerEntrypoint: string[] }; TrainingJobStatus: string };
    expect(trained).toMatchObject({ TrainingJobStatus: 'Completed', AlgorithmSpecification: { ContainerEntrypoint: ['python3', '-u', '/opt/program/logreg.py', 'train'] } });
    // Two probabilities, one per row of the sample request.
    expect(run.stdout.trim().split('\n').map(Number).every((p) => p > 0 && p < 1)).toBe(true);
    expect(run.stdout.trim().split('\n')).toHaveLength(2);
  });
});
