import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseCreateModelRequest } from '../contract/create-model.js';
import { Problems } from '../contract/problems.js';
import { resolveEndpointSpec, type EndpointSpec } from '../contract/serving-spec.js';
import { InvalidSpecError } from '../errors.js';
import { collectEnvironment } from './env-file.js';
import type { ResolvedConfig } from './resolve.js';
import { createUriMapper } from './uri-mapping.js';

/** `sm-local serve` flags as yargs hands them over. */
export interface ServeFlags {
  image?: string;
  modelJson?: string;
  model?: string;
  name?: string;
  env?: string[];
  envFile?: string[];
  port?: number;
  startupTimeout?: number;
  invocationTimeout?: number;
  instanceType?: string;
}

/**
 * Turns `sm-local serve` flags (and an optional `--model-json` CreateModel file) into an endpoint
 * input. Flags win over the file; environment merges key by key. Every problem in one InvalidSpecError.
 */
export async function resolveServingInput(
  flags: ServeFlags,
  config: ResolvedConfig,
  opts: { cwd: string; env: NodeJS.ProcessEnv },
): Promise<{ input: EndpointSpec & { port?: number }; notices: string[] }> {
  const p = new Problems();
  let base: Partial<EndpointSpec> = {};
  let source = 'the endpoint';
  if (flags.modelJson) {
    const path = resolve(opts.cwd, flags.modelJson);
    source = `model file ${path}`;
    let request: unknown;
    try {
      request = JSON.parse(await readFile(path, 'utf8'));
    } catch (err) {
      p.add('--model-json', (err as NodeJS.ErrnoException).code ? `file ${path} does not exist or cannot be read.` : `${path} is not valid JSON: ${(err as Error).message}`);
    }
    if (request !== undefined) {
      const parsed = parseCreateModelRequest(request, createUriMapper({ ...(config.s3Root ? { s3Root: config.s3Root } : {}), baseDir: dirname(path) }));
      p.merge(parsed);
      base = parsed.spec;
    }
  }
  const environment = { ...(base.environment ?? {}), ...(await collectEnvironment(flags, opts, p)) };
  const image = flags.image ?? base.image;
  if (!image) p.add('image', 'no image given: pass IMAGE, or a --model-json file with PrimaryContainer.Image.');
  const model = flags.model !== undefined ? resolve(opts.cwd, flags.model) : base.model;
  const instanceType = flags.instanceType ?? config.instanceType;

  const input: EndpointSpec & { port?: number } = {
    ...base,
    image: image ?? '',
    environment,
    ...(model !== undefined ? { model } : {}),
    ...(flags.name !== undefined ? { endpointName: flags.name } : {}),
    ...(instanceType !== undefined ? { instanceType } : {}),
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
