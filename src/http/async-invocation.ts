/**
 * InvokeEndpointAsync (`POST /endpoints/{name}/async-invocations`, CONTRACT §9.6): the request names
 * its input's S3 location; the runtime answers 202 at once with the InferenceId and where the answer
 * (or the failure) will be written, and the call goes to the container from a queue, as many at once
 * per instance as the endpoint's config allows. Where an S3 location is on this machine is the
 * caller's to say (`resolve`); the answer and failure objects are `<S3OutputPath>/<InferenceId>.out`
 * and `<S3FailurePath>/<InferenceId>-error.out` (the service's object names are UNCONFIRMED).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname } from 'node:path';
import { endpointNotFound, HEADER, validationError, type RuntimeError } from '../contract/serving.js';
import type { InvocationRoutes, RequestLogEntry } from './forward.js';
import { errorEntry, pickRoute, sendRuntimeError } from './forward.js';
import { headerValue, invokeContainer } from './invocation.js';
import { throughStages } from './pipeline.js';

/** An asynchronous endpoint: where its answers go, how many calls it takes at once, and how S3 URIs map to files here. */
export interface AsyncRoute {
  outputPath: string;
  failurePath?: string;
  concurrency: number;
  /** The local file of an `s3://` URI, or why there is none. */
  resolve(uri: string): { path: string } | { problem: string };
  /** Before the input is read: bring the object at `uri` here (from an S3 endpoint). */
  prepare?(uri: string): Promise<void>;
  /** After an answer or failure was written: send the object at `uri` on (to an S3 endpoint). */
  publish?(uri: string): Promise<void>;
  /** Once per call, when it is done: the InferenceId and where its answer or failure went. */
  /** Each call written; `backlog` is what is still queued or running on the endpoint, as ApproximateBacklogSize counts it. */
  onDone?(entry: { inferenceId: string; ok: boolean; location: string; ms: number; backlog: number }): void;
}

/** InvokeEndpointAsync's deadline for one call: 15 minutes unless InvocationTimeoutSeconds says otherwise (at most 1 hour). */
const DEFAULT_INVOCATION_TIMEOUT_S = 900;
const MAX_INVOCATION_TIMEOUT_S = 3600;
/** Asynchronous payloads may be up to 1 GB. */
const ASYNC_CAP = 1024 ** 3;
/** RequestTTLSeconds: 6 hours unless the request says otherwise. */
const DEFAULT_TTL_S = 6 * 3600;

const join = (prefix: string, name: string) => `${prefix.replace(/\/+$/, '')}/${name}`;

/** Each endpoint's queue: calls run as slots free up, in the order they came. */
const queues = new WeakMap<object, { running: number; waiting: (() => void)[] }>();
function queueOf(key: object): { running: number; waiting: (() => void)[] } {
  let q = queues.get(key);
  if (!q) queues.set(key, (q = { running: 0, waiting: [] }));
  return q;
}
/** The calls queued or running on an endpoint (CloudWatch's ApproximateBacklogSize). */
const backlogOf = (key: object) => {
  const q = queueOf(key);
  return q.running + q.waiting.length;
};
async function slot(key: object, limit: number): Promise<() => void> {
  const queue = queueOf(key);
  if (queue.running >= limit) await new Promise<void>((r) => queue.waiting.push(r));
  queue.running += 1;
  return () => {
    queue.running -= 1;
    queue.waiting.shift()?.();
  };
}

export async function forwardAsyncInvocation(req: IncomingMessage, res: ServerResponse, routes: InvocationRoutes & { asyncOf(name: string): AsyncRoute | undefined }, endpointName: string): Promise<void> {
  const started = process.hrtime.bigint();
  const ctx = routes.lookup(endpointName);
  const log = (status: number, extra: Partial<RequestLogEntry> = {}) =>
    (ctx?.onRequest ?? routes.onRequest)?.({ method: req.method ?? 'POST', url: req.url ?? '', status, bytesIn: 0, bytesOut: 0, ms: Number(process.hrtime.bigint() - started) / 1e6, ...extra });
  const fail = (err: RuntimeError) => {
    req.resume();
    sendRuntimeError(res, err);
    log(err.status, errorEntry(err));
  };
  if (!ctx) return fail(endpointNotFound(endpointName, routes.account));
  const async = routes.asyncOf(endpointName);
  // The service's wording for an endpoint without AsyncInferenceConfig is UNCONFIRMED.
  if (!async) return fail(validationError(`Endpoint ${endpointName} is not an asynchronous endpoint: its endpoint config has no AsyncInferenceConfig.`));
  const inputLocation = headerValue(req.headers['x-amzn-sagemaker-inputlocation']);
  if (!inputLocation) return fail(validationError('InputLocation is required (header X-Amzn-SageMaker-InputLocation): the S3 URI of the request body.'));
  const input = async.resolve(inputLocation);
  if ('problem' in input) return fail(validationError(input.problem));
  const timeoutS = Number(headerValue(req.headers['x-amzn-sagemaker-invocationtimeoutseconds']) ?? DEFAULT_INVOCATION_TIMEOUT_S);
  if (!Number.isInteger(timeoutS) || timeoutS < 1 || timeoutS > MAX_INVOCATION_TIMEOUT_S) return fail(validationError(`InvocationTimeoutSeconds must be from 1 to ${MAX_INVOCATION_TIMEOUT_S}.`));
  const ttlS = Number(headerValue(req.headers['x-amzn-sagemaker-requestttlseconds']) ?? DEFAULT_TTL_S);
  const route = pickRoute(ctx, req);
  if ('error' in route) return fail(route.error);
  const inferenceId = headerValue(req.headers['x-amzn-sagemaker-inference-id']) ?? randomUUID();
  const extension = headerValue(req.headers['x-amzn-sagemaker-s3outputpathextension']);
  const outputUri = join(extension ? join(async.outputPath, extension) : async.outputPath, `${inferenceId}.out`);
  const failureUri = join(async.failurePath ?? async.outputPath, `${inferenceId}-error.out`);
  const contentType = headerValue(req.headers['x-amzn-sagemaker-content-type']);
  const accept = headerValue(req.headers['x-amzn-sagemaker-accept']);
  const customAttributes = headerValue(req.headers[HEADER.customAttributes]);
  req.resume();
  const body = Buffer.from(JSON.stringify({ InferenceId: inferenceId }));
  res.writeHead(202, {
    'content-type': 'application/json',
    'content-length': String(body.length),
    [HEADER.requestId]: randomUUID(),
    'x-amzn-sagemaker-outputlocation': outputUri,
    'x-amzn-sagemaker-failurelocation': failureUri,
  });
  res.end(body);
  log(202, { variant: route.variant.variantName, detail: `queued ${inferenceId}, backlog ${backlogOf(ctx) + 1}` });

  const queuedAt = Date.now();
  const release = await slot(ctx, async.concurrency);
  const write = async (uri: string, data: Buffer | string, ok: boolean) => {
    const target = async.resolve(uri);
    if ('path' in target) {
      await mkdir(dirname(target.path), { recursive: true });
      await writeFile(target.path, data);
      await async.publish?.(uri);
    }
    async.onDone?.({ inferenceId, ok, location: uri, ms: Date.now() - queuedAt, backlog: backlogOf(ctx) - 1 });
  };
  try {
    if (Date.now() - queuedAt > ttlS * 1000) return await write(failureUri, `The request expired in the queue after RequestTTLSeconds (${ttlS} s).`, false);
    let payload: Buffer;
    try {
      await async.prepare?.(inputLocation);
      payload = await readFile(input.path);
    } catch (err) {
      return await write(failureUri, `Could not read the input ${inputLocation}: ${(err as Error).message}`, false);
    }
    const headers: Record<string, string> = {
      ...(contentType !== undefined ? { 'content-type': contentType } : {}),
      ...(accept !== undefined ? { accept } : {}),
      ...(customAttributes !== undefined ? { [HEADER.customAttributes]: customAttributes } : {}),
    };
    const base = { ...ctx, cap: ASYNC_CAP, timeoutMs: timeoutS * 1000 };
    const staged = await throughStages(base, route.chain, { headers, body: payload });
    const answer = staged.ok ? await invokeContainer(staged.target, staged.request) : staged;
    if (answer.ok) await write(outputUri, answer.body!, true);
    else await write(failureUri, JSON.stringify(answer.error.body), false);
  } catch (err) {
    await write(failureUri, `sm-local failed: ${(err as Error).message}`, false).catch(() => {});
  } finally {
    release();
  }
}
