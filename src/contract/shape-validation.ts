/**
 * Checks a control-plane request against its input shape as the service's front end does before an
 * operation runs (CONTRACT §9.3, §10): required members, JSON types, string lengths, patterns,
 * enums, number ranges, list and map sizes. Members a shape does not name are accepted untouched
 * (CONTRACT §10: the same JSON goes to AWS, so a local server stores what it does not know).
 * Pure data in, problems out; the shapes themselves are in `api-shapes.ts`.
 */

export type Shape =
  | { type: 'string'; min?: number; max?: number; pattern?: string; enum?: readonly string[] }
  | { type: 'integer' | 'long' | 'float'; min?: number; max?: number }
  | { type: 'boolean' | 'timestamp' }
  | { type: 'list'; member: Shape; min?: number; max?: number }
  | { type: 'map'; key: Shape; value: Shape; min?: number; max?: number }
  | { type: 'structure'; members: Readonly<Record<string, Shape>>; required: readonly string[] };

/** A member whose value has the wrong JSON type: the service answers SerializationException, not a validation error. */
export interface TypeProblem {
  path: string;
  expected: string;
}

/** One broken constraint: where (the service's path), the value as the service prints it, and what it must satisfy. */
export interface ConstraintProblem {
  path: string;
  /** `'x'`, or `null` for a missing member. */
  value: string;
  constraint: string;
}

export interface ShapeProblems {
  constraints: ConstraintProblem[];
  types: TypeProblem[];
}

/** As the service words it: `Value 'x' at 'a.b' failed to satisfy constraint: …`. */
export const constraintText = (c: ConstraintProblem) => `Value ${c.value} at '${c.path}' failed to satisfy constraint: ${c.constraint}`;

// The service's wording of each constraint (AWS's `1 validation error detected` style; exact texts UNCONFIRMED).
const must = {
  notNull: 'Member must not be null',
  maxLength: (n: number) => `Member must have length less than or equal to ${n}`,
  minLength: (n: number) => `Member must have length greater than or equal to ${n}`,
  maxValue: (n: number) => `Member must have value less than or equal to ${n}`,
  minValue: (n: number) => `Member must have value greater than or equal to ${n}`,
  pattern: (p: string) => `Member must satisfy regular expression pattern: ${p}`,
  enum: (values: readonly string[]) => `Member must satisfy enum value set: [${values.join(', ')}]`,
};

const compiled = new Map<string, RegExp>();
/** The model's patterns are Java regular expressions matched against the whole value. */
function regex(pattern: string): RegExp {
  let r = compiled.get(pattern);
  if (!r) {
    // `\p{Alnum}` is Java's POSIX class; JavaScript spells it out.
    const js = pattern.replace(/\\p\{Alnum\}/g, 'a-zA-Z0-9');
    try {
      r = new RegExp(`^(?:${js})$`, 'u');
    } catch {
      r = new RegExp(`^(?:${js})$`);
    }
    compiled.set(pattern, r);
  }
  return r;
}

/** How the service prints a value in its messages. */
function shown(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `'${text.length > 200 ? `${text.slice(0, 200)}…` : text}'`;
}

const camel = (member: string) => member[0]!.toLowerCase() + member.slice(1);

function typeOf(shape: Shape, value: unknown): boolean {
  switch (shape.type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
    case 'long':
      return typeof value === 'number' && Number.isInteger(value);
    case 'float':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'timestamp':
      return typeof value === 'number' || (typeof value === 'string' && !Number.isNaN(Date.parse(value)));
    case 'list':
      return Array.isArray(value);
    case 'map':
    case 'structure':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
  }
}

/** The constraints a scalar or a collection's size breaks; empty when it keeps them all. */
function broken(shape: Shape, value: unknown): string[] {
  const out: string[] = [];
  const size = typeof value === 'string' || Array.isArray(value) ? value.length : shape.type === 'map' ? Object.keys(value as object).length : undefined;
  if ((shape.type === 'string' || shape.type === 'list' || shape.type === 'map') && size !== undefined) {
    if (shape.max !== undefined && size > shape.max) out.push(must.maxLength(shape.max));
    if (shape.min !== undefined && size < shape.min) out.push(must.minLength(shape.min));
  }
  if (shape.type === 'string' && typeof value === 'string') {
    if (shape.enum && !shape.enum.includes(value)) out.push(must.enum(shape.enum));
    else if (shape.pattern !== undefined && !regex(shape.pattern).test(value)) out.push(must.pattern(shape.pattern));
  }
  if ((shape.type === 'integer' || shape.type === 'long' || shape.type === 'float') && typeof value === 'number') {
    if (shape.max !== undefined && value > shape.max) out.push(must.maxValue(shape.max));
    if (shape.min !== undefined && value < shape.min) out.push(must.minValue(shape.min));
  }
  return out;
}

/**
 * Every problem of `value` against `shape`. Paths are the service's: camel-cased members joined by
 * dots, list items as `<list>.<n>.member` counted from 1 (`inputDataConfig.1.member.channelName`).
 */
export function shapeProblems(shape: Shape, value: unknown, path = ''): ShapeProblems {
  const found: ShapeProblems = { constraints: [], types: [] };
  walk(shape, value, path, found);
  return found;
}

function walk(shape: Shape, value: unknown, path: string, found: ShapeProblems): void {
  if (!typeOf(shape, value)) {
    found.types.push({ path, expected: shape.type });
    return;
  }
  for (const c of broken(shape, value)) found.constraints.push({ path, value: shown(value), constraint: c });
  if (shape.type === 'structure') {
    const v = value as Record<string, unknown>;
    for (const r of shape.required) {
      if (v[r] === undefined || v[r] === null) found.constraints.push({ path: join(path, camel(r)), value: 'null', constraint: must.notNull });
    }
    for (const [member, sub] of Object.entries(shape.members)) {
      if (v[member] !== undefined && v[member] !== null) walk(sub, v[member], join(path, camel(member)), found);
    }
  } else if (shape.type === 'list') {
    (value as unknown[]).forEach((item, i) => {
      const at = `${path}.${i + 1}.member`;
      if (item === null || item === undefined) found.constraints.push({ path: at, value: 'null', constraint: must.notNull });
      else walk(shape.member, item, at, found);
    });
  } else if (shape.type === 'map') {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const keyBroken = broken(shape.key, k);
      if (keyBroken.length) found.constraints.push({ path, value: shown(k), constraint: `Map keys must satisfy constraint: [${keyBroken.join(', ')}]` });
      if (!typeOf(shape.value, v)) found.types.push({ path: `${path}.${k}`, expected: shape.value.type });
      else {
        const valueBroken = broken(shape.value, v);
        if (valueBroken.length) found.constraints.push({ path: `${path}.${k}`, value: shown(v), constraint: `Map value must satisfy constraint: [${valueBroken.join(', ')}]` });
      }
    }
  }
}

const join = (path: string, member: string) => (path ? `${path}.${member}` : member);
