/**
 * The processing contract as data: the request reader, validation with field paths, both config
 * files against CONTRACT's examples, ExitMessage and the describe record.
 */
import { describe, expect, it } from 'vitest';
import { readExample as example } from '../../test/support/examples.js';
import { createUriMapper } from '../config/uri-mapping.js';
import { parseCreateProcessingJobRequest } from './create-processing-job.js';
import { planHosts } from './hosts.js';
import { renderProcessingEnvironment, renderProcessingJobConfig, renderProcessingResourceConfig } from './processing-config.js';
import { resolveProcessingJobSpec, type ProcessingJobSpec } from './processing-spec.js';
import { renderDescribeProcessingJob, renderExitMessage } from './processing-status.js';
import { serializeConfigFile } from './training-config.js';

const now = new Date('2024-05-02T09:58:41.070Z');

function fromExampleRequest() {
  const parsed = parseCreateProcessingJobRequest(JSON.parse(example('api.create-processing-job.request.json')), createUriMapper({ s3Root: '/s3', baseDir: '/jobs' }));
  expect(parsed.problems).toEqual([]);
  const out = resolveProcessingJobSpec({ ...(parsed.spec as ProcessingJobSpec), account: '123456789012' }, { now });
  expect(out.problems).toEqual([]);
  return out.spec!;
}

describe('CreateProcessingJob → processingjobconfig.json and resourceconfig.json', () => {
  it("renders CONTRACT's example request into its example config files, byte for byte", () => {
    const spec = fromExampleRequest();
    expect(spec.inputs[0]).toMatchObject({ source: '/s3/acme-ml-data/churn/raw/2024-05-01/', sourceUri: 's3://acme-ml-data/churn/raw/2024-05-01/', localPath: '/opt/ml/processing/input/raw' });
    expect(spec.outputs[0]).toMatchObject({ destination: '/s3/acme-ml-data/churn/features/2024-05-01/train', s3UploadMode: 'EndOfJob' });
    expect(serializeConfigFile(renderProcessingJobConfig(spec, (n) => `/unused/${n}`))).toBe(example('processing.processingjobconfig.json'));
    const plan = planHosts(spec);
    expect(serializeConfigFile(renderProcessingResourceConfig(plan, plan[0]!))).toBe(example('processing.resourceconfig.json'));
  });

  it('writes null for every optional member the request left out, and the local folders where no URI was given', () => {
    const { spec } = resolveProcessingJobSpec({ image: 'proc:1', inputs: [{ inputName: 'raw', source: '/data/raw' }], outputs: [{ outputName: 'out' }] }, { now });
    const config = renderProcessingJobConfig(spec!, (n) => `/jobs/proc-1/${n}`);
    expect(config).toMatchObject({
      AppSpecification: { ImageUri: 'proc:1', ContainerEntrypoint: null, ContainerArguments: null },
      Environment: null,
      ProcessingOutputConfig: { Outputs: [{ OutputName: 'out', S3Output: { LocalPath: '/opt/ml/processing/output/out', S3Uri: '/jobs/proc-1/out', S3UploadMode: 'EndOfJob' } }], KmsKeyId: null },
      ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 30, VolumeKmsKeyId: null } },
      RoleArn: 'arn:aws:iam::000000000000:role/sm-local',
      StoppingCondition: null,
    });
    expect((config.ProcessingInputs as { S3Input: Record<string, unknown> }[])[0]!.S3Input).toEqual({
      LocalPath: '/opt/ml/processing/input/raw',
      S3Uri: '/data/raw',
      S3DataDistributionType: 'FullyReplicated',
      S3DataType: 'S3Prefix',
      S3InputMode: 'File',
      S3CompressionType: 'None',
      S3DownloadMode: 'StartOfJob',
    });
    const none = renderProcessingJobConfig(resolveProcessingJobSpec({ image: 'proc:1' }, { now }).spec!, () => '');
    expect(none).toMatchObject({ ProcessingInputs: null, ProcessingOutputConfig: null });
  });

  it('gives each host its own resourceconfig.json with the hosts sorted, and the environment with no SM_* variables', () => {
    const plan = planHosts({ instanceType: 'ml.m5.large', instanceCount: 11 });
    expect(renderProcessingResourceConfig(plan, plan[1]!)).toEqual({ current_host: 'algo-2', hosts: plan.map((h) => h.name).sort() });
    expect(renderProcessingResourceConfig(plan, plan[1]!).hosts.slice(0, 3)).toEqual(['algo-1', 'algo-10', 'algo-11']);
    expect(renderProcessingEnvironment({ environment: { LOG_LEVEL: 'INFO', AWS_REGION: 'eu-west-1' }, region: 'us-east-1' })).toEqual({ AWS_REGION: 'eu-west-1', LOG_LEVEL: 'INFO' });
  });
});

describe('validation (CONTRACT §6.4, §10.5)', () => {
  const problemsOf = (input: Partial<ProcessingJobSpec>) => resolveProcessingJobSpec({ image: 'proc:1', ...input }, { now }).problems;
  const paths = (input: Partial<ProcessingJobSpec>) => problemsOf(input).map((p) => p.path);

  it('reports every problem at once with its field path', () => {
    expect(
      paths({
        processingJobName: '-bad-',
        instanceCount: 101,
        volumeSizeInGB: 0,
        containerEntrypoint: [],
        environment: { '1BAD': 'x', OK: 'y'.repeat(257) },
        stoppingCondition: { maxRuntimeInSeconds: 777_601 },
        inputs: Array.from({ length: 11 }, (_, i) => ({ inputName: `i${i}`, source: '/d' })),
      }),
    ).toEqual([
      'ProcessingJobName',
      'Environment key "1BAD"',
      'Environment.OK',
      'ProcessingResources.ClusterConfig.InstanceCount',
      'ProcessingResources.ClusterConfig.VolumeSizeInGB',
      'AppSpecification.ContainerEntrypoint',
      'ProcessingInputs',
      'StoppingCondition.MaxRuntimeInSeconds',
    ]);
  });

  it('keeps every LocalPath under /opt/ml/processing/, one folder per input or output', () => {
    expect(paths({ inputs: [{ inputName: 'a', source: '/d', localPath: '/opt/ml/input/data/a' }] })).toEqual(['ProcessingInputs[0].S3Input.LocalPath']);
    expect(paths({ inputs: [{ inputName: 'a', source: '/d', localPath: '/opt/ml/processing/../model' }] })).toEqual(['ProcessingInputs[0].S3Input.LocalPath']);
    expect(paths({ outputs: [{ outputName: 'o', localPath: '/opt/ml/processing' }] })).toEqual(['ProcessingOutputConfig.Outputs[0].S3Output.LocalPath']);
    const clash = problemsOf({ inputs: [{ inputName: 'a', source: '/d', localPath: '/opt/ml/processing/x/' }], outputs: [{ outputName: 'o', localPath: '/opt/ml/processing/x' }] });
    expect(clash).toEqual([{ path: 'ProcessingOutputConfig.Outputs[0].S3Output.LocalPath', message: expect.stringMatching(/already the LocalPath of input "a"/) }]);
  });

  it('refuses Gzip outside Pipe mode, ManifestFile, names given twice, and an output name that cannot be a folder', () => {
    expect(paths({ inputs: [{ inputName: 'a', source: '/d', s3CompressionType: 'Gzip' }] })).toEqual(['ProcessingInputs[0].S3Input.S3CompressionType']);
    expect(paths({ inputs: [{ inputName: 'a', source: '/d', s3CompressionType: 'Gzip', s3InputMode: 'Pipe' }] })).toEqual([]);
    expect(paths({ inputs: [{ inputName: 'a', source: '/d', s3DataType: 'ManifestFile' }] })).toEqual(['ProcessingInputs[0].S3Input.S3DataType']);
    expect(paths({ outputs: [{ outputName: 'o' }, { outputName: 'o', localPath: '/opt/ml/processing/o2' }] })).toEqual(['ProcessingOutputConfig.Outputs[1].OutputName']);
    expect(paths({ outputs: [{ outputName: 'describe.json' }] })).toEqual(['ProcessingOutputConfig.Outputs[0].OutputName']);
    expect(paths({ outputs: [{ outputName: 'describe.json', destination: '/elsewhere' }] })).toEqual([]);
    // Its default LocalPath (/opt/ml/processing/output/../escape) is refused too.
    expect(paths({ outputs: [{ outputName: '../escape' }] })).toEqual(['ProcessingOutputConfig.Outputs[0].OutputName', 'ProcessingOutputConfig.Outputs[0].S3Output.LocalPath']);
  });
});

describe('the CreateProcessingJob request reader', () => {
  const parse = (request: unknown) => parseCreateProcessingJobRequest(request, createUriMapper({ s3Root: '/s3', baseDir: '/jobs' }));
  it('asks for what the API requires, rejects unknown members, and says what cannot run locally', () => {
    const { problems } = parse({
      ProcessingJobName: 'p',
      AppSpecification: { ImageUri: 'x' },
      ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large' } },
      ProcessingInputs: [{ InputName: 'q', DatasetDefinition: {} }, { InputName: 'r', S3Input: { S3Uri: 's3://b/k', S3DataType: 'S3Prefix' } }],
      ProcessingOutputConfig: { Outputs: [{ OutputName: 'o', S3Output: { S3Uri: 's3://b/o', LocalPath: '/opt/ml/processing/o' } }] },
      Bogus: 1,
    });
    expect(problems.map((p) => p.path)).toEqual([
      'Bogus',
      'RoleArn',
      'ProcessingResources.ClusterConfig.VolumeSizeInGB',
      'ProcessingInputs[0].DatasetDefinition',
      'ProcessingInputs[1].S3Input.LocalPath',
      'ProcessingOutputConfig.Outputs[0].S3Output.S3UploadMode',
    ]);
  });
});

describe('ExitMessage (CONTRACT §6.2)', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  it("concatenates the hosts' messages in host order, then cuts them to 1024 characters", () => {
    expect(renderExitMessage([{ host: 'algo-1', bytes: bytes('a;') }, { host: 'algo-2' }, { host: 'algo-3', bytes: bytes('c') }])).toEqual({ exitMessage: 'a;c' });
    expect(renderExitMessage([{ host: 'algo-1', bytes: bytes('é'.repeat(1000)) }, { host: 'algo-2', bytes: bytes('x'.repeat(100)) }]).exitMessage).toBe(`${'é'.repeat(1000)}${'x'.repeat(24)}`);
    expect(renderExitMessage([{ host: 'algo-1' }])).toEqual({});
  });

  it('turns a message that is not UTF-8 into a ClientError naming the host', () => {
    expect(renderExitMessage([{ host: 'algo-1', bytes: bytes('ok') }, { host: 'algo-2', bytes: Uint8Array.from([0xc3, 0x28]) }])).toEqual({
      clientError: expect.stringMatching(/^ClientError: \/opt\/ml\/output\/message of algo-2 is not valid UTF-8/),
    });
  });

  it('describes a job as DescribeProcessingJob does, secrets masked', () => {
    const spec = resolveProcessingJobSpec({ image: 'proc:1', processingJobName: 'p-1', environment: { API_TOKEN: 'hunter2hunter2' }, outputs: [{ outputName: 'out' }] }, { now }).spec!;
    const d = renderDescribeProcessingJob(spec, {
      times: { status: 'Failed', createdAt: 1000, startedAt: 2000, endedAt: 3500, modifiedAt: 3500 },
      exitMessage: 'bad row',
      failureReason: 'AlgorithmError: See job logs for more information',
      outputDestination: (n) => `/jobs/p-1/${n}`,
      local: { JobDir: '/jobs/p-1' },
    });
    expect(d).toMatchObject({
      ProcessingJobName: 'p-1',
      ProcessingJobArn: 'arn:aws:sagemaker:us-east-1:000000000000:processing-job/p-1',
      ProcessingJobStatus: 'Failed',
      ExitMessage: 'bad row',
      FailureReason: 'AlgorithmError: See job logs for more information',
      CreationTime: 1,
      ProcessingStartTime: 2,
      ProcessingEndTime: 3.5,
      LastModifiedTime: 3.5,
      ProcessingOutputConfig: { Outputs: [{ OutputName: 'out', S3Output: { S3Uri: '/jobs/p-1/out', LocalPath: '/opt/ml/processing/output/out', S3UploadMode: 'EndOfJob' }, AppManaged: false }] },
      NetworkConfig: { EnableNetworkIsolation: false },
      SmLocal: { JobDir: '/jobs/p-1' },
    });
    expect(JSON.stringify(d)).not.toContain('hunter2hunter2');
    expect(d).not.toHaveProperty('StoppingCondition');
  });
});
