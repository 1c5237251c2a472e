import { describe, expect, it } from 'vitest';
import { readExample as example } from '../../test/support/examples.js';
import { planHosts, renderResourceConfig, shardKeys } from './hosts.js';
import { channelsFor, inputDataConfigEntry, renderTrainingConfig, serializeConfigFile } from './training-config.js';
import { resolveTrainingJobSpecOrThrow, SOURCE_ARCHIVE_PATH, type ResolvedChannel } from './training-spec.js';


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
    const plan = planHosts({ instanceType: 'ml.m5.xlarge', instanceCount: 1 });
    expect(serializeConfigFile(renderResourceConfig(plan, plan[0]!))).toBe(example('training.resourceconfig.single-host.json'));
  });

  it('writes each host of a two-host job its own resourceconfig.json, byte for byte like the examples', () => {
    const plan = planHosts({ instanceType: 'ml.g5.2xlarge', instanceCount: 2 });
    expect(serializeConfigFile(renderResourceConfig(plan, plan[0]!))).toBe(example('training.resourceconfig.two-hosts.algo-1.json'));
    expect(serializeConfigFile(renderResourceConfig(plan, plan[1]!))).toBe(example('training.resourceconfig.two-hosts.algo-2.json'));
  });

  it('numbers hosts through instance groups and names each host\'s group', () => {
    const plan = planHosts({
      instanceType: 'ignored',
      instanceCount: 0,
      instanceGroups: [
        { instanceGroupName: 'data', instanceType: 'ml.c5.xlarge', instanceCount: 1 },
        { instanceGroupName: 'gpu', instanceType: 'ml.g5.xlarge', instanceCount: 2 },
      ],
    });
    expect(plan.map((h) => [h.name, h.groupName, h.instanceType])).toEqual([
      ['algo-1', 'data', 'ml.c5.xlarge'],
      ['algo-2', 'gpu', 'ml.g5.xlarge'],
      ['algo-3', 'gpu', 'ml.g5.xlarge'],
    ]);
    expect(renderResourceConfig(plan, plan[2]!)).toEqual({
      current_host: 'algo-3',
      current_instance_type: 'ml.g5.xlarge',
      current_group_name: 'gpu',
      hosts: ['algo-1', 'algo-2', 'algo-3'],
      instance_groups: [
        { instance_group_name: 'data', instance_type: 'ml.c5.xlarge', hosts: ['algo-1'] },
        { instance_group_name: 'gpu', instance_type: 'ml.g5.xlarge', hosts: ['algo-3', 'algo-2'] },
      ],
      network_interface_name: 'eth0',
    });
    const channels = [channel({ channelName: 'all' }), channel({ channelName: 'gpu-only', instanceGroupNames: ['gpu'] })];
    expect(channelsFor({ channels }, plan[0]!).map((c) => c.channelName)).toEqual(['all']);
    expect(channelsFor({ channels }, plan[1]!).map((c) => c.channelName)).toEqual(['all', 'gpu-only']);
  });

  it('shards objects by key across hosts, every host getting a disjoint share, and replicates otherwise', () => {
    const keys = ['part-3', 'part-1', 'part-10', 'part-2', 'part-4'];
    const shards = [0, 1, 2].map((i) => shardKeys(keys, 'ShardedByS3Key', i, 3));
    expect(shards).toEqual([['part-1', 'part-3'], ['part-10', 'part-4'], ['part-2']]);
    expect(shards.flat().sort()).toEqual([...keys].sort());
    expect(shardKeys(keys, 'FullyReplicated', 1, 3)).toEqual(['part-1', 'part-10', 'part-2', 'part-3', 'part-4']);
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
    const plan = planHosts(spec);
    expect(serializeConfigFile(renderTrainingConfig(spec, plan, plan[0]!)['hyperparameters.json'])).toBe(example('training.hyperparameters.json'));
  });

  it("names the local copy of an SDK-submitted code archive in the container's hyperparameters only", () => {
    const given = { sagemaker_program: '"train.py"', sagemaker_submit_directory: '"s3://b/j/source/sourcedir.tar.gz"' };
    const { spec } = resolveTrainingJobSpecOrThrow({ image: 'img', hyperParameters: given, submittedSource: { uri: 's3://b/j/source/sourcedir.tar.gz', archive: '/s3/b/j/source/sourcedir.tar.gz' } }, { now: new Date(0) });
    const plan = planHosts(spec);
    expect(renderTrainingConfig(spec, plan, plan[0]!)['hyperparameters.json']).toEqual({ sagemaker_program: '"train.py"', sagemaker_submit_directory: `"${SOURCE_ARCHIVE_PATH}"` });
    expect(spec.hyperParameters).toEqual(given);
  });

  it('writes {} when there are no hyperparameters', () => {
    const { spec } = resolveTrainingJobSpecOrThrow({ image: 'img' }, { now: new Date(0) });
    const plan = planHosts(spec);
    expect(serializeConfigFile(renderTrainingConfig(spec, plan, plan[0]!)['hyperparameters.json'])).toBe('{}\n');
  });

  it('sorts hosts lexicographically, as the platform does', () => {
    const plan = planHosts({ instanceType: 'ml.m5.large', instanceCount: 11 });
    expect(renderResourceConfig(plan, plan[0]!).hosts).toEqual(['algo-1', 'algo-10', 'algo-11', 'algo-2', 'algo-3', 'algo-4', 'algo-5', 'algo-6', 'algo-7', 'algo-8', 'algo-9']);
  });
});
