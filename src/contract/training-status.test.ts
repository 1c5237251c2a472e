import { describe, expect, it } from 'vitest';
import { readExample } from '../../test/support/examples.js';
import { renderDescribeTrainingJob, TrainingStatusTracker } from './training-status.js';
import { resolveTrainingJobSpecOrThrow } from './training-spec.js';

describe('TrainingStatusTracker', () => {
  it('walks the happy path and closes each transition when the next begins', () => {
    const t = new TrainingStatusTracker(1_000);
    t.enter('Downloading', 2_000);
    t.enter('Training', 3_500);
    expect(t.status).toBe('InProgress');
    t.enter('Uploading', 9_000);
    t.enter('Completed', 9_250);
    expect(t.status).toBe('Completed');
    expect(t.transitions.map((x) => [x.Status, x.StartTime, x.EndTime])).toEqual([
      ['Starting', 1, 2],
      ['Downloading', 2, 3.5],
      ['Training', 3.5, 9],
      ['Uploading', 9, 9.25],
      ['Completed', 9.25, 9.25],
    ]);
    expect(Object.keys(t.transitions[0]!)).toEqual(['Status', 'StartTime', 'EndTime', 'StatusMessage']);
  });

  it('reports Stopping while stopping and Stopped/MaxRuntimeExceeded at the end', () => {
    const t = new TrainingStatusTracker(0);
    t.enter('Training', 1);
    t.enter('Stopping', 2);
    expect(t.status).toBe('Stopping');
    t.enter('Uploading', 3);
    expect(t.status).toBe('Stopping');
    t.enter('MaxRuntimeExceeded', 4);
    expect([t.status, t.secondaryStatus]).toEqual(['Stopped', 'MaxRuntimeExceeded']);
  });
});

describe('renderDescribeTrainingJob', () => {
  it('has the members of the DescribeTrainingJob example, with times as epoch seconds', () => {
    const { spec } = resolveTrainingJobSpecOrThrow({ image: 'img', trainingJobName: 'job-1', hyperParameters: { a: '1' } }, { now: new Date(0) });
    const t = new TrainingStatusTracker(1_714_644_907_311);
    t.enter('Downloading', 1_714_645_012_118);
    t.enter('Training', 1_714_645_041_502);
    t.enter('Failed', 1_714_645_190_642);
    const d = renderDescribeTrainingJob(spec, { tracker: t, failureReason: 'AlgorithmError: , exit code: 1', modelArtifact: '/out/job-1/model.tar.gz', local: {} }, '/out/job-1');
    const example = JSON.parse(readExample('api.describe-training-job.response.json')) as Record<string, unknown>;
    const required = ['TrainingJobName', 'TrainingJobArn', 'ModelArtifacts', 'TrainingJobStatus', 'SecondaryStatus', 'FailureReason', 'HyperParameters', 'AlgorithmSpecification', 'OutputDataConfig', 'ResourceConfig', 'StoppingCondition', 'CreationTime', 'TrainingStartTime', 'TrainingEndTime', 'LastModifiedTime', 'SecondaryStatusTransitions', 'EnableNetworkIsolation', 'EnableInterContainerTrafficEncryption', 'EnableManagedSpotTraining', 'TrainingTimeInSeconds', 'BillableTimeInSeconds'];
    for (const key of required) {
      expect(example).toHaveProperty(key);
      expect(d).toHaveProperty(key);
    }
    expect(d).toMatchObject({
      TrainingJobStatus: 'Failed',
      SecondaryStatus: 'Failed',
      CreationTime: 1714644907.311,
      TrainingStartTime: 1714645012.118,
      TrainingEndTime: 1714645190.642,
      LastModifiedTime: 1714645190.642,
      TrainingTimeInSeconds: example.TrainingTimeInSeconds,
      ModelArtifacts: { S3ModelArtifacts: '/out/job-1/model.tar.gz' },
    });
  });
});
