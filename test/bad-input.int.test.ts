import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { fixtureTag } from '../scripts/lib/images.js';
import { DockerClient, DockerUnavailableError, ImageNotFoundError, InvalidSpecError, JobExistsError, runTrainingJob } from '../src/index.js';
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
});
