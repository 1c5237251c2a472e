/**
 * `sm-local api` keeps its resources in a state folder: a restart finds them again; a server that
 * was killed leaves nothing running behind, and its jobs that were running are Failed with the reason.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../src/log.js';
import { pruneResources } from '../src/jobs/prune.js';
import { EXAMPLE_IMAGE, fixtureTag, REPO_ROOT } from '../scripts/lib/images.js';
import { CLI_BIN } from '../scripts/lib/paths.js';
import { LABEL } from '../src/docker/labels.js';
import { startApiCli } from './support/api-cli.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

const run = promisify(execFile);

describe.skipIf(dockerUnavailable())('sm-local api state across restarts', () => {
  const s = useTestSession();
  const s3Root = s.dir('s3');
  mkdirSync(join(s3Root, 'bucket'), { recursive: true });
  cpSync(join(REPO_ROOT, 'examples', 'logistic-regression', 'data', 'train'), join(s3Root, 'bucket', 'train'), { recursive: true });
  const state = s.dir('state');
  const jobs = s.dir('jobs');
  let n = 0;
  // Each server runs as a session of its own: whatever a failed test left of them goes too.
  afterAll(async () => {
    for (let i = 1; i <= n; i++) await pruneResources({ docker: s.docker, log: silentLogger, tmpRoot: s.tmpRoot, session: `${s.session}-${i}` });
  });

  /** A server on this state folder; each with its own session, as separate runs are. */
  const start = () => startApiCli(['--s3-root', s3Root, '--output', jobs, '--state', state], { SM_LOCAL_TMPDIR: s.tmpRoot, SM_LOCAL_SESSION: `${s.session}-${++n}` });
  const call = async (url: string, op: string, body: Record<string, unknown>) => {
    const res = await fetch(url, { method: 'POST', headers: { 'x-amz-target': `SageMaker.${op}`, 'content-type': 'application/x-amz-json-1.1' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const job = (name: string, epochs: string) => ({
    TrainingJobName: name,
    RoleArn: 'arn:aws:iam::000000000000:role/R',
    AlgorithmSpecification: { TrainingImage: EXAMPLE_IMAGE, TrainingInputMode: 'File' },
    HyperParameters: { epochs },
    InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://bucket/train' } } }],
    OutputDataConfig: { S3OutputPath: 's3://bucket/out' },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 10 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
  });

  it('finds its jobs, models, configs and tags again after a restart; a killed server leaves nothing and its running job is Failed', async () => {
    const first = await start();
    const done = `state-done-${s.session}`;
    expect((await call(first.url, 'CreateTrainingJob', job(done, '20'))).status).toBe(200);
    for (let i = 0; i < 400 && (await call(first.url, 'DescribeTrainingJob', { TrainingJobName: done })).body.TrainingJobStatus !== 'Completed'; i++) await new Promise((r) => setTimeout(r, 100));
    const model = `state-model-${s.session}`;
    const created = await call(first.url, 'CreateModel', { ModelName: model, PrimaryContainer: { Image: fixtureTag('serve-good'), Environment: { API_TOKEN: `tok-${s.session}-secret`, MODE: 'plain' } }, Tags: [{ Key: 'k', Value: 'v' }] });
    await call(first.url, 'CreateEndpointConfig', { EndpointConfigName: model, ProductionVariants: [{ VariantName: 'AllTraffic', ModelName: model, InitialInstanceCount: 1, InstanceType: 'ml.m5.large' }] });
    await call(first.url, 'CreateEndpoint', { EndpointName: model, EndpointConfigName: model });
    const running = `state-running-${s.session}`;
    await call(first.url, 'CreateTrainingJob', job(running, '500000'));
    for (let i = 0; i < 400 && !/epoch=/.test(first.stderr().split(running).at(-1) ?? ''); i++) await new Promise((r) => setTimeout(r, 25));
    // Killed: no chance to stop anything.
    await first.stop('SIGKILL');
    // What it saved holds no secret in clear, and the folder says it is not for git.
    const saved = readFileSync(join(state, 'state.json'), 'utf8');
    expect(saved).not.toContain(`tok-${s.session}-secret`);
    expect(saved).toContain('"MODE": "plain"');
    expect(readFileSync(join(state, '.gitignore'), 'utf8')).toMatch(/^\*$/m);

    const second = await start();
    try {
      expect((await call(second.url, 'DescribeTrainingJob', { TrainingJobName: done })).body).toMatchObject({ TrainingJobStatus: 'Completed', ModelArtifacts: { S3ModelArtifacts: `s3://bucket/out/${done}/output/model.tar.gz` } });
      expect((await call(second.url, 'DescribeTrainingJob', { TrainingJobName: running })).body).toMatchObject({ TrainingJobStatus: 'Failed', FailureReason: expect.stringMatching(/stopped while the job ran/) });
      // The model is as it was given, its secret value too (DescribeModel returns the Environment).
      expect((await call(second.url, 'DescribeModel', { ModelName: model })).body).toMatchObject({ PrimaryContainer: { Environment: { API_TOKEN: `tok-${s.session}-secret`, MODE: 'plain' } } });
      expect((await call(second.url, 'ListTags', { ResourceArn: created.body.ModelArn })).body.Tags).toEqual([{ Key: 'k', Value: 'v' }]);
      // The endpoint comes back on its config.
      let status = '';
      for (let i = 0; i < 200 && status !== 'InService'; i++) {
        status = String((await call(second.url, 'DescribeEndpoint', { EndpointName: model })).body.EndpointStatus);
        if (status !== 'InService') await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toBe('InService');
      // The killed run's containers are gone: only the endpoint's new one is left.
      const left = await s.docker.listManaged([`${LABEL.session}=${s.session}-1`]);
      expect(left.map((r) => r.name)).toEqual([]);
      // A second server on the same state folder is refused while this one runs.
      const clash = await run(CLI_BIN, ['api', '--port', '0', '--s3-root', s3Root, '--output', jobs, '--state', state], { env: { ...process.env, NO_COLOR: '1' } }).then(() => undefined, (e: { code: number; stderr: string }) => e);
      expect(clash?.code).toBe(2);
      expect(clash?.stderr).toMatch(/Another sm-local api \(pid \d+\) uses the state in/);
    } finally {
      await second.stop('SIGINT');
    }
    // Ctrl-C deleted the endpoint, as DeleteEndpoint: the next run does not bring it back.
    const third = await start();
    try {
      expect((await call(third.url, 'DescribeEndpoint', { EndpointName: model })).body.__type).toBe('ValidationException');
      expect((await call(third.url, 'DescribeTrainingJob', { TrainingJobName: done })).body.TrainingJobStatus).toBe('Completed');
    } finally {
      await third.stop('SIGINT');
    }
  });
});
