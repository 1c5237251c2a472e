import { request } from 'undici';
import { HEADER } from '../contract/serving.js';
import { InvokeError } from '../errors.js';

export interface InvokeOptions {
  contentType?: string;
  accept?: string;
  customAttributes?: string;
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

/**
 * `POST <proxy>/endpoints/<name>/invocations` as the AWS SDKs send it. A non-2xx answer throws
 * InvokeError with the status, `X-Amzn-ErrorType` and body the client saw.
 */
export async function invokeEndpoint(proxyBase: string, endpointName: string, body: Uint8Array | string, opts: InvokeOptions = {}): Promise<InvokeResult> {
  const headers: Record<string, string> = {};
  if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
  if (opts.accept !== undefined) headers.accept = opts.accept;
  if (opts.customAttributes !== undefined) headers[HEADER.customAttributes] = opts.customAttributes;
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

