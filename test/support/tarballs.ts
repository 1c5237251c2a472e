import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';

/** Entries of a .tar.gz, in archive order, with their bodies as text. */
export async function readTarGz(path: string): Promise<{ name: string; type: string; body: string }[]> {
  const ex = tarStream.extract();
  createReadStream(path).pipe(createGunzip()).pipe(ex);
  const out: { name: string; type: string; body: string }[] = [];
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.push({ name: e.header.name, type: e.header.type ?? 'file', body: Buffer.concat(chunks).toString('utf8') });
  }
  return out;
}

export async function tarNames(path: string): Promise<string[]> {
  return (await readTarGz(path)).map((e) => e.name).sort();
}

export async function tarJson<T = Record<string, unknown>>(path: string, name: string): Promise<T> {
  const entry = (await readTarGz(path)).find((e) => e.name === name);
  if (!entry) throw new Error(`${name} is not in ${path}`);
  return JSON.parse(entry.body) as T;
}
