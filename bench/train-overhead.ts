/**
 * bench/train-overhead: `sm-local train` against a bare `docker run --rm` of the same image with the
 * same /opt/ml layout prepared by hand (config files, read-only channel, writable model/output/
 * checkpoints), 10+ runs each, interleaved. A third variant adds the per-job network sm-local creates
 * (so `algo-1` resolves to the container's own address) to show what that part costs.
 *
 * Usage: tsx bench/train-overhead.ts [rounds=10] [epochs=3000] [--example-only]
 * Targets (issue 16): ratio ≤ 1.05 on the example workload (the bundled logistic regression), ≤ 1.15 on the trivial one.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerClient } from '../src/docker/client.js';
import { BASE_BUSYBOX, EXAMPLE_IMAGE, ensureBusyboxBase, ensureExample, ensurePythonBase, REPO_ROOT } from '../scripts/lib/images.js';
import { CLI_BIN as BIN } from '../scripts/lib/paths.js';
import { interleave, stats, table, timeCommand, verdict } from './lib.js';

const rounds = Number(process.argv[2] ?? 10);
const epochs = Number(process.argv[3] ?? 3000);
const DATA = join(REPO_ROOT, 'examples', 'logistic-regression', 'data');
const work = join(REPO_ROOT, 'bench', '.data', 'train-overhead');

const docker = new DockerClient();
await docker.ping();
await ensureBusyboxBase(docker);
await ensurePythonBase(docker);
await ensureExample(docker);

/** The layout sm-local builds, prepared by hand in a host folder for `docker run -v`. */
function handLayout(name: string, hyperParameters: Record<string, string>, channels: string[]): string[] {
  const root = join(work, name);
  rmSync(root, { recursive: true, force: true });
  for (const d of ['input/config', 'model', 'output/data', 'checkpoints']) mkdirSync(join(root, d), { recursive: true });
  const entry = { TrainingInputMode: 'File', S3DistributionType: 'FullyReplicated', RecordWrapperType: 'None' };
  writeFileSync(join(root, 'input/config/hyperparameters.json'), JSON.stringify(hyperParameters));
  writeFileSync(join(root, 'input/config/inputdataconfig.json'), JSON.stringify(Object.fromEntries(channels.map((c) => [c, entry]))));
  writeFileSync(join(root, 'input/config/resourceconfig.json'), JSON.stringify({ current_host: 'algo-1', hosts: ['algo-1'], network_interface_name: 'eth0' }));
  return [
    '-v', `${root}/input:/opt/ml/input`,
    ...channels.flatMap((c) => ['-v', `${DATA}/${c}:/opt/ml/input/data/${c}:ro`]),
    '-v', `${root}/model:/opt/ml/model`,
    '-v', `${root}/output:/opt/ml/output`,
    '-v', `${root}/checkpoints:/opt/ml/checkpoints`,
  ];
}

let seq = 0;
async function withNetwork(run: (net: string) => Promise<number>): Promise<number> {
  const start = process.hrtime.bigint();
  const net = `sm-local-bench-${process.pid}-${seq++}`;
  await timeCommand('docker', ['network', 'create', net]);
  try {
    await run(net);
  } finally {
    await timeCommand('docker', ['network', 'rm', net]);
  }
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const outputDir = join(work, 'sm-local-output');
const workloads = [
  {
    title: `example workload: ${EXAMPLE_IMAGE}, epochs=${epochs}`,
    image: EXAMPLE_IMAGE,
    hps: { epochs: String(epochs) } as Record<string, string>,
    channels: ['train', 'validation'],
    dockerArgs: [] as string[],
    smArgs: [] as string[],
    target: 1.05,
  },
  {
    title: `trivial workload: ${BASE_BUSYBOX} running \`true\` (fixed overhead, worst case)`,
    image: BASE_BUSYBOX,
    hps: {} as Record<string, string>,
    channels: [] as string[],
    dockerArgs: ['--entrypoint', 'true'],
    smArgs: ['--entrypoint', 'true'],
    target: 1.15,
  },
];

const report: string[] = [];
for (const w of process.argv.includes('--example-only') ? workloads.slice(0, 1) : workloads) {
  process.stderr.write(`${w.title}\n`);
  const mounts = handLayout(w.image.replace(/\W+/g, '-'), w.hps, w.channels);
  const dockerRun = (extra: string[] = []) => ['run', '--rm', ...extra, ...mounts, ...w.dockerArgs, w.image, ...(w.dockerArgs.length ? [] : ['train'])];
  const series = await interleave(rounds, [
    { name: 'docker run --rm', run: () => timeCommand('docker', dockerRun()) },
    { name: 'docker run --rm + job network', run: () => withNetwork((net) => timeCommand('docker', dockerRun(['--network', net, '--network-alias', 'algo-1']))) },
    {
      name: 'sm-local train',
      run: () => {
        rmSync(outputDir, { recursive: true, force: true });
        return timeCommand(BIN, ['train', w.image, '--output', outputDir, ...w.smArgs, ...Object.entries(w.hps).flatMap(([k, v]) => ['--hyperparameter', `${k}=${v}`]), ...w.channels.flatMap((c) => ['--channel', `${c}=${DATA}/${c}`])]);
      },
    },
  ]);
  const ratio = stats(series[2]!.samples).median / stats(series[0]!.samples).median;
  const overhead = stats(series[2]!.samples).median - stats(series[0]!.samples).median;
  report.push(
    table(w.title, series, 'docker run --rm'),
    w.target
      ? `target ratio ≤ ${w.target}: ${verdict(ratio, w.target)}; at this fixed cost (${overhead.toFixed(0)} ms) the target holds for jobs of ${(overhead / (w.target - 1) / 1000).toFixed(1)} s and longer`
      : 'no target (shows the fixed cost per job)',
    '',
  );
}
rmSync(work, { recursive: true, force: true });
console.log(report.join('\n'));
