/**
 * bench/process: `sm-local process` against a bare `docker run --rm` of the same image with the same
 * layout prepared by hand (/opt/ml/config with both files, the input bound read-only, a writable
 * output folder), interleaved. Two workloads: the one-image pipeline's preprocessing step on the
 * bundled data (1000 rows), and a trivial job (`true` in busybox) that shows the fixed cost per job.
 *
 * Usage: tsx bench/process.ts [rounds=10]
 * Target: ratio ≤ 1.15 on the preprocessing workload (training's target for the same fixed cost).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerClient } from '../src/docker/client.js';
import { BASE_BUSYBOX, ensureBusyboxBase, ensureExample, ensurePythonBase, PIPELINE_IMAGE, REPO_ROOT } from '../scripts/lib/images.js';
import { CLI_BIN as BIN } from '../scripts/lib/paths.js';
import { interleave, stats, table, timeCommand, verdict } from './lib.js';

const rounds = Number(process.argv[2] ?? 10);
const DATA = join(REPO_ROOT, 'examples', 'logistic-regression', 'data');
const work = join(REPO_ROOT, 'bench', '.data', 'process');

const docker = new DockerClient();
await docker.ping();
await ensureBusyboxBase(docker);
await ensurePythonBase(docker);
await ensureExample(docker);

const INPUT = '/opt/ml/processing/input/raw';
const outputsOf = (names: string[]) => names.map((n) => ({ name: n, path: `/opt/ml/processing/output/${n}` }));

/** The layout sm-local builds, prepared by hand in a host folder for `docker run -v`. */
function handLayout(name: string, image: string, entrypoint: string[], outputs: { name: string; path: string }[]): string[] {
  const root = join(work, name);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'config'), { recursive: true });
  mkdirSync(join(root, 'output'), { recursive: true });
  for (const o of outputs) mkdirSync(join(root, 'out', o.name), { recursive: true });
  const config = {
    ProcessingJobArn: `arn:aws:sagemaker:us-east-1:000000000000:processing-job/${name}`,
    ProcessingJobName: name,
    AppSpecification: { ImageUri: image, ContainerEntrypoint: entrypoint, ContainerArguments: null },
    Environment: null,
    ProcessingInputs: [{ InputName: 'raw', S3Input: { LocalPath: INPUT, S3Uri: DATA, S3DataDistributionType: 'FullyReplicated', S3DataType: 'S3Prefix', S3InputMode: 'File', S3CompressionType: 'None', S3DownloadMode: 'StartOfJob' } }],
    ProcessingOutputConfig: { Outputs: outputs.map((o) => ({ OutputName: o.name, S3Output: { LocalPath: o.path, S3Uri: join(root, 'out', o.name), S3UploadMode: 'EndOfJob' } })), KmsKeyId: null },
    ProcessingResources: { ClusterConfig: { InstanceCount: 1, InstanceType: 'ml.m5.large', VolumeSizeInGB: 30, VolumeKmsKeyId: null } },
    RoleArn: 'arn:aws:iam::000000000000:role/sm-local',
    StoppingCondition: null,
  };
  writeFileSync(join(root, 'config', 'processingjobconfig.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(root, 'config', 'resourceconfig.json'), JSON.stringify({ current_host: 'algo-1', hosts: ['algo-1'] }, null, 2));
  return [
    '-v', `${root}/config:/opt/ml/config`,
    '-v', `${root}/output:/opt/ml/output`,
    '-v', `${DATA}:${INPUT}:ro`,
    ...outputs.flatMap((o) => ['-v', `${join(root, 'out', o.name)}:${o.path}`]),
    '--entrypoint', entrypoint[0]!,
  ];
}

const outputDir = join(work, 'sm-local-output');
const workloads = [
  {
    title: `preprocessing: ${PIPELINE_IMAGE} preprocess.py on the bundled data (1000 rows)`,
    image: PIPELINE_IMAGE,
    entrypoint: ['python3', '-u', '/opt/program/preprocess.py'],
    outputs: outputsOf(['train', 'validation']),
    target: 1.15,
  },
  { title: `trivial: ${BASE_BUSYBOX} running \`true\` (fixed overhead, worst case)`, image: BASE_BUSYBOX, entrypoint: ['true'], outputs: outputsOf(['out']), target: undefined },
];

const report: string[] = [];
for (const w of workloads) {
  process.stderr.write(`${w.title}\n`);
  const layout = handLayout(w.image.replace(/\W+/g, '-'), w.image, w.entrypoint, w.outputs);
  const series = await interleave(rounds, [
    { name: 'docker run --rm', run: () => timeCommand('docker', ['run', '--rm', ...layout, w.image, ...w.entrypoint.slice(1)]) },
    {
      name: 'sm-local process',
      run: () => {
        rmSync(outputDir, { recursive: true, force: true });
        return timeCommand(BIN, [
          'process', w.image, '--output-dir', outputDir, '--entrypoint', JSON.stringify(w.entrypoint),
          '--input', `raw=${DATA}:${INPUT}`, ...w.outputs.flatMap((o) => ['--output', `${o.name}=${o.path}`]),
        ]);
      },
    },
  ]);
  const ratio = stats(series[1]!.samples).median / stats(series[0]!.samples).median;
  const overhead = stats(series[1]!.samples).median - stats(series[0]!.samples).median;
  report.push(
    table(w.title, series, 'docker run --rm'),
    w.target ? `target ratio ≤ ${w.target}: ${verdict(ratio, w.target)}; fixed cost ${overhead.toFixed(0)} ms` : 'no target (shows the fixed cost per job)',
    '',
  );
}
rmSync(work, { recursive: true, force: true });
console.log(report.join('\n'));
