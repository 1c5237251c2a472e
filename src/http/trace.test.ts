import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatTrace, tapExchange, traceBodyText, TRACE_BODY_BYTES, type TraceRecord } from './trace.js';

/** One exchange through a server whose handler is tapped; the record it gave. */
async function traced(handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void, send: { headers?: Record<string, string>; body?: Buffer | string }): Promise<TraceRecord> {
  let record!: Promise<TraceRecord>;
  const server = createServer((req, res) => {
    record = new Promise((resolve) => tapExchange(req, res, 7, resolve));
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve, reject) => {
    const r = request({ host: '127.0.0.1', port, method: 'POST', path: '/endpoints/e/invocations', headers: send.headers ?? {} }, (res) => {
      res.resume();
      res.on('end', resolve);
    });
    r.on('error', reject);
    r.end(send.body);
  });
  const out = await record;
  server.close();
  return out;
}

describe('tapExchange', () => {
  it('sees the request body however the handler reads it, and the answer written in parts', async () => {
    const body = Buffer.alloc(2000, 'a');
    const t = await traced(
      (req, res) => {
        // Read late, in paused mode: the tap must not have taken the data first.
        setTimeout(() => {
          const chunks: Buffer[] = [];
          req.on('readable', () => {
            let c: Buffer | null;
            while ((c = req.read() as Buffer | null)) chunks.push(c);
          });
          req.on('end', () => {
            res.writeHead(201, { 'content-type': 'text/plain', 'x-amz-security-token': 'tok' });
            res.write(`got ${Buffer.concat(chunks).length} `);
            res.end('bytes');
          });
        }, 20);
      },
      { headers: { 'content-type': 'application/octet-stream', authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/x' }, body },
    );
    expect(t).toMatchObject({ id: 7, method: 'POST', url: '/endpoints/e/invocations', status: 201, cut: false });
    expect(t.requestBody.bytes).toBe(2000);
    expect(t.requestBody.head.length).toBe(TRACE_BODY_BYTES);
    expect(t.responseBody.head.toString()).toBe('got 2000 bytes');
    expect(t.responseHeaders['content-type']).toBe('text/plain');
    const lines = formatTrace(t);
    expect(lines).toContain('[trace #7] >  authorization: ****');
    expect(lines).toContain('[trace #7] <  x-amz-security-token: ****');
    expect(lines).toContain('[trace #7] < body 14 B: got 2000 bytes');
    expect(lines.find((l) => l.startsWith('[trace #7] > body'))).toBe(`[trace #7] > body 2000 B: ${'a'.repeat(TRACE_BODY_BYTES)} … (${2000 - TRACE_BODY_BYTES} B more)`);
  });
});

describe('traceBodyText and formatTrace', () => {
  it('shows text on one line, binary as hex, nothing as (empty)', () => {
    expect(traceBodyText({ bytes: 8, head: Buffer.from('a\nb\t"c"\\') })).toBe('a\\nb\\t"c"\\\\');
    expect(traceBodyText({ bytes: 3, head: Buffer.from([0x93, 0x4e, 0x00]) })).toBe('hex 934e00');
    expect(traceBodyText({ bytes: 0, head: Buffer.alloc(0) })).toBe('(empty)');
  });

  it('masks secret values in the URL and bodies with the masker, and says when no answer came', () => {
    const t: TraceRecord = {
      id: 1, method: 'POST', url: '/x?k=hunter22', requestHeaders: { 'x-api-key': 'k1' }, requestBody: { bytes: 14, head: Buffer.from('pass: hunter22') },
      status: 0, responseHeaders: {}, responseBody: { bytes: 0, head: Buffer.alloc(0) }, ms: 1, cut: true,
    };
    const text = formatTrace(t, (s) => s.split('hunter22').join('****')).join('\n');
    expect(text).not.toContain('hunter22');
    expect(text).toContain('[trace #1] >  x-api-key: ****');
    expect(text).toContain('[trace #1] < no response');
  });
});
