import { HOMOGENEOUS_GROUP_NAME } from './limits.js';
import { hostName, type TrainingConfigFileName } from './paths.js';
import type { ResolvedChannel, ResolvedTrainingJobSpec } from './training-spec.js';

/** One entry of `inputdataconfig.json` (CONTRACT §3.4): the keys the platform writes, in its order. */
export interface InputDataConfigEntry {
  ContentType?: string;
  TrainingInputMode: string;
  S3DistributionType: string;
  RecordWrapperType: string;
}

export interface InstanceGroupEntry {
  instance_group_name: string;
  instance_type: string;
  hosts: string[];
}

/** `resourceconfig.json` (CONTRACT §3.5). */
export interface ResourceConfigFile {
  current_host: string;
  current_instance_type: string;
  current_group_name: string;
  hosts: string[];
  instance_groups: InstanceGroupEntry[];
  network_interface_name: string;
}

export type TrainingConfigFiles = Record<TrainingConfigFileName, unknown>;

/**
 * The platform names the key `S3DistributionType` (not the API's `S3DataDistributionType`) and
 * omits `ContentType` when the channel has none. CompressionType and ShuffleConfig never appear
 * in observed files, so they are left out (UNCONFIRMED, CONTRACT §3.4).
 */
export function inputDataConfigEntry(channel: ResolvedChannel): InputDataConfigEntry {
  return {
    ...(channel.contentType !== undefined ? { ContentType: channel.contentType } : {}),
    TrainingInputMode: channel.inputMode,
    S3DistributionType: channel.s3DataDistributionType,
    RecordWrapperType: channel.recordWrapperType,
  };
}

/** Host names sorted as the platform sorts them: lexicographically, so `algo-10` precedes `algo-2`. */
export function clusterHosts(instanceCount: number): string[] {
  return Array.from({ length: instanceCount }, (_, i) => hostName(i)).sort();
}

export function renderResourceConfig(spec: Pick<ResolvedTrainingJobSpec, 'instanceType' | 'instanceCount'>, currentHost: string): ResourceConfigFile {
  const hosts = clusterHosts(spec.instanceCount);
  return {
    current_host: currentHost,
    current_instance_type: spec.instanceType,
    current_group_name: HOMOGENEOUS_GROUP_NAME,
    hosts,
    instance_groups: [{ instance_group_name: HOMOGENEOUS_GROUP_NAME, instance_type: spec.instanceType, hosts: [...hosts] }],
    // eth0 is what current jobs report (CONTRACT §3.5) and what a Docker bridge network gives us.
    network_interface_name: 'eth0',
  };
}

/**
 * The three files of `/opt/ml/input/config/` for one host. `hyperparameters.json` is exactly the
 * HyperParameters map (values are strings already) and `{}` when there are none (CONTRACT §3.3).
 */
export function renderTrainingConfig(spec: ResolvedTrainingJobSpec, currentHost: string): TrainingConfigFiles {
  return {
    'hyperparameters.json': spec.hyperParameters,
    'inputdataconfig.json': Object.fromEntries(spec.channels.map((c) => [c.channelName, inputDataConfigEntry(c)])),
    'resourceconfig.json': renderResourceConfig(spec, currentHost),
  };
}

/** The bytes of a config file: two-space indented JSON with a final newline, as in the examples. */
export function serializeConfigFile(content: unknown): string {
  return `${JSON.stringify(content, null, 2)}\n`;
}
