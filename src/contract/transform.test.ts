/**
 * Batch transform as data: splitting, batching in bytes, assembly, DataProcessing with CONTRACT
 * §5.7's examples, the execution-parameters precedence, the batch environment and validation.
 */
import { describe, expect, it } from 'vitest';
import { readExample } from '../../test/support/examples.js';
import { recordIOHeader, recordIOPadding } from './recordio.js';
import { applyJsonPath, checkJsonPath, DataProcessingError, filterInput, joinAndFilterOutput, parseCsvRow, type DataProcessing } from './transform-data-processing.js';
import { assembleOutput, batchRecords, crc32c, RecordError, splitRecords, tfRecord } from './transform-records.js';
import { effectiveParameters, parseExecutionParameters, renderTransformEnvironment, resolveTransformJobSpec, type TransformJobSpec } from './transform-spec.js';

const b = (s: string) => Buffer.from(s);
const recordIO = (payload: string) => Buffer.concat([recordIOHeader(payload.length), b(payload), recordIOPadding(payload.length)]);

describe('splitting (CONTRACT §5.4)', () => {
  it('Line: one record per line, newline kept, blank lines carry none; None: the whole object', () => {
    expect(splitRecords(b('a,1\n\nb,2\nc,3'), 'Line').map((r) => r.framed.toString())).toEqual(['a,1\n', 'b,2\n', 'c,3']);
    expect(splitRecords(b('x\ny\n'), 'None').map((r) => r.bare.toString())).toEqual(['x\ny\n']);
    expect(splitRecords(b(''), 'Line')).toEqual([]);
  });

  it('RecordIO: framing kept for MultiRecord, the payload alone (padding removed) for SingleRecord', () => {
    const data = Buffer.concat([recordIO('abc'), recordIO('hello')]);
    const records = splitRecords(data, 'RecordIO');
    expect(records.map((r) => r.bare.toString())).toEqual(['abc', 'hello']);
    expect(records[0]!.framed.length).toBe(12);
    expect(Buffer.concat(records.map((r) => r.framed)).equals(data)).toBe(true);
    expect(() => splitRecords(b('not recordio at all'), 'RecordIO')).toThrow(RecordError);
  });

  it('TFRecord: length and data framed with masked CRC-32C, both checked', () => {
    expect(crc32c(b('123456789'))).toBe(0xe3069283);
    const data = Buffer.concat([tfRecord(b('first')), tfRecord(b('second record'))]);
    expect(splitRecords(data, 'TFRecord').map((r) => r.bare.toString())).toEqual(['first', 'second record']);
    const corrupt = Buffer.from(data);
    corrupt[14] = corrupt[14]! ^ 0xff;
    expect(() => splitRecords(corrupt, 'TFRecord')).toThrow(/data's CRC does not match/);
  });
});

describe('batching in bytes, and assembly (CONTRACT §5.4–5.5)', () => {
  const lines = splitRecords(b('aaaa\nbbbb\ncccc\ndddd\n'), 'Line');
  it('MultiRecord packs whole records up to MaxPayloadInMB, never splitting one; SingleRecord sends one each', () => {
    expect(batchRecords(lines, 'MultiRecord', 10).map((x) => x.indexes)).toEqual([[0, 1], [2, 3]]);
    expect(batchRecords(lines, 'MultiRecord', 0).map((x) => x.body.toString())).toEqual(['aaaa\nbbbb\ncccc\ndddd\n']);
    expect(batchRecords(lines, 'SingleRecord', 10).map((x) => x.indexes)).toEqual([[0], [1], [2], [3]]);
    expect(() => batchRecords(lines, 'MultiRecord', 4)).toThrow(/record 1 is 5 bytes, more than MaxPayloadInMB/);
  });

  it('AssembleWith Line ends every answer with one newline; None concatenates the bytes', () => {
    expect(assembleOutput([b('1'), b('2\n'), b('3\n4\n')], 'Line').toString()).toBe('1\n2\n3\n4\n');
    expect(assembleOutput([b('1'), b('2\n')], 'None').toString()).toBe('12\n');
  });
});

describe('DataProcessing (CONTRACT §5.7)', () => {
  const dp = (over: Partial<DataProcessing>): DataProcessing => ({ inputFilter: '$', joinSource: 'None', outputFilter: '$', ...over });

  it("checks the service's JSONPath subset, and tells a single value from a list", () => {
    expect(checkJsonPath('$[1:]')).toEqual({ definite: false });
    expect(checkJsonPath('$[0,-1]')).toEqual({ definite: false });
    expect(checkJsonPath("$['id','SageMakerOutput']")).toEqual({ definite: false });
    expect(checkJsonPath('$.features')).toEqual({ definite: true });
    expect(checkJsonPath('$..price').problem).toMatch(/does not support/);
    expect(checkJsonPath('$[?(@.a>1)]').problem).toMatch(/does not support/);
    expect(checkJsonPath(`$.${'x'.repeat(63)}`).problem).toMatch(/at most 63/);
    expect(applyJsonPath('$[-1]', [1, 2, 3])).toBe(3);
    expect(applyJsonPath('$[:2]', [1, 2, 3])).toEqual([1, 2]);
  });

  it('reads CSV as RFC 4180', () => {
    expect(parseCsvRow('a,"b,c","d ""e""",\n')).toEqual(['a', 'b,c', 'd "e"', '']);
    expect(() => parseCsvRow('"open')).toThrow(DataProcessingError);
  });

  it('CSV: the input filter drops the ID column, the join appends the prediction, the output filter keeps the ID and the prediction', () => {
    const d = dp({ inputFilter: '$[1:]', joinSource: 'Input', outputFilter: '$[0,-1]' });
    expect(filterInput(b('id7,1,2,3\n'), d, 'text/csv').toString()).toBe('1,2,3\n');
    // CONTRACT's example: [1,2,3] joined with [1] is [1,2,3,1].
    expect(joinAndFilterOutput(b('1,2,3\n'), b('1'), dp({ joinSource: 'Input' }), 'text/csv', 'text/csv').toString()).toBe('1,2,3,1\n');
    expect(joinAndFilterOutput(b('id7,1,2,3\n'), b('0.9'), d, 'text/csv', 'text/csv').toString()).toBe('id7,0.9\n');
  });

  it('JSON: the prediction under SageMakerOutput of the input object, or both wrapped when the input is not an object', () => {
    const join = dp({ joinSource: 'Input' });
    expect(JSON.parse(joinAndFilterOutput(b('{"id":1,"features":[1,2]}'), b('{"score":0.9}'), join, 'application/json', 'application/json').toString())).toEqual({ id: 1, features: [1, 2], SageMakerOutput: { score: 0.9 } });
    expect(JSON.parse(joinAndFilterOutput(b('[1,2]'), b('0.5'), join, 'application/jsonlines', 'application/jsonlines').toString())).toEqual({ SageMakerInput: [1, 2], SageMakerOutput: 0.5 });
    expect(() => joinAndFilterOutput(b('{"SageMakerOutput":1}'), b('2'), join, 'application/json', 'application/json')).toThrow(/reserves/);
    expect(joinAndFilterOutput(b('{"id":1}'), b('{"s":2}'), dp({ joinSource: 'Input', outputFilter: "$['id','SageMakerOutput']" }), 'application/json', 'application/json').toString()).toBe('[1,{"s":2}]\n');
    expect(() => joinAndFilterOutput(b('1,2\n'), b('3'), dp({ joinSource: 'Input', outputFilter: '$[7]' }), 'text/csv', 'text/csv')).toThrow(/selects nothing/);
  });
});

describe('parameters, environment and validation (CONTRACT §5.2–5.3, §10.4)', () => {
  it('reads /execution-parameters in either spelling, partial, and anything unreadable as no opinion', () => {
    expect(parseExecutionParameters(readExample('transform.execution-parameters.response.json'))).toEqual({ maxConcurrentTransforms: 4, batchStrategy: 'MultiRecord', maxPayloadInMB: 6 });
    expect(parseExecutionParameters('{"BatchStrategy":"SingleRecord"}')).toEqual({ batchStrategy: 'SingleRecord' });
    expect(parseExecutionParameters('not json')).toEqual({});
    expect(parseExecutionParameters('{"MaxPayloadInMB": 500, "BatchStrategy": "BOTH"}')).toEqual({});
  });

  it('takes each parameter from the request, else the container, else the default', () => {
    expect(effectiveParameters({ maxPayloadInMB: 2 }, { maxConcurrentTransforms: 4, batchStrategy: 'SingleRecord', maxPayloadInMB: 6 })).toEqual({ maxConcurrentTransforms: 4, batchStrategy: 'SingleRecord', maxPayloadInMB: 2 });
    expect(effectiveParameters({}, {})).toEqual({ maxConcurrentTransforms: 1, batchStrategy: 'MultiRecord', maxPayloadInMB: 6 });
  });

  it('sets SAGEMAKER_BATCH always, and the other three only for the fields the request set', () => {
    expect(renderTransformEnvironment({ environment: { A: 'job' }, modelEnvironment: { A: 'model', B: 'model' } })).toEqual({ A: 'job', B: 'model', SAGEMAKER_BATCH: 'true' });
    expect(renderTransformEnvironment({ environment: {}, modelEnvironment: {}, batchStrategy: 'SingleRecord', maxPayloadInMB: 0, maxConcurrentTransforms: 2 })).toEqual({
      SAGEMAKER_BATCH: 'true',
      SAGEMAKER_BATCH_STRATEGY: 'SINGLE_RECORD',
      SAGEMAKER_MAX_PAYLOAD_IN_MB: '0',
      SAGEMAKER_MAX_CONCURRENT_TRANSFORMS: '2',
    });
  });

  it('reports every problem at once with its field path', () => {
    const problems = (over: Partial<TransformJobSpec>) => resolveTransformJobSpec({ image: 'm:1', input: '/in', ...over }, { now: new Date() }).problems.map((p) => p.path);
    expect(problems({ maxPayloadInMB: 101, invocationsMaxRetries: 4, invocationsTimeoutInSeconds: 0, transformJobName: '-x' })).toEqual([
      'TransformJobName',
      'MaxPayloadInMB',
      'ModelClientConfig.InvocationsTimeoutInSeconds',
      'ModelClientConfig.InvocationsMaxRetries',
    ]);
    expect(problems({ maxConcurrentTransforms: 20, maxPayloadInMB: 6 })).toEqual(['MaxConcurrentTransforms']);
    expect(problems({ dataProcessing: { inputFilter: '$[1:]' }, contentType: 'text/csv', accept: 'application/x-recordio', splitType: 'Line' })).toEqual(['TransformOutput.Accept', 'TransformInput.SplitType']);
    expect(problems({ dataProcessing: { outputFilter: '$..x' }, contentType: 'application/json', accept: 'application/json' })).toEqual(['DataProcessing.OutputFilter']);
  });
});
