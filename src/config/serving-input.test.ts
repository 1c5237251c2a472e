import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readExample } from '../../test/support/examples.js';
import { InvalidSpecError } from '../errors.js';
import { resolveConfig } from './resolve.js';
import { resolveServingInput } from './serving-input.js';

const cwd = mkdtempSync(join(tmpdir(), 'sm-local-serve-input-'));
const config = resolveConfig({ env: {}, cwd });
const run = (flags: Parameters<typeof resolveServingInput>[0], over: Partial<typeof config> = {}) => resolveServingInput(flags, { ...config, ...over }, { cwd, env: { FROM_HOST: 'h' } });

describe('resolveServingInput', () => {
  it('turns flags into an endpoint', async () => {
    writeFileSync(join(cwd, 'serve.env'), 'A=1\n');
    const { input } = await run({ image: 'srv:1', model: 'model.tar.gz', name: 'my-ep', env: ['B=2', 'FROM_HOST'], envFile: ['serve.env'], port: 0, startupTimeout: 30, invocationTimeout: 5 });
    expect(input).toEqual({
      image: 'srv:1',
      model: join(cwd, 'model.tar.gz'),
      endpointName: 'my-ep',
      environment: { A: '1', B: '2', FROM_HOST: 'h' },
      port: 0,
      startupTimeoutSeconds: 30,
      invocationTimeoutMs: 5000,
    });
  });

  it('reads a CreateModel file; flags win, and --model replaces its ModelDataUrl', async () => {
    writeFileSync(join(cwd, 'model.json'), readExample('api.create-model.request.json'));
    const fromFile = (await run({ modelJson: 'model.json' }, { s3Root: '/s3' })).input;
    expect(fromFile).toMatchObject({ image: expect.stringContaining('churn-serve:2.1.0'), endpointName: 'churn-xgb-v3', modelUri: expect.stringMatching(/^s3:\/\//) });
    const overridden = (await run({ modelJson: 'model.json', image: 'local:dev', model: './m', name: 'local-ep' }, { s3Root: '/s3' })).input;
    expect(overridden).toMatchObject({ image: 'local:dev', model: join(cwd, 'm'), endpointName: 'local-ep' });
    expect(overridden).not.toHaveProperty('modelUri');
    expect(overridden.environment).toMatchObject({ SAGEMAKER_PROGRAM: 'inference.py' });
  });

  it('reports every problem at once', async () => {
    const err = await run({ name: 'bad_name', port: 70_000, env: ['=x'], invocationTimeout: 61 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidSpecError);
    expect((err as InvalidSpecError).problems.map((p) => p.path)).toEqual(['--env #1', 'image', '--port']);
    const err2 = await run({ image: 'i', name: 'bad_name', invocationTimeout: 61 }).catch((e: unknown) => e);
    expect((err2 as InvalidSpecError).problems.map((p) => p.path)).toEqual(['EndpointName', 'invocation timeout']);
  });
});

describe('resolveServingInput: model files for multi-model, multi-container and production variants', () => {
  it('serves a Mode MultiModel file from its ModelDataUrl prefix, with its cache setting', async () => {
    writeFileSync(join(cwd, 'mme.json'), JSON.stringify({ ModelName: 'mme', PrimaryContainer: { Image: 'mme:1', Mode: 'MultiModel', ModelDataUrl: 's3://bucket/models/', MultiModelConfig: { ModelCacheSetting: 'Disabled' } } }));
    const { input } = await run({ modelJson: ['mme.json'] }, { s3Root: '/s3' });
    expect(input).toMatchObject({ image: 'mme:1', multiModel: '/s3/bucket/models/', modelCacheDisabled: true, endpointName: 'mme' });
  });

  it('builds the variants an endpoint config names from the model files; flags for one model are refused with it', async () => {
    writeFileSync(join(cwd, 'a.json'), JSON.stringify({ ModelName: 'a', Containers: [{ Image: 'f:1', ContainerHostname: 'f' }, { Image: 'p:1', ContainerHostname: 'p' }] }));
    writeFileSync(join(cwd, 'b.json'), JSON.stringify({ ModelName: 'b', PrimaryContainer: { Image: 'b:1' } }));
    writeFileSync(join(cwd, 'config.json'), JSON.stringify({ EndpointConfigName: 'ab', ProductionVariants: [{ VariantName: 'A', ModelName: 'a', InitialVariantWeight: 2 }, { VariantName: 'B', ModelName: 'b', InitialInstanceCount: 2 }] }));
    const { input } = await run({ modelJson: ['a.json', 'b.json'], endpointConfigJson: 'config.json' });
    expect(input.endpointName).toBe('ab');
    expect(input.variants!.map((v) => [v.variantName, v.weight, v.instanceCount, v.model.modelName])).toEqual([
      ['A', 2, undefined, 'a'],
      ['B', undefined, 2, 'b'],
    ]);
    const err = await run({ modelJson: ['a.json', 'b.json'], endpointConfigJson: 'config.json', image: 'x:1', env: ['A=1'] }).catch((e: unknown) => e as InvalidSpecError);
    expect((err as InvalidSpecError).problems.map((p) => p.path)).toEqual(['IMAGE', '--env']);
    const two = await run({ modelJson: ['a.json', 'b.json'] }).catch((e: unknown) => e as InvalidSpecError);
    expect((two as InvalidSpecError).problems.map((p) => p.message)).toEqual(['2 model files were given: an endpoint of several models needs --endpoint-config-json, whose production variants name them.']);
  });
});
