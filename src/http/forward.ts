import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { checkInvokeHeaders, endpointNotFound, FORWARDED_REQUEST_HEADERS, HEADER, internalFailure, payloadTooLarge, validationError, type RuntimeError } from '../contract/serving.js';
import { discard, headerValue, invokeContainer, isTimeout, readCapped, TooLarge, type InvocationTarget } from './invocation.js';
import { throughStages } from './pipeline.js';
import type { Route, VariantRouter } from './variant-routing.js';

export type { ModelRouter } from './variant-routing.js';

/**
 * Forwarding between a client and a serving container, on raw Node requests and responses (fastify
 * routes them, but never parses them): request bodies stream to the container, and only what the
 * 6 MiB caps need is held in memory, under a shared budget. Every error the proxy itself produces has
 * the runtime's shape: a JSON `{"Message": …}` body and `X-Amzn-ErrorType`.
 */

/** One line of the request log: what came in, what went out, how long it took. */
export interface RequestLogEntry {
  method: string;
  url: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  ms: number;
  /** The runtime error type sent back, if any (ModelError, ValidationError). */
  errorType?: string;
  /** Why the proxy itself failed, if it did. */
  detail?: string;
  /** The production variant that answered, when one was picked. */
  variant?: string;
}

/** Responses of a known length up to this size are read whole before they are sent (the deadline then applies to all of it). */
const STREAM_RESPONSES_ABOVE = 1024 * 1024;

/** Request bodies up to this size are read whole: cheaper than a stream, and 64 of them are 4 MiB. */
const STREAM_REQUESTS_ABOVE = 64 * 1024;

/** How much of an unwanted request body (after a 413 or 400) is read and dropped before the connection is cut. */
const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host']);

/**
 * An endpoint the runtime app forwards to: its variants and containers (`routes`), the runtime's
 * limits (the cap also bounds requests), and its request log.
 */
export interface ForwardContext extends Omit<InvocationTarget, 'pool' | 'container'> {
  routes: VariantRouter;
  /** The endpoint's only container, when it has exactly one. */
  sole?: Dispatcher;
  onRequest?: (entry: RequestLogEntry) => void;
}

/** The routing headers of an InvokeEndpoint call (TargetVariant, TargetContainerHostname), and the route they pick. */
export function pickRoute(ctx: ForwardContext, req: IncomingMessage): Route | { error: RuntimeError } {
  const targetVariant = headerValue(req.headers[HEADER.targetVariant]);
  const targetContainer = headerValue(req.headers[HEADER.targetContainer]);
  return ctx.routes.pick({ ...(targetVariant !== undefined ? { targetVariant } : {}), ...(targetContainer !== undefined ? { targetContainer } : {}) });
}

/**
 * Where InvokeEndpoint calls go: the endpoint of each name (one process and one port can front many),
 * and the account a name that is not there is reported in.
 */
export interface InvocationRoutes {
  lookup(endpointName: string): ForwardContext | undefined;
  account: string;
  onRequest?: (entry: RequestLogEntry) => void;
}


/** The wire form of a runtime error (also for raw sockets, which have no ServerResponse). */
export function runtimeErrorWire(err: RuntimeError): { headers: Record<string, string>; body: Buffer } {
  const body = Buffer.from(JSON.stringify(err.body));
  return {
    headers: {
      'content-type': 'application/json',
      'content-length': String(body.length),
      [HEADER.requestId]: randomUUID(),
      ...(err.errorType ? { [HEADER.errorType]: err.errorType } : {}),
    },
    body,
  };
}

/** A whole HTTP/1.1 error response as bytes, for a socket that never became a request (CONNECT, HTTP/0.9, a bad head). */
export function rawRuntimeError(err: RuntimeError, reason: string): string {
  const { headers, body } = runtimeErrorWire(err);
  const lines = [`HTTP/1.1 ${err.status} ${reason}`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), 'connection: close'];
  return `${lines.join('\r\n')}\r\n\r\n${body.toString()}`;
}

/** What the request log says of a runtime error the proxy answered with. */
export function errorEntry(err: RuntimeError, detail?: string): Partial<RequestLogEntry> {
  return { ...(err.errorType ? { errorType: err.errorType } : {}), ...(detail ? { detail } : {}) };
}

/** The request body's size as its head declares it (a body that streams through is not counted on the way). */
function declaredBytes(req: IncomingMessage): number | undefined {
  const raw = req.headers['content-length'];
  return raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/**
 * Answers `err` and reads the rest of the request body (up to a limit) before the response ends, so a
 * client still uploading reads the answer instead of a broken pipe. The answer is complete on the wire
 * (Content-Length) as soon as it is written; only the end of the exchange waits for the body.
 */
function answerEarly(req: IncomingMessage, res: ServerResponse, err: RuntimeError, log: (status: number, bytesOut: number, extra: Partial<RequestLogEntry>) => void, detail?: string): void {
  const { headers, body } = runtimeErrorWire(err);
  if (!res.headersSent) res.writeHead(err.status, headers);
  res.write(body);
  log(err.status, body.length, errorEntry(err, detail));
  if (req.complete || req.readableEnded || req.destroyed) return void res.end();
  let drained = 0;
  req.on('data', (c: Buffer) => {
    drained += c.length;
    if (drained > DRAIN_LIMIT_BYTES) req.socket.destroy();
  });
  req.once('end', () => res.end());
  req.once('error', () => res.end());
  req.resume();
}

/** Answers with a runtime error; returns the body's size. */
export function sendRuntimeError(res: ServerResponse, err: RuntimeError): number {
  const { headers, body } = runtimeErrorWire(err);
  res.writeHead(err.status, headers);
  res.end(body);
  return body.length;
}

/**
 * `POST /endpoints/{name}/invocations` (InvokeEndpoint, CONTRACT §4.4–4.5): the documented headers and
 * the body go to the container's `POST /invocations`, byte for byte; container failures become
 * ModelError as the service words them; the caps and the deadline apply.
 */
export async function forwardInvocation(req: IncomingMessage, res: ServerResponse, routes: InvocationRoutes, endpointName: string): Promise<void> {
  const started = process.hrtime.bigint();
  const declared = declaredBytes(req);
  let bytesIn = declared ?? 0;
  const ctx = routes.lookup(endpointName);
  const log = (status: number, bytesOut: number, extra: Partial<RequestLogEntry> = {}) =>
    (ctx?.onRequest ?? routes.onRequest)?.({ method: req.method ?? 'POST', url: req.url ?? '', status, bytesIn, bytesOut, ms: Number(process.hrtime.bigint() - started) / 1e6, ...extra });
  if (!ctx) return answerEarly(req, res, endpointNotFound(endpointName, routes.account), log);
  const contentType = headerValue(req.headers['content-type']);
  const accept = headerValue(req.headers.accept);
  const customAttributes = headerValue(req.headers[HEADER.customAttributes]);
  const invalid = checkInvokeHeaders({
    ...(customAttributes !== undefined ? { customAttributes } : {}),
    ...(contentType !== undefined ? { contentType } : {}),
    ...(accept !== undefined ? { accept } : {}),
  });
  if (invalid) return answerEarly(req, res, validationError(invalid), log);

  if (declared !== undefined && declared > ctx.cap) return answerEarly(req, res, payloadTooLarge(), log, `Content-Length ${declared}`);

  const headers: Record<string, string> = {};
  for (const name of FORWARDED_REQUEST_HEADERS) {
    const v = headerValue(req.headers[name]);
    if (v !== undefined) headers[name] = v;
  }
  const route = pickRoute(ctx, req);
  if ('error' in route) return answerEarly(req, res, route.error, log);
  const { instance, variant, chain } = route;
  const variantLog = { variant: variant.variantName };
  // A multi-model endpoint invokes the target model, loaded first if need be (CONTRACT §7.2–7.3).
  const targetModel = headerValue(req.headers[HEADER.targetModel]);
  const models = instance.models;
  let path = '/invocations';
  if (models) {
    if (!targetModel) return answerEarly(req, res, validationError('TargetModel is required for a multi-model endpoint (header X-Amzn-SageMaker-Target-Model).'), log);
    const routed = await models.route(targetModel);
    if ('error' in routed) return answerEarly(req, res, routed.error, log);
    path = routed.path;
    headers[HEADER.targetModel] = targetModel;
  }
  // A large body of known length streams straight through; a small one, or one of unknown length, is
  // read (within the cap) first, so that an oversized body is refused before the container sees any of it.
  let body: IncomingMessage | Buffer;
  const streamed = declared !== undefined && declared > STREAM_REQUESTS_ABOVE;
  if (streamed) body = req;
  else {
    // A body of unknown length may be up to the cap: those wait for room in the budget.
    const release = declared === undefined ? await ctx.budget.acquire(ctx.cap) : () => {};
    try {
      body = await readCapped(req, ctx.cap, true);
      bytesIn = body.length;
    } catch (err) {
      if (err instanceof TooLarge) return answerEarly(req, res, payloadTooLarge(), log, 'body larger than the cap');
      return log(0, 0, { detail: `the client went away: ${(err as Error).message}` });
    } finally {
      release();
    }
  }

  // A serial pipeline's containers before the last answer first; the last one's answer goes back.
  const pending = throughStages(ctx, chain, { path, headers, body, ...(streamed ? { length: declared! } : {}) });
  const staged = pending instanceof Promise ? await pending : pending;
  const result = staged.ok ? await invokeContainer(staged.target, staged.request, { streamAbove: STREAM_RESPONSES_ABOVE }) : staged;
  if (models && targetModel) models.done?.(targetModel);
  if (!result.ok) {
    if (streamed && req.destroyed && !req.complete) return log(0, 0, { ...variantLog, detail: 'the client went away while sending the body' });
    return log(result.error.status, sendRuntimeError(res, result.error), { ...variantLog, ...errorEntry(result.error, result.detail) });
  }
  res.setHeader(HEADER.invokedVariant, variant.variantName);
  res.setHeader(HEADER.requestId, randomUUID());
  if (result.contentType !== undefined) res.setHeader('content-type', result.contentType);
  if (result.customAttributes !== undefined) res.setHeader(HEADER.customAttributes, result.customAttributes);
  if (result.stream) {
    // Divergence: a large answer of known length streams to the client; a container that stalls in the
    // middle of one past the deadline gets the client's connection cut, not a ModelError (its status
    // was sent already). Smaller answers, and answers of unknown length, are read whole first.
    const { body: upBody, length, deadline } = result.stream;
    res.writeHead(200, { 'content-length': String(length) });
    const timer = setTimeout(() => {
      discard(upBody);
      res.destroy();
    }, Math.max(0, deadline - Date.now()));
    upBody.pipe(res);
    await new Promise<void>((resolve) => res.once('close', resolve));
    clearTimeout(timer);
    return log(200, length, res.writableFinished ? variantLog : { ...variantLog, detail: 'the answer was cut off' });
  }
  res.writeHead(200, { 'content-length': String(result.body.length) });
  res.end(result.body);
  log(200, result.body.length, variantLog);
}

/**
 * `GET /ping` and `POST /invocations`: straight to the container and back, headers and all, streamed
 * both ways with no SageMaker limits. Failures of the proxy itself still answer in the runtime's shape.
 */
export async function passThrough(req: IncomingMessage, res: ServerResponse, ctx: { pool: Dispatcher; timeoutMs: number; onRequest?: (entry: RequestLogEntry) => void }): Promise<void> {
  const started = process.hrtime.bigint();
  const bytesIn = declaredBytes(req) ?? 0;
  const log = (status: number, bytesOut: number, extra: Partial<RequestLogEntry> = {}) =>
    ctx.onRequest?.({ method: req.method ?? 'GET', url: req.url ?? '', status, bytesIn, bytesOut, ms: Number(process.hrtime.bigint() - started) / 1e6, ...extra });
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    const value = headerValue(v);
    if (value !== undefined && !HOP_BY_HOP.has(k)) headers[k] = value;
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && req.method !== 'DELETE';
  let upstream: Dispatcher.ResponseData;
  try {
    upstream = await ctx.pool.request({
      path: req.url ?? '/',
      method: (req.method ?? 'GET') as Dispatcher.HttpMethod,
      headers,
      ...(hasBody ? { body: req } : {}),
      headersTimeout: ctx.timeoutMs,
      bodyTimeout: ctx.timeoutMs,
    });
  } catch (err) {
    const e = isTimeout(err)
      ? internalFailure(`The container did not answer within ${ctx.timeoutMs / 1000} s (sm-local's pass-through to it).`, 504)
      : internalFailure(`The container did not accept the connection; is it still running? (${(err as Error).message})`, 502);
    return log(e.status, sendRuntimeError(res, e), errorEntry(e, (err as Error).message));
  }
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(upstream.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) out[k] = v;
  res.writeHead(upstream.statusCode, out);
  let bytesOut = 0;
  upstream.body.on('data', (c: Buffer) => (bytesOut += c.length));
  upstream.body.pipe(res);
  await new Promise<void>((resolve) => res.once('close', resolve));
  log(upstream.statusCode, bytesOut, res.writableFinished ? {} : { detail: 'the answer was cut off' });
}
