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
      variants: [
        {
          variantName: 'AllTraffic',
          weight: 1,
          instanceCount: 1,
          instanceType: 'ml.m5.large',
          startupTimeoutSeconds: 240,
          mode: 'Single',
          containers: [{ hostname: 'primary', image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/churn_serve:2.1.0', environment: {} }],
        },
      ],
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
      'ContainerStartupHealthCheckTimeoutInSeconds (--startup-timeout)',
      'PrimaryContainer.Environment key "1X"',
      'PrimaryContainer.Environment.BIG',
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

describe('resolveEndpointSpec: multi-container models and production variants', () => {
  it('names pipeline containers by ContainerHostname, or by position when none is set; Serial by default', () => {
    const named = resolveEndpointSpec({ image: '', containers: [{ image: 'a', hostname: 'feat' }, { image: 'b', hostname: 'pred' }] });
    expect(named.spec!.variants[0]).toMatchObject({ mode: 'Serial', containers: [{ hostname: 'feat', image: 'a' }, { hostname: 'pred', image: 'b' }] });
    expect(named.spec!.endpointName).toBe('a');
    const unnamed = resolveEndpointSpec({ image: '', containers: [{ image: 'a' }, { image: 'b' }] });
    expect(unnamed.spec!.variants[0]!.containers.map((c) => c.hostname)).toEqual(['container-1', 'container-2']);
  });

  it('refuses what CreateModel refuses: hostnames on some containers only, Direct without hostnames, duplicates, more than 15', () => {
    const paths = (input: Parameters<typeof resolveEndpointSpec>[0]) => resolveEndpointSpec(input).problems.map((p) => p.path);
    expect(paths({ image: '', containers: [{ image: 'a', hostname: 'x' }, { image: 'b' }] })).toEqual(['Containers']);
    expect(paths({ image: '', executionMode: 'Direct', containers: [{ image: 'a' }, { image: 'b' }] })).toEqual(['Containers']);
    expect(paths({ image: '', containers: [{ image: 'a', hostname: 'x' }, { image: 'b', hostname: 'x' }] })).toEqual(['Containers[1].ContainerHostname']);
    expect(paths({ image: '', containers: Array.from({ length: 16 }, () => ({ image: 'a' })) })).toEqual(['Containers']);
    expect(paths({ image: '', multiModel: '/store', containers: [{ image: 'a' }, { image: 'b' }] })).toEqual(['Containers']);
  });

  it('reads production variants: weights, instance counts, each with its model; names must be unique', () => {
    const out = resolveEndpointSpec({
      image: '',
      endpointName: 'ep',
      variants: [
        { variantName: 'A', weight: 2, instanceCount: 3, model: { image: 'a' } },
        { variantName: 'B', model: { image: 'b', multiModel: '/store', modelCacheDisabled: true } },
      ],
    });
    expect(out.spec!.variants.map((v) => [v.variantName, v.weight, v.instanceCount, v.containers[0]!.image, v.multiModel])).toEqual([
      ['A', 2, 3, 'a', undefined],
      ['B', 1, 1, 'b', { store: '/store', cacheDisabled: true }],
    ]);
    expect(out.spec!.image).toBe('a');
    const bad = resolveEndpointSpec({ image: '', endpointName: 'ep', variants: [{ variantName: 'A', instanceCount: 0, weight: -1, model: { image: 'a' } }, { variantName: 'A', model: { image: 'b' } }] });
    expect(bad.problems.map((p) => p.path)).toEqual(['ProductionVariants[0].InitialInstanceCount', 'ProductionVariants[0].InitialVariantWeight', 'ProductionVariants[1].VariantName']);
  });
});
