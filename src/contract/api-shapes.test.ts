import { describe, expect, it } from 'vitest';
import { serviceModel } from '../../test/support/botocore-model.js';
import { INPUT_SHAPES } from './api-shapes.js';
import type { Shape } from './shape-validation.js';

// The API model as botocore ships it (read at test time, never copied).
const model = serviceModel('sagemaker');
const TYPES: Record<string, string> = { integer: 'integer', long: 'long', float: 'float', double: 'float', string: 'string', boolean: 'boolean', timestamp: 'timestamp', list: 'list', map: 'map', structure: 'structure' };

/** Where our shape says something other than the model, or leaves out a constraint the model has. */
function drift(ours: Shape, name: string, path: string): string[] {
  const theirs = model.shapes[name]!;
  const out: string[] = [];
  if (TYPES[theirs.type] !== ours.type) return [`${path}: type ${ours.type}, the model says ${theirs.type} (${name})`];
  const o = ours as { min?: number; max?: number; pattern?: string; enum?: readonly string[] };
  // Instance types (enums of 100+ values) are checked against sm-local's own table instead.
  const instanceTypes = (theirs.enum?.length ?? 0) > 50 && !o.enum;
  for (const k of ['min', 'max', 'pattern'] as const) {
    const t = theirs[k] === undefined ? undefined : String(theirs[k]).replace(/^\^|\$$/g, '');
    // A model minimum of 0 on a string or list says nothing.
    if (k === 'min' && theirs[k] === 0 && o.min === undefined) continue;
    if (t !== (o[k] === undefined ? undefined : String(o[k]))) out.push(`${path}: ${k} ${o[k]} but the model says ${t} (${name})`);
  }
  if (!instanceTypes && JSON.stringify(theirs.enum ?? null) !== JSON.stringify(o.enum ?? null)) out.push(`${path}: enum ${JSON.stringify(o.enum)} but the model says ${JSON.stringify(theirs.enum)} (${name})`);
  if (ours.type === 'structure') {
    for (const [m, sub] of Object.entries(ours.members)) {
      const def = theirs.members?.[m];
      if (!def) {
        out.push(`${path}.${m}: not a member of ${name}`);
        continue;
      }
      const req = (theirs.required ?? []).includes(m);
      if (req !== ours.required.includes(m)) out.push(`${path}.${m}: required=${ours.required.includes(m)} but the model says ${req}`);
      out.push(...drift(sub, def.shape, `${path}.${m}`));
    }
    for (const r of theirs.required ?? []) if (!(r in ours.members)) out.push(`${path}.${r}: required by the model, not checked`);
  } else if (ours.type === 'list') out.push(...drift(ours.member, theirs.member!.shape, `${path}[]`));
  else if (ours.type === 'map') out.push(...drift(ours.key, theirs.key!.shape, `${path}{key}`), ...drift(ours.value, theirs.value!.shape, `${path}{value}`));
  return out;
}

describe('the input shapes sm-local checks requests against', () => {
  it.each(Object.keys(INPUT_SHAPES))('%s says what the API model says', (op) => {
    const input = model.operations[op]?.input?.shape;
    expect(input, `${op} is an operation of the API model`).toBeDefined();
    expect(drift(INPUT_SHAPES[op]!, input!, op)).toEqual([]);
  });

  it('covers every member CONTRACT §10 lists for the create operations', () => {
    const covered = (op: string) => Object.keys((INPUT_SHAPES[op] as Extract<Shape, { type: 'structure' }>).members);
    expect(covered('CreateTrainingJob')).toEqual(expect.arrayContaining(['TrainingJobName', 'HyperParameters', 'AlgorithmSpecification', 'RoleArn', 'InputDataConfig', 'OutputDataConfig', 'ResourceConfig', 'StoppingCondition', 'CheckpointConfig', 'Environment', 'EnableNetworkIsolation', 'RetryStrategy', 'VpcConfig', 'Tags']));
    expect(covered('CreateModel')).toEqual(expect.arrayContaining(['ModelName', 'PrimaryContainer', 'Containers', 'InferenceExecutionConfig', 'ExecutionRoleArn', 'VpcConfig', 'EnableNetworkIsolation', 'Tags']));
    expect(covered('CreateTransformJob')).toEqual(expect.arrayContaining(['TransformJobName', 'ModelName', 'MaxConcurrentTransforms', 'ModelClientConfig', 'MaxPayloadInMB', 'BatchStrategy', 'Environment', 'TransformInput', 'TransformOutput', 'TransformResources', 'DataCaptureConfig', 'DataProcessing', 'Tags']));
    expect(covered('CreateProcessingJob')).toEqual(expect.arrayContaining(['ProcessingJobName', 'ProcessingInputs', 'ProcessingOutputConfig', 'ProcessingResources', 'StoppingCondition', 'AppSpecification', 'Environment', 'NetworkConfig', 'RoleArn', 'Tags']));
    expect(covered('CreateEndpointConfig')).toEqual(expect.arrayContaining(['EndpointConfigName', 'ProductionVariants', 'DataCaptureConfig', 'KmsKeyId', 'AsyncInferenceConfig', 'Tags']));
  });
});
