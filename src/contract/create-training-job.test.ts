import { describe, expect, it } from 'vitest';
import { readExample } from '../../test/support/examples.js';
import { createUriMapper } from '../config/uri-mapping.js';
import { parseCreateTrainingJobRequest } from './create-training-job.js';
import { resolveTrainingJobSpec } from './training-spec.js';

const mapper = createUriMapper({ s3Root: '/s3', baseDir: '/jobs' });
const exampleRequest = () => JSON.parse(readExample('api.create-training-job.request.json')) as Record<string, unknown>;

describe('parseCreateTrainingJobRequest', () => {
  it('refuses a channel name given twice, with the field path of both', () => {
    const req = exampleRequest();
    const channels = req.InputDataConfig as Record<string, unknown>[];
    channels.push({ ...channels[0]! });
    const { problems } = parseCreateTrainingJobRequest(req, mapper);
    expect(problems).toEqual([
      { path: `InputDataConfig[${channels.length - 1}].ChannelName`, message: 'channel "train" is defined more than once (first at InputDataConfig[0].ChannelName); channel names must be unique.' },
    ]);
  });

  it('reads the CONTRACT example request, mapping s3:// to the local root', () => {
    const { spec, problems } = parseCreateTrainingJobRequest(exampleRequest(), mapper);
    expect(problems).toEqual([]);
    expect(spec).toMatchObject({
      trainingJobName: 'churn-xgb-2024-05-02-10-15-07-311',
      image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-train:2.1.0',
      trainingInputMode: 'File',
      instanceType: 'ml.g5.2xlarge',
      instanceCount: 2,
      stoppingCondition: { maxRuntimeInSeconds: 7200 },
      environment: { LOG_FORMAT: 'json', OMP_NUM_THREADS: '4' },
      s3OutputPath: 's3://acme-ml-artifacts/churn/models/',
    });
    expect(spec.hyperParameters?.optimizer).toBe('"adamw"');
    expect(spec.channels).toEqual([
      {
        channelName: 'train',
        source: '/s3/acme-ml-data/churn/features/2024-05-01/train/',
        sourceUri: 's3://acme-ml-data/churn/features/2024-05-01/train/',
        contentType: 'text/csv',
        compressionType: 'None',
        recordWrapperType: 'None',
        s3DataDistributionType: 'ShardedByS3Key',
      },
      {
        channelName: 'validation',
        source: '/s3/acme-ml-data/churn/features/2024-05-01/validation/',
        sourceUri: 's3://acme-ml-data/churn/features/2024-05-01/validation/',
        contentType: 'text/csv',
        inputMode: 'File',
        s3DataDistributionType: 'FullyReplicated',
      },
    ]);
    expect(spec.checkpoint).toMatchObject({ source: '/s3/acme-ml-artifacts/churn/checkpoints/churn-xgb-2024-05-02-10-15-07-311/', localPath: '/opt/ml/checkpoints' });
    expect(spec.echo).not.toHaveProperty('Tags');
  });

  it('resolves the example as a two-host job with its checkpoints mapped', () => {
    const { spec } = parseCreateTrainingJobRequest(exampleRequest(), mapper);
    const resolved = resolveTrainingJobSpec({ image: 'x', ...spec }, { now: new Date() });
    expect(resolved.problems).toEqual([]);
    expect(resolved.spec).toMatchObject({ instanceCount: 2, instanceType: 'ml.g5.2xlarge' });
    expect(resolved.spec?.checkpoint).toEqual({
      source: '/s3/acme-ml-artifacts/churn/checkpoints/churn-xgb-2024-05-02-10-15-07-311/',
      sourceUri: 's3://acme-ml-artifacts/churn/checkpoints/churn-xgb-2024-05-02-10-15-07-311/',
      localPath: '/opt/ml/checkpoints',
    });
  });

  it('reports every structural problem with its field path, as the AWS CLI would', () => {
    const req = exampleRequest();
    delete req.RoleArn;
    (req.HyperParameters as Record<string, unknown>).epochs = 20;
    (req.AlgorithmSpecification as Record<string, unknown>).TrainingInputMode = 'Streaming';
    (req.InputDataConfig as Record<string, unknown>[])[1]!.ChannelName = undefined;
    req.HyperParameter = {};
    (req.StoppingCondition as Record<string, unknown>).MaxRuntimeInSeconds = '7200';
    const { problems } = parseCreateTrainingJobRequest(req, mapper);
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byPath.RoleArn).toBe('Missing required parameter in input: "RoleArn"');
    expect(byPath['HyperParameters.epochs']).toMatch(/^Invalid type for parameter HyperParameters.epochs, value: 20, type: number, valid types: string/);
    expect(byPath['AlgorithmSpecification.TrainingInputMode']).toMatch(/"Streaming" is not one of File, Pipe, FastFile/);
    expect(byPath['InputDataConfig[1].ChannelName']).toBe('Missing required parameter in InputDataConfig[1]: "ChannelName"');
    expect(byPath.HyperParameter).toMatch(/^Unknown parameter in input: "HyperParameter"/);
    expect(byPath['StoppingCondition.MaxRuntimeInSeconds']).toMatch(/valid types: integer/);
  });

  it('needs a local mapping for s3:// URIs and says how to give one', () => {
    const { problems } = parseCreateTrainingJobRequest(exampleRequest(), createUriMapper({ baseDir: '/jobs' }));
    expect(problems.map((p) => p.path)).toEqual(['InputDataConfig[0].DataSource.S3DataSource.S3Uri', 'InputDataConfig[1].DataSource.S3DataSource.S3Uri', 'CheckpointConfig.S3Uri']);
    expect(problems[0]!.message).toMatch(/--s3-root DIR/);
  });

  it('reads instance groups, network isolation, uncompressed output and channel groups', () => {
    const req = exampleRequest();
    req.EnableNetworkIsolation = true;
    (req.OutputDataConfig as Record<string, unknown>).CompressionType = 'NONE';
    req.ResourceConfig = { InstanceGroups: [{ InstanceGroupName: 'workers', InstanceType: 'ml.c5.xlarge', InstanceCount: 2 }], VolumeSizeInGB: 30 };
    const channels = req.InputDataConfig as { DataSource: { S3DataSource: Record<string, unknown> }; ShuffleConfig?: unknown; InputMode?: string }[];
    channels[0]!.DataSource.S3DataSource.InstanceGroupNames = ['workers'];
    channels[0]!.ShuffleConfig = { Seed: 7 };
    channels[0]!.InputMode = 'Pipe';
    const { spec, problems } = parseCreateTrainingJobRequest(req, mapper);
    expect(problems).toEqual([]);
    expect(spec).toMatchObject({ enableNetworkIsolation: true, outputCompression: 'NONE', instanceGroups: [{ instanceGroupName: 'workers', instanceType: 'ml.c5.xlarge', instanceCount: 2 }] });
    expect(spec.channels?.[0]).toMatchObject({ instanceGroupNames: ['workers'], shuffleSeed: 7, inputMode: 'Pipe' });
  });

  it('refuses sources it cannot run locally', () => {
    const req = exampleRequest();
    (req.AlgorithmSpecification as Record<string, unknown>).AlgorithmName = 'xgboost';
    const channels = req.InputDataConfig as Record<string, unknown>[];
    channels[0]!.DataSource = { FileSystemDataSource: { FileSystemId: 'fs-1', FileSystemAccessMode: 'ro', FileSystemType: 'EFS', DirectoryPath: '/x' } };
    (channels[1]!.DataSource as { S3DataSource: Record<string, unknown> }).S3DataSource.S3DataType = 'ManifestFile';
    const paths = parseCreateTrainingJobRequest(req, mapper).problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'AlgorithmSpecification.AlgorithmName',
        'InputDataConfig[0].DataSource.FileSystemDataSource',
        'InputDataConfig[1].DataSource.S3DataSource.S3DataType',
      ]),
    );
  });

  it('accepts file:// URLs and local paths (with a notice that AWS would not)', () => {
    const req = exampleRequest();
    const channels = req.InputDataConfig as { DataSource: { S3DataSource: { S3Uri: string } } }[];
    channels[0]!.DataSource.S3DataSource.S3Uri = 'file:///data/train';
    channels[1]!.DataSource.S3DataSource.S3Uri = 'data/validation';
    const { spec, problems, notices } = parseCreateTrainingJobRequest(req, mapper);
    expect(problems).toEqual([]);
    expect(spec.channels?.map((c) => c.source)).toEqual(['/data/train', '/jobs/data/validation']);
    expect(notices.join('\n')).toMatch(/AWS CLI rejects anything but s3:\/\//);
  });

  it('rejects a body that is not an object', () => {
    expect(parseCreateTrainingJobRequest([1, 2], mapper).problems).toHaveLength(1);
    expect(parseCreateTrainingJobRequest('x', mapper).problems[0]!.message).toMatch(/JSON object/);
  });
});
