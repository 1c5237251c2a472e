import { resolve } from 'node:path';
import { parseCreateProcessingJobRequest } from '../contract/create-processing-job.js';
import { Problems } from '../contract/problems.js';
import { resolveProcessingJobSpec, type ProcessingInputSpec, type ProcessingJobSpec, type ProcessingOutputSpec } from '../contract/processing-spec.js';
import { InvalidSpecError } from '../errors.js';
import { collectEnvironment } from './env-file.js';
import type { ResolvedConfig } from './resolve.js';
import { dedupe, parseEntrypoint, parseEscapeHatches, readJobFile, splitOptions, type TrainingRunSettings } from './training-input.js';
import { createUriMapper } from './uri-mapping.js';

/** `sm-local process` flags as yargs hands them over (camel-cased). */
export interface ProcessFlags {
  image?: string;
  job?: string;
  jobName?: string;
  /** NAME=SOURCE[:LOCAL_PATH][,mode=File|Pipe][,distribution=ShardedByS3Key][,compression=Gzip], repeatable. */
  input?: string[];
  /** NAME[=LOCAL_PATH[:DEST]][,upload=EndOfJob|Continuous], repeatable. */
  output?: string[];
  env?: string[];
  envFile?: string[];
  instanceType?: string;
  instanceCount?: number;
  volumeSize?: number;
  entrypoint?: string;
  arg?: string[];
  maxRuntime?: number;
  networkIsolation?: boolean;
  keep?: boolean;
  shmSize?: string;
  gpus?: string;
  platform?: string;
}

/** Local run choices of a processing job (the runner's ProcessingRunOptions). */
export type ProcessingRunSettings = Pick<TrainingRunSettings, 'outputDir' | 'transfer' | 'keep' | 'shmSizeBytes' | 'gpus' | 'platform'>;

function checkChoice(p: Problems, at: string, key: string, value: string | undefined, allowed: readonly string[]): void {
  if (value !== undefined && !allowed.includes(value)) p.add(at, `${key} "${value}" is not one of ${allowed.join(', ')}.`);
}

/**
 * `--input NAME=SOURCE[:LOCAL_PATH][,mode=File|Pipe][,distribution=ShardedByS3Key][,compression=Gzip]`.
 * SOURCE is a local path or an `s3://` URI; LOCAL_PATH is the container folder (default
 * /opt/ml/processing/input/NAME), told apart from SOURCE as the last `:` followed by a single `/`.
 */
export function parseInputFlag(raw: string, index: number, p: Problems, mapS3: (uri: string, path: string) => string | undefined, cwd: string): ProcessingInputSpec | undefined {
  const at = `--input #${index + 1} (${raw})`;
  const eq = raw.indexOf('=');
  if (eq <= 0) {
    p.add(at, 'expected NAME=SOURCE[:LOCAL_PATH], for example --input raw=./data/raw:/opt/ml/processing/input/raw.');
    return undefined;
  }
  const inputName = raw.slice(0, eq);
  const { main, options, unknown } = splitOptions(raw.slice(eq + 1), ['mode', 'distribution', 'compression']);
  for (const u of unknown) p.add(at, `unknown input option "${u}"; known options: mode, distribution, compression.`);
  const split = /^(.*):(\/(?!\/).*)$/.exec(main);
  const source = split ? split[1]! : main;
  const localPath = split?.[2];
  if (!source) {
    p.add(at, 'the input has no SOURCE (a local folder or file, or an s3:// URI).');
    return undefined;
  }
  checkChoice(p, at, 'mode', options.mode, ['File', 'Pipe']);
  checkChoice(p, at, 'distribution', options.distribution, ['FullyReplicated', 'ShardedByS3Key']);
  checkChoice(p, at, 'compression', options.compression, ['None', 'Gzip']);
  const spec: Omit<ProcessingInputSpec, 'source'> = {
    inputName,
    ...(localPath ? { localPath } : {}),
    ...(options.mode ? { s3InputMode: options.mode as ProcessingInputSpec['s3InputMode'] } : {}),
    ...(options.distribution ? { s3DataDistributionType: options.distribution as ProcessingInputSpec['s3DataDistributionType'] } : {}),
    ...(options.compression ? { s3CompressionType: options.compression as ProcessingInputSpec['s3CompressionType'] } : {}),
  };
  if (source.startsWith('s3://')) {
    const local = mapS3(source, at);
    return local === undefined ? undefined : { ...spec, source: local, sourceUri: source };
  }
  return { ...spec, source: resolve(cwd, source) };
}

/**
 * `--output NAME[=LOCAL_PATH[:DEST]][,upload=EndOfJob|Continuous]`. LOCAL_PATH is the container
 * folder (default /opt/ml/processing/output/NAME); DEST a local folder or an `s3://` URI (default
 * `<job folder>/NAME`).
 */
export function parseOutputFlag(raw: string, index: number, p: Problems, mapS3: (uri: string, path: string) => string | undefined, cwd: string): ProcessingOutputSpec | undefined {
  const at = `--output #${index + 1} (${raw})`;
  const { main, options, unknown } = splitOptions(raw, ['upload']);
  for (const u of unknown) p.add(at, `unknown output option "${u}"; the known option is upload=EndOfJob|Continuous.`);
  checkChoice(p, at, 'upload', options.upload, ['EndOfJob', 'Continuous']);
  const eq = main.indexOf('=');
  const outputName = eq < 0 ? main : main.slice(0, eq);
  if (!outputName) {
    p.add(at, 'expected NAME[=LOCAL_PATH[:DEST]], for example --output train=/opt/ml/processing/output/train.');
    return undefined;
  }
  const spec: ProcessingOutputSpec = { outputName, ...(options.upload ? { s3UploadMode: options.upload as ProcessingOutputSpec['s3UploadMode'] } : {}) };
  if (eq < 0) return spec;
  const rest = main.slice(eq + 1);
  if (!rest.startsWith('/')) {
    p.add(at, `"${rest}" is not a container folder: LOCAL_PATH comes first and begins with /opt/ml/processing/ (NAME=LOCAL_PATH:DEST).`);
    return undefined;
  }
  const colon = rest.indexOf(':');
  const localPath = colon < 0 ? rest : rest.slice(0, colon);
  const dest = colon < 0 ? undefined : rest.slice(colon + 1);
  if (dest === '') {
    p.add(at, 'the destination after ":" is empty.');
    return undefined;
  }
  if (dest === undefined) return { ...spec, localPath };
  if (dest.startsWith('s3://')) {
    const local = mapS3(dest, at);
    return local === undefined ? undefined : { ...spec, localPath, destination: local, destinationUri: dest };
  }
  return { ...spec, localPath, destination: resolve(cwd, dest) };
}

/**
 * Turns `sm-local process` flags (and an optional `--job` CreateProcessingJob file) into a processing
 * job input. Flags win over the file; the environment is merged key by key, inputs and outputs by
 * name. Every problem, from the file and the flags, comes in one InvalidSpecError.
 */
export async function resolveProcessingInput(
  flags: ProcessFlags,
  config: ResolvedConfig,
  opts: { cwd: string; env: NodeJS.ProcessEnv; now: Date; checkInputs?: (inputs: readonly ProcessingInputSpec[]) => Promise<{ path: string; message: string }[]> },
): Promise<{ input: ProcessingJobSpec & ProcessingRunSettings; notices: string[] }> {
  const { cwd } = opts;
  const p = new Problems();
  const { base, source } = await readJobFile<ProcessingJobSpec>(flags.job, 'the processing job', { cwd, config, p }, parseCreateProcessingJobRequest, 'CreateProcessingJob');
  const cliMapper = createUriMapper({ ...(config.s3Root ? { s3Root: config.s3Root } : {}), baseDir: cwd });
  const mapS3 = (uri: string, path: string) => cliMapper(uri, path, p);

  const environment = { ...(base.environment ?? {}), ...(await collectEnvironment(flags, opts, p)) };
  // A flag replaces the file's input or output of that name; naming one twice among the flags is an error.
  const byName = <T>(fromFile: readonly T[] | undefined, raws: readonly string[] | undefined, kind: 'input' | 'output', parse: (raw: string, i: number) => T | undefined, nameOf: (x: T) => string) => {
    const all = new Map<string, T>((fromFile ?? []).map((x) => [nameOf(x), x]));
    const seen = new Map<string, number>();
    (raws ?? []).forEach((raw, i) => {
      const x = parse(raw, i);
      if (!x) return;
      const first = seen.get(nameOf(x));
      if (first !== undefined) p.add(`--${kind} #${i + 1} (${raw})`, `${kind} "${nameOf(x)}" is given more than once (first at --${kind} #${first + 1}); ${kind} names must be unique.`);
      seen.set(nameOf(x), i);
      all.set(nameOf(x), x);
    });
    return [...all.values()];
  };
  const inputs = byName(base.inputs, flags.input, 'input', (raw, i) => parseInputFlag(raw, i, p, mapS3, cwd), (x) => x.inputName);
  const outputs = byName(base.outputs, flags.output, 'output', (raw, i) => parseOutputFlag(raw, i, p, mapS3, cwd), (x) => x.outputName);

  const entrypoint = flags.entrypoint !== undefined ? parseEntrypoint(flags.entrypoint, p) : base.containerEntrypoint;
  const args = flags.arg !== undefined && flags.arg.length > 0 ? flags.arg : base.containerArguments;
  const image = flags.image ?? base.image;
  if (!image) p.add('image', 'no image given: pass IMAGE, or a --job file with AppSpecification.ImageUri.');
  const instanceType = flags.instanceType ?? base.instanceType ?? config.instanceType;
  const escapes = parseEscapeHatches(flags, p);
  const input: ProcessingJobSpec & ProcessingRunSettings = {
    ...base,
    image: image ?? '',
    environment,
    inputs,
    outputs,
    ...(entrypoint ? { containerEntrypoint: entrypoint } : {}),
    ...(args ? { containerArguments: args } : {}),
    ...(flags.jobName !== undefined ? { processingJobName: flags.jobName } : {}),
    ...(instanceType !== undefined ? { instanceType } : {}),
    ...(flags.instanceCount !== undefined ? { instanceCount: flags.instanceCount } : {}),
    ...(flags.volumeSize !== undefined ? { volumeSizeInGB: flags.volumeSize } : {}),
    ...(flags.maxRuntime !== undefined ? { stoppingCondition: { maxRuntimeInSeconds: flags.maxRuntime } } : {}),
    ...(flags.networkIsolation ? { enableNetworkIsolation: true } : {}),
    ...(config.stopGraceSeconds !== undefined ? { stopGraceSeconds: config.stopGraceSeconds } : {}),
    ...(config.region ? { region: config.region } : {}),
    ...(config.account ? { account: config.account } : {}),
    outputDir: config.outputDir,
    ...(config.transfer ? { transfer: config.transfer } : {}),
    ...(flags.keep ? { keep: true } : {}),
    ...(escapes.shmSizeBytes !== undefined ? { shmSizeBytes: escapes.shmSizeBytes } : {}),
    ...(escapes.gpus !== undefined ? { gpus: escapes.gpus } : {}),
    ...(escapes.platform !== undefined ? { platform: escapes.platform } : {}),
  };
  // Limits now too, so a job file's structural and limit problems come out together; the runner
  // validates again and reports the notices once.
  if (image) p.problems.push(...resolveProcessingJobSpec(input, { now: opts.now }).problems);
  if (opts.checkInputs) p.problems.push(...(await opts.checkInputs(input.inputs ?? [])));
  if (!p.ok) throw new InvalidSpecError(dedupe(p.problems), source);
  return { input, notices: [...new Set(p.notices)] };
}
