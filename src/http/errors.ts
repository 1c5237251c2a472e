/**
 * Failures of the proxy itself on the pass-through routes (`GET /ping`, `POST /invocations`), where
 * container responses otherwise pass through untouched. Each is a JSON `{ code, message }` body.
 * The InvokeEndpoint route answers with the SageMaker runtime's own errors instead (contract/serving.ts).
 */
export const PROXY_ERRORS = {
  upstreamUnreachable: { status: 502, code: 'UPSTREAM_UNREACHABLE', message: 'The container did not accept the connection; is it still running?' },
  upstreamTimeout: { status: 504, code: 'UPSTREAM_TIMEOUT', message: 'The container did not answer in time.' },
  bodyTooLarge: { status: 413, code: 'BODY_TOO_LARGE', message: 'The request body is larger than the proxy accepts.' },
  notFound: {
    status: 404,
    code: 'NOT_FOUND',
    message: 'sm-local serves POST /endpoints/{name}/invocations (the InvokeEndpoint API), and GET /ping and POST /invocations straight from the container.',
  },
} as const;

export type ProxyErrorName = keyof typeof PROXY_ERRORS;

export function proxyErrorBody(name: ProxyErrorName, detail?: string): { code: string; message: string } {
  const e = PROXY_ERRORS[name];
  return { code: e.code, message: detail ? `${e.message} (${detail})` : e.message };
}
