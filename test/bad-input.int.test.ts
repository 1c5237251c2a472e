import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { fixtureTag } from '../scripts/lib/images.js';
import { LABEL } from '../src/docker/labels.js';
import { DockerClient, DockerUnavailableError, ImageNotFoundError, InvalidSpecError, JobExistsError, runTrainingJob } from '../src/index.js';
import { runCli } from './support/cli.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

describe.skipIf(dockerUnavailable())('bad input is refused before anything starts', () => {
  const s = useTestSession();

  it('an image that is not in the engine: never pulled, says how to build it, no job folder', async () => {
    const outputDir = s.dir();
    const { deps } = s.deps();
    const err = await runTrainingJob({ image: 'sm-local-test/does-not-exist:1', outputDir }, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ImageNotFoundError);
    expect(err).toMatchObject({ code: 'E_IMAGE_NOT_FOUND', exitCode: 3, hint: expect.stringMatching(/never pulls.*docker build -t sm-local-test\/does-not-exist:1/) });
    expect(readdirSync(outputDir)).toEqual([]);
  });

  it('missing channel folders: every one reported, with the field it came from', async () => {
    const { deps } = s.deps();
    const err = await runTrainingJob(
      {
        image: fixtureTag('reporter'),
        channels: [
          { channelName: 'train', source: '/no/such/train' },
          { channelName: 'validation', source: '/no/such/validation', sourceUri: 's3://bucket/validation' },
        ],
        outputDir: s.dir(),
      },
      deps,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidSpecError);
    expect((err as InvalidSpecError).problems.map((p) => p.path)).toEqual(['channel "train" (--channel)', 'InputDataConfig[1].DataSource.S3DataSource.S3Uri']);
    expect((err as InvalidSpecError).exitCode).toBe(2);
  });

  it('names and limits outside CONTRACT §3.15', async () => {
    const { deps } = s.deps();
    const err = await runTrainingJob(
      { image: fixtureTag('reporter'), trainingJobName: 'under_score', environment: { 'BAD-KEY': 'x' }, stoppingCondition: { maxRuntimeInSeconds: 0 }, outputDir: s.dir() },
      deps,
    ).catch((e: unknown) => e);
    expect((err as InvalidSpecError).problems.map((p) => p.path)).toEqual(['TrainingJobName', 'Environment key "BAD-KEY"', 'StoppingCondition.MaxRuntimeInSeconds']);
  });

  it('a job name that was used before (SageMaker names are unique forever)', async () => {
    const outputDir = s.dir();
    mkdirSync(join(outputDir, 'used-name'));
    const { deps } = s.deps();
    const err = await runTrainingJob({ image: fixtureTag('reporter'), trainingJobName: 'used-name', outputDir }, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JobExistsError);
    expect(existsSync(join(outputDir, 'used-name', 'describe.json'))).toBe(false);
  });

  it('an engine that does not answer', async () => {
    const docker = new DockerClient(new Docker({ socketPath: join(s.root, 'no-docker.sock') }));
    const { deps } = s.deps({ docker });
    const err = await runTrainingJob({ image: fixtureTag('reporter'), outputDir: s.dir() }, deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DockerUnavailableError);
    expect(err).toMatchObject({ code: 'E_DOCKER_UNAVAILABLE', exitCode: 3, hint: expect.stringMatching(/DOCKER_HOST/) });
  });

  describe('on the command line', () => {
    const env = { ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot };
    const cli = (args: string[]) => runCli(args, { env, cwd: s.root });
    let n = 0;
    const jobName = () => `bad-input-${s.session}-${++n}`;

    it('a flag that takes one value, given twice: the last one wins (as with docker run), for every such flag', async () => {
      const [first, last] = [s.dir(), s.dir()];
      const name = jobName();
      const r = await cli(['train', fixtureTag('lab'), '--job-name', 'not-this-one', '--job-name', name, '--output', first, '--output', last, '--max-runtime', '1', '--max-runtime', '600', '--env', 'A=1', '--env', 'B=2', '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(readdirSync(first)).toEqual([]);
      expect(readdirSync(last)).toEqual([name]);
      expect(JSON.parse(r.stdout)).toMatchObject({ TrainingJobName: name, StoppingCondition: { MaxRuntimeInSeconds: 600 }, Environment: { A: '1', B: '2' } });
    });

    it('--env-file reaches sm-local on every supported Node (Node 20 reads --env-file after the script otherwise)', async () => {
      const r = await cli(['train', fixtureTag('lab'), '--job-name', jobName(), '--env-file', 'missing.env', '--output', s.dir()]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`--env-file: file ${join(s.root, 'missing.env')} does not exist or cannot be read.`);
      const file = join(s.dir('env'), 'job.env');
      writeFileSync(file, 'FROM_FILE=yes\n');
      const ok = await cli(['train', fixtureTag('lab'), '--job-name', jobName(), '--env-file', file, '--output', s.dir(), '--json']);
      expect(ok.code, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ Environment: { FROM_FILE: 'yes' } });
    });

    it('a --job file that names a channel twice is refused with the field path, as CreateTrainingJob refuses it', async () => {
      const data = s.dir('data');
      writeFileSync(join(data, 'rows.csv'), '1,2\n');
      const name = jobName();
      const channel = (uri: string) => ({ ChannelName: 'train', DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: uri } } });
      const job = join(s.dir('job'), 'job.json');
      writeFileSync(
        job,
        JSON.stringify({
          TrainingJobName: name,
          RoleArn: 'arn:aws:iam::123456789012:role/SageMakerRole',
          AlgorithmSpecification: { TrainingImage: fixtureTag('lab'), TrainingInputMode: 'File' },
          InputDataConfig: [channel(data), channel(data)],
          OutputDataConfig: { S3OutputPath: 's3://bucket/out/' },
          ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1 },
          StoppingCondition: { MaxRuntimeInSeconds: 600 },
        }),
      );
      const r = await cli(['train', '--job', job, '--output', s.dir()]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('InputDataConfig[1].ChannelName: channel "train" is defined more than once (first at InputDataConfig[0].ChannelName); channel names must be unique.');
      expect(await s.docker.listManaged([`${LABEL.jobName}=${name}`])).toEqual([]);
      const twice = await cli(['train', fixtureTag('lab'), '--job-name', jobName(), '--channel', `train=${data}`, '--channel', `train=${data}`, '--output', s.dir()]);
      expect(twice.code, twice.stderr).toBe(2);
      expect(twice.stderr).toContain(`--channel #2 (train=${data}): channel "train" is defined more than once (first at --channel #1); channel names must be unique.`);
    });
  });
});
