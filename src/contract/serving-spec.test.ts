import { describe, expect, it } from 'vitest';
import { defaultEndpointName, resolveEndpointSpec } from './serving-spec.js';

describe('resolveEndpointSpec', () => {
  it('applies the service defaults', () => {
    expect(resolveEndpointSpec({ image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/churn_serve:2.1.0' }).spec).toEqual({
      image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/churn_serve:2.1.0',
      endpointName: 'churn-serve',
      environment: {},
      instanceType: 'ml.m5.large',
      variantName: 'AllTraffic',
      startupTimeoutSeconds: 240,
      invocationTimeoutMs: 60_000,
      stopGraceSeconds: 30,
      region: 'us-east-1',
      account: '000000000000',
    });
    expect(defaultEndpointName('registry/my__model@sha256:abc')).toBe('my-model');
  });

  it('reports every problem at once', () => {
    const { problems } = resolveEndpointSpec({
      image: 'img',
      endpointName: 'bad_name',
      environment: { '1X': 'a', BIG: 'v'.repeat(1025) },
      startupTimeoutSeconds: 0,
      invocationTimeoutMs: 61_000,
      stopGraceSeconds: 31,
    });
    expect(problems.map((p) => p.path)).toEqual([
      'EndpointName',
      'PrimaryContainer.Environment key "1X"',
      'PrimaryContainer.Environment.BIG',
      'ContainerStartupHealthCheckTimeoutInSeconds (--startup-timeout)',
      'invocation timeout',
      'stop grace (--stop-grace)',
    ]);
  });

  it('limits the whole model environment to 32 KB', () => {
    const environment = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`K${i}`, 'v'.repeat(1000)]));
    expect(resolveEndpointSpec({ image: 'i', environment }).problems.map((p) => p.path)).toEqual(['PrimaryContainer.Environment']);
  });

  it('allows a start-up window shorter than SageMaker does, with a notice', () => {
    const out = resolveEndpointSpec({ image: 'i', startupTimeoutSeconds: 5 });
    expect(out.problems).toEqual([]);
    expect(out.notices[0]).toMatch(/shorter than SageMaker allows \(60–3600 s\)/);
  });
});
