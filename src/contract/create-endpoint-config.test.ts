import { describe, expect, it } from 'vitest';
import { readExample } from '../../test/support/examples.js';
import { parseCreateEndpointConfigRequest } from './create-endpoint-config.js';

const model = { image: 'img:1', modelName: 'churn-xgb-v3' };

describe('parseCreateEndpointConfigRequest', () => {
  it('reads the CONTRACT example into its variant, with the model it names', () => {
    const { variants, problems, endpointConfigName } = parseCreateEndpointConfigRequest(JSON.parse(readExample('api.create-endpoint-config.request.json')), new Map([['churn-xgb-v3', model]]));
    expect(problems).toEqual([]);
    expect(endpointConfigName).toBe('churn-xgb-v3-config');
    expect(variants).toEqual([{ variantName: 'AllTraffic', model, instanceCount: 1, instanceType: 'ml.m5.large', weight: 1, startupTimeoutSeconds: 600 }]);
  });

  it('reports a model that was not given, bad types, and what is not emulated, each at its path', () => {
    const { problems } = parseCreateEndpointConfigRequest(
      {
        EndpointConfigName: 'c',
        ProductionVariants: [
          { VariantName: 'A', ModelName: 'missing' },
          { VariantName: 'B', ModelName: 'churn-xgb-v3', InitialVariantWeight: 'heavy', ServerlessConfig: { MemorySizeInMB: 2048 } },
        ],
        ExplainerConfig: {},
      },
      new Map([['churn-xgb-v3', model]]),
    );
    expect(problems.map((p) => p.path)).toEqual(['ExplainerConfig', 'ProductionVariants[0].ModelName', 'ProductionVariants[1].ServerlessConfig', 'ProductionVariants[1].InitialVariantWeight']);
    expect(problems[1]!.message).toMatch(/Could not find model "missing": give its CreateModel file with --model-json \(given: churn-xgb-v3\)/);
  });

  it('reads AsyncInferenceConfig: the output and failure paths and the per-instance concurrency', () => {
    const base = { EndpointConfigName: 'c', ProductionVariants: [{ VariantName: 'A', ModelName: 'churn-xgb-v3' }] };
    const models = new Map([['churn-xgb-v3', model]]);
    const out = parseCreateEndpointConfigRequest({ ...base, AsyncInferenceConfig: { OutputConfig: { S3OutputPath: 's3://b/out', S3FailurePath: 's3://b/fail' }, ClientConfig: { MaxConcurrentInvocationsPerInstance: 2 } } }, models);
    expect(out.asyncInference).toEqual({ outputPath: 's3://b/out', failurePath: 's3://b/fail', maxConcurrentPerInstance: 2 });
    expect(parseCreateEndpointConfigRequest({ ...base, AsyncInferenceConfig: {} }, models).problems.map((p) => p.path)).toEqual(['AsyncInferenceConfig.OutputConfig']);
  });
});
