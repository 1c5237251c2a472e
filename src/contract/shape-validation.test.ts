import { describe, expect, it } from 'vitest';
import { readExample } from '../../test/support/examples.js';
import { INPUT_SHAPES } from './api-shapes.js';
import { requestError } from './api-wire.js';
import { constraintText, shapeProblems, type Shape } from './shape-validation.js';

const EXAMPLES: Record<string, string> = {
  CreateTrainingJob: 'api.create-training-job.request.json',
  CreateModel: 'api.create-model.request.json',
  CreateEndpointConfig: 'api.create-endpoint-config.request.json',
  CreateEndpoint: 'api.create-endpoint.request.json',
  CreateTransformJob: 'api.create-transform-job.request.json',
  CreateProcessingJob: 'api.create-processing-job.request.json',
};
const example = (op: string) => JSON.parse(readExample(EXAMPLES[op]!)) as Record<string, unknown>;

type Json = Record<string, unknown>;
/** One broken copy of `request` per constraint of a member the request has: the path it must be reported at, and the copy. */
function* breakages(shape: Shape, value: unknown, set: (v: unknown) => void, path: string): Generator<string> {
  switch (shape.type) {
    case 'string':
      if (shape.max !== undefined) {
        set('a'.repeat(shape.max + 1));
        yield path;
      }
      if (shape.enum) {
        set('NotOneOfThem');
        yield path;
      } else if (shape.pattern && !/^(\.\*|\[\\S\\s\]\*)$/.test(shape.pattern)) {
        set('\n \u0000');
        yield path;
      }
      set(value);
      return;
    case 'integer':
    case 'long':
    case 'float':
      if (shape.min !== undefined) {
        set(shape.min - 1);
        yield path;
      }
      if (shape.max !== undefined) {
        set(shape.max + 1);
        yield path;
      }
      set(value);
      return;
    case 'list': {
      const items = value as unknown[];
      if (shape.max !== undefined) {
        set(Array.from({ length: shape.max + 1 }, () => items[0]));
        yield path;
        set(items);
      }
      for (let i = 0; i < items.length; i++) yield* breakages(shape.member, items[i], (v) => (items[i] = v), `${path}.${i + 1}.member`);
      return;
    }
    case 'structure': {
      const o = value as Json;
      for (const [m, sub] of Object.entries(shape.members)) {
        if (o[m] === undefined) continue;
        const at = `${path ? `${path}.` : ''}${m[0]!.toLowerCase()}${m.slice(1)}`;
        const keep = o[m];
        if (shape.required.includes(m)) {
          delete o[m];
          yield at;
          o[m] = keep;
        }
        yield* breakages(sub, keep, (v) => (o[m] = v), at);
      }
      return;
    }
    default:
      return;
  }
}

describe('requests checked against their input shapes', () => {
  it.each(Object.keys(EXAMPLES))('the CONTRACT example of %s passes untouched (no false alarm)', (op) => {
    expect(requestError(op, example(op))).toBeUndefined();
  });

  it.each(Object.keys(EXAMPLES))('every constraint of a member the %s example has is enforced, at its path', (op) => {
    const request = example(op);
    let count = 0;
    for (const path of breakages(INPUT_SHAPES[op]!, request, () => {}, '')) {
      const error = requestError(op, request);
      expect(error?.code, `${op}: a broken ${path} is refused`).toBe('ValidationException');
      expect(error?.message).toContain(`at '${path}' failed to satisfy constraint`);
      count++;
    }
    expect(count).toBeGreaterThan(3);
    // And the request is whole again afterwards.
    expect(requestError(op, request)).toBeUndefined();
  });

  it("words problems as the service does, every one at once, with the value and the member's path", () => {
    const error = requestError('CreateTrainingJob', { ...example('CreateTrainingJob'), TrainingJobName: 'bad_name', RoleArn: undefined, ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1, VolumeSizeInGB: 1, KeepAlivePeriodInSeconds: 99999 } });
    expect(error).toEqual({
      status: 400,
      code: 'ValidationException',
      message:
        "3 validation errors detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null; " +
        "Value 'bad_name' at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}; " +
        "Value '99999' at 'resourceConfig.keepAlivePeriodInSeconds' failed to satisfy constraint: Member must have value less than or equal to 21600",
    });
  });

  it('checks map keys and values, and unicode tag patterns', () => {
    const env = shapeProblems(INPUT_SHAPES.CreateTrainingJob!, { ...example('CreateTrainingJob'), Environment: { '1BAD': 'x', OK: 'v'.repeat(513) } });
    expect(env.constraints.map(constraintText)).toEqual([
      "Value '1BAD' at 'environment' failed to satisfy constraint: Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z_][a-zA-Z0-9_]*]",
      `Value '${'v'.repeat(200)}…' at 'environment.OK' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 512]`,
    ]);
    expect(requestError('AddTags', { ResourceArn: 'arn:aws:sagemaker:us-east-1:123456789012:model/m', Tags: [{ Key: 'équipe', Value: 'données 1' }] })).toBeUndefined();
    expect(requestError('AddTags', { ResourceArn: 'arn:aws:sagemaker:us-east-1:123456789012:model/m', Tags: [{ Key: 'a;b', Value: 'x' }] })?.message).toContain("at 'tags.1.member.key'");
  });

  it('answers SerializationException for a value of the wrong JSON type, and accepts members the shape does not name', () => {
    expect(requestError('ListTrainingJobs', { MaxResults: '10' })).toMatchObject({ code: 'SerializationException', message: expect.stringContaining("'maxResults'") });
    expect(requestError('ListTrainingJobs', { MaxResults: 10, SomeFutureMember: { x: 1 } })).toBeUndefined();
    expect(requestError('DescribeTrainingJob', { TrainingJobName: 'j', Extra: 1 })).toBeUndefined();
  });

  it('leaves operations it has no shape for to their handlers', () => {
    expect(requestError('CreateHyperParameterTuningJob', { anything: 1 })).toBeUndefined();
  });
});
