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

/**
 * The AWS JSON 1.1 services on the port, by their X-Amz-Target prefix (`SageMaker.`,
 * `Logs_20140328.`), and STS's `GetCallerIdentity` (query protocol), which the SDKs ask for the
 * account: the services a client with one endpoint URL sends to it (CONTRACT §9.6).
 */
export interface ControlServices {
  json: Readonly<Record<string, Readonly<Record<string, Operation>>>>;
  /** The caller STS names. */
  identity?: { account: string; arn: string; userId: string };
}

/** The service a request is signed for (`sagemaker`, `logs`, `sts`, `s3`), from its SigV4 credential scope. */
export function signedService(authorization: string | undefined): string | undefined {
  return /Credential=[^/]+\/\d{8}\/[^/]+\/([^/]+)\/aws4_request/.exec(authorization ?? '')?.[1];
}

function xml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** STS GetCallerIdentity's answer (query protocol, XML). */
function callerIdentity(identity: NonNullable<ControlServices['identity']>, requestId: string): string {
  return `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${xml(identity.arn)}</Arn><UserId>${xml(identity.userId)}</UserId><Account>${xml(identity.account)}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`;
}

function send(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'x-amzn-requestid': randomUUID(), 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

function sendError(res: ServerResponse, e: ApiError): void {
  const { headers, body } = apiErrorBody(e);
  send(res, e.status, headers, body);
}

/** One control-plane call; `onCall` sees each, for the server's log. */
export async function handleControlPlane(req: IncomingMessage, res: ServerResponse, services: ControlServices, onCall?: (op: string, status: number, ms: number) => void): Promise<void> {
  const started = performance.now();
  const target = String(req.headers['x-amz-target'] ?? '');
  const dot = target.indexOf('.');
  const prefix = dot > 0 ? target.slice(0, dot) : '';
  const op = dot > 0 ? target.slice(dot + 1) : target || '(no X-Amz-Target)';
  const operations = services.json[prefix];
  const done = (status: number) => onCall?.(prefix === 'SageMaker' || !prefix ? op : `${prefix}.${op}`, status, performance.now() - started);
  let raw: Buffer;
  try {
    raw = await readCapped(req, MAX_REQUEST_BYTES, true);
  } catch (err) {
    const e = err instanceof TooLarge ? apiErrors.validation(`The request body is larger than ${MAX_REQUEST_BYTES} bytes.`) : apiErrors.serialization((err as Error).message);
    sendError(res, e);
    req.resume();
    return done(e.status);
  }
  // STS (query protocol): the one call the SDKs make on the way, for the account.
  if (!target && services.identity && (signedService(req.headers.authorization) === 'sts' || /(^|&)Action=GetCallerIdentity(&|$)/.test(raw.toString('latin1')))) {
    const requestId = randomUUID();
    if (!/(^|&)Action=GetCallerIdentity(&|$)/.test(raw.toString('latin1'))) {
      const body = `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>sm-local's STS answers GetCallerIdentity only.</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
      send(res, 400, { 'content-type': 'text/xml' }, body);
      return done(400);
    }
    send(res, 200, { 'content-type': 'text/xml' }, callerIdentity(services.identity, requestId));
    return done(200);
  }
  const operation = operations && Object.hasOwn(operations, op) ? operations[op] : undefined;
  if (!operation) {
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
