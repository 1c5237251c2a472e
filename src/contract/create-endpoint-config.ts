/**
 * Reads a CreateEndpointConfig request (CONTRACT §10.3: the file `aws sagemaker
 * create-endpoint-config --cli-input-json` takes) with the CreateModel requests its variants name,
 * into an endpoint's production variants. Checked as the AWS CLI checks it; every problem with its
 * field path.
 */
import { Problems } from './problems.js';
import { Reader, typeName } from './request-reader.js';
import { MAX_PRODUCTION_VARIANTS, type ModelSpec, type VariantSpec } from './serving-spec.js';

/** Every top-level member of CreateEndpointConfigInput (botocore sagemaker 2017-07-24). */
export const CREATE_ENDPOINT_CONFIG_MEMBERS = [
  'EndpointConfigName', 'ProductionVariants', 'DataCaptureConfig', 'Tags', 'KmsKeyId', 'AsyncInferenceConfig', 'ExplainerConfig',
  'ShadowProductionVariants', 'ExecutionRoleArn', 'VpcConfig', 'EnableNetworkIsolation', 'MetricsConfig',
] as const;

const PRODUCTION_VARIANT_MEMBERS = [
  'VariantName', 'ModelName', 'InitialInstanceCount', 'InstanceType', 'InstancePools', 'VariantInstanceProvisionTimeoutInSeconds',
  'InitialVariantWeight', 'AcceleratorType', 'CoreDumpConfig', 'ServerlessConfig', 'VolumeSizeInGB', 'ModelDataDownloadTimeoutInSeconds',
  'ContainerStartupHealthCheckTimeoutInSeconds', 'EnableSSMAccess', 'ManagedInstanceScaling', 'RoutingConfig', 'InferenceAmiVersion',
  'CapacityReservationConfig',
] as const;

/** Members that change what runs; sm-local does not emulate them, and says so rather than ignore them. */
const NOT_EMULATED = ['ServerlessConfig', 'ShadowProductionVariants', 'ExplainerConfig', 'InstancePools'] as const;

/** AsyncInferenceConfig (CONTRACT §9.6): where answers and failures are written, how many calls an instance takes at once. */
export interface AsyncInferenceSpec {
  outputPath: string;
  failurePath?: string;
  maxConcurrentPerInstance?: number;
}

export interface ParsedEndpointConfig {
  endpointConfigName?: string;
  variants: VariantSpec[];
  /** An asynchronous endpoint's config (InvokeEndpointAsync). */
  asyncInference?: AsyncInferenceSpec;
  problems: Problems['problems'];
  notices: Problems['notices'];
}

/**
 * `models` are the CreateModel requests at hand, by ModelName; each variant's ModelName must name
 * one of them (as CreateEndpointConfig needs the model to exist).
 */
export function parseCreateEndpointConfigRequest(request: unknown, models: ReadonlyMap<string, ModelSpec>): ParsedEndpointConfig {
  const p = new Problems();
  const r = new Reader(p, {
    input: CREATE_ENDPOINT_CONFIG_MEMBERS,
    ProductionVariant: PRODUCTION_VARIANT_MEMBERS,
    AsyncInferenceConfig: ['ClientConfig', 'OutputConfig'],
    AsyncInferenceOutputConfig: ['KmsKeyId', 'S3OutputPath', 'NotificationConfig', 'S3FailurePath'],
    AsyncInferenceClientConfig: ['MaxConcurrentInvocationsPerInstance'],
  });
  const variants: VariantSpec[] = [];
  if (typeName(request) !== 'structure') {
    p.add('', `The request must be a JSON object (the CreateEndpointConfig request shape), not a ${typeName(request)}.`);
    return { variants, problems: p.problems, notices: p.notices };
  }
  const root = r.struct('', request, 'input', { strictMembers: true })!;
  const name = r.required('EndpointConfigName', '', 'EndpointConfigName', root.EndpointConfigName, (q, v) => r.string(q, v));
  if (name !== undefined) p.checkString('EndpointConfigName', name, { min: 1, max: 63, pattern: /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/ });
  for (const member of NOT_EMULATED) if (root[member] !== undefined) p.add(member, 'is not emulated by sm-local; remove it to run the endpoint locally.');
  if (root.DataCaptureConfig !== undefined) p.notice('DataCaptureConfig: sm-local captures no data; ignored.');
  const list = r.required('ProductionVariants', '', 'ProductionVariants', root.ProductionVariants, (q, v) => r.list(q, v));
  if (list && (list.length < 1 || list.length > MAX_PRODUCTION_VARIANTS)) p.add('ProductionVariants', `has ${list.length} variants; an endpoint config has 1 to ${MAX_PRODUCTION_VARIANTS}.`);
  (list ?? []).forEach((raw, i) => {
    const at = `ProductionVariants[${i}]`;
    const v = r.struct(at, raw, 'ProductionVariant');
    if (!v) return;
    for (const member of NOT_EMULATED) if (v[member] !== undefined) p.add(`${at}.${member}`, 'is not emulated by sm-local; give InstanceType and InitialInstanceCount.');
    const variantName = r.required(`${at}.VariantName`, at, 'VariantName', v.VariantName, (q, x) => r.string(q, x));
    const modelName = r.string(`${at}.ModelName`, v.ModelName);
    let model: ModelSpec | undefined;
    if (modelName === undefined) {
      if (models.size === 1) model = [...models.values()][0];
      else p.add(`${at}.ModelName`, `name the model this variant serves: one of ${[...models.keys()].join(', ') || '(no --model-json given)'}.`);
    } else {
      model = models.get(modelName);
      if (!model) p.add(`${at}.ModelName`, `Could not find model "${modelName}": give its CreateModel file with --model-json (given: ${[...models.keys()].join(', ') || 'none'}).`);
    }
    const instanceCount = r.integer(`${at}.InitialInstanceCount`, v.InitialInstanceCount);
    const instanceType = r.string(`${at}.InstanceType`, v.InstanceType);
    const weight = r.number(`${at}.InitialVariantWeight`, v.InitialVariantWeight);
    const startup = r.integer(`${at}.ContainerStartupHealthCheckTimeoutInSeconds`, v.ContainerStartupHealthCheckTimeoutInSeconds);
    if (variantName === undefined || !model) return;
    variants.push({
      variantName,
      model,
      ...(instanceCount !== undefined ? { instanceCount } : {}),
      ...(instanceType !== undefined ? { instanceType } : {}),
      ...(weight !== undefined ? { weight } : {}),
      ...(startup !== undefined ? { startupTimeoutSeconds: startup } : {}),
    });
  });
  const asyncInference = readAsyncInference(r, root.AsyncInferenceConfig);
  return { ...(name !== undefined ? { endpointConfigName: name } : {}), variants, ...(asyncInference ? { asyncInference } : {}), problems: p.problems, notices: p.notices };
}

function readAsyncInference(r: Reader, raw: unknown): AsyncInferenceSpec | undefined {
  const config = r.struct('AsyncInferenceConfig', raw, 'AsyncInferenceConfig');
  if (!config) return undefined;
  const output = r.required('AsyncInferenceConfig.OutputConfig', 'AsyncInferenceConfig', 'OutputConfig', config.OutputConfig, (q, v) => r.struct(q, v, 'AsyncInferenceOutputConfig'));
  const outputPath = output ? r.string('AsyncInferenceConfig.OutputConfig.S3OutputPath', output.S3OutputPath) : undefined;
  const failurePath = output ? r.string('AsyncInferenceConfig.OutputConfig.S3FailurePath', output.S3FailurePath) : undefined;
  if (output && outputPath === undefined) r.p.add('AsyncInferenceConfig.OutputConfig.S3OutputPath', 'is needed locally: where the answers are written.');
  if (output?.NotificationConfig !== undefined) r.p.notice('AsyncInferenceConfig.OutputConfig.NotificationConfig: sm-local sends no SNS notifications; ignored.');
  const client = r.struct('AsyncInferenceConfig.ClientConfig', config.ClientConfig, 'AsyncInferenceClientConfig');
  const max = client ? r.integer('AsyncInferenceConfig.ClientConfig.MaxConcurrentInvocationsPerInstance', client.MaxConcurrentInvocationsPerInstance) : undefined;
  if (max !== undefined) r.p.checkInteger('AsyncInferenceConfig.ClientConfig.MaxConcurrentInvocationsPerInstance', max, { min: 1, max: 1000 });
  if (outputPath === undefined) return undefined;
  return { outputPath, ...(failurePath !== undefined ? { failurePath } : {}), ...(max !== undefined ? { maxConcurrentPerInstance: max } : {}) };
}
