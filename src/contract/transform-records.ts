/**
 * Batch transform's records (CONTRACT §5.4–5.5): an input object split by SplitType, records grouped
 * into mini-batches by BatchStrategy within MaxPayloadInMB (measured in bytes), and the answers
 * assembled into the `.out` object. Data in, data out.
 */
import { RECORDIO_MAGIC } from './recordio.js';

export type SplitType = 'None' | 'Line' | 'RecordIO' | 'TFRecord';
export type BatchStrategy = 'SingleRecord' | 'MultiRecord';
export type AssembleWith = 'None' | 'Line';

/** One record: its bytes as sent in a MultiRecord batch (`framed`), and as sent alone (`bare`: binary padding removed). */
export interface TransformRecord {
  framed: Buffer;
  bare: Buffer;
}

/** Why an object could not be split: the file fails, as on SageMaker. */
export class RecordError extends Error {}

/** Lines, each with its newline (the last one may lack it); an empty object has no records. */
function splitLines(data: Buffer): TransformRecord[] {
  const out: TransformRecord[] = [];
  let start = 0;
  while (start < data.length) {
    const nl = data.indexOf(0x0a, start);
    const end = nl < 0 ? data.length : nl + 1;
    const line = data.subarray(start, end);
    // A blank line carries no record.
    if (!/^\r?\n?$/.test(line.toString('latin1'))) out.push({ framed: line, bare: line });
    start = end;
  }
  return out;
}

/** RecordIO (CONTRACT §3.6): magic, little-endian length, payload, padding to 4 bytes. */
function splitRecordIO(data: Buffer): TransformRecord[] {
  const out: TransformRecord[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 8 > data.length || data.readUInt32LE(at) !== RECORDIO_MAGIC) throw new RecordError(`not RecordIO at byte ${at}: expected the magic number 0x${RECORDIO_MAGIC.toString(16)}`);
    const length = data.readUInt32LE(at + 4);
    const padded = length + ((4 - (length % 4)) % 4);
    if (at + 8 + padded > data.length && at + 8 + length > data.length) throw new RecordError(`RecordIO record at byte ${at} says ${length} bytes, but the object ends first`);
    const end = Math.min(data.length, at + 8 + padded);
    out.push({ framed: data.subarray(at, end), bare: data.subarray(at + 8, at + 8 + length) });
    at = end;
  }
  return out;
}

/** CRC-32C (Castagnoli), as TFRecord uses it. */
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15 and add a constant. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** A TFRecord: uint64 length, masked CRC of the length, the data, masked CRC of the data (little-endian). */
export function tfRecord(data: Buffer): Buffer {
  const head = Buffer.alloc(12);
  head.writeBigUInt64LE(BigInt(data.length), 0);
  head.writeUInt32LE(maskedCrc32c(head.subarray(0, 8)), 8);
  const tail = Buffer.alloc(4);
  tail.writeUInt32LE(maskedCrc32c(data), 0);
  return Buffer.concat([head, data, tail]);
}

/**
 * TFRecord framing (standard TensorFlow; UNCONFIRMED from SageMaker's sources, CONTRACT §5.4). Both
 * CRCs are verified: a corrupt record fails the file rather than reaching the model.
 */
function splitTFRecord(data: Buffer): TransformRecord[] {
  const out: TransformRecord[] = [];
  let at = 0;
  while (at < data.length) {
    if (at + 12 > data.length) throw new RecordError(`TFRecord at byte ${at} is cut off in its header`);
    const length = Number(data.readBigUInt64LE(at));
    if (data.readUInt32LE(at + 8) !== maskedCrc32c(data.subarray(at, at + 8))) throw new RecordError(`TFRecord at byte ${at}: the length's CRC does not match (not TFRecord, or corrupt)`);
    const end = at + 12 + length + 4;
    if (end > data.length) throw new RecordError(`TFRecord at byte ${at} says ${length} bytes, but the object ends first`);
    const payload = data.subarray(at + 12, at + 12 + length);
    if (data.readUInt32LE(at + 12 + length) !== maskedCrc32c(payload)) throw new RecordError(`TFRecord at byte ${at}: the data's CRC does not match (corrupt record)`);
    out.push({ framed: data.subarray(at, end), bare: payload });
    at = end;
  }
  return out;
}

/** The records of one input object. `None`: the whole object is one record. */
export function splitRecords(data: Buffer, split: SplitType): TransformRecord[] {
  switch (split) {
    case 'None':
      return [{ framed: data, bare: data }];
    case 'Line':
      return splitLines(data);
    case 'RecordIO':
      return splitRecordIO(data);
    case 'TFRecord':
      return splitTFRecord(data);
  }
}

/**
 * Mini-batches of record indexes, in order, never crossing the object: one record each
 * (SingleRecord, padding removed), or as many whole records as fit in `maxPayloadBytes`
 * (MultiRecord, framing kept). 0 means unlimited. A single record above the limit fails the file
 * (DG:batch-transform-errors).
 */
export function batchRecords(records: readonly TransformRecord[], strategy: BatchStrategy, maxPayloadBytes: number): { indexes: number[]; body: Buffer }[] {
  const limit = maxPayloadBytes > 0 ? maxPayloadBytes : Infinity;
  const pick = (r: TransformRecord) => (strategy === 'SingleRecord' ? r.bare : r.framed);
  const batches: { indexes: number[]; body: Buffer }[] = [];
  let current: { indexes: number[]; parts: Buffer[]; size: number } | undefined;
  const flush = () => {
    if (current) batches.push({ indexes: current.indexes, body: Buffer.concat(current.parts, current.size) });
    current = undefined;
  };
  records.forEach((r, i) => {
    const bytes = pick(r);
    if (bytes.length > limit) throw new RecordError(`record ${i + 1} is ${bytes.length} bytes, more than MaxPayloadInMB (${maxPayloadBytes} bytes): raise MaxPayloadInMB (at most 100), or split the record`);
    if (strategy === 'SingleRecord' || !current || current.size + bytes.length > limit) {
      flush();
      current = { indexes: [], parts: [], size: 0 };
    }
    current.indexes.push(i);
    current.parts.push(bytes);
    current.size += bytes.length;
  });
  flush();
  return batches;
}

/**
 * The `.out` object from the answers, in input order. `Line` appends a newline after each answer that
 * does not end with one already: a MultiRecord answer of N lines stays N lines (how the service maps a
 * MultiRecord answer back to records is UNCONFIRMED, CONTRACT §5.5; this keeps one line per record for
 * the usual line-per-record answers, and never adds blank lines). `None` concatenates the bytes.
 */
export function assembleOutput(answers: readonly Buffer[], assemble: AssembleWith): Buffer {
  if (assemble === 'None') return Buffer.concat(answers);
  const parts: Buffer[] = [];
  for (const a of answers) {
    parts.push(a);
    if (a.length === 0 || a[a.length - 1] !== 0x0a) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}
