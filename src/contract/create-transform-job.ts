import type { UriMapper } from './create-training-job.js';
import { Problems } from './problems.js';
import { Reader, typeName } from './request-reader.js';
import type { TransformJobSpec } from './transform-spec.js';

/**
 * Reads a CreateTransformJob request (CONTRACT §10.4: the file `aws sagemaker create-transform-job
 * --cli-input-json` takes) into a {@link TransformJobSpec}, without the model (a transform job names
 * one: `--model` or `--model-json` gives it). What the AWS CLI checks before sending, with field paths.
 */
export const CREATE_TRANSFORM_JOB_MEMBERS = [
  'TransformJobName', 'ModelName', 'MaxConcurrentTransforms', 'ModelClientConfig', 'MaxPayloadInMB', 'BatchStrategy',
  'Environment', 'TransformInput', 'TransformOutput', 'DataCaptureConfig', 'TransformResources', 'DataProcessing', 'Tags', 'ExperimentConfig',
] as const;

const NESTED_MEMBERS: Record<string, readonly string[]> = {
  ModelClientConfig: ['InvocationsTimeoutInSeconds', 'InvocationsMaxRetries'],
  TransformInput: ['DataSource', 'ContentType', 'CompressionType', 'SplitType'],
  TransformDataSource: ['S3DataSource'],
  TransformS3DataSource: ['S3DataType', 'S3Uri'],
  TransformOutput: ['S3OutputPath', 'Accept', 'AssembleWith', 'KmsKeyId'],
  TransformResources: ['InstanceType', 'InstanceCount', 'VolumeKmsKeyId', 'TransformAmiVersion'],
  DataProcessing: ['InputFilter', 'OutputFilter', 'JoinSource'],
};

export function parseCreateTransformJobRequest(request: unknown, mapUri: UriMapper): { spec: Partial<TransformJobSpec>; problems: Problems['problems']; notices: Problems['notices'] } {
  const p = new Problems();
  const r = new Reader(p, { input: CREATE_TRANSFORM_JOB_MEMBERS, ...NESTED_MEMBERS });
  const spec: Partial<TransformJobSpec> = {};
  if (typeName(request) !== 'structure') {
    p.add('', `The request must be a JSON object (the CreateTransformJob request shape), not a ${typeName(request)}.`);
    return { spec, problems: p.problems, notices: p.notices };
  }
  const root = r.struct('', request, 'input', { strictMembers: true })!;
  const name = r.required('TransformJobName', '', 'TransformJobName', root.TransformJobName, (q, v) => r.string(q, v));
  if (name !== undefined) spec.transformJobName = name;
  const model = r.required('ModelName', '', 'ModelName', root.ModelName, (q, v) => r.string(q, v));
  if (model !== undefined) spec.modelName = model;
  const concurrency = r.integer('MaxConcurrentTransforms', root.MaxConcurrentTransforms);
  if (concurrency !== undefined) spec.maxConcurrentTransforms = concurrency;
  const payload = r.integer('MaxPayloadInMB', root.MaxPayloadInMB);
  if (payload !== undefined) spec.maxPayloadInMB = payload;
  const strategy = r.oneOf('BatchStrategy', root.BatchStrategy, ['MultiRecord', 'SingleRecord'] as const);
  if (strategy) spec.batchStrategy = strategy;
  const env = r.stringMap('Environment', root.Environment);
  if (env) spec.environment = env;
  const client = r.struct('ModelClientConfig', root.ModelClientConfig, 'ModelClientConfig');
  if (client) {
    const timeout = r.integer('ModelClientConfig.InvocationsTimeoutInSeconds', client.InvocationsTimeoutInSeconds);
    if (timeout !== undefined) spec.invocationsTimeoutInSeconds = timeout;
    const retries = r.integer('ModelClientConfig.InvocationsMaxRetries', client.InvocationsMaxRetries);
    if (retries !== undefined) spec.invocationsMaxRetries = retries;
  }

  const ti = r.required('TransformInput', '', 'TransformInput', root.TransformInput, (q, v) => r.struct(q, v, 'TransformInput'));
  if (ti) {
    const ds = r.required('TransformInput.DataSource', 'TransformInput', 'DataSource', ti.DataSource, (q, v) => r.struct(q, v, 'TransformDataSource'));
    const s3 = ds ? r.required('TransformInput.DataSource.S3DataSource', 'TransformInput.DataSource', 'S3DataSource', ds.S3DataSource, (q, v) => r.struct(q, v, 'TransformS3DataSource')) : undefined;
    if (s3) {
      const at = 'TransformInput.DataSource.S3DataSource';
      const type = r.required(`${at}.S3DataType`, at, 'S3DataType', s3.S3DataType, (q, v) => r.oneOf(q, v, ['S3Prefix', 'ManifestFile', 'AugmentedManifestFile'] as const));
      if (type && type !== 'S3Prefix') p.add(`${at}.S3DataType`, `${type} is not supported locally; only S3Prefix (a folder of objects) is.`);
      const uri = r.required(`${at}.S3Uri`, at, 'S3Uri', s3.S3Uri, (q, v) => r.string(q, v));
      const local = uri !== undefined ? mapUri(uri, `${at}.S3Uri`, p) : undefined;
      if (uri !== undefined && local !== undefined) {
        spec.input = local;
        spec.inputUri = uri;
      }
    }
    const ct = r.string('TransformInput.ContentType', ti.ContentType);
    if (ct !== undefined) spec.contentType = ct;
    const compression = r.oneOf('TransformInput.CompressionType', ti.CompressionType, ['None', 'Gzip'] as const);
    if (compression) spec.compressionType = compression;
    const split = r.oneOf('TransformInput.SplitType', ti.SplitType, ['None', 'Line', 'RecordIO', 'TFRecord'] as const);
    if (split) spec.splitType = split;
  }
  const to = r.required('TransformOutput', '', 'TransformOutput', root.TransformOutput, (q, v) => r.struct(q, v, 'TransformOutput'));
  if (to) {
    const uri = r.required('TransformOutput.S3OutputPath', 'TransformOutput', 'S3OutputPath', to.S3OutputPath, (q, v) => r.string(q, v));
    const local = uri !== undefined ? mapUri(uri, 'TransformOutput.S3OutputPath', p) : undefined;
    if (uri !== undefined && local !== undefined) {
      spec.output = local;
      spec.outputUri = uri;
    }
    const accept = r.string('TransformOutput.Accept', to.Accept);
    if (accept !== undefined) spec.accept = accept;
    const assemble = r.oneOf('TransformOutput.AssembleWith', to.AssembleWith, ['None', 'Line'] as const);
    if (assemble) spec.assembleWith = assemble;
  }
  const res = r.required('TransformResources', '', 'TransformResources', root.TransformResources, (q, v) => r.struct(q, v, 'TransformResources'));
  if (res) {
    const type = r.required('TransformResources.InstanceType', 'TransformResources', 'InstanceType', res.InstanceType, (q, v) => r.string(q, v));
    if (type !== undefined) spec.instanceType = type;
    const count = r.required('TransformResources.InstanceCount', 'TransformResources', 'InstanceCount', res.InstanceCount, (q, v) => r.integer(q, v));
    if (count !== undefined) spec.instanceCount = count;
  }
  const dp = r.struct('DataProcessing', root.DataProcessing, 'DataProcessing');
  if (dp) {
    const inputFilter = r.string('DataProcessing.InputFilter', dp.InputFilter);
    const outputFilter = r.string('DataProcessing.OutputFilter', dp.OutputFilter);
    const joinSource = r.oneOf('DataProcessing.JoinSource', dp.JoinSource, ['None', 'Input'] as const);
    spec.dataProcessing = { ...(inputFilter !== undefined ? { inputFilter } : {}), ...(outputFilter !== undefined ? { outputFilter } : {}), ...(joinSource ? { joinSource } : {}) };
  }
  if (root.DataCaptureConfig !== undefined) p.notice('DataCaptureConfig: sm-local does not capture batch data; the member is ignored.');
  spec.echo = root.ExperimentConfig !== undefined ? { ExperimentConfig: root.ExperimentConfig } : {};
  return { spec, problems: p.problems, notices: p.notices };
}
