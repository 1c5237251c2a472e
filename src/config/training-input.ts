import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { requestConstraints } from '../contract/api-wire.js';
import { parseCreateTrainingJobRequest, type UriMapper } from '../contract/create-training-job.js';
import { stringifyHyperParameters } from '../contract/hyperparameters.js';
import { Problems } from '../contract/problems.js';
import { channelNameTwice, resolveTrainingJobSpec, type ChannelSpec, type TrainingJobSpec } from '../contract/training-spec.js';
import { InvalidSpecError } from '../errors.js';
import { collectEnvironment } from './env-file.js';
import type { ResolvedConfig } from './resolve.js';
import { createUriMapper, findSubmittedSource } from './uri-mapping.js';

/** Local run choices (the runner's TrainingRunOptions), resolved from flags and config. */
export interface TrainingRunSettings {
  outputDir: string;
  transfer?: 'mount' | 'copy';
  keep?: boolean;
  shmSizeBytes?: number;
  gpus?: number | 'all';
  platform?: string;
  publish?: { hostPort: number; containerPort: number }[];
}

/** `sm-local train` flags as yargs hands them over. */
export interface TrainFlags {
  image?: string;
  job?: string;
  jobName?: string;
  channel?: string[];
  hyperparameter?: string[];
  hyperparameters?: string;
  env?: string[];
  envFile?: string[];
  instanceType?: string;
  entrypoint?: string;
  arg?: string[];
  maxRuntime?: number;
  keep?: boolean;
  instanceCount?: number;
  /** NAME=TYPE:COUNT, repeatable: ResourceConfig.InstanceGroups. */
  instanceGroup?: string[];
  checkpointDir?: string;
  checkpointLocalPath?: string;
  outputCompression?: string;
  /** NAME=REGEX, repeatable: AlgorithmSpecification.MetricDefinitions. */
  metric?: string[];
  networkIsolation?: boolean;
  entryPoint?: string;
  sourceDir?: string;
  /** Escape hatches, as docker run spells them. */
  shmSize?: string;
  gpus?: string;
  platform?: string;
  /** HOST:CONTAINER or PORT, repeatable. */
  publish?: string[];
}

/** A size as `docker run --shm-size` takes it: bytes, or a number with b, k, m or g (powers of 1024). */
export function parseDockerSize(raw: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmg]?)i?b?$/i.exec(raw.trim());
  if (!m) return undefined;
  const scale = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'b' | 'k' | 'm' | 'g'];
  const bytes = Math.floor(Number(m[1]) * scale);
  return bytes > 0 ? bytes : undefined;
}

/** The local escape hatches (`--shm-size`, `--gpus`, `--platform`, `--publish`), checked. */
export function parseEscapeHatches(flags: Pick<TrainFlags, 'shmSize' | 'gpus' | 'platform' | 'publish'>, p: Problems): Pick<TrainingRunSettings, 'shmSizeBytes' | 'gpus' | 'platform' | 'publish'> {
  const out: Pick<TrainingRunSettings, 'shmSizeBytes' | 'gpus' | 'platform' | 'publish'> = {};
  if (flags.shmSize !== undefined) {
    const bytes = parseDockerSize(flags.shmSize);
    if (bytes === undefined) p.add('--shm-size', `"${flags.shmSize}" is not a size: give bytes or a number with k, m or g, e.g. 2g.`);
    else out.shmSizeBytes = bytes;
  }
  if (flags.gpus !== undefined) {
    const count = Number(flags.gpus);
    if (flags.gpus === 'all') out.gpus = 'all';
    else if (Number.isInteger(count) && count > 0) out.gpus = count;
    else p.add('--gpus', `"${flags.gpus}" is not "all" or a GPU count.`);
  }
  if (flags.platform !== undefined) {
    if (/^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(flags.platform)) out.platform = flags.platform;
    else p.add('--platform', `"${flags.platform}" is not OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm64.`);
  }
  const ports = (flags.publish ?? []).flatMap((raw, i) => {
    const m = /^(?:(\d+):)?(\d+)$/.exec(raw);
    const [hostPort, containerPort] = [Number(m?.[1] ?? m?.[2]), Number(m?.[2])];
    if (!m || ![hostPort, containerPort].every((n) => n >= 1 && n <= 65535)) {
      p.add(`--publish #${i + 1}`, `"${raw}" is not HOST:CONTAINER (ports 1-65535), e.g. 5678:5678 for a debugger.`);
      return [];
    }
    return [{ hostPort, containerPort }];
  });
  const seen = new Set<number>();
  for (const { hostPort } of ports) {
    if (seen.has(hostPort)) p.add('--publish', `host port ${hostPort} is given twice.`);
    seen.add(hostPort);
  }
  if (ports.length) out.publish = ports;
  return out;
}

const CHANNEL_OPTIONS = {
  'content-type': 'contentType',
  mode: 'inputMode',
  distribution: 's3DataDistributionType',
  'record-wrapper': 'recordWrapperType',
  compression: 'compressionType',
  'shuffle-seed': 'shuffleSeed',
  groups: 'instanceGroupNames',
} as const;

/** `--hyperparameter NAME=VALUE` flags, in order (a later one wins); the value may hold `=`. */
export function parseHyperparameterFlags(raws: readonly string[] | undefined, p: Problems): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of (raws ?? []).entries()) {
    const eq = raw.indexOf('=');
    if (eq <= 0) p.add(`--hyperparameter #${i + 1}`, `"${raw}" is not NAME=VALUE.`);
    else out[raw.slice(0, eq)] = raw.slice(eq + 1);
  }
  return out;
}

/**
 * `NAME=PATH[,content-type=T][,mode=File|Pipe|FastFile][,distribution=ShardedByS3Key][,record-wrapper=RecordIO]
 * [,compression=Gzip][,shuffle-seed=N][,groups=G1+G2]`.
 * PATH may be a local path or an `s3://` URI (mapped with the s3 root). A comma followed by
 * something that is not a known option stays part of the path.
 */
/** `key=value` options after a flag's main value, split off the end; a comma in the value stays. */
export function splitOptions(rest: string, known: readonly string[]): { main: string; options: Record<string, string>; unknown: string[] } {
  const parts = rest.split(',');
  const main: string[] = [];
  const options: Record<string, string> = {};
  const unknown: string[] = [];
  for (const part of parts) {
    const m = /^([a-z-]+)=(.*)$/.exec(part);
    if (m && known.includes(m[1]!) && main.length > 0) options[m[1]!] = m[2]!;
    else if (Object.keys(options).length === 0 && unknown.length === 0) main.push(part);
    else unknown.push(part);
  }
  return { main: main.join(','), options, unknown };
}

export function parseChannelFlag(raw: string, index: number, p: Problems, mapS3: (uri: string, path: string) => string | undefined, cwd: string): ChannelSpec | undefined {
  const at = `--channel #${index + 1} (${raw})`;
  const eq = raw.indexOf('=');
  if (eq <= 0) {
    p.add(at, 'expected NAME=PATH, for example --channel train=./data/train.');
    return undefined;
  }
  const channelName = raw.slice(0, eq);
  const { main, options, unknown } = splitOptions(raw.slice(eq + 1), Object.keys(CHANNEL_OPTIONS));
  const channel: Partial<ChannelSpec> = { channelName };
  for (const [key, value] of Object.entries(options)) (channel as Record<string, string>)[CHANNEL_OPTIONS[key as keyof typeof CHANNEL_OPTIONS]] = value;
  for (const part of unknown) p.add(at, `unknown channel option "${part}"; known options: ${Object.keys(CHANNEL_OPTIONS).join(', ')}.`);
  const raw2 = channel as Record<string, unknown>;
  if (typeof raw2.shuffleSeed === 'string') {
    const seed = Number(raw2.shuffleSeed);
    if (!Number.isInteger(seed)) p.add(at, `shuffle-seed "${raw2.shuffleSeed}" is not a whole number.`);
    raw2.shuffleSeed = seed;
  }
  if (typeof raw2.instanceGroupNames === 'string') raw2.instanceGroupNames = raw2.instanceGroupNames.split('+').filter(Boolean);
  const path = main;
  if (!path) {
    p.add(at, 'the channel has no path.');
    return undefined;
  }
  for (const [key, allowed] of [
    ['inputMode', ['File', 'Pipe', 'FastFile']],
    ['s3DataDistributionType', ['FullyReplicated', 'ShardedByS3Key']],
    ['recordWrapperType', ['None', 'RecordIO']],
    ['compressionType', ['None', 'Gzip']],
  ] as const) {
    const value = (channel as Record<string, string | undefined>)[key];
    if (value !== undefined && !(allowed as readonly string[]).includes(value)) p.add(at, `${key} "${value}" is not one of ${allowed.join(', ')}.`);
  }
  if (path.startsWith('s3://')) {
    const local = mapS3(path, at);
    if (local === undefined) return undefined;
    return { ...channel, channelName, source: local, sourceUri: path } as ChannelSpec;
  }
  return { ...channel, channelName, source: resolve(cwd, path) } as ChannelSpec;
}

/**
 * `--job FILE.json`: a Create* request read with `parse`, its `s3://` URIs mapped relative to the
 * file's folder. Returns what it gave (empty without `--job`) and how problems name their source.
 */
export async function readJobFile<T>(
  job: string | undefined,
  what: string,
  ctx: { cwd: string; config: ResolvedConfig; p: Problems },
  parse: (request: unknown, mapUri: UriMapper) => { spec: Partial<T>; problems: Problems['problems']; notices: Problems['notices'] },
  operation?: string,
): Promise<{ base: Partial<T>; source: string }> {
  if (!job) return { base: {}, source: what };
  const jobPath = resolve(ctx.cwd, job);
  const request = await readJsonArg(job, ctx.cwd, '--job', ctx.p);
  if (request === undefined) return { base: {}, source: `job file ${jobPath}` };
  const parsed = parse(request, createUriMapper({ ...(ctx.config.s3Root ? { s3Root: ctx.config.s3Root } : {}), baseDir: dirname(jobPath) }));
  // What the service refuses before the operation runs (lengths, patterns, enums, ranges), with its
  // paths, first; `dedupe` drops the reader's findings that restate one of them.
  for (const c of operation ? requestConstraints(operation, request) : []) {
    // A plain path or file:// URL where AWS wants s3:// is this file's convenience; the URI mapper notes it.
    if (c.constraint.includes('(https|s3)://')) continue;
    ctx.p.add(c.path, `${c.constraint} (got ${c.value}).`);
  }
  ctx.p.merge(parsed);
  return { base: parsed.spec, source: `job file ${jobPath}` };
}

export async function readJsonArg(value: string, cwd: string, what: string, p: Problems): Promise<unknown> {
  const inline = value.trimStart().startsWith('{');
  let text = value;
  if (!inline) {
    try {
      text = await readFile(resolve(cwd, value), 'utf8');
    } catch {
      p.add(what, `file ${resolve(cwd, value)} does not exist or cannot be read.`);
      return undefined;
    }
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    p.add(what, `${inline ? 'the inline value' : resolve(cwd, value)} is not valid JSON: ${(err as Error).message}`);
    return undefined;
  }
}

export function parseEntrypoint(value: string, p: Problems): string[] | undefined {
  if (value.trimStart().startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(value);
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed;
    } catch {
      // reported below
    }
    p.add('--entrypoint', `${value} is not a JSON array of strings, e.g. '["python3", "-u", "/opt/program/train.py"]'.`);
    return undefined;
  }
  if (/\s/.test(value.trim())) {
    p.add('--entrypoint', `"${value}" has spaces; like docker's --entrypoint it names one program. Give several words as a JSON array: '["python3", "train.py"]'.`);
    return undefined;
  }
  return [value];
}

/**
 * Turns `sm-local train` flags (and an optional `--job` CreateTrainingJob file) into a training job
 * input. Flags win over the job file; hyperparameters and environment are merged key by key, and
 * channels by name. Every problem, from the file and the flags, is reported in one InvalidSpecError.
 */
export async function resolveTrainingInput(
  flags: TrainFlags,
  config: ResolvedConfig,
  opts: {
    cwd: string;
    env: NodeJS.ProcessEnv;
    now: Date;
    /** Checks that channel sources exist, so missing paths are reported with every other problem. */
    checkChannels?: (channels: readonly ChannelSpec[]) => Promise<{ path: string; message: string }[]>;
  },
): Promise<{ input: TrainingJobSpec & TrainingRunSettings; notices: string[] }> {
  const { cwd } = opts;
  const p = new Problems();
  const { base, source } = await readJobFile<TrainingJobSpec>(flags.job, 'the training job', { cwd, config, p }, parseCreateTrainingJobRequest, 'CreateTrainingJob');
  const cliMapper = createUriMapper({ ...(config.s3Root ? { s3Root: config.s3Root } : {}), baseDir: cwd });
  const mapS3 = (uri: string, path: string) => cliMapper(uri, path, p);

  const hyperParameters: Record<string, string> = { ...(base.hyperParameters ?? {}) };
  if (flags.hyperparameters !== undefined) {
    const parsed = await readJsonArg(flags.hyperparameters, cwd, '--hyperparameters', p);
    if (parsed !== undefined) {
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) p.add('--hyperparameters', 'must be a JSON object of name: value.');
      else {
        const { hyperParameters: hp, notices } = stringifyHyperParameters(parsed as Record<string, unknown>, '--hyperparameters');
        Object.assign(hyperParameters, hp);
        notices.forEach((n) => p.notice(n));
      }
    }
  }
  Object.assign(hyperParameters, parseHyperparameterFlags(flags.hyperparameter, p));

  const environment: Record<string, string> = { ...(base.environment ?? {}), ...(await collectEnvironment(flags, opts, p)) };

  // A --channel replaces the job file's channel of that name; naming one twice among the flags is an error.
  const channels = new Map<string, ChannelSpec>((base.channels ?? []).map((c) => [c.channelName, c]));
  const fromFlags = new Map<string, number>();
  (flags.channel ?? []).forEach((raw, i) => {
    const c = parseChannelFlag(raw, i, p, mapS3, cwd);
    if (!c) return;
    const first = fromFlags.get(c.channelName);
    if (first !== undefined) p.add(`--channel #${i + 1} (${raw})`, channelNameTwice(c.channelName, `--channel #${first + 1}`));
    fromFlags.set(c.channelName, i);
    channels.set(c.channelName, c);
  });

  const entrypoint = flags.entrypoint !== undefined ? parseEntrypoint(flags.entrypoint, p) : base.containerEntrypoint;
  const args = flags.arg !== undefined && flags.arg.length > 0 ? flags.arg : base.containerArguments;
  const image = flags.image ?? base.image;
  if (!image) p.add('image', 'no image given: pass IMAGE, or a --job file with AlgorithmSpecification.TrainingImage.');

  const instanceGroups = (flags.instanceGroup ?? []).flatMap((raw, i) => {
    const m = /^([^=]+)=(ml\.[^:]+):(\d+)$/.exec(raw);
    if (!m) {
      p.add(`--instance-group #${i + 1}`, `"${raw}" is not NAME=TYPE:COUNT, e.g. workers=ml.c5.xlarge:2.`);
      return [];
    }
    return [{ instanceGroupName: m[1]!, instanceType: m[2]!, instanceCount: Number(m[3]) }];
  });
  const metricDefinitions = [...(base.metricDefinitions ?? [])];
  for (const [i, raw] of (flags.metric ?? []).entries()) {
    const eq = raw.indexOf('=');
    if (eq <= 0) p.add(`--metric #${i + 1}`, `"${raw}" is not NAME=REGEX, e.g. train:loss=loss=([0-9.]+).`);
    else {
      const Name = raw.slice(0, eq);
      const existing = metricDefinitions.findIndex((m) => m.Name === Name);
      if (existing >= 0) metricDefinitions.splice(existing, 1);
      metricDefinitions.push({ Name, Regex: raw.slice(eq + 1) });
    }
  }
  let outputCompression = base.outputCompression;
  if (flags.outputCompression !== undefined) {
    const upper = flags.outputCompression.toUpperCase();
    if (upper !== 'GZIP' && upper !== 'NONE') p.add('--output-compression', `must be GZIP or NONE (got "${flags.outputCompression}").`);
    else outputCompression = upper;
  }
  const checkpoint =
    flags.checkpointDir !== undefined
      ? { source: resolve(cwd, flags.checkpointDir), ...(flags.checkpointLocalPath ?? base.checkpoint?.localPath ? { localPath: flags.checkpointLocalPath ?? base.checkpoint!.localPath! } : {}) }
      : base.checkpoint;

  // Script mode as the SageMaker Python SDK submits it: the code archive under --s3-root.
  const submittedSource = config.s3Root ? await findSubmittedSource(hyperParameters, cliMapper) : undefined;

  const instanceType = flags.instanceType ?? base.instanceType ?? config.instanceType;
  const input: TrainingJobSpec & TrainingRunSettings = {
    ...base,
    image: image ?? '',
    hyperParameters,
    environment,
    channels: [...channels.values()],
    ...(entrypoint ? { containerEntrypoint: entrypoint } : {}),
    ...(args ? { containerArguments: args } : {}),
    ...(flags.jobName !== undefined ? { trainingJobName: flags.jobName } : {}),
    ...(instanceType !== undefined ? { instanceType } : {}),
    ...(flags.maxRuntime !== undefined ? { stoppingCondition: { maxRuntimeInSeconds: flags.maxRuntime } } : {}),
    ...(flags.instanceCount !== undefined ? { instanceCount: flags.instanceCount } : {}),
    ...(instanceGroups.length ? { instanceGroups } : {}),
    ...(metricDefinitions.length ? { metricDefinitions } : {}),
    ...(outputCompression ? { outputCompression } : {}),
    ...(checkpoint ? { checkpoint } : {}),
    ...(flags.networkIsolation ? { enableNetworkIsolation: true } : {}),
    ...(flags.entryPoint !== undefined ? { entryPoint: flags.entryPoint } : {}),
    ...(flags.sourceDir !== undefined ? { sourceDir: resolve(cwd, flags.sourceDir) } : {}),
    ...(submittedSource ? { submittedSource } : {}),
    ...(config.stopGraceSeconds !== undefined ? { stopGraceSeconds: config.stopGraceSeconds } : {}),
    ...(config.region ? { region: config.region } : {}),
    ...(config.account ? { account: config.account } : {}),
    outputDir: config.outputDir,
    ...(config.transfer ? { transfer: config.transfer } : {}),
    ...(flags.keep ? { keep: true } : {}),
    ...parseEscapeHatches(flags, p),
  };

  // Validate limits now too, so a job file's structural and limit problems come out together.
  // Its notices are left to the runner, which validates again and reports them once.
  if (image) p.problems.push(...resolveTrainingJobSpec(input, { now: opts.now }).problems);
  if (opts.checkChannels) p.problems.push(...(await opts.checkChannels(input.channels ?? [])));
  if (!p.ok) throw new InvalidSpecError(dedupe(p.problems), source);
  return { input, notices: [...new Set(p.notices)] };
}

/**
 * Each problem once. A member the service's front end already refused (named as the service names
 * it, `inputDataConfig.1.member.channelName`) is not reported again by a later reader under its
 * request path (`InputDataConfig[0].ChannelName`): the first problem at a member stands for it.
 */
export function dedupe<T extends { path: string; message: string }>(items: T[]): T[] {
  const member = (path: string) => path.replace(/\.\d+\.member/g, '[]').replace(/\[\d+\]/g, '[]').toLowerCase();
  const front = new Set(items.filter((x) => /^[a-z]/.test(x.path)).map((x) => member(x.path)));
  const seen = new Set<string>();
  return items.filter((x) => {
    const k = `${x.path}\u0000${x.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    // A request path restating a member the front end named.
    return !(/^[A-Z]/.test(x.path) && front.has(member(x.path)));
  });
}
