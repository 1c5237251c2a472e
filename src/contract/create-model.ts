import type { UriMapper } from './create-training-job.js';
import { Problems } from './problems.js';
import { Reader, typeName } from './request-reader.js';
import type { EndpointSpec } from './serving-spec.js';

/**
 * Reads a CreateModel request (CONTRACT §10.2: the file `aws sagemaker create-model --cli-input-json`
 * takes) into an {@link EndpointSpec}: the PrimaryContainer's image, model data and environment.
 * Checked as the AWS CLI checks it; every problem with its field path.
 */

/** Every top-level member of CreateModelInput (botocore sagemaker 2017-07-24). */
export const CREATE_MODEL_MEMBERS = [
  'ModelName', 'PrimaryContainer', 'Containers', 'InferenceExecutionConfig', 'ExecutionRoleArn', 'Tags', 'VpcConfig',
  'EnableNetworkIsolation',
] as const;

const NESTED_MEMBERS: Record<string, readonly string[]> = {
  ContainerDefinition: [
    'ContainerHostname', 'Image', 'ImageConfig', 'Mode', 'ModelDataUrl', 'ModelDataSource', 'AdditionalModelDataSources',
    'Environment', 'ModelPackageName', 'InferenceSpecificationName', 'MultiModelConfig',
  ],
  ModelDataSource: ['S3DataSource'],
  S3ModelDataSource: ['S3Uri', 'S3DataType', 'CompressionType', 'ModelAccessConfig', 'HubAccessConfig', 'ManifestS3Uri', 'ETag', 'ManifestEtag'],
};

const MODEL_NAME = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

export interface ParsedModelRequest {
  spec: Partial<EndpointSpec>;
  modelName?: string;
  problems: Problems['problems'];
  notices: Problems['notices'];
}

export function parseCreateModelRequest(request: unknown, mapUri: UriMapper): ParsedModelRequest {
  const p = new Problems();
  const r = new Reader(p, { input: CREATE_MODEL_MEMBERS, ...NESTED_MEMBERS });
  const spec: Partial<EndpointSpec> = {};
  if (typeName(request) !== 'structure') {
    p.add('', `The request must be a JSON object (the CreateModel request shape), not a ${typeName(request)}.`);
    return { spec, problems: p.problems, notices: p.notices };
  }
  const root = r.struct('', request, 'input', { strictMembers: true })!;
  const modelName = r.required('ModelName', '', 'ModelName', root.ModelName, (q, v) => r.string(q, v));
  if (modelName !== undefined) p.checkString('ModelName', modelName, { min: 1, max: 63, pattern: MODEL_NAME, patternText: '^[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?$' });

  let at = 'PrimaryContainer';
  let container = r.struct(at, root.PrimaryContainer, 'ContainerDefinition');
  const containers = r.list('Containers', root.Containers);
  if (containers && root.PrimaryContainer !== undefined) p.add('Containers', 'give either PrimaryContainer or Containers, not both.');
  if (containers && containers.length > 1) {
    p.add('Containers', `${containers.length} containers (an inference pipeline or multi-container model) are not supported by this version of sm-local; serve one container.`);
  }
  if (!container && containers?.length === 1) {
    at = 'Containers[0]';
    container = r.struct(at, containers[0], 'ContainerDefinition');
  }
  if (!container && root.PrimaryContainer === undefined && !containers) p.add('PrimaryContainer', 'Missing required parameter in input: "PrimaryContainer" (or "Containers")');

  if (container) {
    const image = r.string(`${at}.Image`, container.Image);
    if (image !== undefined) spec.image = image;
    const env = r.stringMap(`${at}.Environment`, container.Environment);
    if (env) spec.environment = env;
    const mode = r.oneOf(`${at}.Mode`, container.Mode, ['SingleModel', 'MultiModel'] as const);
    if (mode === 'MultiModel') p.add(`${at}.Mode`, 'multi-model endpoints are not supported by this version of sm-local; use SingleModel.');
    for (const member of ['AdditionalModelDataSources', 'ModelPackageName', 'InferenceSpecificationName'] as const) {
      if (container[member] !== undefined) p.add(`${at}.${member}`, `is not supported locally; give Image and ModelDataUrl.`);
    }
    if (container.ContainerHostname !== undefined) p.notice(`${at}.ContainerHostname only matters for multi-container models; ignored.`);

    const url = r.string(`${at}.ModelDataUrl`, container.ModelDataUrl);
    const source = r.struct(`${at}.ModelDataSource`, container.ModelDataSource, 'ModelDataSource');
    if (url !== undefined && source) p.add(`${at}.ModelDataSource`, 'give either ModelDataUrl or ModelDataSource, not both.');
    if (url !== undefined) {
      // The platform only downloads ModelDataUrl objects that are gzip'd tars (CONTRACT §4.1).
      if (url.startsWith('s3://') && !url.endsWith('.tar.gz')) {
        p.add(`${at}.ModelDataUrl`, `${url} must name a .tar.gz object.`);
      }
      const local = mapUri(url, `${at}.ModelDataUrl`, p);
      if (local !== undefined) {
        spec.model = local;
        spec.modelUri = url;
      }
    }
    if (source) {
      const s3 = r.required(`${at}.ModelDataSource.S3DataSource`, `${at}.ModelDataSource`, 'S3DataSource', source.S3DataSource, (q, v) => r.struct(q, v, 'S3ModelDataSource'));
      if (s3) {
        const sp = `${at}.ModelDataSource.S3DataSource`;
        const uri = r.required(`${sp}.S3Uri`, sp, 'S3Uri', s3.S3Uri, (q, v) => r.string(q, v));
        r.required(`${sp}.S3DataType`, sp, 'S3DataType', s3.S3DataType, (q, v) => r.oneOf(q, v, ['S3Prefix', 'S3Object'] as const));
        r.required(`${sp}.CompressionType`, sp, 'CompressionType', s3.CompressionType, (q, v) => r.oneOf(q, v, ['None', 'Gzip'] as const));
        if (uri !== undefined) {
          const local = mapUri(uri, `${sp}.S3Uri`, p);
          if (local !== undefined) {
            spec.model = local;
            spec.modelUri = uri;
          }
        }
      }
    }
  }
  if (root.EnableNetworkIsolation === true) p.add('EnableNetworkIsolation', 'Network isolation is not supported by this version of sm-local. Set it to false to run locally.');
  if (root.InferenceExecutionConfig !== undefined) p.notice('InferenceExecutionConfig only matters for multi-container models; ignored.');
  if (modelName !== undefined) spec.endpointName = modelName;
  return { spec, ...(modelName !== undefined ? { modelName } : {}), problems: p.problems, notices: p.notices };
}
