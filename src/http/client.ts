import { request } from 'undici';
import { HEADER } from '../contract/serving.js';
import { InvokeError } from '../errors.js';

export interface InvokeOptions {
  contentType?: string;
  accept?: string;
  customAttributes?: string;
  /** A multi-model endpoint's TargetModel. */
  targetModel?: string;
  /** TargetVariant: the production variant to invoke. */
  targetVariant?: string;
  /** TargetContainerHostname of a direct-invocation endpoint. */
  targetContainerHostname?: string;
  timeoutMs?: number;
}

/** What an InvokeEndpoint caller gets back on success. */
export interface InvokeResult {
  body: Buffer;
  contentType?: string;
  customAttributes?: string;
  invokedProductionVariant?: string;
}

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(', ') : v);

/** The request headers both InvokeEndpoint operations send; `acceptHeader` is where Accept goes (the stream has its own). */
function invokeHeaders(opts: InvokeOptions, acceptHeader: string): Record<string, string> {
  const headers: Record<string, string> = {};
  if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
  if (opts.accept !== undefined) headers[acceptHeader] = opts.accept;
  if (opts.customAttributes !== undefined) headers[HEADER.customAttributes] = opts.customAttributes;
  if (opts.targetModel !== undefined) headers[HEADER.targetModel] = opts.targetModel;
  if (opts.targetVariant !== undefined) headers[HEADER.targetVariant] = opts.targetVariant;
  if (opts.targetContainerHostname !== undefined) headers[HEADER.targetContainer] = opts.targetContainerHostname;
  return headers;
}

/**
 * `POST <proxy>/endpoints/<name>/invocations` as the AWS SDKs send it. A non-2xx answer throws
 * InvokeError with the status, `X-Amzn-ErrorType` and body the client saw.
 */
export async function invokeEndpoint(proxyBase: string, endpointName: string, body: Uint8Array | string, opts: InvokeOptions = {}): Promise<InvokeResult> {
  const headers = invokeHeaders(opts, 'accept');
  const res = await request(`${proxyBase}/endpoints/${encodeURIComponent(endpointName)}/invocations`, {
    method: 'POST',
    headers,
    body,
    ...(opts.timeoutMs ? { signal: AbortSignal.timeout(opts.timeoutMs) } : {}),
  });
  const data = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode < 200 || res.statusCode > 299) throw new InvokeError(res.statusCode, one(res.headers[HEADER.errorType])?.split(':')[0], data);
  const contentType = one(res.headers['content-type']);
  const customAttributes = one(res.headers[HEADER.customAttributes]);
  const variant = one(res.headers[HEADER.invokedVariant]);
  return {
    body: data,
    ...(contentType !== undefined ? { contentType } : {}),
    ...(customAttributes !== undefined ? { customAttributes } : {}),
    ...(variant !== undefined ? { invokedProductionVariant: variant } : {}),
  };
}


/**
 * `POST <proxy>/endpoints/<name>/invocations-response-stream` (InvokeEndpointWithResponseStream):
 * `onPart` gets each PayloadPart's bytes as it arrives. A ModelStreamError or InternalStreamFailure
 * event throws InvokeError with that type; a non-2xx answer throws as for `invokeEndpoint`.
 */
export async function invokeEndpointStream(
  proxyBase: string,
  endpointName: string,
  body: Uint8Array | string,
  onPart: (bytes: Uint8Array) => void,
  opts: InvokeOptions = {},
): Promise<Omit<InvokeResult, 'body'> & { parts: number }> {
  const { decodeMessages } = await import('./response-stream.js');
  const headers = invokeHeaders(opts, 'x-amzn-sagemaker-accept');
  const res = await request(`${proxyBase}/endpoints/${encodeURIComponent(endpointName)}/invocations-response-stream`, {
    method: 'POST',
    headers,
    body,
    ...(opts.timeoutMs ? { signal: AbortSignal.timeout(opts.timeoutMs) } : {}),
  });
  if (res.statusCode < 200 || res.statusCode > 299) {
    const data = Buffer.from(await res.body.arrayBuffer());
    throw new InvokeError(res.statusCode, one(res.headers[HEADER.errorType])?.split(':')[0], data);
  }
  let pending: Buffer = Buffer.alloc(0);
  let parts = 0;
  for await (const chunk of res.body) {
    const { messages, rest } = decodeMessages(Buffer.concat([pending, chunk as Buffer]));
    pending = rest;
    for (const m of messages) {
      const type = m.headers[':message-type']?.value;
      if (type === 'exception' || type === 'error') {
        const errorType = String(m.headers[':exception-type']?.value ?? m.headers[':error-code']?.value ?? 'InternalStreamFailure');
        throw new InvokeError(200, errorType, Buffer.from(m.body));
      }
      parts += 1;
      onPart(m.body);
    }
  }
  const contentType = one(res.headers['x-amzn-sagemaker-content-type']);
  const customAttributes = one(res.headers[HEADER.customAttributes]);
  const variant = one(res.headers[HEADER.invokedVariant]);
  return {
    parts,
    ...(contentType !== undefined ? { contentType } : {}),
    ...(customAttributes !== undefined ? { customAttributes } : {}),
    ...(variant !== undefined ? { invokedProductionVariant: variant } : {}),
  };
}
