/**
 * One InvokeEndpoint call to a serving container's `POST /invocations`, as the SageMaker runtime makes
 * it (CONTRACT §4.4–4.5): the 6 MiB cap on the answer, the 60 s deadline on all of it, and the
 * container's failures turned into ModelError as the service words them. It returns the runtime's
 * answer, not a response: the runtime app writes it to a client, and batch transform (one mini-batch
 * at a time) or a pipeline (one container's answer into the next) read it themselves.
 */
import type { Readable } from 'node:stream';
import { errors as undiciErrors, Pool, type Dispatcher } from 'undici';
import { HEADER, modelErrorFromStatus, modelErrorTimeout, modelErrorUnreadable, type EndpointIdentity, type RuntimeError } from '../contract/serving.js';

/**
 * Bytes that may be held in memory at once by the bodies that must be buffered (a request without
 * Content-Length, a response without one): a waiting line instead of an unbounded heap under load.
 */
export class BufferBudget {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  async acquire(bytes: number): Promise<() => void> {
    while (this.free < bytes) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.free -= bytes;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.free += bytes;
      this.waiting.shift()?.();
    };
  }
}

/** Where invocations go: the container's pool, who it serves as, and the runtime's limits. */
export interface InvocationTarget {
  pool: Dispatcher;
  endpoint: EndpointIdentity & { variantName: string };
  /** InvokeEndpoint's response cap (6 MiB). */
  cap: number;
  /** InvokeEndpoint's deadline (60 s). */
  timeoutMs: number;
  /** Bodies of unknown length wait here for room before they are read. */
  budget: BufferBudget;
  /** The container's name in ModelError messages: `primary` (the default), or a pipeline container's hostname. */
  container?: string;
}

/** A connection pool to a container's server, for an `InvocationTarget`; destroy it when done. */
export function containerPool(upstream: { host: string; port: number }): Pool {
  return new Pool(`http://${upstream.host}:${upstream.port}`, { connections: 256, keepAliveTimeout: 30_000 });
}

export interface InvocationRequest {
  /** The container's path: `/invocations`, or a multi-model endpoint's `/models/<name>/invoke`. */
  path?: string;
  /** Headers for the container (Content-Type, Accept, X-Amzn-SageMaker-Custom-Attributes, …). */
  headers: Record<string, string>;
  /** A body in memory, or a stream of `length` bytes. */
  body: Buffer | Readable;
  length?: number;
}

/** What the runtime answers: the container's 2xx answer, or the runtime error the client gets instead. */
export type InvocationAnswer =
  | {
      ok: true;
      contentType?: string;
      customAttributes?: string;
      /** The answer, read whole within the cap and the deadline. */
      body: Buffer;
      stream?: undefined;
    }
  | {
      ok: true;
      contentType?: string;
      customAttributes?: string;
      body?: undefined;
      /** With `streamAbove`: a 2xx answer of a known length above it, still to be read before `deadline` (epoch ms). */
      stream: { body: Readable; length: number; deadline: number };
    }
  | { ok: false; error: RuntimeError; /** What went wrong, for the request log. */ detail?: string };

/** A header's value as one string (Node gives repeated headers as an array). */
export const headerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v.join(', ') : v);

/** A body passed the cap. */
export class TooLarge extends Error {}
class DeadlinePassed extends Error {}

export function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  return err instanceof DeadlinePassed || e?.name === 'TimeoutError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT' || err instanceof undiciErrors.RequestAbortedError;
}

/**
 * Reads a stream whole, failing with TooLarge as soon as it passes `cap`: a container's answer is then
 * destroyed; a client's request is left to be drained (`keep`), so that it can still read the answer.
 */
export function readCapped(body: NodeJS.ReadableStream & { destroy(): void }, cap: number, keep = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= cap) return void chunks.push(chunk);
      body.off('data', onData);
      chunks.length = 0;
      if (!keep) discard(body);
      reject(new TooLarge());
    };
    body.on('data', onData);
    body.once('end', () => resolve(Buffer.concat(chunks, size)));
    body.once('error', reject);
  });
}

/**
 * Drops a container's answer body. undici's body errors when destroyed; with nobody left reading it,
 * that error must not become an uncaught exception (it would end `sm-local serve`).
 */
export function discard(body: NodeJS.ReadableStream & { destroy(): void }): void {
  body.on('error', () => {});
  body.destroy();
}

/** Settles with `work`, or rejects with DeadlinePassed (after calling `onLate`) once `ms` have passed. */
function withDeadline<T>(work: Promise<T>, ms: number, onLate: () => void): Promise<T> {
  work.catch(() => {});
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onLate();
      reject(new DeadlinePassed());
    }, Math.max(0, ms));
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * Sends one invocation to the container and reads its answer within the cap and the deadline. With
 * `streamAbove`, a 2xx answer of a known length above that size is handed back as a stream instead.
 */
export async function invokeContainer(target: InvocationTarget, request: InvocationRequest, opts: { streamAbove?: number } = {}): Promise<InvocationAnswer> {
  const { endpoint, cap, timeoutMs, container } = target;
  const deadline = Date.now() + timeoutMs;
  const timedOut = (): InvocationAnswer => ({ ok: false, error: modelErrorTimeout(endpoint, container), detail: `no response within ${timeoutMs} ms` });
  const headers = request.length !== undefined ? { ...request.headers, 'content-length': String(request.length) } : request.headers;
  let upstream: Dispatcher.ResponseData;
  try {
    // undici's own timers bound the wait for the head of an answer to a body in memory; a streamed
    // body's sending counts too, which undici's do not cover: that one gets a deadline of its own.
    const call = { path: request.path ?? '/invocations', method: 'POST' as const, headers, body: request.body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs };
    if (Buffer.isBuffer(request.body)) upstream = await target.pool.request(call);
    else {
      const abort = new AbortController();
      upstream = await withDeadline(target.pool.request({ ...call, signal: abort.signal }), timeoutMs, () => abort.abort());
    }
  } catch (err) {
    if (isTimeout(err)) return timedOut();
    return { ok: false, error: modelErrorUnreadable(endpoint, container), detail: (err as Error).message };
  }
  const { statusCode: status, headers: upHeaders, body: upBody } = upstream;
  // undici's timers run about a second coarse: a head that came after the deadline is still late.
  if (Date.now() > deadline) {
    discard(upBody);
    return timedOut();
  }
  const length = upHeaders['content-length'] !== undefined ? Number(upHeaders['content-length']) : undefined;
  const ok = status >= 200 && status <= 299;
  const tooLarge = (detail: string): InvocationAnswer => ({ ok: false, error: ok ? modelErrorUnreadable(endpoint, container) : modelErrorFromStatus(endpoint, status, '', container), detail });
  if (length !== undefined && length > cap) {
    discard(upBody);
    return tooLarge(`response of ${length} bytes is larger than ${cap}`);
  }
  const contentType = headerValue(upHeaders['content-type']);
  const customAttributes = headerValue(upHeaders[HEADER.customAttributes]);
  const meta = { ...(contentType !== undefined ? { contentType } : {}), ...(customAttributes !== undefined ? { customAttributes } : {}) };
  if (ok && length !== undefined && opts.streamAbove !== undefined && length > opts.streamAbove) {
    return { ok: true, ...meta, stream: { body: upBody, length, deadline } };
  }

  const release = length === undefined ? await target.budget.acquire(cap) : () => {};
  let body: Buffer;
  try {
    body = await withDeadline(readCapped(upBody, cap), deadline - Date.now(), () => discard(upBody));
  } catch (err) {
    if (err instanceof TooLarge) return tooLarge(`response larger than ${cap} bytes`);
    if (isTimeout(err)) return timedOut();
    return { ok: false, error: modelErrorUnreadable(endpoint, container), detail: (err as Error).message };
  } finally {
    release();
  }
  if (!ok) return { ok: false, error: modelErrorFromStatus(endpoint, status, body.toString('utf8'), container) };
  return { ok: true, ...meta, body };
}
