import type { UriMapper } from './create-training-job.js';
import { Problems } from './problems.js';
import { Reader, typeName } from './request-reader.js';
import { MAX_MODEL_CONTAINERS, type ContainerSpec, type EndpointSpec } from './serving-spec.js';

/**
 * Reads a CreateModel request (CONTRACT §10.2: the file `aws sagemaker create-model --cli-input-json`
 * takes) into an {@link EndpointSpec}: the PrimaryContainer's image, model data and environment (its
 * model store, for Mode MultiModel), or a multi-container model's Containers and execution mode.
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
  MultiModelConfig: ['ModelCacheSetting'],
  InferenceExecutionConfig: ['Mode'],
  S3ModelDataSource: ['S3Uri', 'S3DataType', 'CompressionType', 'ModelAccessConfig', 'HubAccessConfig', 'ManifestS3Uri', 'ETag', 'ManifestEtag'],
};

const MODEL_NAME = /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;

export interface ParsedModelRequest {
  spec: Partial<EndpointSpec>;
  modelName?: string;
  problems: Problems['problems'];
  notices: Problems['notices'];
}

type Json = Record<string, unknown>;

/** One ContainerDefinition: its image, hostname, environment, model data and mode. */
function readContainer(r: Reader, p: Problems, at: string, container: Json, mapUri: UriMapper): ContainerSpec & { mode?: 'SingleModel' | 'MultiModel'; cacheDisabled?: boolean } {
  const out: ContainerSpec & { mode?: 'SingleModel' | 'MultiModel'; cacheDisabled?: boolean } = { image: '' };
  const image = r.string(`${at}.Image`, container.Image);
  if (image !== undefined) out.image = image;
  const hostname = r.string(`${at}.ContainerHostname`, container.ContainerHostname);
  if (hostname !== undefined) out.hostname = hostname;
  const env = r.stringMap(`${at}.Environment`, container.Environment);
  if (env) out.environment = env;
  const mode = r.oneOf(`${at}.Mode`, container.Mode, ['SingleModel', 'MultiModel'] as const);
  if (mode) out.mode = mode;
  const mmc = r.struct(`${at}.MultiModelConfig`, container.MultiModelConfig, 'MultiModelConfig');
  const cache = mmc ? r.oneOf(`${at}.MultiModelConfig.ModelCacheSetting`, mmc.ModelCacheSetting, ['Enabled', 'Disabled'] as const) : undefined;
  if (cache === 'Disabled') out.cacheDisabled = true;
  if (mmc && mode !== 'MultiModel') p.notice(`${at}.MultiModelConfig only matters with Mode MultiModel; ignored.`);
  for (const member of ['AdditionalModelDataSources', 'ModelPackageName', 'InferenceSpecificationName'] as const) {
    if (container[member] !== undefined) p.add(`${at}.${member}`, `is not supported locally; give Image and ModelDataUrl.`);
  }
  const map = (uri: string, path: string) => {
    const local = mapUri(uri, path, p);
    if (local !== undefined) {
      out.model = local;
      out.modelUri = uri;
    }
  };
  const url = r.string(`${at}.ModelDataUrl`, container.ModelDataUrl);
  const source = r.struct(`${at}.ModelDataSource`, container.ModelDataSource, 'ModelDataSource');
  if (url !== undefined && source) p.add(`${at}.ModelDataSource`, 'give either ModelDataUrl or ModelDataSource, not both.');
  if (url !== undefined) {
    // The platform only downloads ModelDataUrl objects that are gzip'd tars (CONTRACT §4.1); a
    // multi-model container's ModelDataUrl is the prefix its models are under (§7.1).
    if (mode !== 'MultiModel' && url.startsWith('s3://') && !url.endsWith('.tar.gz')) p.add(`${at}.ModelDataUrl`, `${url} must name a .tar.gz object.`);
    map(url, `${at}.ModelDataUrl`);
  }
  if (source) {
    const s3 = r.required(`${at}.ModelDataSource.S3DataSource`, `${at}.ModelDataSource`, 'S3DataSource', source.S3DataSource, (q, v) => r.struct(q, v, 'S3ModelDataSource'));
    if (s3) {
      const sp = `${at}.ModelDataSource.S3DataSource`;
      const uri = r.required(`${sp}.S3Uri`, sp, 'S3Uri', s3.S3Uri, (q, v) => r.string(q, v));
      r.required(`${sp}.S3DataType`, sp, 'S3DataType', s3.S3DataType, (q, v) => r.oneOf(q, v, ['S3Prefix', 'S3Object'] as const));
      r.required(`${sp}.CompressionType`, sp, 'CompressionType', s3.CompressionType, (q, v) => r.oneOf(q, v, ['None', 'Gzip'] as const));
      if (uri !== undefined) map(uri, `${sp}.S3Uri`);
    }
  }
  if (mode === 'MultiModel' && out.model === undefined) p.add(`${at}.ModelDataUrl`, 'a MultiModel container needs ModelDataUrl: the S3 prefix its model archives are under.');
  return out;
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

  const primary = r.struct('PrimaryContainer', root.PrimaryContainer, 'ContainerDefinition');
  const list = r.list('Containers', root.Containers);
  if (list && root.PrimaryContainer !== undefined) p.add('Containers', 'give either PrimaryContainer or Containers, not both.');
  if (root.PrimaryContainer === undefined && !list) p.add('PrimaryContainer', 'Missing required parameter in input: "PrimaryContainer" (or "Containers")');
  if (list && list.length === 0) p.add('Containers', 'must hold at least 1 container.');
  if (list && list.length > MAX_MODEL_CONTAINERS) p.add('Containers', `has ${list.length} containers; a model may have at most ${MAX_MODEL_CONTAINERS}.`);
  const containers = primary
    ? [readContainer(r, p, 'PrimaryContainer', primary, mapUri)]
    : (list ?? []).flatMap((c, i) => {
        const read = r.struct(`Containers[${i}]`, c, 'ContainerDefinition');
        return read ? [readContainer(r, p, `Containers[${i}]`, read, mapUri)] : [];
      });
  const multi = containers.length > 1;
  containers.forEach((c, i) => {
    if (multi && c.mode === 'MultiModel') p.add(`Containers[${i}].Mode`, 'a multi-model container is served as a single-container model in sm-local; give one container.');
  });
  if (!multi && containers[0]) {
    const [{ mode, cacheDisabled, hostname, ...one }] = containers as [(typeof containers)[number]];
    if (hostname !== undefined) p.notice(`${primary ? 'PrimaryContainer' : 'Containers[0]'}.ContainerHostname only matters for multi-container models; ignored.`);
    if (mode === 'MultiModel') {
      // A multi-model container's ModelDataUrl is its model store (CONTRACT §7.1).
      const { model, modelUri: _uri, ...rest } = one;
      Object.assign(spec, rest, model !== undefined ? { multiModel: model } : {}, cacheDisabled ? { modelCacheDisabled: true } : {});
    } else Object.assign(spec, one);
  }
  if (multi) {
    spec.containers = containers.map(({ mode: _m, cacheDisabled: _c, ...c }) => c);
    if (containers[0]?.image) spec.image = containers[0].image;
  }
  const exec = r.struct('InferenceExecutionConfig', root.InferenceExecutionConfig, 'InferenceExecutionConfig');
  if (exec) {
    const mode = r.required('InferenceExecutionConfig.Mode', 'InferenceExecutionConfig', 'Mode', exec.Mode, (q, v) => r.oneOf(q, v, ['Serial', 'Direct'] as const));
    if (mode && multi) spec.executionMode = mode;
    else if (mode) p.notice('InferenceExecutionConfig only matters for multi-container models; ignored.');
  }
  if (root.EnableNetworkIsolation === true) p.add('EnableNetworkIsolation', 'Network isolation is not supported by this version of sm-local. Set it to false to run locally.');
  if (modelName !== undefined) {
    spec.endpointName = modelName;
    spec.modelName = modelName;
  }
  return { spec, ...(modelName !== undefined ? { modelName } : {}), problems: p.problems, notices: p.notices };
}
