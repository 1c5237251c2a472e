import { get } from 'node:http';

/**
 * One `GET /ping`: its status, or why there was none (refused, timed out). Uses node:http, so the
 * readiness loop does not wait for the HTTP client library to load.
 */
export function pingOnce(base: string, timeoutMs: number): Promise<{ status?: number; error?: string }> {
  return new Promise((resolve) => {
    const req = get(`${base}/ping`, { timeout: timeoutMs, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve({ status: res.statusCode ?? 0 }));
      res.once('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    });
    req.once('timeout', () => {
      req.destroy();
      resolve({ error: `no answer within ${timeoutMs} ms` });
    });
    req.once('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
  });
}
