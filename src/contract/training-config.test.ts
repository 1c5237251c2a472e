import { describe, expect, it } from 'vitest';
import { readExample as example } from '../../test/support/examples.js';
import { clusterHosts, inputDataConfigEntry, renderResourceConfig, renderTrainingConfig, serializeConfigFile } from './training-config.js';
import { resolveTrainingJobSpecOrThrow, type ResolvedChannel } from './training-spec.js';


const channel = (over: Partial<ResolvedChannel>): ResolvedChannel => ({
  channelName: 'train',
  source: '/data',
  inputMode: 'File',
  s3DataDistributionType: 'FullyReplicated',
  recordWrapperType: 'None',
  compressionType: 'None',
  ...over,
});

describe('config files (CONTRACT §3.3–3.5)', () => {
  it('writes resourceconfig.json byte for byte like the single-host example', () => {
    expect(serializeConfigFile(renderResourceConfig({ instanceType: 'ml.m5.xlarge', instanceCount: 1 }, 'algo-1'))).toBe(
      example('training.resourceconfig.single-host.json'),
    );
  });

  it('writes inputdataconfig.json entries with the platform key names and order', () => {
    const rendered = {
      train: inputDataConfigEntry(channel({ channelName: 'train', contentType: 'text/csv', s3DataDistributionType: 'ShardedByS3Key' })),
      validation: inputDataConfigEntry(channel({ channelName: 'validation', contentType: 'text/csv' })),
      embeddings: inputDataConfigEntry(channel({ channelName: 'embeddings', inputMode: 'Pipe', recordWrapperType: 'RecordIO' })),
    };
    expect(serializeConfigFile(rendered)).toBe(example('training.inputdataconfig.json'));
  });

  it('omits ContentType when the channel has none and never writes the API name S3DataDistributionType', () => {
    const entry = inputDataConfigEntry(channel({}));
    expect(entry).not.toHaveProperty('ContentType');
    expect(entry).not.toHaveProperty('S3DataDistributionType');
    expect(entry.RecordWrapperType).toBe('None');
  });

  it('writes hyperparameters.json as the exact string map, like the example', () => {
    const hps = JSON.parse(example('training.hyperparameters.json')) as Record<string, string>;
    const { spec } = resolveTrainingJobSpecOrThrow({ image: 'img', hyperParameters: hps }, { now: new Date(0) });
    expect(serializeConfigFile(renderTrainingConfig(spec, 'algo-1')['hyperparameters.json'])).toBe(example('training.hyperparameters.json'));
  });

  it('writes {} when there are no hyperparameters', () => {
    const { spec } = resolveTrainingJobSpecOrThrow({ image: 'img' }, { now: new Date(0) });
    expect(serializeConfigFile(renderTrainingConfig(spec, 'algo-1')['hyperparameters.json'])).toBe('{}\n');
  });

  it('sorts hosts lexicographically, as the platform does', () => {
    expect(clusterHosts(11)).toEqual(['algo-1', 'algo-10', 'algo-11', 'algo-2', 'algo-3', 'algo-4', 'algo-5', 'algo-6', 'algo-7', 'algo-8', 'algo-9']);
  });
});
