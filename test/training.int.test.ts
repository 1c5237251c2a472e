import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureTag } from '../scripts/lib/images.js';
import { planHosts, renderResourceConfig } from '../src/contract/hosts.js';
import { serializeConfigFile } from '../src/contract/training-config.js';
import { runTrainingJob, type TrainingResult, type TransferMode } from '../src/index.js';
import { readExample } from './support/examples.js';
import { dockerUnavailable, useTestSession } from './support/session.js';
import { readTarGz, tarJson, tarNames } from './support/tarballs.js';

/** What the reporter fixture saw inside the container (fixtures/images/programs/report.py). */
interface Report {
  argv: string[];
  env: Record<string, string>;
  hostname: string;
  current_host_resolves_to: string;
  config: Record<string, { raw: string; json: unknown }>;
  tree: { path: string; type: string; mode: string }[];
  channels: Record<string, Record<string, string>>;
  writable: Record<string, boolean>;
  image_code_visible: boolean;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe.skipIf(dockerUnavailable())('runTrainingJob on a real engine', () => {
  const s = useTestSession();
  const data = s.dir('data');
  mkdirSync(join(data, 'train', 'part-1'), { recursive: true });
  writeFileSync(join(data, 'train', 'a.csv'), '1,2,3\n');
  writeFileSync(join(data, 'train', 'part-1', 'b.csv'), '4,5,6\n');
  writeFileSync(join(data, 'labels.csv'), 'label\n1\n');
  const hyperParameters = JSON.parse(readExample('training.hyperparameters.json')) as Record<string, string>;

  async function report(transfer: TransferMode): Promise<{ result: TrainingResult; report: Report; lines: { line: string; source: string }[] }> {
    const { deps, lines } = s.deps();
    const result = await runTrainingJob(
      {
        image: fixtureTag('reporter'),
        trainingJobName: `reporter-${transfer}-${s.session}`,
        hyperParameters,
        channels: [
          { channelName: 'train', source: join(data, 'train'), contentType: 'text/csv', s3DataDistributionType: 'ShardedByS3Key' },
          { channelName: 'labels', source: join(data, 'labels.csv') },
        ],
        environment: { LOG_FORMAT: 'json', MY_FLAG: 'on' },
        instanceType: 'ml.m5.xlarge',
        outputDir: s.dir('output'),
        transfer,
      },
      deps,
    );
    return { result, report: await tarJson<Report>(result.modelArtifact!, 'report.json'), lines };
  }

  describe.each(['mount', 'copy'] as const)('transfer=%s', (transfer) => {
    it('builds /opt/ml, the config files and the environment as CONTRACT §3 says, and packs the model', async () => {
      const { result, report: r, lines } = await report(transfer);

      // §2.1: no ENTRYPOINT, so Docker runs the `train` program from PATH with no further arguments.
      expect(r.argv).toEqual(['/usr/local/bin/train']);

      // §3.3–3.5, byte for byte.
      expect(r.config['hyperparameters.json']!.raw).toBe(readExample('training.hyperparameters.json'));
      expect(r.config['resourceconfig.json']!.raw).toBe(readExample('training.resourceconfig.single-host.json'));
      expect(r.config['resourceconfig.json']!.raw).toBe(serializeConfigFile(renderResourceConfig(planHosts({ instanceType: 'ml.m5.xlarge', instanceCount: 1 }), planHosts({ instanceType: 'ml.m5.xlarge', instanceCount: 1 })[0]!)));
      expect(r.config['inputdataconfig.json']!.json).toEqual({
        train: { ContentType: 'text/csv', TrainingInputMode: 'File', S3DistributionType: 'ShardedByS3Key', RecordWrapperType: 'None' },
        labels: { TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' },
      });

      // §3.7: the platform's variables and the user's, no SM_* (those come from the toolkit).
      expect(r.env).toMatchObject({
        TRAINING_JOB_NAME: result.trainingJobName,
        TRAINING_JOB_ARN: `arn:aws:sagemaker:us-east-1:000000000000:training-job/${result.trainingJobName.toLowerCase()}`,
        AWS_REGION: 'us-east-1',
        LOG_FORMAT: 'json',
        MY_FLAG: 'on',
      });
      expect(Object.keys(r.env).filter((k) => k.startsWith('SM_'))).toEqual([]);

      // §3.5: an EC2-style host name, while algo-1 resolves to the container's own address.
      expect(r.hostname).toMatch(/^ip-10-0-\d+-\d+\.ec2\.internal$/);
      expect(r.current_host_resolves_to).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
      expect(r.current_host_resolves_to).not.toMatch(/^127\./);

      // §3.2: the layout, the channel data, what is writable; the image's own /opt/ml/code stays.
      const dirs = r.tree.filter((e) => e.type === 'dir').map((e) => e.path);
      expect(dirs).toEqual(
        expect.arrayContaining(['/opt/ml/input/config', '/opt/ml/input/data/train', '/opt/ml/input/data/labels', '/opt/ml/model', '/opt/ml/output/data', '/opt/ml/checkpoints', '/opt/ml/code']),
      );
      expect(r.channels).toEqual({
        train: { 'a.csv': sha256(join(data, 'train', 'a.csv')), 'part-1/b.csv': sha256(join(data, 'train', 'part-1', 'b.csv')) },
        labels: { 'labels.csv': sha256(join(data, 'labels.csv')) },
      });
      expect(r.writable).toMatchObject({
        '/opt/ml/model': true,
        '/opt/ml/output': true,
        '/opt/ml/output/data': true,
        '/opt/ml/checkpoints': true,
        '/opt/ml/input/config': true,
        '/opt/ml/code': true,
      });
      expect(r.writable['/opt/ml/input/data/train']).toBe(transfer === 'copy');
      expect(r.image_code_visible).toBe(true);

      // §3.9: model.tar.gz holds /opt/ml/model at its root; output.tar.gz only /opt/ml/output/data.
      expect(await tarNames(result.modelArtifact!)).toEqual(['nested/', 'nested/weights.bin', 'report.json']);
      expect(await tarNames(result.outputArtifact!)).toEqual(['report.json']);
      expect((await readTarGz(result.modelArtifact!)).find((e) => e.name === 'nested/weights.bin')!.body.length).toBeGreaterThan(0);

      // describe.json and the log stay in the job folder.
      const describe = JSON.parse(readFileSync(result.describeFile, 'utf8')) as Record<string, unknown>;
      expect(describe).toMatchObject({ TrainingJobName: result.trainingJobName, TrainingJobStatus: 'Completed', SecondaryStatus: 'Completed', ModelArtifacts: { S3ModelArtifacts: result.modelArtifact } });
      expect((describe.SecondaryStatusTransitions as { Status: string }[]).map((t) => t.Status)).toEqual(['Starting', 'Downloading', 'Training', 'Uploading', 'Completed']);
      expect(readFileSync(result.logFile, 'utf8')).toContain('reporter: done\n');
      expect(lines).toContainEqual({ line: 'reporter: done', source: 'algo-1' });
    });
  });

  it('gives the container the same view in both transfer modes', async () => {
    const strip = (r: Report) => {
      const { env, hostname: _h, current_host_resolves_to: _ip, writable, ...rest } = r;
      const { HOSTNAME: _hn, TRAINING_JOB_NAME: _n, TRAINING_JOB_ARN: _a, ...stableEnv } = env;
      const { '/opt/ml/input/data/train': _t, '/opt/ml/input/data/labels': _l, ...stableWritable } = writable;
      return { ...rest, env: stableEnv, writable: stableWritable, config: { ...rest.config, 'resourceconfig.json': rest.config['resourceconfig.json'] } };
    };
    const [mount, copy] = [await report('mount'), await report('copy')];
    expect(strip(copy.report)).toEqual(strip(mount.report));
    expect(await tarNames(copy.result.modelArtifact!)).toEqual(await tarNames(mount.result.modelArtifact!));
  });

  it('writes each job to its own folder under the output dir', async () => {
    const outputDir = s.dir('output');
    const { deps } = s.deps();
    const result = await runTrainingJob({ image: fixtureTag('reporter'), outputDir }, deps);
    expect(result.jobDir).toBe(join(outputDir, result.trainingJobName));
    expect(result.trainingJobName).toMatch(/^reporter-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-\d{3}$/);
    for (const f of ['model.tar.gz', 'output.tar.gz', 'describe.json', 'algo-1.log']) expect(existsSync(join(result.jobDir, f)), f).toBe(true);
  });

  it('--keep leaves the container (with its /opt/ml) for debugging, and the network of an isolated job', async () => {
    const { deps } = s.deps();
    const result = await runTrainingJob({ image: fixtureTag('reporter'), outputDir: s.dir(), keep: true }, deps);
    expect(result.kept?.containerIds[0]).toMatch(/^[0-9a-f]{64}$/);
    const left = await s.docker.listManaged([`sm-local.session=${s.session}`, `sm-local.job-name=${result.trainingJobName}`]);
    expect(left.filter((r) => r.kind === 'container').map((r) => r.id)).toEqual([result.kept!.containerIds[0]]);
    // It ran on the shared job network, which is no job's to keep.
    expect(result.kept!.network).toBeUndefined();
    expect(left.filter((r) => r.kind === 'network')).toEqual([]);
    await expect(s.dockerode.getContainer(result.kept!.containerIds[0]!).getArchive({ path: '/opt/ml/model/report.json' })).resolves.toBeTruthy();
    // The session's afterAll would flag these as leftovers: remove them as a user would.
    await s.docker.removeContainer(result.kept!.containerIds[0]!);
    const isolated = await runTrainingJob({ image: fixtureTag('reporter'), outputDir: s.dir(), keep: true, enableNetworkIsolation: true }, deps);
    const leftIsolated = await s.docker.listManaged([`sm-local.session=${s.session}`, `sm-local.job-name=${isolated.trainingJobName}`]);
    expect(leftIsolated.filter((r) => r.kind === 'network').map((r) => r.name)).toEqual([isolated.kept!.network]);
    await s.docker.removeContainer(isolated.kept!.containerIds[0]!);
    await s.docker.removeNetwork(isolated.kept!.network!);
  });
});
