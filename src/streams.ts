import type { Readable } from 'node:stream';

/** Collects a Readable's bytes into memory (small archives in tests and helpers). */
export async function streamToBuffer(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
