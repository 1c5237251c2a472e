import { describe, expect, it } from 'vitest';
import { readExample } from '../../test/support/examples.js';
import { createUriMapper } from '../config/uri-mapping.js';
import { parseCreateModelRequest } from './create-model.js';

const mapper = createUriMapper({ s3Root: '/s3', baseDir: '/models' });
const example = () => JSON.parse(readExample('api.create-model.request.json')) as Record<string, Record<string, unknown>>;

describe('parseCreateModelRequest', () => {
  it('reads the CONTRACT example', () => {
    const { spec, problems, modelName } = parseCreateModelRequest(example(), mapper);
    expect(problems).toEqual([]);
    expect(modelName).toBe('churn-xgb-v3');
    expect(spec).toEqual({
      image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/churn-serve:2.1.0',
      environment: { SAGEMAKER_PROGRAM: 'inference.py', SAGEMAKER_MODEL_SERVER_WORKERS: '2', SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'application/json' },
      model: '/s3/acme-ml-artifacts/churn/models/churn-xgb-2024-05-02-10-15-07-311/output/model.tar.gz',
      modelUri: 's3://acme-ml-artifacts/churn/models/churn-xgb-2024-05-02-10-15-07-311/output/model.tar.gz',
      endpointName: 'churn-xgb-v3',
      modelName: 'churn-xgb-v3',
    });
  });

  it('takes a single-item Containers list as the PrimaryContainer', () => {
    const req = example();
    const container = req.PrimaryContainer!;
    delete req.PrimaryContainer;
    (req as Record<string, unknown>).Containers = [container];
    const { spec, problems } = parseCreateModelRequest(req, mapper);
    expect(problems).toEqual([]);
    expect(spec.containers).toBeUndefined();
    expect(spec.image).toBe(container.Image);
  });

  it('reads a multi-container model: each container with its hostname, model and environment, and the execution mode', () => {
    const req = {
      ModelName: 'pipe',
      Containers: [
        { ContainerHostname: 'featurizer', Image: 'feat:1', ModelDataUrl: 's3://b/feat.tar.gz', Environment: { A: '1' } },
        { ContainerHostname: 'predictor', Image: 'pred:1' },
      ],
      InferenceExecutionConfig: { Mode: 'Direct' },
    };
    const { spec, problems } = parseCreateModelRequest(req, mapper);
    expect(problems).toEqual([]);
    expect(spec.executionMode).toBe('Direct');
    expect(spec.containers).toEqual([
      { image: 'feat:1', hostname: 'featurizer', environment: { A: '1' }, model: '/s3/b/feat.tar.gz', modelUri: 's3://b/feat.tar.gz' },
      { image: 'pred:1', hostname: 'predictor' },
    ]);
    const tooMany = { ModelName: 'm', Containers: Array.from({ length: 16 }, () => ({ Image: 'i' })), InferenceExecutionConfig: {} };
    expect(parseCreateModelRequest(tooMany, mapper).problems.map((p) => p.path)).toEqual(['Containers', 'InferenceExecutionConfig.Mode']);
  });

  it('reads Mode MultiModel: ModelDataUrl is the model store (a prefix), with the cache setting; not in a pipeline', () => {
    const mme = example();
    mme.PrimaryContainer!.Mode = 'MultiModel';
    mme.PrimaryContainer!.ModelDataUrl = 's3://acme/models/';
    mme.PrimaryContainer!.MultiModelConfig = { ModelCacheSetting: 'Disabled' };
    const { spec, problems } = parseCreateModelRequest(mme, mapper);
    expect(problems).toEqual([]);
    expect(spec).toMatchObject({ multiModel: '/s3/acme/models/', modelCacheDisabled: true });
    expect(spec.model).toBeUndefined();
    const req = example();
    const container = req.PrimaryContainer!;
    delete req.PrimaryContainer;
    (req as Record<string, unknown>).Containers = [container, { ...container, Mode: 'MultiModel' }];
    expect(parseCreateModelRequest(req, mapper).problems.map((p) => p.path)).toEqual(['Containers[1].Mode']);
  });

  it('reports structural problems with their paths', () => {
    const req = example();
    delete req.ModelName;
    req.PrimaryContainer!.Environment = { A: 1 };
    req.PrimaryContainer!.ModelDataUrl = 's3://bucket/model.zip';
    (req as Record<string, unknown>).Extra = true;
    expect(parseCreateModelRequest(req, mapper).problems.map((p) => p.path)).toEqual(['Extra', 'ModelName', 'PrimaryContainer.Environment.A', 'PrimaryContainer.ModelDataUrl']);
  });

  it('maps ModelDataSource like ModelDataUrl', () => {
    const req = example();
    delete req.PrimaryContainer!.ModelDataUrl;
    req.PrimaryContainer!.ModelDataSource = { S3DataSource: { S3Uri: 's3://bucket/model/', S3DataType: 'S3Prefix', CompressionType: 'None' } };
    expect(parseCreateModelRequest(req, mapper).spec.model).toBe('/s3/bucket/model/');
  });
});
