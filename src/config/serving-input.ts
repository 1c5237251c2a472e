import { dirname, resolve } from 'node:path';
import { parseCreateEndpointConfigRequest } from '../contract/create-endpoint-config.js';
import { parseCreateModelRequest } from '../contract/create-model.js';
import { Problems } from '../contract/problems.js';
import { resolveEndpointSpec, type EndpointSpec, type ModelSpec } from '../contract/serving-spec.js';
import { InvalidSpecError } from '../errors.js';
import { collectEnvironment } from './env-file.js';
import type { ResolvedConfig } from './resolve.js';
import { parseEscapeHatches, readJsonArg, type TrainingRunSettings } from './training-input.js';
import { createUriMapper } from './uri-mapping.js';

/** `sm-local serve` flags as yargs hands them over. */
export interface ServeFlags {
  image?: string;
  /** CreateModel files: one, or every model an --endpoint-config-json file names. */
  modelJson?: string | string[];
  endpointConfigJson?: string;
  model?: string;
  name?: string;
  env?: string[];
  envFile?: string[];
  port?: number;
  startupTimeout?: number;
  invocationTimeout?: number;
  instanceType?: string;
  instanceCount?: number;
  shmSize?: string;
  gpus?: string;
  platform?: string;
  publish?: string[];
  keep?: boolean;
}

/** The local escape hatches of `serve`, as `train` has them: checked, in the shape the endpoint runner takes. */
export type ServeEscapes = Pick<TrainingRunSettings, 'shmSizeBytes' | 'gpus' | 'platform' | 'publish'> & { keep?: boolean };

/** A CreateModel file, read and checked, its URIs mapped relative to it; undefined when it could not be read. */
async function readModelFile(file: string, config: ResolvedConfig, cwd: string, p: Problems, named: boolean): Promise<Partial<EndpointSpec> | undefined> {
  const path = resolve(cwd, file);
  const request = await readJsonArg(file, cwd, '--model-json', p);
  if (request === undefined) return undefined;
  const parsed = parseCreateModelRequest(request, createUriMapper({ ...(config.s3Root ? { s3Root: config.s3Root } : {}), baseDir: dirname(path) }));
  // Several files' problems are told apart by the file they are in.
  const many = p.problems.length;
  p.merge(parsed);
  if (named) for (const problem of p.problems.slice(many)) problem.path = `${file}: ${problem.path}`;
  return parsed.spec;
}

/**
 * Turns `sm-local serve` flags (and `--model-json` CreateModel files, with an optional
 * `--endpoint-config-json` CreateEndpointConfig file) into an endpoint input. Flags win over the
 * file; environment merges key by key. Every problem in one InvalidSpecError.
 */
export async function resolveServingInput(
  flags: ServeFlags,
  config: ResolvedConfig,
  opts: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ input: EndpointSpec & { port?: number } & ServeEscapes; notices: string[] }> {
  const p = new Problems();
  const escapes: ServeEscapes = { ...parseEscapeHatches(flags, p), ...(flags.keep ? { keep: true } : {}) };
  const files = flags.modelJson === undefined ? [] : Array.isArray(flags.modelJson) ? flags.modelJson : [flags.modelJson];
  const models = (await Promise.all(files.map((f) => readModelFile(f, config, opts.cwd, p, files.length > 1)))).filter((m): m is Partial<EndpointSpec> => m !== undefined);
  const source = files.length === 1 ? `model file ${resolve(opts.cwd, files[0]!)}` : files.length ? 'the model files' : 'the endpoint';
  const environment = await collectEnvironment(flags, opts, p);
  const flagEnv = Object.keys(environment).length > 0;
  let base: Partial<EndpointSpec> = {};
  if (flags.endpointConfigJson !== undefined) {
    const byName = new Map<string, ModelSpec>();
    for (const m of models) {
      const name = m.modelName ?? '';
      if (byName.has(name)) p.add('--model-json', `two files define model ${name}; give each model once.`);
      byName.set(name, m);
    }
    const request = await readJsonArg(flags.endpointConfigJson, opts.cwd, '--endpoint-config-json', p);
    if (request !== undefined) {
      const parsed = parseCreateEndpointConfigRequest(request, byName);
      p.merge(parsed);
      if (parsed.asyncInference) p.add('AsyncInferenceConfig', 'an asynchronous endpoint reads its inputs from, and writes its answers to, S3 locations: serve it with `sm-local api` (CreateEndpoint), which has a local S3.');
      base = { variants: parsed.variants, ...(parsed.endpointConfigName !== undefined ? { endpointName: parsed.endpointConfigName } : {}) };
    }
    for (const [flag, given] of [['IMAGE', flags.image], ['--model', flags.model], ['--instance-type', flags.instanceType], ['--instance-count', flags.instanceCount]] as const) {
      if (given !== undefined) p.add(flag, 'does not apply with --endpoint-config-json: each production variant names its model and instances.');
    }
    if (flagEnv) p.add('--env', 'does not apply with --endpoint-config-json: set Environment in the model files.');
  } else {
    if (models.length > 1) p.add('--model-json', `${models.length} model files were given: an endpoint of several models needs --endpoint-config-json, whose production variants name them.`);
    base = models[0] ?? {};
    if (base.containers) {
      if (flags.image !== undefined) p.add('IMAGE', 'does not apply to a multi-container model: its Containers name their images.');
      if (flags.model !== undefined) p.add('--model', 'does not apply to a multi-container model: give each container its ModelDataUrl.');
      if (flagEnv) p.add('--env', 'does not apply to a multi-container model: set each container\'s Environment in the model file.');
    } else Object.assign(base, { environment: { ...(base.environment ?? {}), ...environment } });
  }
  const image = flags.image ?? base.image ?? base.variants?.[0]?.model.image ?? base.variants?.[0]?.model.containers?.[0]?.image;
  if (!image && !(flags.endpointConfigJson !== undefined && !p.ok)) p.add('image', 'no image given: pass IMAGE, or a --model-json file with PrimaryContainer.Image.');
  const model = flags.model !== undefined ? resolve(opts.cwd, flags.model) : base.model;
  const instanceType = flags.instanceType ?? (base.variants ? undefined : config.instanceType);

  const input: EndpointSpec & { port?: number } & ServeEscapes = {
    ...base,
    ...escapes,
    image: image ?? '',
    ...(model !== undefined ? { model } : {}),
    ...(flags.name !== undefined ? { endpointName: flags.name } : {}),
    ...(instanceType !== undefined ? { instanceType } : {}),
    ...(flags.instanceCount !== undefined ? { instanceCount: flags.instanceCount } : {}),
    ...(flags.startupTimeout !== undefined ? { startupTimeoutSeconds: flags.startupTimeout } : {}),
    ...(flags.invocationTimeout !== undefined ? { invocationTimeoutMs: flags.invocationTimeout * 1000 } : {}),
    ...(config.stopGraceSeconds !== undefined ? { stopGraceSeconds: config.stopGraceSeconds } : {}),
    ...(config.region ? { region: config.region } : {}),
    ...(config.account ? { account: config.account } : {}),
    ...(flags.port !== undefined ? { port: flags.port } : {}),
  };
  // A --model flag replaces the file's ModelDataUrl, and with it the URI it was mapped from.
  if (flags.model !== undefined) delete input.modelUri;
  if (flags.port !== undefined && (!Number.isInteger(flags.port) || flags.port < 0 || flags.port > 65_535)) p.add('--port', `must be a port number from 0 to 65535 (got ${flags.port}).`);
  if (image) p.problems.push(...resolveEndpointSpec(input).problems);
  if (!p.ok) throw new InvalidSpecError(p.problems, source);
  return { input, notices: [...new Set(p.notices)] };
}
