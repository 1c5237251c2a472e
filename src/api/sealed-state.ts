/**
 * Secret-looking values in what the local SageMaker saves (Environment and HyperParameters entries
 * whose names look secret, the names `log.ts` masks), sealed with AES-256-GCM under a key of its
 * own, so the state file never holds them in clear. The key is a 0600 file beside the state; the
 * folder also gets a `.gitignore`, since its default place is the project folder.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SECRET_KEY_PATTERN } from '../log.js';

const PREFIX = 'sm-local-sealed:v1:';
const MAPS = new Set(['Environment', 'HyperParameters']);

type Json = Record<string, unknown>;

/** `value` with every secret entry of its Environment and HyperParameters maps, at any depth, put through `fn`. */
function mapSecrets(value: unknown, fn: (v: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => mapSecrets(v, fn));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Json).map(([k, v]) => {
      if (MAPS.has(k) && v !== null && typeof v === 'object' && !Array.isArray(v)) {
        return [k, Object.fromEntries(Object.entries(v as Json).map(([name, s]) => [name, typeof s === 'string' && SECRET_KEY_PATTERN.test(name) ? fn(s) : s]))];
      }
      return [k, mapSecrets(v, fn)];
    }),
  );
}

export class StateSealer {
  private constructor(private readonly key: Buffer) {}

  /** The sealer of the state folder `dir`: its key, made on first use. */
  static async open(dir: string): Promise<StateSealer> {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(join(dir, '.gitignore'), '# sm-local api state: never commit it.\n*\n', { flag: 'wx' }).catch(() => undefined);
    const file = join(dir, 'state.key');
    const existing = await readFile(file).catch(() => undefined);
    if (existing?.length === 32) return new StateSealer(existing);
    const key = randomBytes(32);
    await writeFile(file, key, { mode: 0o600 });
    return new StateSealer(key);
  }

  seal<T>(request: T): T {
    return mapSecrets(request, (plain) => {
      if (plain.startsWith(PREFIX)) return plain;
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', this.key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return PREFIX + Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
    }) as T;
  }

  /** The request as it was given; a value sealed under another key (the key file replaced) cannot be read and says so. */
  unseal<T>(request: T): T {
    return mapSecrets(request, (v) => {
      if (!v.startsWith(PREFIX)) return v;
      const raw = Buffer.from(v.slice(PREFIX.length), 'base64');
      const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      d.setAuthTag(raw.subarray(12, 28));
      try {
        return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
      } catch {
        throw new Error('a sealed value in the state cannot be opened with state.key (was the key file replaced?)');
      }
    }) as T;
  }
}
