import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { internalFailure, malformedRequest, MAX_PAYLOAD_BYTES, unknownOperation, type EndpointIdentity, type RuntimeError } from '../contract/serving.js';
import type { Dispatcher } from 'undici';
import { signedService } from './control-plane.js';
import { tapExchange, type TraceRecord } from './trace.js';
import { EndpointRegistry, type RuntimeVariant } from './endpoint-registry.js';
import { forwardAsyncInvocation } from './async-invocation.js';
import { forwardResponseStream } from './response-stream.js';
import { forwardInvocation, passThrough, rawRuntimeError, runtimeErrorWire, sendRuntimeError, type ModelRouter, type RequestLogEntry } from './forward.js';

export type { RequestLogEntry } from './forward.js';

export interface ProxyOptions {
  endpoint: EndpointIdentity & { variantName: string };
  /** A single-container endpoint: where its container's server is reached. */
  upstream?: { host: string; port: number };
  /** An endpoint of production variants (multi-container models, several instances): replaces `upstream`. */
  variants?: RuntimeVariant[];
  /** InvokeEndpoint's deadline (60 s on SageMaker). */
  invocationTimeoutMs: number;
  /** Request and response cap of InvokeEndpoint (6 MiB on SageMaker). */
  maxPayloadBytes?: number;
  /** Bytes of bodies that may be held in memory at once (default: four capped bodies). */
  bufferBudgetBytes?: number;
  onRequest?: (entry: RequestLogEntry) => void;
  /** A multi-model endpoint's models (TargetModel routing). */
  models?: ModelRouter;
  /** `--trace`: every exchange, headers and first bytes of the bodies both ways. */
  trace?: (record: TraceRecord) => void;
}

/** How long an S3 call through the port may take (large objects). */
const S3_TIMEOUT_MS = 15 * 60_000;

/** A request line with no HTTP version (HTTP/0.9): the parser would wait for headers that never come. */
const HTTP09_LINE = /^[A-Z]+ [^ \r\n]+\r?\n/;

const REASONS: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error' };

/** Writes a runtime error on a socket that never became a request, and closes it. */
function refuseOnSocket(socket: Socket, err: RuntimeError): void {
  if (socket.destroyed) return;
  if (socket.writable) socket.end(rawRuntimeError(err, REASONS[err.status] ?? 'Error'));
  else socket.destroy();
}

/**
 * The HTTP front of a local endpoint (never listens itself; the caller does):
 * - `POST /endpoints/{name}/invocations`: the InvokeEndpoint API of the SageMaker runtime (CONTRACT
 *   §4.4–4.5), streamed to the container (forward.ts);
 * - `POST /endpoints/{name}/invocations-response-stream`: InvokeEndpointWithResponseStream, the
 *   container's answer relayed as event-stream PayloadPart events (response-stream.ts);
 * - `GET /ping`, `POST /invocations`: straight to the container and back, untouched.
 * fastify only routes: each route takes over the raw request and response (hijack) before fastify
 * would parse a body, so no content type is refused and no fastify error shape ever reaches a client.
 * Requests that never become one (CONNECT, a bare HTTP/0.9 line, a malformed head) are answered too.
 */
export function buildProxyApp(opts: ProxyOptions): FastifyInstance {
  const cap = opts.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  const registry = new EndpointRegistry({ cap, ...(opts.bufferBudgetBytes !== undefined ? { budgetBytes: opts.bufferBudgetBytes } : {}), account: opts.endpoint.account, ...(opts.onRequest ? { onRequest: opts.onRequest } : {}) });
  registry.add({
    endpoint: opts.endpoint,
    invocationTimeoutMs: opts.invocationTimeoutMs,
    ...(opts.upstream ? { upstream: opts.upstream } : {}),
    ...(opts.variants ? { variants: opts.variants } : {}),
    ...(opts.models ? { models: opts.models } : {}),
  });
  return buildRuntimeApp(registry, opts.trace ? { trace: opts.trace } : {});
}

/**
 * The runtime app over a registry: InvokeEndpoint for every endpoint registered, by name; `GET /ping`
 * and `POST /invocations` straight to the container when exactly one is. Closing the app closes the registry.
 */
export function buildRuntimeApp(
  registry: EndpointRegistry,
  opts: {
    controlPlane?: (req: FastifyRequest['raw'], res: FastifyReply['raw']) => Promise<void>;
    /** Requests signed for S3 go here untouched (a local SageMaker's S3 endpoint), so one endpoint URL serves every client. */
    s3?: Dispatcher;
    /** Sees every exchange once it ended (trace.ts). */
    trace?: (record: TraceRecord) => void;
    /** More routes on the same port (a local SageMaker's console). */
    routes?: (app: FastifyInstance) => void;
  } = {},
): FastifyInstance {
  const app = Fastify({
    logger: false,
    return503OnClosing: false,
    forceCloseConnections: true,
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => {
      if (err.code === 'ECONNRESET') return;
      const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
      refuseOnSocket(socket, { ...malformedRequest(err.code ?? err.message), status });
    },
    frameworkErrors: (err, _req, reply) => void sendError(reply, malformedRequest(err.message)),
  });
  app.addHook('onClose', async () => {
    await registry.close();
  });
  app.server.on('connect', (req, socket: Socket) => refuseOnSocket(socket, unknownOperation(req.method ?? 'CONNECT', req.url ?? '', 405)));
  app.server.on('connection', (socket: Socket) => {
    socket.once('data', (chunk: Buffer) => {
      if (HTTP09_LINE.test(chunk.subarray(0, 8192).toString('latin1'))) refuseOnSocket(socket, malformedRequest('a request line without an HTTP version (HTTP/0.9)'));
    });
  });

  const sendError = (reply: FastifyReply, err: RuntimeError) => {
    const { headers, body } = runtimeErrorWire(err);
    return reply.code(err.status).headers(headers).send(body);
  };
  const { s3, trace } = opts;
  if (trace) {
    let count = 0;
    app.addHook('onRequest', (req, reply, done) => {
      tapExchange(req.raw, reply.raw, ++count, trace);
      done();
    });
  }
  if (s3) {
    // Told apart by the service in the signature's credential scope (header, or a presigned URL's query).
    app.addHook('onRequest', (req, reply, done) => {
      const scope = signedService(req.headers.authorization) ?? (/X-Amz-Credential=[^&]*%2Fs3%2Faws4_request/i.test(req.url) ? 's3' : undefined);
      if (scope !== 's3') return done();
      reply.hijack();
      passThrough(req.raw, reply.raw, { pool: s3, timeoutMs: S3_TIMEOUT_MS }).catch(() => reply.raw.destroy());
    });
  }
  app.setErrorHandler((err: { message: string }, _req, reply) => sendError(reply, internalFailure(`sm-local's proxy failed: ${err.message}`)));
  app.setNotFoundHandler((req, reply) => sendError(reply, unknownOperation(req.method, req.url)));

  /** Hands the raw request and response to `handler`; fastify goes no further with them. */
  const takeOver = (handler: (req: FastifyRequest, reply: FastifyReply) => Promise<void>) => ({
    onRequest: (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
      reply.hijack();
      handler(req, reply).catch((err: unknown) => {
        if (!reply.raw.headersSent) sendRuntimeError(reply.raw, internalFailure(`sm-local's proxy failed: ${(err as Error).message}`));
        else reply.raw.destroy();
      });
      done();
    },
    handler: () => {},
  });

  app.post<{ Params: { name: string } }>(
    '/endpoints/:name/invocations',
    takeOver((req, reply) => forwardInvocation(req.raw, reply.raw, registry, (req.params as { name: string }).name)),
  );
  app.post<{ Params: { name: string } }>(
    '/endpoints/:name/invocations-response-stream',
    takeOver((req, reply) => forwardResponseStream(req.raw, reply.raw, registry, (req.params as { name: string }).name)),
  );
  app.post<{ Params: { name: string } }>(
    '/endpoints/:name/async-invocations',
    takeOver((req, reply) => forwardAsyncInvocation(req.raw, reply.raw, registry, (req.params as { name: string }).name)),
  );
  /** The container's own routes make sense only where there is one container to send them to. */
  const direct = (req: FastifyRequest, reply: FastifyReply) => {
    const only = registry.sole();
    if (only) return passThrough(req.raw, reply.raw, only);
    sendRuntimeError(reply.raw, unknownOperation(req.method, req.url));
    return Promise.resolve();
  };
  app.get('/ping', takeOver(direct));
  app.post('/invocations', takeOver(direct));
  // A local SageMaker's control plane: `POST /` with X-Amz-Target (CONTRACT §9.6: one port for both).
  const { controlPlane } = opts;
  if (controlPlane) app.post('/', takeOver((req, reply) => controlPlane(req.raw, reply.raw)));
  opts.routes?.(app);
  return app;
}
