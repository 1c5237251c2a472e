import { renderResourceConfig, type HostPlan } from './hosts.js';
import type { TrainingConfigFileName } from './paths.js';
import { containerHyperParameters, type ResolvedChannel, type ResolvedTrainingJobSpec } from './training-spec.js';

/** One entry of `inputdataconfig.json` (CONTRACT §3.4): the keys the platform writes, in its order. */
export interface InputDataConfigEntry {
  ContentType?: string;
  TrainingInputMode: string;
  S3DistributionType: string;
  RecordWrapperType: string;
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

/**
 * The three files of `/opt/ml/input/config/` for one host. `hyperparameters.json` is exactly the
 * HyperParameters map (values are strings already) and `{}` when there are none (CONTRACT §3.3);
 * with a submitted source, its submit directory is the archive's local copy.
 */
export function renderTrainingConfig(spec: ResolvedTrainingJobSpec, plan: readonly HostPlan[], current: HostPlan): TrainingConfigFiles {
  return {
    'hyperparameters.json': containerHyperParameters(spec),
    'inputdataconfig.json': Object.fromEntries(channelsFor(spec, current).map((c) => [c.channelName, inputDataConfigEntry(c)])),
    'resourceconfig.json': renderResourceConfig(plan, current),
  };
}

/** The channels a host gets: all of them, or only those whose InstanceGroupNames include its group. */
export function channelsFor<C extends Pick<ResolvedChannel, 'instanceGroupNames'>>(spec: { channels: readonly C[] }, host: HostPlan): C[] {
  return spec.channels.filter((c) => !c.instanceGroupNames?.length || c.instanceGroupNames.includes(host.groupName));
}

/** The bytes of a config file: two-space indented JSON with a final newline, as in the examples. */
export function serializeConfigFile(content: unknown): string {
  return `${JSON.stringify(content, null, 2)}\n`;
}
