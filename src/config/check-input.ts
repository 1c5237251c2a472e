import { access, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Problems } from '../contract/problems.js';
import type { ChannelSpec } from '../contract/training-spec.js';
import { InvalidSpecError } from '../errors.js';
import type { CheckInput, CheckSample } from '../jobs/check-runner.js';
import { collectEnvironment } from './env-file.js';
import type { ResolvedConfig } from './resolve.js';
import { parseInputFlag, parseOutputFlag } from './processing-input.js';
import { parseChannelFlag, parseEntrypoint, parseHyperparameterFlags } from './training-input.js';
import { createUriMapper } from './uri-mapping.js';

/** The check's own config file, read from the current folder when present. */
export const CHECK_CONFIG_FILE = 'sm-local.check.json';

/** `sm-local check` flags as yargs hands them over. */
export interface CheckFlags {
  image?: string;
  train?: boolean;
  serve?: boolean;
  /** Image checks only: nothing is run. */
  static?: boolean;
  instanceType?: string;
  channel?: string[];
  failChannel?: string[];
  hyperparameter?: string[];
  env?: string[];
  envFile?: string[];
  model?: string;
  sample?: string[];
  /** The check config file (sm-local.check.json). */
  config?: string;
  concurrency?: number;
  trainStopGrace?: number;
  serveStopGrace?: number;
  startupTimeout?: number;
  maxRuntime?: number;
  output?: string;
  /** Script mode, as for train. */
  entryPoint?: string;
  sourceDir?: string;
  strict?: boolean;
  /** The processing checks, with `process`'s flags for the job (outputs as --process-output: check's --output keeps job folders). */
  process?: boolean;
  input?: string[];
  processOutput?: string[];
  failInput?: string[];
  entrypoint?: string;
  arg?: string[];
  processStopGrace?: number;
  /** A multi-model endpoint's model store: the /models API check instead of the single-model serving checks. */
  multiModel?: string;
}

/** Keys of sm-local.check.json, documented in the README. */
const FILE_KEYS = [
  'image', 'train', 'serve', 'static', 'instanceType', 'channels', 'failChannels', 'hyperparameters', 'environment', 'model', 'samples',
  'concurrency', 'trainStopGraceSeconds', 'serveStopGraceSeconds', 'startupTimeoutSeconds', 'maxRuntimeSeconds', 'output',
  'entryPoint', 'sourceDir', 'strict', 'process', 'inputs', 'processOutputs', 'failInputs', 'entrypoint', 'arguments', 'processStopGraceSeconds', 'multiModel',
] as const;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObject = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface SampleDraft {
  file: string;
  at: string;
  contentType?: string;
  accept?: string;
  expectStatus?: number;
  stream?: boolean;
}

/** `FILE[,content-type=T][,accept=T][,expect-status=N][,stream]`. */
export function parseSampleFlag(raw: string, index: number, p: Problems, cwd: string): SampleDraft | undefined {
  const at = `--sample #${index + 1} (${raw})`;
  const parts = raw.split(',');
  const fileParts: string[] = [];
  const draft: Partial<SampleDraft> = { at };
  for (const part of parts) {
    const m = /^(content-type|accept|expect-status)=(.*)$/.exec(part);
    if (part === 'stream' && fileParts.length) draft.stream = true;
    else if (m && fileParts.length) {
      if (m[1] === 'content-type') draft.contentType = m[2]!;
      else if (m[1] === 'accept') draft.accept = m[2]!;
      else {
        const n = Number(m[2]);
        if (!Number.isInteger(n) || n < 100 || n > 599) p.add(at, `expect-status "${m[2]}" is not an HTTP status code.`);
        else draft.expectStatus = n;
      }
    } else fileParts.push(part);
  }
  const file = fileParts.join(',');
  if (!file) {
    p.add(at, 'no file: give --sample FILE[,content-type=T][,expect-status=N].');
    return undefined;
  }
  return { ...draft, at, file: resolve(cwd, file) };
}

function channelsFromFile(value: Json | undefined, key: string, base: string, p: Problems): ChannelSpec[] {
  if (value === undefined) return [];
  if (!isObject(value)) {
    p.add(key, 'must be an object of channel name → path (or {"path": …, "contentType": …, "mode": …}).');
    return [];
  }
  const out: ChannelSpec[] = [];
  for (const [name, v] of Object.entries(value)) {
    const at = `${key}.${name}`;
    if (typeof v === 'string') out.push({ channelName: name, source: resolve(base, v) });
    else if (isObject(v) && typeof v.path === 'string') {
      const extra = Object.keys(v).filter((k) => !['path', 'contentType', 'mode', 'distribution', 'recordWrapper', 'compression'].includes(k));
      if (extra.length) p.add(at, `unknown keys ${extra.join(', ')}; known: path, contentType, mode, distribution, recordWrapper, compression.`);
      out.push({
        channelName: name,
        source: resolve(base, v.path),
        ...(typeof v.contentType === 'string' ? { contentType: v.contentType } : {}),
        ...(typeof v.mode === 'string' ? { inputMode: v.mode as ChannelSpec['inputMode'] & string } : {}),
        ...(typeof v.distribution === 'string' ? { s3DataDistributionType: v.distribution as NonNullable<ChannelSpec['s3DataDistributionType']> } : {}),
        ...(typeof v.recordWrapper === 'string' ? { recordWrapperType: v.recordWrapper as NonNullable<ChannelSpec['recordWrapperType']> } : {}),
        ...(typeof v.compression === 'string' ? { compressionType: v.compression as NonNullable<ChannelSpec['compressionType']> } : {}),
      });
    } else p.add(at, 'must be a path, or an object with "path".');
  }
  return out;
}

async function readCheckFile(path: string, p: Problems, explicit: boolean): Promise<{ data: Record<string, Json>; base: string } | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    if (explicit) p.add('--config', `${path} does not exist or cannot be read.`);
    return undefined;
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    p.add(path, `is not valid JSON: ${(err as Error).message}`);
    return undefined;
  }
  if (!isObject(data)) {
    p.add(path, 'must be a JSON object.');
    return undefined;
  }
  for (const k of Object.keys(data)) if (!(FILE_KEYS as readonly string[]).includes(k)) p.add(`${path}: ${k}`, `unknown key; known keys: ${FILE_KEYS.join(', ')}.`);
  return { data, base: dirname(path) };
}

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

/**
 * Turns `sm-local check` flags and the check config file (`--config`, or ./sm-local.check.json when
 * present) into a CheckInput. Flags win; channels and environment merge by name; samples given as
 * flags replace the file's. Paths in the file are relative to the file. Every problem is reported at once.
 */
export async function resolveCheckInput(flags: CheckFlags, config: ResolvedConfig, opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<CheckInput> {
  const { cwd } = opts;
  const p = new Problems();
  const filePath = flags.config ? resolve(cwd, flags.config) : resolve(cwd, CHECK_CONFIG_FILE);
  const file = await readCheckFile(filePath, p, Boolean(flags.config));
  const d = file?.data ?? {};
  const base = file?.base ?? cwd;
  const at = (k: string) => `${filePath}: ${k}`;

  /** A key of the file, checked: its value when it passes, else a problem naming the key. */
  const field = <T extends Json>(k: (typeof FILE_KEYS)[number], ok: (v: Json) => v is T, message: string): T | undefined => {
    const v = d[k];
    if (v === undefined) return undefined;
    if (ok(v)) return v;
    p.add(at(k), message);
    return undefined;
  };
  const str = (k: (typeof FILE_KEYS)[number]) => field(k, (v): v is string => typeof v === 'string', 'must be a string.');
  const num = (k: (typeof FILE_KEYS)[number]) => field(k, (v): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0, 'must be a positive number.');
  const bool = (k: (typeof FILE_KEYS)[number]) => field(k, (v): v is boolean => typeof v === 'boolean', 'must be true or false.');
  const strings = (k: (typeof FILE_KEYS)[number]) => {
    const v = d[k];
    if (v === undefined) return {};
    if (!isObject(v) || Object.values(v).some((x) => typeof x !== 'string')) {
      p.add(at(k), 'must be an object of name → string value (hyperparameter values are strings, as in SageMaker).');
      return {};
    }
    return v as Record<string, string>;
  };

  const mapper = createUriMapper({ ...(config.s3Root ? { s3Root: config.s3Root } : {}), baseDir: cwd });
  const mapS3 = (uri: string, path: string) => mapper(uri, path, p);
  const byName = (list: ChannelSpec[]) => new Map(list.map((c) => [c.channelName, c]));
  const channels = byName(channelsFromFile(d.channels, at('channels'), base, p));
  (flags.channel ?? []).forEach((raw, i) => {
    const c = parseChannelFlag(raw, i, p, mapS3, cwd);
    if (c) channels.set(c.channelName, c);
  });
  const failChannels = byName(channelsFromFile(d.failChannels, at('failChannels'), base, p));
  (flags.failChannel ?? []).forEach((raw, i) => {
    const c = parseChannelFlag(raw, i, p, mapS3, cwd);
    if (c) failChannels.set(c.channelName, c);
  });

  const hyperParameters = { ...strings('hyperparameters'), ...parseHyperparameterFlags(flags.hyperparameter, p) };
  const environment = { ...strings('environment'), ...(await collectEnvironment(flags, opts, p)) };

  let drafts: SampleDraft[] = [];
  if (flags.sample?.length) drafts = flags.sample.flatMap((raw, i) => parseSampleFlag(raw, i, p, cwd) ?? []);
  else if (d.samples !== undefined) {
    if (!Array.isArray(d.samples)) p.add(at('samples'), 'must be a list of {"file": …, "contentType": …, "accept": …, "expectStatus": …, "stream": …}.');
    else {
      d.samples.forEach((s, i) => {
        const where = at(`samples[${i}]`);
        if (!isObject(s) || typeof s.file !== 'string') return p.add(where, 'must be an object with "file".');
        if (s.expectStatus !== undefined && (typeof s.expectStatus !== 'number' || !Number.isInteger(s.expectStatus) || s.expectStatus < 100 || s.expectStatus > 599)) {
          p.add(`${where}.expectStatus`, 'must be an HTTP status code.');
        }
        drafts.push({
          at: where,
          file: resolve(base, s.file),
          ...(typeof s.contentType === 'string' ? { contentType: s.contentType } : {}),
          ...(typeof s.accept === 'string' ? { accept: s.accept } : {}),
          ...(typeof s.expectStatus === 'number' ? { expectStatus: s.expectStatus } : {}),
          ...(s.stream === true ? { stream: true } : {}),
        });
      });
    }
  }
  const samples: CheckSample[] = [];
  for (const s of drafts) {
    try {
      samples.push({
        name: s.file.split('/').pop() ?? s.file,
        body: await readFile(s.file),
        ...(s.contentType ? { contentType: s.contentType } : {}),
        ...(s.accept ? { accept: s.accept } : {}),
        ...(s.expectStatus !== undefined ? { expectStatus: s.expectStatus } : {}),
        ...(s.stream ? { stream: true } : {}),
      });
    } catch {
      p.add(s.at, `${s.file} does not exist or cannot be read.`);
    }
  }

  const image = flags.image ?? str('image');
  if (!image) p.add('image', `no image given: pass IMAGE, or "image" in ${CHECK_CONFIG_FILE}.`);
  const modelRaw = flags.model !== undefined ? resolve(cwd, flags.model) : str('model') !== undefined ? resolve(base, str('model')!) : undefined;
  if (modelRaw !== undefined && !(await exists(modelRaw))) p.add(flags.model !== undefined ? '--model' : at('model'), `${modelRaw} does not exist.`);
  const output = flags.output !== undefined ? resolve(cwd, flags.output) : str('output') !== undefined ? resolve(base, str('output')!) : undefined;
  for (const [flag, value] of [
    ['--concurrency', flags.concurrency],
    ['--train-stop-grace', flags.trainStopGrace],
    ['--serve-stop-grace', flags.serveStopGrace],
    ['--startup-timeout', flags.startupTimeout],
    ['--max-runtime', flags.maxRuntime],
  ] as const) {
    if (value !== undefined && (!Number.isFinite(value) || value <= 0)) p.add(flag, `must be a positive number (got ${value}).`);
  }
  const concurrency = flags.concurrency ?? num('concurrency');
  if (concurrency !== undefined && !Number.isInteger(concurrency)) p.add('--concurrency', 'must be a whole number.');

  // Script mode: the entry point is relative to the source folder when there is one, as for train.
  const sourceDir = flags.sourceDir !== undefined ? resolve(cwd, flags.sourceDir) : str('sourceDir') !== undefined ? resolve(base, str('sourceDir')!) : undefined;
  const entryPointRaw = flags.entryPoint ?? str('entryPoint');
  const entryFromFile = flags.entryPoint === undefined && entryPointRaw !== undefined;
  const entryPoint = entryPointRaw !== undefined && sourceDir === undefined ? resolve(entryFromFile ? base : cwd, entryPointRaw) : entryPointRaw;
  if (sourceDir !== undefined && entryPoint === undefined) p.add('--entry-point', 'script mode needs the entry point inside --source-dir, e.g. --entry-point train.py.');
  if (sourceDir !== undefined && !(await exists(sourceDir))) p.add(flags.sourceDir !== undefined ? '--source-dir' : at('sourceDir'), `${sourceDir} does not exist.`);
  else if (entryPoint !== undefined) {
    const script = sourceDir !== undefined ? resolve(sourceDir, entryPoint) : entryPoint;
    if (!(await exists(script))) p.add(flags.entryPoint !== undefined ? '--entry-point' : at('entryPoint'), `${script} does not exist${sourceDir !== undefined ? ` (the entry point is relative to ${sourceDir})` : ''}.`);
  }
  const strict = flags.strict ?? bool('strict');
  const multiModel = flags.multiModel !== undefined ? resolve(cwd, flags.multiModel) : str('multiModel') !== undefined ? resolve(base, str('multiModel')!) : undefined;
  if (multiModel !== undefined && !(await exists(multiModel))) p.add(flags.multiModel !== undefined ? '--multi-model' : at('multiModel'), `${multiModel} does not exist: give a folder of model .tar.gz files.`);

  // Processing: inputs and outputs in `process`'s flag syntax, from flags or the file's lists (relative to the file).
  const flagList = (k: (typeof FILE_KEYS)[number]) => {
    const v = d[k];
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
      p.add(at(k), 'must be a list of strings, each as the flag takes it (e.g. "raw=./data:/opt/ml/processing/input/raw").');
      return [];
    }
    return v as string[];
  };
  const parseAll = <T>(fromFlags: string[] | undefined, key: (typeof FILE_KEYS)[number], parse: (raw: string, i: number, p: Problems, map: typeof mapS3, cwd: string) => T | undefined, nameOf: (x: T) => string) => {
    const all = new Map<string, T>();
    flagList(key).forEach((raw, i) => {
      const x = parse(raw, i, p, mapS3, base);
      if (x) all.set(nameOf(x), x);
    });
    (fromFlags ?? []).forEach((raw, i) => {
      const x = parse(raw, i, p, mapS3, cwd);
      if (x) all.set(nameOf(x), x);
    });
    return [...all.values()];
  };
  const inputs = parseAll(flags.input, 'inputs', parseInputFlag, (x) => x.inputName);
  const processOutputs = parseAll(flags.processOutput, 'processOutputs', parseOutputFlag, (x) => x.outputName);
  const failInputs = parseAll(flags.failInput, 'failInputs', parseInputFlag, (x) => x.inputName);
  const stringArray = (k: (typeof FILE_KEYS)[number]) => field(k, (v): v is string[] => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string'), 'must be a non-empty list of strings.');
  const entrypoint = flags.entrypoint !== undefined ? parseEntrypoint(flags.entrypoint, p) : stringArray('entrypoint');
  const args = flags.arg?.length ? flags.arg : stringArray('arguments');
  const runProcess = flags.process ?? bool('process');
  const processStop = flags.processStopGrace ?? num('processStopGraceSeconds');
  if (flags.processStopGrace !== undefined && (!Number.isFinite(flags.processStopGrace) || flags.processStopGrace <= 0)) p.add('--process-stop-grace', `must be a positive number (got ${flags.processStopGrace}).`);
  if (!runProcess && (inputs.length || processOutputs.length || failInputs.length)) {
    p.add('--input/--process-output', 'processing inputs and outputs are given, but not --process: add --process to run the processing checks.');
  }

  const train = flags.train ?? bool('train');
  const serve = flags.serve ?? bool('serve');
  const staticOnly = flags.static ?? bool('static');
  const trainStop = flags.trainStopGrace ?? num('trainStopGraceSeconds');
  const serveStop = flags.serveStopGrace ?? num('serveStopGraceSeconds');
  const startup = flags.startupTimeout ?? num('startupTimeoutSeconds');
  const maxRuntime = flags.maxRuntime ?? num('maxRuntimeSeconds');
  const instanceType = flags.instanceType ?? str('instanceType') ?? config.instanceType;
  if (!p.ok) throw new InvalidSpecError(p.problems, file ? `the check (${filePath} and flags)` : 'the check');
  return {
    image: image!,
    ...(train !== undefined ? { train } : {}),
    ...(serve !== undefined ? { serve } : {}),
    ...(staticOnly ? { staticOnly } : {}),
    ...(instanceType ? { instanceType } : {}),
    channels: [...channels.values()],
    failChannels: [...failChannels.values()],
    hyperParameters,
    environment,
    ...(modelRaw !== undefined ? { model: modelRaw } : {}),
    samples,
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(trainStop !== undefined ? { trainStopGraceSeconds: trainStop } : {}),
    ...(serveStop !== undefined ? { serveStopGraceSeconds: serveStop } : {}),
    ...(startup !== undefined ? { startupTimeoutSeconds: startup } : {}),
    ...(maxRuntime !== undefined ? { maxRuntimeSeconds: maxRuntime } : {}),
    ...(output !== undefined ? { outputDir: output } : {}),
    ...(entryPoint !== undefined ? { entryPoint } : {}),
    ...(sourceDir !== undefined ? { sourceDir } : {}),
    ...(strict ? { strict } : {}),
    ...(runProcess
      ? {
          process: true,
          processing: {
            inputs,
            outputs: processOutputs,
            ...(failInputs.length ? { failInputs } : {}),
            ...(entrypoint ? { containerEntrypoint: entrypoint } : {}),
            ...(args ? { containerArguments: [...args] } : {}),
          },
        }
      : {}),
    ...(processStop !== undefined ? { processStopGraceSeconds: processStop } : {}),
    ...(multiModel !== undefined ? { multiModel } : {}),
  };
}
