/**
 * `serve --trace`: what went over the wire of each request the runtime app answered, as a client
 * and the container would see it: the request line, headers and the first bytes of the body in, the
 * status, headers and first bytes out. The tap watches the raw request's `data` events and the raw
 * response's writes, so it sees every answer (the container's, and the runtime's own errors) without
 * changing how a body flows; secrets in headers are masked whole, secret values in bodies by the
 * masker.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { MASK, SECRET_KEY_PATTERN } from '../log.js';

/** How many bytes of each body a trace keeps. */
export const TRACE_BODY_BYTES = 512;

/** Headers whose values are credentials whatever their name says. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-amz-security-token']);

export interface TracedBody {
  /** Bytes seen in all. */
  bytes: number;
  /** The first of them (at most TRACE_BODY_BYTES). */
  head: Buffer;
}

/** One exchange, once its response has ended (or the connection went away). */
export interface TraceRecord {
  /** 1, 2, … per app. */
  id: number;
  method: string;
  url: string;
  requestHeaders: Record<string, string | string[]>;
  requestBody: TracedBody;
  /** 0 when no response was sent. */
  status: number;
  responseHeaders: Record<string, string | string[]>;
  responseBody: TracedBody;
  ms: number;
  /** The response did not end normally (the client went away, or it was cut). */
  cut: boolean;
}

class BodyTap {
  bytes = 0;
  private readonly parts: Buffer[] = [];
  private kept = 0;

  add(chunk: unknown, encoding?: unknown): void {
    if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
    const buf = Buffer.isBuffer(chunk) ? chunk : chunk instanceof Uint8Array ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.from(String(chunk), typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8');
    this.bytes += buf.length;
    if (this.kept < TRACE_BODY_BYTES) {
      const part = buf.subarray(0, TRACE_BODY_BYTES - this.kept);
      this.parts.push(Buffer.from(part));
      this.kept += part.length;
    }
  }

  result(): TracedBody {
    return { bytes: this.bytes, head: Buffer.concat(this.parts) };
  }
}

function plainHeaders(h: OutgoingHttpHeaders | IncomingMessage['headers']): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.map(String) : String(v);
  return out;
}

/** The headers `writeHead(status, [reason], headers)` was given, in either of its forms. */
function writeHeadHeaders(args: unknown[]): OutgoingHttpHeaders {
  const h = typeof args[1] === 'string' ? args[2] : args[1];
  if (!h || typeof h !== 'object') return {};
  if (Array.isArray(h)) {
    const out: OutgoingHttpHeaders = {};
    for (let i = 0; i + 1 < h.length; i += 2) out[String(h[i])] = String(h[i + 1]);
    return out;
  }
  return h as OutgoingHttpHeaders;
}

/**
 * Watches one exchange; `onDone` gets its record once the response has ended or been closed. Call it
 * before anything reads the request or writes the response.
 */
export function tapExchange(req: IncomingMessage, res: ServerResponse, id: number, onDone: (record: TraceRecord) => void): void {
  const started = process.hrtime.bigint();
  const reqBody = new BodyTap();
  const resBody = new BodyTap();
  // `data` events are watched through emit, so the body's flow (paused, piped or read) is left as it was.
  const emit = req.emit;
  req.emit = function (this: IncomingMessage, event: string | symbol, ...args: unknown[]) {
    if (event === 'data') reqBody.add(args[0]);
    return emit.call(this, event, ...args);
  } as typeof req.emit;
  let headHeaders: OutgoingHttpHeaders = {};
  const writeHead = res.writeHead;
  res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
    headHeaders = { ...headHeaders, ...writeHeadHeaders(args) };
    return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args);
  } as typeof res.writeHead;
  const write = res.write;
  res.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
    resBody.add(chunk, rest[0]);
    return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof res.write;
  const end = res.end;
  res.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
    resBody.add(chunk, rest[0]);
    return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
  } as typeof res.end;
  res.once('close', () => {
    onDone({
      id,
      method: req.method ?? '',
      url: req.url ?? '',
      requestHeaders: plainHeaders(req.headers),
      requestBody: reqBody.result(),
      status: res.headersSent ? res.statusCode : 0,
      responseHeaders: plainHeaders({ ...res.getHeaders(), ...headHeaders }),
      responseBody: resBody.result(),
      ms: Number(process.hrtime.bigint() - started) / 1e6,
      cut: !res.writableFinished,
    });
  });
}

/** A header's value as a trace shows it: credentials masked whole. */
export function traceHeaderValue(name: string, value: string): string {
  return SECRET_HEADERS.has(name) || SECRET_KEY_PATTERN.test(name) ? MASK : value;
}

/** The first bytes of a body as one line: text as it is (control bytes escaped), else hex. */
export function traceBodyText(body: TracedBody): string {
  if (!body.bytes) return '(empty)';
  const more = body.bytes > body.head.length ? ` … (${body.bytes - body.head.length} B more)` : '';
  const text = body.head.toString('utf8');
  // Mostly text: show it, escaping what would break the line. Else: the bytes in hex.
  const printable = [...text].filter((c) => c >= ' ' || c === '\n' || c === '\r' || c === '\t').length;
  if (!text.includes('\uFFFD') && printable >= text.length * 0.9) {
    const escaped = text.replace(/[\u0000-\u001f\u007f\\]/g, (c) => (c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
    return `${escaped}${more}`;
  }
  return `hex ${body.head.subarray(0, 64).toString('hex')}${body.head.length > 64 ? '…' : ''}${more}`;
}

/** The lines of one exchange, secrets masked (`mask` hides the values of secret environment variables). */
export function formatTrace(t: TraceRecord, mask: (text: string) => string = (s) => s): string[] {
  const headers = (h: Record<string, string | string[]>) =>
    Object.entries(h).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => `  ${k}: ${mask(traceHeaderValue(k, one))}`));
  const tag = `[trace #${t.id}]`;
  return [
    `${tag} > ${t.method} ${mask(t.url)}`,
    ...headers(t.requestHeaders).map((l) => `${tag} >${l}`),
    `${tag} > body ${t.requestBody.bytes} B: ${mask(traceBodyText(t.requestBody))}`,
    t.status ? `${tag} < ${t.status} (${t.ms.toFixed(1)} ms${t.cut ? ', cut off' : ''})` : `${tag} < no response (${t.ms.toFixed(1)} ms: the connection closed first)`,
    ...headers(t.responseHeaders).map((l) => `${tag} <${l}`),
    ...(t.status ? [`${tag} < body ${t.responseBody.bytes} B: ${mask(traceBodyText(t.responseBody))}`] : []),
  ];
}
