import { Writable } from 'node:stream';

/**
 * Splits a byte stream into lines (UTF-8, `\n`, trailing `\r` dropped) and remembers the last
 * `tailSize` of them for error messages. `end()` flushes a final line without a newline.
 */
export class LineSplitter {
  private pending = '';
  private readonly decoder = new TextDecoder('utf-8');

  constructor(private readonly onLine: (line: string) => void) {}

  push(chunk: Uint8Array): void {
    const text = this.pending + this.decoder.decode(chunk, { stream: true });
    const parts = text.split('\n');
    this.pending = parts.pop() ?? '';
    for (const part of parts) this.onLine(part.endsWith('\r') ? part.slice(0, -1) : part);
  }

  end(): void {
    const rest = this.pending + this.decoder.decode();
    this.pending = '';
    if (rest.length > 0) this.onLine(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  }
}

/** Keeps the last `size` items pushed. */
export class Tail<T> {
  private readonly items: T[] = [];
  constructor(readonly size = 50) {}
  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.size) this.items.shift();
  }
  values(): T[] {
    return [...this.items];
  }
}

/** A Writable that feeds a LineSplitter; used as a demux target. */
export function lineWritable(splitter: LineSplitter): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      splitter.push(chunk);
      cb();
    },
    final(cb) {
      splitter.end();
      cb();
    },
  });
}

/** Reads newline-delimited JSON (the Engine's build and import progress streams). */
export async function* jsonLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<Record<string, unknown>> {
  let pending = '';
  for await (const chunk of stream) {
    pending += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const part of parts) {
      const trimmed = part.trim();
      if (trimmed) yield JSON.parse(trimmed) as Record<string, unknown>;
    }
  }
  if (pending.trim()) yield JSON.parse(pending.trim()) as Record<string, unknown>;
}

/** `KEY=VALUE` items as a record. */
export function envRecord(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq > 0) out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}
