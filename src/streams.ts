import type { Readable } from 'node:stream';

/** Collects a Readable's bytes into memory (small archives in tests and helpers). */
export async function streamToBuffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Settles when a stream has ended, closed or failed: true unless it failed. */
export function streamDone(stream: NodeJS.EventEmitter): Promise<boolean> {
  return new Promise((resolve) => {
    stream.once('end', () => resolve(true));
    stream.once('close', () => resolve(true));
    stream.once('error', () => resolve(false));
  });
}
