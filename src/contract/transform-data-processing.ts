/**
 * Batch transform's DataProcessing (CONTRACT §5.7): InputFilter on each input record, JoinSource
 * Input joining each record with its prediction, OutputFilter on the joined record. CSV rows are
 * JSON arrays while filtered; JSON records are objects (or any JSON value). JSONPath is the
 * service's subset, checked here, and evaluated by jsonpath-rfc9535 (RFC 9535, which the subset is
 * part of). Data in, data out.
 */
import { query } from 'jsonpath-rfc9535';

export interface DataProcessing {
  inputFilter: string;
  joinSource: 'None' | 'Input';
  outputFilter: string;
}

export const DATA_PROCESSING_CONTENT_TYPES = ['text/csv', 'application/json', 'application/jsonlines'] as const;
export const JSONPATH_MAX = 63;

/**
 * Checks a JSONPath against the subset the service supports: `$`, `.name`, `*`, `['a','b']`,
 * `[i]`/`[i,j]` (negative allowed), `[start:end]`; no nested lists, no filters or recursive descent.
 * Returns the reason it is refused, or undefined. `definite` says whether it selects one value (its
 * result is that value) or several (a list).
 */
export function checkJsonPath(path: string): { problem?: string; definite: boolean } {
  if (path.length > JSONPATH_MAX) return { problem: `is ${path.length} characters long; at most ${JSONPATH_MAX} are allowed`, definite: true };
  if (!path.startsWith('$')) return { problem: 'must start with $', definite: true };
  let rest = path.slice(1);
  let definite = true;
  const segment = /^(?:\.([A-Za-z_][A-Za-z0-9_]*)|\.\*|\[\*\]|\[(-?\d+)\]|\[(-?\d+(?:\s*,\s*-?\d+)+)\]|\[(-?\d*):(-?\d*)\]|\[('[^'\\]*'(?:\s*,\s*'[^'\\]*')*)\])/;
  while (rest.length) {
    const m = segment.exec(rest);
    if (!m) return { problem: `has "${rest}", which the service's JSONPath does not support (only $, .name, *, ['a','b'], [i], [i,j], [start:end])`, definite };
    const [whole, name, index, indexes, , , names] = m;
    if (!(name !== undefined || index !== undefined || (names !== undefined && !names.includes(',')))) definite = false;
    if (indexes !== undefined) definite = false;
    rest = rest.slice(whole.length);
  }
  return { definite };
}

/** Applies a checked JSONPath: the value for a definite path (undefined when it selects nothing), a list otherwise. */
export function applyJsonPath(path: string, value: unknown): unknown {
  if (path === '$') return value;
  const { definite } = checkJsonPath(path);
  const found = query(value as never, path) as unknown[];
  return definite ? found[0] : found;
}

/** Why a record cannot be processed: the file fails, as on SageMaker. */
export class DataProcessingError extends Error {}

/** RFC 4180 fields of one CSV line (no embedded newlines in batch transform, CONTRACT §5.7). */
export function parseCsvRow(line: string): string[] {
  const text = line.replace(/\r?\n$/, '');
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let v = '';
      i += 1;
      for (;;) {
        if (i >= text.length) throw new DataProcessingError(`unterminated quoted field in ${JSON.stringify(text.slice(0, 80))}`);
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            v += '"';
            i += 2;
          } else {
            i += 1;
            break;
          }
        } else v += text[i++];
      }
      fields.push(v);
    } else {
      const end = text.indexOf(',', i);
      fields.push(end < 0 ? text.slice(i) : text.slice(i, end));
      i = end < 0 ? text.length : end;
    }
    if (i >= text.length) break;
    if (text[i] !== ',') throw new DataProcessingError(`a quoted field is followed by ${JSON.stringify(text[i])}, not a comma`);
    i += 1;
  }
  return fields;
}

const csvField = (v: unknown) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** A JSON value as a CSV line: a list becomes its fields, anything else one field. */
export function toCsvRow(value: unknown): string {
  return `${(Array.isArray(value) ? value : [value]).map(csvField).join(',')}\n`;
}

type Kind = 'csv' | 'json';
const kindOf = (contentType: string): Kind => (contentType.split(';')[0]!.trim() === 'text/csv' ? 'csv' : 'json');

function parseRecord(bytes: Buffer, kind: Kind, what: string): unknown {
  const text = bytes.toString('utf8');
  if (kind === 'csv') return parseCsvRow(text);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new DataProcessingError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function serialize(value: unknown, kind: Kind, lineEnd: boolean): Buffer {
  if (kind === 'csv') return Buffer.from(toCsvRow(value));
  return Buffer.from(`${JSON.stringify(value)}${lineEnd ? '\n' : ''}`);
}

/** The record sent to the container: InputFilter applied (`$` sends it untouched). */
export function filterInput(record: Buffer, dp: DataProcessing, contentType: string): Buffer {
  if (dp.inputFilter === '$') return record;
  const kind = kindOf(contentType);
  const filtered = applyJsonPath(dp.inputFilter, parseRecord(record, kind, 'the input record'));
  if (filtered === undefined) throw new DataProcessingError(`InputFilter ${dp.inputFilter} selects nothing in the input record`);
  return serialize(filtered, kind, record[record.length - 1] === 0x0a);
}

/**
 * One record's line in the output: the prediction, joined with the (unfiltered) input record when
 * JoinSource is Input — CSV: input columns then output columns; JSON: the prediction under
 * `SageMakerOutput` of the input object, or `{SageMakerInput, SageMakerOutput}` when the input is not
 * an object — then OutputFilter.
 */
export function joinAndFilterOutput(input: Buffer, prediction: Buffer, dp: DataProcessing, contentType: string, accept: string): Buffer {
  if (dp.joinSource === 'None' && dp.outputFilter === '$') return prediction;
  const inKind = kindOf(contentType);
  const outKind = kindOf(accept);
  const predicted = parseRecord(prediction, outKind, 'the prediction');
  let joined: unknown = predicted;
  if (dp.joinSource === 'Input') {
    const record = parseRecord(input, inKind, 'the input record');
    if (outKind === 'csv') joined = [...(Array.isArray(record) ? record : [record]), ...(Array.isArray(predicted) ? predicted : [predicted])];
    else if (record !== null && typeof record === 'object' && !Array.isArray(record)) {
      if ('SageMakerOutput' in record) throw new DataProcessingError('the input record has a SageMakerOutput key, which JoinSource Input reserves for the prediction');
      joined = { ...(record as Record<string, unknown>), SageMakerOutput: predicted };
    } else joined = { SageMakerInput: record, SageMakerOutput: predicted };
  }
  const out = applyJsonPath(dp.outputFilter, joined);
  if (out === undefined || (Array.isArray(out) && dp.outputFilter !== '$' && !checkJsonPath(dp.outputFilter).definite && !out.length)) {
    throw new DataProcessingError(`OutputFilter ${dp.outputFilter} selects nothing in ${JSON.stringify(joined).slice(0, 200)} (an index out of range is an error)`);
  }
  return serialize(out, outKind, true);
}
