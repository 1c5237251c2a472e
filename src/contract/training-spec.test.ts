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

  it('checks the rules of input modes, instance groups and script mode', () => {
    expect(paths({ image: 'i', channels: [{ channelName: 'c', source: '/x', inputMode: 'Pipe', compressionType: 'Gzip' }] })).toEqual([]);
    expect(paths({ image: 'i', channels: [{ channelName: 'c', source: '/x', compressionType: 'Gzip' }] })).toEqual(['InputDataConfig[0].CompressionType']);
    expect(paths({ image: 'i', instanceCount: 0 })).toEqual(['ResourceConfig.InstanceCount']);
    expect(paths({ image: 'i', stopGraceSeconds: 121 })).toEqual(['stop grace (--stop-grace)']);
    const groups = [
      { instanceGroupName: 'a', instanceType: 'ml.m5.large', instanceCount: 1 },
      { instanceGroupName: 'a', instanceType: 'm5', instanceCount: 0 },
    ];
    expect(paths({ image: 'i', instanceType: 'ml.m5.large', instanceGroups: groups, channels: [{ channelName: 'c', source: '/x', instanceGroupNames: ['b'] }] })).toEqual([
      'ResourceConfig.InstanceGroups',
      'ResourceConfig.InstanceGroups[1].InstanceGroupName',
      'ResourceConfig.InstanceGroups[1].InstanceType',
      'ResourceConfig.InstanceGroups[1].InstanceCount',
      'InputDataConfig[0].DataSource.S3DataSource.InstanceGroupNames',
    ]);
    expect(paths({ image: 'i', metricDefinitions: [{ Name: 'loss', Regex: 'loss=(' }] })).toEqual(['AlgorithmSpecification.MetricDefinitions[0].Regex']);
    expect(paths({ image: 'i', sourceDir: './src' })).toEqual(['entry point (--entry-point)']);
    expect(paths({ image: 'i', checkpoint: { source: '/ckpt', localPath: 'relative' } })).toEqual(['CheckpointConfig.LocalPath']);
  });

  it('adds the script-mode hyperparameters the SageMaker Python SDK sends', () => {
    const { spec } = resolveTrainingJobSpecOrThrow({ image: 'i', trainingJobName: 'job', entryPoint: 'train.py', sourceDir: './src', hyperParameters: { epochs: '3' } }, { now });
    expect(spec.hyperParameters).toEqual({
      epochs: '3',
      sagemaker_program: '"train.py"',
      sagemaker_submit_directory: '"/opt/ml/input/sm-local/sourcedir.tar.gz"',
      sagemaker_container_log_level: '20',
      sagemaker_job_name: '"job"',
      sagemaker_region: '"us-east-1"',
    });
    expect(spec.scriptMode).toEqual({ source: './src', program: 'train.py', sourceIsFile: false });
    expect(resolveTrainingJobSpecOrThrow({ image: 'i', entryPoint: 'scripts/fit.py' }, { now }).spec.scriptMode).toEqual({ source: 'scripts/fit.py', program: 'fit.py', sourceIsFile: true });
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
