import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { errors as undiciErrors, Pool, type Dispatcher } from 'undici';
import {
  checkInvokeHeaders,
  endpointNotFound,
  FORWARDED_REQUEST_HEADERS,
  HEADER,
  MAX_PAYLOAD_BYTES,
  modelErrorFromStatus,
  modelErrorTimeout,
  modelErrorUnreadable,
  payloadTooLarge,
  validationError,
  type EndpointIdentity,
  type RuntimeError,
} from '../contract/serving.js';
import { PROXY_ERRORS, proxyErrorBody, type ProxyErrorName } from './errors.js';

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
}

export interface ProxyOptions {
  endpoint: EndpointIdentity & { variantName: string };
  /** The container's published port on 127.0.0.1. */
  upstream: { host: string; port: number };
  /** InvokeEndpoint's deadline (60 s on SageMaker). */
  invocationTimeoutMs: number;
  /** Request and response cap of InvokeEndpoint (6 MiB on SageMaker). */
  maxPayloadBytes?: number;
  /** Body limit of the pass-through routes, which apply no SageMaker limits. */
  passThroughBodyLimit?: number;
  onRequest?: (entry: RequestLogEntry) => void;
}

/** Raised inside the proxy when a container response grows past the cap. */
class ResponseTooLarge extends Error {}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length']);

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

/** Reads a response body, failing as soon as it grows past `cap` (listeners: cheaper than an async iterator). */
function readCapped(body: Dispatcher.ResponseData['body'], cap: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    body.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) {
        body.destroy();
        reject(new ResponseTooLarge());
      } else chunks.push(chunk);
    });
    body.once('end', () => resolve(Buffer.concat(chunks, size)));
    body.once('error', reject);
  });
}

class DeadlinePassed extends Error {}

/** Settles with `work`, or rejects with DeadlinePassed (after calling `onLate`) once `ms` have passed. */
function withDeadline<T>(work: Promise<T>, ms: number, onLate: () => void): Promise<T> {
  // Once late, `work` rejects too (its stream is destroyed); nobody waits for it any more.
  work.catch(() => {});
  if (ms <= 0) {
    onLate();
    return Promise.reject(new DeadlinePassed());
  }
  let timer: NodeJS.Timeout;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onLate();
      reject(new DeadlinePassed());
    }, ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

function isTimeout(err: unknown): boolean {
  const e = err as { name?: string; code?: string };
  return (
    err instanceof DeadlinePassed ||
    e?.name === 'TimeoutError' ||
    e?.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e?.code === 'UND_ERR_BODY_TIMEOUT' ||
    err instanceof undiciErrors.RequestAbortedError
  );
}

/**
 * The HTTP front of a local endpoint (never listens itself; the caller does):
 * - `POST /endpoints/{name}/invocations`: the InvokeEndpoint API of the SageMaker runtime (CONTRACT
 *   §4.4–4.5): forwards the body byte for byte with the documented headers, enforces the 6 MiB caps
 *   and the deadline, and turns container failures into ModelError as the service words it;
 * - `GET /ping`, `POST /invocations`: straight to the container and back, untouched.
 */
export function buildProxyApp(opts: ProxyOptions): FastifyInstance {
  const cap = opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  const passThroughLimit = opts.passThroughBodyLimit ?? 100 * 1024 * 1024;
  const pool = new Pool(`http://${opts.upstream.host}:${opts.upstream.port}`, { connections: 256, keepAliveTimeout: 30_000 });
  const app = Fastify({ logger: false, bodyLimit: passThroughLimit, return503OnClosing: false, forceCloseConnections: true });
  app.addHook('onClose', async () => {
    await pool.destroy();
  });

  // Bodies pass through as bytes, whatever their content type (or none).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  const log = (req: FastifyRequest, started: bigint, status: number, bytesOut: number, extra: Partial<RequestLogEntry> = {}) => {
    opts.onRequest?.({
      method: req.method,
      url: req.url,
      status,
      bytesIn: (req.body as Buffer | undefined)?.length ?? 0,
      bytesOut,
      ms: Number(process.hrtime.bigint() - started) / 1e6,
      ...extra,
    });
  };

  const sendRuntimeError = (req: FastifyRequest, reply: FastifyReply, started: bigint, err: RuntimeError, detail?: string) => {
    // A Buffer keeps Content-Type exactly as set (a string would get "; charset=utf-8" appended).
    const body = Buffer.from(JSON.stringify(err.body));
    reply.code(err.status).header('content-type', 'application/json').header(HEADER.requestId, randomUUID());
    if (err.errorType) reply.header(HEADER.errorType, err.errorType);
    log(req, started, err.status, body.length, { ...(err.errorType ? { errorType: err.errorType } : {}), ...(detail ? { detail } : {}) });
    return reply.send(body);
  };

  const sendProxyError = (req: FastifyRequest, reply: FastifyReply, started: bigint, name: ProxyErrorName, detail?: string) => {
    const body = Buffer.from(JSON.stringify(proxyErrorBody(name, detail)));
    log(req, started, PROXY_ERRORS[name].status, body.length, detail ? { detail } : {});
    return reply.code(PROXY_ERRORS[name].status).header('content-type', 'application/json').send(body);
  };

  app.setErrorHandler((err: { code?: string; statusCode?: number; message: string }, req, reply) => {
    const started = process.hrtime.bigint();
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      if (req.url.startsWith('/endpoints/')) return sendRuntimeError(req, reply, started, payloadTooLarge());
      return sendProxyError(req, reply, started, 'bodyTooLarge', `limit ${passThroughLimit} bytes`);
    }
    log(req, started, err.statusCode ?? 500, 0, { detail: err.message });
    return reply.code(err.statusCode ?? 500).send({ code: err.code ?? 'ERROR', message: err.message });
  });

  app.setNotFoundHandler((req, reply) => sendProxyError(req, reply, process.hrtime.bigint(), 'notFound'));

  app.post<{ Params: { name: string } }>('/endpoints/:name/invocations', { bodyLimit: cap }, async (req, reply) => {
    const started = process.hrtime.bigint();
    const { endpoint } = opts;
    if (req.params.name !== endpoint.endpointName) return sendRuntimeError(req, reply, started, endpointNotFound(req.params.name, endpoint.account));
    const contentType = headerValue(req.headers['content-type']);
    const accept = headerValue(req.headers.accept);
    const customAttributes = headerValue(req.headers[HEADER.customAttributes]);
    const invalid = checkInvokeHeaders({
      ...(customAttributes !== undefined ? { customAttributes } : {}),
      ...(contentType !== undefined ? { contentType } : {}),
      ...(accept !== undefined ? { accept } : {}),
    });
    if (invalid) return sendRuntimeError(req, reply, started, validationError(invalid));

    const headers: Record<string, string> = {};
    for (const name of FORWARDED_REQUEST_HEADERS) {
      const v = headerValue(req.headers[name]);
      if (v !== undefined) headers[name] = v;
    }
    const body = (req.body as Buffer | undefined) ?? Buffer.alloc(0);
    let status: number;
    let resHeaders: Dispatcher.ResponseData['headers'];
    let resBody: Buffer;
    try {
      // undici's own timers (cheaper than an AbortSignal per request) bound the wait for the headers;
      // the body then gets what is left of the deadline.
      const deadline = Date.now() + opts.invocationTimeoutMs;
      const res = await pool.request({ path: '/invocations', method: 'POST', headers, body, headersTimeout: opts.invocationTimeoutMs, bodyTimeout: opts.invocationTimeoutMs });
      status = res.statusCode;
      resHeaders = res.headers;
      resBody = await withDeadline(readCapped(res.body, cap), deadline - Date.now(), () => res.body.destroy());
    } catch (err) {
      if (err instanceof ResponseTooLarge) return sendRuntimeError(req, reply, started, modelErrorUnreadable(endpoint), `response larger than ${cap} bytes`);
      if (isTimeout(err)) return sendRuntimeError(req, reply, started, modelErrorTimeout(endpoint), `no response within ${opts.invocationTimeoutMs} ms`);
      return sendRuntimeError(req, reply, started, modelErrorUnreadable(endpoint), (err as Error).message);
    }
    if (status < 200 || status > 299) return sendRuntimeError(req, reply, started, modelErrorFromStatus(endpoint, status, resBody.toString('utf8')));

    reply.code(200).header(HEADER.invokedVariant, endpoint.variantName).header(HEADER.requestId, randomUUID());
    const resType = headerValue(resHeaders['content-type']);
    if (resType !== undefined) reply.header('content-type', resType);
    const resAttributes = headerValue(resHeaders[HEADER.customAttributes]);
    if (resAttributes !== undefined) reply.header(HEADER.customAttributes, resAttributes);
    log(req, started, 200, resBody.length);
    return reply.send(resBody);
  });

  const passThrough = async (req: FastifyRequest, reply: FastifyReply, timeoutMs: number) => {
    const started = process.hrtime.bigint();
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      const value = headerValue(v);
      if (value !== undefined && !HOP_BY_HOP.has(k)) headers[k] = value;
    }
    try {
      const res = await pool.request({
        path: req.url,
        method: req.method as Dispatcher.HttpMethod,
        headers,
        ...(req.method === 'POST' ? { body: (req.body as Buffer | undefined) ?? Buffer.alloc(0) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = Buffer.from(await res.body.arrayBuffer());
      reply.code(res.statusCode);
      for (const [k, v] of Object.entries(res.headers)) if (!HOP_BY_HOP.has(k) && v !== undefined) reply.header(k, v);
      log(req, started, res.statusCode, body.length);
      return reply.send(body);
    } catch (err) {
      if (isTimeout(err)) return sendProxyError(req, reply, started, 'upstreamTimeout', `${timeoutMs} ms`);
      return sendProxyError(req, reply, started, 'upstreamUnreachable', (err as Error).message);
    }
  };
  app.get('/ping', (req, reply) => passThrough(req, reply, opts.invocationTimeoutMs));
  app.post('/invocations', (req, reply) => passThrough(req, reply, opts.invocationTimeoutMs));
  return app;
}
