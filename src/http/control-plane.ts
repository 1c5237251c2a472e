/**
 * The control plane's HTTP side (CONTRACT §9.1–9.2): `POST /` with `X-Amz-Target: SageMaker.<Op>`
 * and an AWS JSON 1.1 body, answered with the operation's output or its error in the shape every
 * SDK decodes. The operations themselves are given (a local SageMaker's); this module only speaks
 * the protocol.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { apiErrorBody, apiErrors, type ApiError } from '../contract/api-wire.js';
import { readCapped, TooLarge } from './invocation.js';

export type Operation = (body: Record<string, unknown>) => Promise<ControlAnswer> | ControlAnswer;
export type ControlAnswer = { ok: true; body: Record<string, unknown> } | { ok: false; error: ApiError };

/** Control-plane request bodies: far below this (a CreateTrainingJob is a few KB). */
const MAX_REQUEST_BYTES = 16 * 1024 * 1024;
const TARGET_PREFIX = 'SageMaker.';

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'x-amzn-requestid': randomUUID(), 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function sendError(res: ServerResponse, e: ApiError): void {
  const { headers, body } = apiErrorBody(e);
  send(res, e.status, headers, body);
}

/** One control-plane call; `onCall` sees each, for the server's log. */
export async function handleControlPlane(req: IncomingMessage, res: ServerResponse, operations: Readonly<Record<string, Operation>>, onCall?: (op: string, status: number, ms: number) => void): Promise<void> {
  const started = performance.now();
  const target = String(req.headers['x-amz-target'] ?? '');
  const op = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : target || '(no X-Amz-Target)';
  const done = (status: number) => onCall?.(op, status, performance.now() - started);
  let raw: Buffer;
  try {
    raw = await readCapped(req, MAX_REQUEST_BYTES, true);
  } catch (err) {
    const e = err instanceof TooLarge ? apiErrors.validation(`The request body is larger than ${MAX_REQUEST_BYTES} bytes.`) : apiErrors.serialization((err as Error).message);
    sendError(res, e);
    req.resume();
    return done(e.status);
  }
  const operation = target.startsWith(TARGET_PREFIX) ? operations[op] : undefined;
  if (!operation || !Object.hasOwn(operations, op)) {
    const e = apiErrors.unknownOperation(target || 'POST / without X-Amz-Target');
    sendError(res, e);
    return done(e.status);
  }
  let body: unknown = {};
  if (raw.length) {
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      const e = apiErrors.serialization((err as Error).message);
      sendError(res, e);
      return done(e.status);
    }
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    const e = apiErrors.serialization('the body must be a JSON object (the operation\'s input shape).');
    sendError(res, e);
    return done(e.status);
  }
  let answer: ControlAnswer;
  try {
    answer = await operation(body as Record<string, unknown>);
  } catch (err) {
    answer = { ok: false, error: apiErrors.internal(`sm-local failed on ${op}: ${(err as Error).message}`) };
  }
  if (!answer.ok) {
    sendError(res, answer.error);
    return done(answer.error.status);
  }
  send(res, 200, { 'content-type': 'application/x-amz-json-1.1' }, JSON.stringify(answer.body));
  done(200);
}
