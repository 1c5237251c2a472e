import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EXAMPLE_IMAGE, fixtureTag, REPO_ROOT } from '../scripts/lib/images.js';
import { LABEL } from '../src/docker/labels.js';
import { runCli } from './support/cli.js';
import { readExample } from './support/examples.js';
import { dockerUnavailable, useTestSession } from './support/session.js';
import { tarNames } from './support/tarballs.js';


const EXAMPLE_DATA = join(REPO_ROOT, 'examples', 'logistic-regression', 'data');

describe.skipIf(dockerUnavailable())('the sm-local CLI', () => {
  const s = useTestSession();
  const env = { ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot, SM_LOCAL_OUTPUT: s.dir('cli-output') };
  let jobNames: string[] = [];
  let n = 0;
  const jobName = () => {
    const name = `cli-${s.session}-${++n}`;
    jobNames.push(name);
    return name;
  };

  const cli = (args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; onStderr?: (line: string, child: ChildProcess) => void } = {}) =>
    runCli(args, { env: opts.env ?? env, cwd: opts.cwd ?? s.root, ...(opts.onStderr ? { onStderr: opts.onStderr } : {}) });

  // Every job the CLI ran (in its own session) must have left nothing behind.
  afterEach(async () => {
    for (const name of jobNames) {
      const left = await s.docker.listManaged([`${LABEL.jobName}=${name}`]);
      expect(left.map((r) => `${r.kind} ${r.name}`), `left behind by ${name}`).toEqual([]);
    }
    jobNames = [];
  });

  it('trains the bundled example: model.tar.gz path on stdout, progress and container output on stderr', async () => {
    const name = jobName();
    const r = await cli(['train', EXAMPLE_IMAGE, '--job-name', name, '--channel', `train=${EXAMPLE_DATA}/train`, '--channel', `validation=${EXAMPLE_DATA}/validation`, '--hyperparameter', 'epochs=50']);
    expect(r.code).toBe(0);
    const modelPath = join(env.SM_LOCAL_OUTPUT, name, 'model.tar.gz');
    expect(r.stdout).toBe(`${modelPath}\n`);
    expect(r.stderr).toMatch(/^\[algo-1\] \| epoch=50 train_loss=[\d.]+ val_loss=[\d.]+ val_auc=[\d.]+$/m);
    expect(r.stderr).toMatch(new RegExp(`Training job ${name}: Completed in [\\d.]+s`));
    expect(await tarNames(modelPath)).toEqual(['model.json']);
    expect(await tarNames(join(env.SM_LOCAL_OUTPUT, name, 'output.tar.gz'))).toEqual(['metrics.json']);
  });

  it('runs two hosts with prefixed output, charts the metrics at the end, and warns about a metric that matched nothing and a model file both hosts wrote', async () => {
    const name = jobName();
    const r = await cli([
      'train', EXAMPLE_IMAGE, '--job-name', name, '--instance-count', '2',
      '--channel', `train=${EXAMPLE_DATA}/train`, '--channel', `validation=${EXAMPLE_DATA}/validation`,
      '--hyperparameter', 'epochs=50',
      '--metric', 'validation:auc=val_auc=([0-9.]+)', '--metric', 'never=f1_score=([0-9.]+)', '--json',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^\[algo-1\] \| epoch=50 /m);
    expect(r.stderr).toMatch(/^\[algo-2\] \| epoch=50 /m);
    expect(r.stderr).toMatch(/^Metrics \(MetricDefinitions applied to the log; metrics\.json has the series\):$/m);
    expect(r.stderr).toMatch(/^ {2}validation:auc {2}[▁▂▃▄▅▆▇█]+ {2}last [\d.]+ {2}min [\d.]+ {2}max [\d.]+ {2}\(\d+ values\)$/m);
    expect(r.stderr).toContain('Metric "never" matched no line of the log: check its regex.');
    expect(r.stderr).toMatch(/Several hosts wrote model\.json in \/opt\/ml\/model/);
    const describe = JSON.parse(r.stdout) as { FinalMetricDataList: { MetricName: string; Value: number }[]; ResourceConfig: { InstanceCount: number } };
    expect(describe.FinalMetricDataList.map((m) => m.MetricName)).toEqual(['validation:auc']);
    expect(describe.ResourceConfig.InstanceCount).toBe(2);
    expect(existsSync(join(env.SM_LOCAL_OUTPUT, name, 'metrics.json'))).toBe(true);
    expect(existsSync(join(env.SM_LOCAL_OUTPUT, name, 'algo-2.log'))).toBe(true);
  });

  it('--json prints describe.json alone on stdout', async () => {
    const name = jobName();
    const r = await cli(['train', fixtureTag('reporter'), '--job-name', name, '--json']);
    expect(r.code).toBe(0);
    const describe = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(describe).toMatchObject({ TrainingJobName: name, TrainingJobStatus: 'Completed' });
    expect(describe).toEqual(JSON.parse(readFileSync(join(env.SM_LOCAL_OUTPUT, name, 'describe.json'), 'utf8')));
  });

  it('a failed job exits 1 with its FailureReason and log tail on stderr, and keeps its folder', async () => {
    const name = jobName();
    const r = await cli(['train', fixtureTag('fails'), '--job-name', name, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ TrainingJobStatus: 'Failed', FailureReason: expect.stringMatching(/^AlgorithmError: ValueError/) });
    expect(r.stderr).toMatch(/Last \d+ lines? of the container log:\n[\s\S]*\| fails: about to fail\n/);
    expect(r.stderr).toMatch(/error: Training job failed\. FailureReason: AlgorithmError: ValueError: the input has no label column/);
    expect(existsSync(join(env.SM_LOCAL_OUTPUT, name, 'algo-1.log'))).toBe(true);
  });

  it('a stopping condition exits 4', async () => {
    const name = jobName();
    const r = await cli(['train', fixtureTag('sigterm-handler'), '--job-name', name, '--max-runtime', '1']);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/MaxRuntimeInSeconds \(1 s\) reached: sending SIGTERM/);
    expect(r.stderr).toMatch(/error: Training job stopped: MaxRuntimeInSeconds/);
  });

  it('Ctrl-C stops the job like StopTrainingJob, uploads the model, cleans up and exits 130', async () => {
    const name = jobName();
    let sent = false;
    const r = await cli(['train', fixtureTag('sigterm-handler'), '--job-name', name], {
      onStderr: (line, child) => {
        if (!sent && line.includes('slow: tick 2')) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Ctrl-C: stopping… \(Ctrl-C again to force\)/);
    expect(r.stderr).toContain('slow: SIGTERM received, model saved');
    expect(await tarNames(join(env.SM_LOCAL_OUTPUT, name, 'model.tar.gz'))).toEqual(['saved-on-sigterm.txt']);
  });

  it('a second Ctrl-C kills the container at once and still cleans up', async () => {
    const name = jobName();
    let presses = 0;
    const r = await cli(['train', fixtureTag('sigterm-ignorer'), '--job-name', name], {
      onStderr: (line, child) => {
        if ((presses === 0 && line.includes('slow: tick 2')) || (presses === 1 && line.includes('slow: ignoring SIGTERM'))) {
          presses += 1;
          child.kill('SIGINT');
        }
      },
    });
    expect(presses).toBe(2);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/Forcing: killing containers now/);
    expect(JSON.parse(readFileSync(join(env.SM_LOCAL_OUTPUT, name, 'describe.json'), 'utf8'))).toMatchObject({ TrainingJobStatus: 'Stopped', SmLocal: { Killed: true } });
  });

  it('runs a CreateTrainingJob file with s3:// URIs mapped under --s3-root', async () => {
    const name = jobName();
    const request = JSON.parse(readExample('api.create-training-job.request.json')) as Record<string, Record<string, unknown>> & { InputDataConfig: Record<string, unknown>[] };
    request.TrainingJobName = name as never;
    request.AlgorithmSpecification!.TrainingImage = fixtureTag('reporter');
    request.ResourceConfig!.InstanceCount = 1;
    request.InputDataConfig = request.InputDataConfig.slice(0, 1);
    (request.InputDataConfig[0]!.DataSource as { S3DataSource: { S3Uri: string } }).S3DataSource.S3Uri = 's3://bucket/train/';
    const jobFile = join(s.root, 'job.json');
    writeFileSync(jobFile, JSON.stringify(request));
    const s3 = s.dir('s3');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(s3, 'bucket', 'train'), { recursive: true });
    writeFileSync(join(s3, 'bucket', 'train', 'part.csv'), '1\n');
    const r = await cli(['train', '--job', jobFile, '--s3-root', s3, '--json']);
    expect(r.code).toBe(0);
    const describe = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(describe).toMatchObject({
      TrainingJobStatus: 'Completed',
      RoleArn: 'arn:aws:iam::123456789012:role/AcmeSageMakerExecution',
      ResourceConfig: { InstanceType: 'ml.g5.2xlarge', InstanceCount: 1 },
      InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3Uri: 's3://bucket/train/' } } }],
      OutputDataConfig: { S3OutputPath: 's3://acme-ml-artifacts/churn/models/' },
    });
    // CheckpointConfig.S3Uri is mapped like the channels: checkpoints are saved there.
    expect(describe).toMatchObject({ CheckpointConfig: { S3Uri: 's3://acme-ml-artifacts/churn/checkpoints/churn-xgb-2024-05-02-10-15-07-311/', LocalPath: '/opt/ml/checkpoints' } });
    expect(existsSync(join(s3, 'acme-ml-artifacts', 'churn', 'checkpoints', 'churn-xgb-2024-05-02-10-15-07-311'))).toBe(true);
    // The reporter logs no metrics: each MetricDefinition is reported as matching nothing.
    expect(r.stderr).toMatch(/warning: Metric "train:loss" matched no line of the log/);
  });

  it('bad usage exits 2; an image that is not there exits 3', async () => {
    const unknown = await cli(['train', fixtureTag('reporter'), '--chanel', 'train=/x']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/error: Unknown argument: chanel/);
    const noCommand = await cli([]);
    expect(noCommand.code).toBe(2);
    const badSpec = await cli(['train', fixtureTag('reporter'), '--channel', 'train=/definitely/not/here', '--env', '1X=2']);
    expect(badSpec.code).toBe(2);
    expect(badSpec.stderr).toMatch(/has 2 problems:\n {2}- Environment key "1X"[^\n]*\n {2}- channel "train" \(--channel\): local data path \/definitely\/not\/here does not exist/);
    const missing = await cli(['train', 'sm-local-test/nope:1']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/error: Image "sm-local-test\/nope:1" is not in the local Docker engine\.\nhint: sm-local never pulls images/);
    expect(missing.stdout).toBe('');
  });

  it('doctor reports the engine and the images, and exits 3 with a hint when the engine is down', async () => {
    const ok = await cli(['doctor']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^engine {5}ok: (Docker Engine|Podman) [\d.]+\S* \(API [\d.]+\) at \S+, tested$/m);
    expect(ok.stdout).toMatch(/^image {6}example {2}(localhost\/)?sm-local-example\/logistic-regression:latest$/m);
    expect(ok.stdout).toMatch(/^disk {7}[\d.]+ GiB free for workspaces/m);
    const down = await cli(['doctor', '--json'], { env: { ...env, DOCKER_HOST: `unix://${join(s.root, 'nothing.sock')}` } });
    expect(down.code).toBe(3);
    expect(JSON.parse(down.stdout)).toMatchObject({ engine: { ok: false, hint: expect.stringMatching(/DOCKER_HOST/) } });
  });

  it('prune removes what dead sm-local processes left and spares what live ones own', async () => {
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '0']);
      child.on('close', () => resolve(child.pid!));
    });
    const labels = (pid: number) => ({ [LABEL.managed]: 'true', [LABEL.session]: s.session, [LABEL.pid]: String(pid), [LABEL.host]: hostname(), [LABEL.jobType]: 'training', [LABEL.jobName]: 'leftover' });
    const make = async (pid: number, name: string) => {
      const network = await s.docker.createNetwork({ name: `${name}-net`, labels: labels(pid) });
      const container = await s.docker.createContainer({ name, image: fixtureTag('reporter'), env: [], labels: labels(pid), volumes: ['/opt/ml/model'], network: { name: network.name, aliases: ['algo-1'] } });
      return { container, network };
    };
    const orphan = await make(dead, `sm-local-test-orphan-${s.session}`);
    const live = await make(process.pid, `sm-local-test-live-${s.session}`);
    try {
      const dry = await cli(['prune', '--dry-run']);
      expect(dry.stdout).toContain(`would remove container sm-local-test-orphan-${s.session}`);
      const r = await cli(['prune']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`removed container sm-local-test-orphan-${s.session}`);
      expect(r.stdout).toContain(`removed network sm-local-test-orphan-${s.session}-net`);
      expect(r.stdout).not.toContain('live');
      const left = (await s.docker.listManaged([`${LABEL.session}=${s.session}`])).map((x) => x.name);
      expect(left).toEqual(expect.arrayContaining([`sm-local-test-live-${s.session}`, `sm-local-test-live-${s.session}-net`]));
      expect(left.some((x) => x.includes('orphan'))).toBe(false);
    } finally {
      await live.container.remove();
      await live.network.remove();
      await orphan.container.remove();
      await orphan.network.remove();
    }
  });
});
