/**
 * botocore's own service models, read at test time from the botocore this machine has (never copied
 * into the repo), and a checker of a response against an operation's output shape: required members
 * present, types, enum values, lengths, and no member the model does not know.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export interface ModelShape {
  type: string;
  members?: Record<string, { shape: string }>;
  required?: string[];
  member?: { shape: string };
  key?: { shape: string };
  value?: { shape: string };
  enum?: string[];
  min?: number;
  max?: number;
  pattern?: string;
}

export interface ServiceModel {
  operations: Record<string, { input?: { shape: string }; output?: { shape: string } }>;
  shapes: Record<string, ModelShape>;
}

let botocoreDir: string | undefined;
function dataDir(): string {
  botocoreDir ??= execFileSync('python3', ['-c', 'import botocore, os; print(os.path.dirname(botocore.__file__))'], { encoding: 'utf8' }).trim();
  return join(botocoreDir, 'data');
}

const models = new Map<string, ServiceModel>();
/** `sagemaker` (2017-07-24), `sagemaker-runtime`, … from botocore's data folder. */
export function serviceModel(service: string, version = '2017-07-24'): ServiceModel {
  let m = models.get(service);
  if (!m) {
    m = JSON.parse(gunzipSync(readFileSync(join(dataDir(), service, version, 'service-2.json.gz'))).toString()) as ServiceModel;
    models.set(service, m);
  }
  return m;
}

/** Problems of `value` against `shapeName`, each with its path; empty when it conforms. */
export function shapeProblems(model: ServiceModel, shapeName: string, value: unknown, path = '$'): string[] {
  const shape = model.shapes[shapeName];
  if (!shape) return [`${path}: unknown shape ${shapeName}`];
  const out: string[] = [];
  const type = (t: string) => out.push(`${path}: expected ${t} (${shapeName}), got ${JSON.stringify(value)?.slice(0, 80)}`);
  switch (shape.type) {
    case 'structure': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected a structure (${shapeName})`];
      const v = value as Record<string, unknown>;
      for (const r of shape.required ?? []) if (v[r] === undefined) out.push(`${path}.${r}: required by ${shapeName}, missing`);
      for (const [k, member] of Object.entries(v)) {
        const def = shape.members?.[k];
        if (!def) out.push(`${path}.${k}: not a member of ${shapeName}`);
        else if (member !== undefined) out.push(...shapeProblems(model, def.shape, member, `${path}.${k}`));
      }
      return out;
    }
    case 'list':
      if (!Array.isArray(value)) return [`${path}: expected a list (${shapeName})`];
      if (shape.min !== undefined && value.length < shape.min) out.push(`${path}: at least ${shape.min} items`);
      value.forEach((item, i) => out.push(...shapeProblems(model, shape.member!.shape, item, `${path}[${i}]`)));
      return out;
    case 'map':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected a map (${shapeName})`];
      for (const [k, item] of Object.entries(value)) {
        out.push(...shapeProblems(model, shape.key!.shape, k, `${path}{key}`));
        out.push(...shapeProblems(model, shape.value!.shape, item, `${path}.${k}`));
      }
      return out;
    case 'string':
      if (typeof value !== 'string') type('a string');
      else {
        if (shape.enum && !shape.enum.includes(value)) out.push(`${path}: "${value}" is not one of ${shapeName}'s values ${shape.enum.join(', ')}`);
        if (shape.max !== undefined && value.length > shape.max) out.push(`${path}: longer than ${shape.max}`);
      }
      return out;
    case 'integer':
    case 'long':
      if (typeof value !== 'number' || !Number.isInteger(value)) type('an integer');
      return out;
    case 'float':
    case 'double':
      if (typeof value !== 'number') type('a number');
      return out;
    case 'boolean':
      if (typeof value !== 'boolean') type('a boolean');
      return out;
    case 'timestamp':
      // AWS JSON 1.1: epoch seconds.
      if (typeof value !== 'number') type('epoch seconds');
      return out;
    case 'blob':
      if (typeof value !== 'string') type('base64 text');
      return out;
    default:
      return [`${path}: shape type ${shape.type} not checked`];
  }
}

/** Problems of an operation's response against its output shape. */
export function outputProblems(service: string, operation: string, response: unknown, version?: string): string[] {
  const model = serviceModel(service, version);
  const op = model.operations[operation];
  if (!op) return [`${operation} is not an operation of ${service}`];
  if (!op.output) return response && Object.keys(response as object).length ? [`${operation} has no output shape, got members`] : [];
  return shapeProblems(model, op.output.shape, response);
}
