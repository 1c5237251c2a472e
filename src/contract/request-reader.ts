import type { Problems } from './problems.js';

export type Json = Record<string, unknown>;

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'list';
  return typeof v === 'object' ? 'structure' : typeof v;
}

/**
 * Reads a request shape the way the AWS CLI checks it before sending: types, required members, and
 * members the API model does not know. Every problem is recorded with its field path.
 */
export class Reader {
  /** `members[shape]` lists the members of each structure; `input` is the request itself. */
  constructor(
    readonly p: Problems,
    private readonly members: Record<string, readonly string[]>,
  ) {}

  wrongType(path: string, value: unknown, expected: string): void {
    this.p.add(path, `Invalid type for parameter ${path}, value: ${JSON.stringify(value)}, type: ${typeName(value)}, valid types: ${expected}.`);
  }

  struct(path: string, value: unknown, shape: string, opts: { strictMembers?: boolean } = {}): Json | undefined {
    if (!this.typed(path, value, (v): v is Json => typeName(v) === 'structure', 'structure')) return undefined;
    const known = this.members[shape];
    for (const key of Object.keys(value as Json)) {
      if (known && !(known as readonly string[]).includes(key)) {
        const message = `Unknown parameter in ${path || 'input'}: "${key}", must be one of: ${known.join(', ')}`;
        if (opts.strictMembers) this.p.add(path ? `${path}.${key}` : key, `${message}. The AWS CLI rejects this file.`);
        else this.p.notice(`${message}. It is ignored here; check the spelling, the AWS CLI may reject it.`);
      }
    }
    return value as Json;
  }

  /** An optional member of one type: undefined when absent, a problem (and undefined) when of another type. */
  private typed<T>(path: string, value: unknown, is: (v: unknown) => v is T, expected: string): T | undefined {
    if (value === undefined) return undefined;
    if (!is(value)) {
      this.wrongType(path, value, expected);
      return undefined;
    }
    return value;
  }

  string(path: string, value: unknown): string | undefined {
    return this.typed(path, value, (v): v is string => typeof v === 'string', 'string');
  }

  /** Reads a required member: "Missing required parameter" when absent, the reader's own problem when malformed. */
  required<T>(path: string, parent: string, member: string, raw: unknown, read: (path: string, raw: unknown) => T | undefined): T | undefined {
    if (raw === undefined) {
      this.p.add(path, `Missing required parameter in ${parent || 'input'}: "${member}"`);
      return undefined;
    }
    return read(path, raw);
  }

  integer(path: string, value: unknown): number | undefined {
    return this.typed(path, value, (v): v is number => typeof v === 'number' && Number.isInteger(v), 'integer');
  }

  /** A float member (InitialVariantWeight). */
  number(path: string, value: unknown): number | undefined {
    return this.typed(path, value, (v): v is number => typeof v === 'number' && Number.isFinite(v), 'float, int');
  }

  boolean(path: string, value: unknown): boolean | undefined {
    return this.typed(path, value, (v): v is boolean => typeof v === 'boolean', 'boolean');
  }

  list(path: string, value: unknown): unknown[] | undefined {
    return this.typed(path, value, Array.isArray, 'list');
  }

  stringList(path: string, value: unknown): string[] | undefined {
    const items = this.list(path, value);
    if (!items) return undefined;
    const out: string[] = [];
    items.forEach((item, i) => {
      const s = this.string(`${path}[${i}]`, item);
      if (s !== undefined) out.push(s);
    });
    return out;
  }

  stringMap(path: string, value: unknown): Record<string, string> | undefined {
    const map = this.typed(path, value, (v): v is Json => typeName(v) === 'structure', 'map');
    if (!map) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(map)) {
      const s = this.string(`${path}.${k}`, v);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }

  oneOf<T extends string>(path: string, value: unknown, allowed: readonly T[]): T | undefined {
    const s = this.string(path, value);
    if (s === undefined) return undefined;
    if (!(allowed as readonly string[]).includes(s)) {
      this.p.add(path, `"${s}" is not one of ${allowed.join(', ')}.`);
      return undefined;
    }
    return s as T;
  }
}
