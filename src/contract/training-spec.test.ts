import { describe, expect, it } from 'vitest';
import { InvalidSpecError } from '../errors.js';
import { defaultTrainingJobName, resolveTrainingJobSpec, resolveTrainingJobSpecOrThrow, trainingJobArn } from './training-spec.js';

const now = new Date(Date.UTC(2024, 4, 2, 10, 15, 7, 311));
const resolve = (input: Parameters<typeof resolveTrainingJobSpec>[0]) => resolveTrainingJobSpec(input, { now });
const paths = (input: Parameters<typeof resolveTrainingJobSpec>[0]) => resolve(input).problems.map((p) => p.path);

describe('resolveTrainingJobSpec', () => {
  it('applies the service defaults', () => {
    const { spec } = resolveTrainingJobSpecOrThrow({ image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-train:2.1.0' }, { now });
    expect(spec).toMatchObject({
      trainingJobName: 'churn-train-2024-05-02-10-15-07-311',
      instanceType: 'ml.m5.large',
      instanceCount: 1,
      trainingInputMode: 'File',
      maxRuntimeInSeconds: 86_400,
      stopGraceSeconds: 120,
      region: 'us-east-1',
      hyperParameters: {},
    });
    expect(spec.trainingJobArn).toBe('arn:aws:sagemaker:us-east-1:000000000000:training-job/churn-train-2024-05-02-10-15-07-311');
  });

  it('names jobs like the SageMaker Python SDK and keeps them within 63 characters', () => {
    expect(defaultTrainingJobName('my_algo:latest', now)).toBe('my-algo-2024-05-02-10-15-07-311');
    const long = defaultTrainingJobName(`registry.example.com/${'x'.repeat(80)}@sha256:abc`, now);
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
  });

  it('lower-cases the name in the ARN only', () => {
    expect(trainingJobArn('eu-west-1', '123456789012', 'My-Job')).toBe('arn:aws:sagemaker:eu-west-1:123456789012:training-job/my-job');
  });

  it('reports every problem at once, with API field paths', () => {
    const out = resolve({
      image: 'img',
      trainingJobName: '-bad_name',
      hyperParameters: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`k${i}`, 'v'])),
      environment: { '1BAD': 'x', GOOD: 'y'.repeat(513) },
      channels: [
        { channelName: 'train', source: '/a' },
        { channelName: 'train', source: '/b' },
        { channelName: 'bad name', source: '/c' },
      ],
      stoppingCondition: { maxRuntimeInSeconds: 0 },
      instanceType: 'm5.large',
    });
    expect(out.spec).toBeUndefined();
    expect(out.problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        'TrainingJobName',
        'HyperParameters',
        'Environment key "1BAD"',
        'Environment.GOOD',
        'InputDataConfig[1].ChannelName',
        'InputDataConfig[2].ChannelName',
        'StoppingCondition.MaxRuntimeInSeconds',
        'ResourceConfig.InstanceType',
      ]),
    );
  });

  it('enforces the documented limits exactly at their edges', () => {
    expect(paths({ image: 'i', trainingJobName: 'a'.repeat(63) })).toEqual([]);
    expect(paths({ image: 'i', trainingJobName: 'a'.repeat(64) })).toEqual(['TrainingJobName']);
    expect(paths({ image: 'i', hyperParameters: { ['k'.repeat(256)]: 'v'.repeat(2500) } })).toEqual([]);
    expect(paths({ image: 'i', hyperParameters: { k: 'v'.repeat(2501) } })).toEqual(['HyperParameters.k']);
    expect(paths({ image: 'i', stoppingCondition: { maxRuntimeInSeconds: 2_419_200 } })).toEqual([]);
    expect(paths({ image: 'i', stoppingCondition: { maxRuntimeInSeconds: 2_419_201 } })).toEqual(['StoppingCondition.MaxRuntimeInSeconds']);
    expect(paths({ image: 'i', channels: Array.from({ length: 21 }, (_, i) => ({ channelName: `c${i}`, source: '/x' })) })).toEqual(['InputDataConfig']);
    expect(paths({ image: 'i', containerArguments: [] })).toEqual(['AlgorithmSpecification.ContainerArguments']);
  });

  it('warns about hyperparameter values the API prose would reject but the model accepts', () => {
    const out = resolve({ image: 'i', hyperParameters: { k: 'v'.repeat(300) } });
    expect(out.problems).toEqual([]);
    expect(out.notices.join('\n')).toMatch(/"k" is 300 characters long/);
  });

  it('refuses what it cannot reproduce instead of silently running something else', () => {
    expect(paths({ image: 'i', channels: [{ channelName: 'c', source: '/x', inputMode: 'Pipe' }] })).toEqual(['InputDataConfig[0].InputMode']);
    expect(paths({ image: 'i', trainingInputMode: 'FastFile', channels: [{ channelName: 'c', source: '/x' }] })).toEqual(['InputDataConfig[0].InputMode']);
    expect(paths({ image: 'i', instanceCount: 2 })).toEqual(['ResourceConfig.InstanceCount']);
    expect(paths({ image: 'i', stopGraceSeconds: 121 })).toEqual(['stop grace (--stop-grace)']);
  });

  it('throws InvalidSpecError listing each field', () => {
    expect(() => resolveTrainingJobSpecOrThrow({ image: '' }, { now })).toThrow(InvalidSpecError);
    try {
      resolveTrainingJobSpecOrThrow({ image: 'has space' }, { now });
    } catch (err) {
      expect(err).toMatchObject({ code: 'E_INVALID_SPEC', exitCode: 2 });
      expect((err as Error).message).toContain('AlgorithmSpecification.TrainingImage');
    }
  });
});
