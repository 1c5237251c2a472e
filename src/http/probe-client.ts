import { request } from 'node:http';

export interface ProbeResponse {
  status?: number;
  /** Why there was no complete answer (refused, reset, timed out). */
  error?: string;
  contentType?: string;
  /** Bytes of the body (counted to the end, even past what is kept). */
  bytes: number;
  /** The first bytes of the body, for messages. */
  head: string;
  ms: number;
}

/**
 * One request straight to a container, as a checker sees it: status, Content-Type as sent (no
 * client or proxy adds one), the body's full size, and the time to the end of the body. Never throws.
 */
export function probeRequest(
  url: string,
  opts: { method: 'GET' | 'POST' | 'DELETE'; body?: Buffer; headers?: Record<string, string>; timeoutMs: number; keepBytes?: number; signal?: AbortSignal },
): Promise<ProbeResponse> {
  const started = process.hrtime.bigint();
  const ms = () => Number(process.hrtime.bigint() - started) / 1e6;
  const keep = opts.keepBytes ?? 512;
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Omit<ProbeResponse, 'ms'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ ...r, ms: ms() });
    };
    const req = request(url, { method: opts.method, headers: { ...(opts.body ? { 'content-length': String(opts.body.length) } : {}), ...opts.headers }, agent: false }, (res) => {
      let bytes = 0;
      const chunks: Buffer[] = [];
      let kept = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (kept < keep) {
          chunks.push(c.subarray(0, keep - kept));
          kept += Math.min(c.length, keep - kept);
        }
      });
      const contentType = res.headers['content-type'];
      res.once('end', () => done({ status: res.statusCode ?? 0, ...(contentType ? { contentType } : {}), bytes, head: Buffer.concat(chunks).toString('utf8') }));
      res.once('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message, bytes, head: '' }));
    });
    const timer = setTimeout(() => {
      req.destroy();
      done({ error: `no complete answer within ${opts.timeoutMs / 1000} s`, bytes: 0, head: '' });
    }, opts.timeoutMs);
    req.once('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message, bytes: 0, head: '' }));
    const onAbort = () => {
      req.destroy();
      done({ error: 'interrupted', bytes: 0, head: '' });
    };
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    req.end(opts.body);
  });
}
