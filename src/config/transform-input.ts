import { resolve } from 'node:path';
import { parseCreateModelRequest } from '../contract/create-model.js';
import { parseCreateTransformJobRequest } from '../contract/create-transform-job.js';
import { Problems } from '../contract/problems.js';
import type { EndpointSpec } from '../contract/serving-spec.js';
import type { AssembleWith, BatchStrategy, SplitType } from '../contract/transform-records.js';
import { resolveTransformJobSpec, type TransformJobSpec } from '../contract/transform-spec.js';
import { InvalidSpecError } from '../errors.js';
import { collectEnvironment } from './env-file.js';
import type { ResolvedConfig } from './resolve.js';
import { dedupe, readJobFile } from './training-input.js';
import { createUriMapper } from './uri-mapping.js';

/** `sm-local transform` flags as yargs hands them over (camel-cased). */
export interface TransformFlags {
  image?: string;
  job?: string;
  modelJson?: string;
  model?: string;
  jobName?: string;
  input?: string;
  output?: string;
  contentType?: string;
  splitType?: string;
  compression?: string;
  accept?: string;
  assembleWith?: string;
  batchStrategy?: string;
  maxPayload?: number;
  maxConcurrent?: number;
  inputFilter?: string;
  outputFilter?: string;
  joinSource?: string;
  invocationsTimeout?: number;
  maxRetries?: number;
  instanceCount?: number;
  instanceType?: string;
  env?: string[];
  envFile?: string[];
  startupTimeout?: number;
  keep?: boolean;
}

const choice = <T extends string>(p: Problems, flag: string, value: string | undefined, allowed: readonly T[]): T | undefined => {
  if (value === undefined) return undefined;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  p.add(flag, `"${value}" is not one of ${allowed.join(', ')}.`);
  return undefined;
};

/**
 * Turns `sm-local transform` flags, an optional `--job` CreateTransformJob file and an optional
 * `--model-json` CreateModel file (a transform job names a model) into a transform job input. Flags
 * win; the environment merges key by key. Every problem comes in one InvalidSpecError.
 */
export async function resolveTransformInput(
  flags: TransformFlags,
  config: ResolvedConfig,
  opts: { cwd: string; env: NodeJS.ProcessEnv; now: Date },
): Promise<{ input: TransformJobSpec & { outputDir: string; keep?: boolean }; notices: string[] }> {
  const { cwd } = opts;
  const p = new Problems();
  const { base, source } = await readJobFile<TransformJobSpec>(flags.job, 'the transform job', { cwd, config, p }, parseCreateTransformJobRequest, 'CreateTransformJob');
  const { base: model } = await readJobFile<EndpointSpec>(flags.modelJson, 'the model', { cwd, config, p }, parseCreateModelRequest, 'CreateModel');
  const mapper = createUriMapper({ ...(config.s3Root ? { s3Root: config.s3Root } : {}), baseDir: cwd });
  const mapped = (flag: string, value: string | undefined) => {
    if (value === undefined) return undefined;
    if (!value.startsWith('s3://')) return { path: resolve(cwd, value) };
    const path = mapper(value, flag, p);
    return path === undefined ? undefined : { path, uri: value };
  };
  const input = mapped('--input', flags.input);
  const output = mapped('--output', flags.output);
  if (model.containers && flags.image !== undefined) p.add('IMAGE', 'does not apply to a pipeline model: its Containers name their images.');
  if (model.containers && flags.model !== undefined) p.add('--model', 'does not apply to a pipeline model: give each container its ModelDataUrl.');
  // Which order a Direct model's containers take in a transform job is UNCONFIRMED: they run in series, as a pipeline.
  if (model.containers && model.executionMode === 'Direct') p.notice('The model is for direct invocation (InferenceExecutionConfig Mode Direct); a transform job sends each request through its containers in series.');
  const image = flags.image ?? model.image;
  if (!image) p.add('image', 'no image given: pass IMAGE, or a --model-json file with PrimaryContainer.Image.');
  const modelPath = flags.model !== undefined ? resolve(cwd, flags.model) : model.model;
  const dp = {
    ...(base.dataProcessing ?? {}),
    ...(flags.inputFilter !== undefined ? { inputFilter: flags.inputFilter } : {}),
    ...(flags.outputFilter !== undefined ? { outputFilter: flags.outputFilter } : {}),
    ...(flags.joinSource !== undefined ? { joinSource: choice(p, '--join-source', flags.joinSource, ['None', 'Input'] as const) ?? 'None' } : {}),
  };
  const split = choice<SplitType>(p, '--split-type', flags.splitType, ['None', 'Line', 'RecordIO', 'TFRecord']);
  const assemble = choice<AssembleWith>(p, '--assemble-with', flags.assembleWith, ['None', 'Line']);
  const strategy = choice<BatchStrategy>(p, '--batch-strategy', flags.batchStrategy, ['SingleRecord', 'MultiRecord']);
  const compression = choice(p, '--compression', flags.compression, ['None', 'Gzip'] as const);
  const instanceType = flags.instanceType ?? base.instanceType ?? config.instanceType;
  const spec: TransformJobSpec & { outputDir: string; keep?: boolean } = {
    ...base,
    image: image ?? '',
    input: input?.path ?? base.input ?? '',
    ...(input?.uri !== undefined ? { inputUri: input.uri } : input ? { inputUri: undefined } : {}),
    ...(output ? { output: output.path, ...(output.uri ? { outputUri: output.uri } : {}) } : {}),
    ...(modelPath !== undefined ? { model: modelPath } : {}),
    ...(flags.model === undefined && model.modelUri !== undefined ? { modelUri: model.modelUri } : {}),
    ...(model.environment ? { modelEnvironment: model.environment } : {}),
    ...(model.containers ? { containers: model.containers } : {}),
    ...(model.endpointName !== undefined && base.modelName === undefined ? { modelName: model.endpointName } : {}),
    environment: { ...(base.environment ?? {}), ...(await collectEnvironment(flags, opts, p)) },
    ...(flags.jobName !== undefined ? { transformJobName: flags.jobName } : {}),
    ...(flags.contentType !== undefined ? { contentType: flags.contentType } : {}),
    ...(split ? { splitType: split } : {}),
    ...(compression ? { compressionType: compression } : {}),
    ...(flags.accept !== undefined ? { accept: flags.accept } : {}),
    ...(assemble ? { assembleWith: assemble } : {}),
    ...(strategy ? { batchStrategy: strategy } : {}),
    ...(flags.maxPayload !== undefined ? { maxPayloadInMB: flags.maxPayload } : {}),
    ...(flags.maxConcurrent !== undefined ? { maxConcurrentTransforms: flags.maxConcurrent } : {}),
    ...(flags.invocationsTimeout !== undefined ? { invocationsTimeoutInSeconds: flags.invocationsTimeout } : {}),
    ...(flags.maxRetries !== undefined ? { invocationsMaxRetries: flags.maxRetries } : {}),
    ...(flags.instanceCount !== undefined ? { instanceCount: flags.instanceCount } : {}),
    ...(instanceType !== undefined ? { instanceType } : {}),
    ...(flags.startupTimeout !== undefined ? { startupTimeoutSeconds: flags.startupTimeout } : {}),
    ...(Object.keys(dp).length ? { dataProcessing: dp } : {}),
    ...(config.stopGraceSeconds !== undefined ? { stopGraceSeconds: config.stopGraceSeconds } : {}),
    ...(config.region ? { region: config.region } : {}),
    ...(config.account ? { account: config.account } : {}),
    outputDir: config.outputDir,
    ...(flags.keep ? { keep: true } : {}),
  };
  if (spec.inputUri === undefined) delete spec.inputUri;
  if (image) p.problems.push(...resolveTransformJobSpec(spec, { now: opts.now }).problems);
  if (!p.ok) throw new InvalidSpecError(dedupe(p.problems), source);
  return { input: spec, notices: [...new Set(p.notices)] };
}
