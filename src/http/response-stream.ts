/**
 * InvokeEndpointWithResponseStream (`POST /endpoints/{name}/invocations-response-stream`, CONTRACT
 * §4, §9.6): the request goes to the container's `POST /invocations` as InvokeEndpoint's does (Accept
 * arrives as `X-Amzn-SageMaker-Accept`), and the container's answer is relayed as it arrives, each
 * chunk one AWS event-stream `PayloadPart` event (framed by @smithy/eventstream-codec, the SDKs' own
 * codec). A container that fails before its first byte gets the runtime's ModelError, as
 * InvokeEndpoint; one that fails mid-stream ends the stream with a `ModelStreamError` event.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import type { Dispatcher } from 'undici';
import { checkInvokeHeaders, endpointNotFound, HEADER, modelErrorFromStatus, modelErrorTimeout, modelErrorUnreadable, payloadTooLarge, validationError, type RuntimeError } from '../contract/serving.js';
import type { InvocationRoutes, RequestLogEntry } from './forward.js';
import { errorEntry, pickRoute, sendRuntimeError } from './forward.js';
import { throughStages } from './pipeline.js';
import { discard, headerValue, isTimeout, readCapped, TooLarge } from './invocation.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const STREAM_ACCEPT = 'x-amzn-sagemaker-accept';
const STREAM_CONTENT_TYPE = 'x-amzn-sagemaker-content-type';

const str = (value: string) => ({ type: 'string' as const, value });

/** One `PayloadPart` event: the bytes as the event's payload. */
export function payloadPart(bytes: Uint8Array): Uint8Array {
  const message: Message = { headers: { ':event-type': str('PayloadPart'), ':content-type': str('application/octet-stream'), ':message-type': str('event') }, body: bytes };
  return codec.encode(message);
}

/** A modeled stream exception (`ModelStreamError`, `InternalStreamFailure`): its JSON members as the payload. */
export function streamException(type: 'ModelStreamError' | 'InternalStreamFailure', members: { Message: string; ErrorCode?: string }): Uint8Array {
  const message: Message = { headers: { ':exception-type': str(type), ':content-type': str('application/json'), ':message-type': str('exception') }, body: fromUtf8(JSON.stringify(members)) };
  return codec.encode(message);
}

/** Decodes the whole messages at the front of `buffer`; returns them and what is left of a message still arriving. */
export function decodeMessages(buffer: Buffer): { messages: Message[]; rest: Buffer } {
  const messages: Message[] = [];
  let at = 0;
  while (buffer.length - at >= 4) {
    const total = buffer.readUInt32BE(at);
    if (buffer.length - at < total) break;
    messages.push(codec.decode(buffer.subarray(at, at + total)));
    at += total;
  }
  return { messages, rest: buffer.subarray(at) };
}


export async function forwardResponseStream(req: IncomingMessage, res: ServerResponse, routes: InvocationRoutes, endpointName: string): Promise<void> {
  const started = process.hrtime.bigint();
  const ctx = routes.lookup(endpointName);
  let bytesIn = 0;
  const log = (status: number, bytesOut: number, extra: Partial<RequestLogEntry> = {}) =>
    (ctx?.onRequest ?? routes.onRequest)?.({ method: req.method ?? 'POST', url: req.url ?? '', status, bytesIn, bytesOut, ms: Number(process.hrtime.bigint() - started) / 1e6, ...extra });
  const fail = (err: RuntimeError, detail?: string) => {
    req.resume();
    log(err.status, sendRuntimeError(res, err), errorEntry(err, detail));
  };
  if (!ctx) return fail(endpointNotFound(endpointName, routes.account));
  const contentType = headerValue(req.headers['content-type']);
  const accept = headerValue(req.headers[STREAM_ACCEPT]);
  const customAttributes = headerValue(req.headers[HEADER.customAttributes]);
  const invalid = checkInvokeHeaders({ ...(contentType !== undefined ? { contentType } : {}), ...(accept !== undefined ? { accept } : {}), ...(customAttributes !== undefined ? { customAttributes } : {}) });
  if (invalid) return fail(validationError(invalid));
  const route = pickRoute(ctx, req);
  if ('error' in route) return fail(route.error);
  // InvokeEndpointWithResponseStream has no TargetModel (botocore's model): a multi-model endpoint cannot stream.
  if (route.instance.models) return fail(validationError('InvokeEndpointWithResponseStream does not support multi-model endpoints (it has no TargetModel); use InvokeEndpoint.'));
  const variantName = route.variant.variantName;
  let body: Buffer;
  try {
    body = await readCapped(req, ctx.cap, true);
    bytesIn = body.length;
  } catch (err) {
    if (err instanceof TooLarge) return fail(payloadTooLarge(), 'body larger than the cap');
    return log(0, 0, { detail: `the client went away: ${(err as Error).message}` });
  }

  const headers: Record<string, string> = {
    ...(contentType !== undefined ? { 'content-type': contentType } : {}),
    ...(accept !== undefined ? { accept } : {}),
    ...(customAttributes !== undefined ? { [HEADER.customAttributes]: customAttributes } : {}),
  };
  // A serial pipeline's containers before the last answer whole; the last one's answer is streamed.
  const staged = await throughStages(ctx, route.chain, { headers, body });
  if (!staged.ok) return fail(staged.error, staged.detail);
  const { target, request } = staged;
  let upstream: Dispatcher.ResponseData;
  try {
    // The first byte within the invocation deadline; after it, each part within the same idle time
    // (the service's limits for streams are UNCONFIRMED, CONTRACT §4.4).
    upstream = await target.pool.request({ path: '/invocations', method: 'POST', headers: request.headers, body: request.body, headersTimeout: ctx.timeoutMs, bodyTimeout: ctx.timeoutMs });
  } catch (err) {
    return fail(isTimeout(err) ? modelErrorTimeout(ctx.endpoint, target.container) : modelErrorUnreadable(ctx.endpoint, target.container), (err as Error).message);
  }
  const { statusCode, headers: upHeaders, body: upBody } = upstream;
  if (statusCode < 200 || statusCode > 299) {
    const text = await readCapped(upBody, ctx.cap).then((b) => b.toString('utf8'), () => '');
    return fail(modelErrorFromStatus(ctx.endpoint, statusCode, text, target.container));
  }
  const upType = headerValue(upHeaders['content-type']);
  const upAttributes = headerValue(upHeaders[HEADER.customAttributes]);
  res.writeHead(200, {
    'content-type': 'application/vnd.amazon.eventstream',
    [HEADER.requestId]: randomUUID(),
    [HEADER.invokedVariant]: variantName,
    ...(upType !== undefined ? { [STREAM_CONTENT_TYPE]: upType } : {}),
    ...(upAttributes !== undefined ? { [HEADER.customAttributes]: upAttributes } : {}),
  });
  let bytesOut = 0;
  let parts = 0;
  res.once('close', () => {
    // The client went away: stop reading the container's answer.
    if (!res.writableFinished) discard(upBody);
  });
  try {
    for await (const chunk of upBody) {
      const frame = payloadPart(chunk as Buffer);
      bytesOut += frame.length;
      parts += 1;
      if (!res.write(frame)) await new Promise<void>((resolve) => res.once('drain', resolve));
    }
  } catch (err) {
    if (res.destroyed) return log(200, bytesOut, { variant: variantName, detail: 'the client went away mid-stream' });
    const frame = streamException('ModelStreamError', {
      Message: isTimeout(err) ? `The container sent no part of its answer within ${ctx.timeoutMs / 1000} s.` : `The container's answer broke off mid-stream: ${(err as Error).message}`,
      ErrorCode: 'ModelStreamError',
    });
    res.end(frame);
    return log(200, bytesOut + frame.length, { variant: variantName, errorType: 'ModelStreamError', detail: `after ${parts} parts` });
  }
  res.end();
  log(200, bytesOut, { variant: variantName, detail: `${parts} parts` });
}
