/**
 * bench/multihost: wall time of a 4-host trivial job under `sm-local train --instance-count 4`
 * against 4 bare `docker run --rm` started in parallel (the same image and command, each with its
 * /opt/ml layout prepared by hand). A third variant puts the 4 bare runs on one network with the
 * host names as aliases, which is what a multi-host job needs at the least.
 *
 * A second workload, every host sleeping 5 s, shows how the fixed cost weighs on a job that does
 * something.
 *
 * Usage: tsx bench/multihost.ts [rounds=10] [hosts=4]
 * Target (issue 16): ratio ≤ 1.2 (on the trivial job).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerClient } from '../src/docker/client.js';
import { BASE_BUSYBOX, ensureBusyboxBase, REPO_ROOT } from '../scripts/lib/images.js';
import { CLI_BIN as BIN } from '../scripts/lib/paths.js';
import { interleave, stats, table, timeCommand, verdict } from './lib.js';

const rounds = Number(process.argv[2] ?? 10);
const hostCount = Number(process.argv[3] ?? 4);
const work = join(REPO_ROOT, 'bench', '.data', 'multihost');
const hosts = Array.from({ length: hostCount }, (_, i) => `algo-${i + 1}`);

const docker = new DockerClient();
await docker.ping();
await ensureBusyboxBase(docker);

/** Each host's /opt/ml prepared by hand, as `-v` flags. */
function handLayout(host: string): string[] {
  const root = join(work, host);
  rmSync(root, { recursive: true, force: true });
  for (const d of ['input/config', 'model', 'output/data', 'checkpoints']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'input/config/hyperparameters.json'), '{}');
  writeFileSync(join(root, 'input/config/inputdataconfig.json'), '{}');
  writeFileSync(join(root, 'input/config/resourceconfig.json'), JSON.stringify({ current_host: host, hosts, network_interface_name: 'eth0' }));
  return ['-v', `${root}/input:/opt/ml/input`, '-v', `${root}/model:/opt/ml/model`, '-v', `${root}/output:/opt/ml/output`, '-v', `${root}/checkpoints:/opt/ml/checkpoints`];
}
const layouts = Object.fromEntries(hosts.map((h) => [h, handLayout(h)]));

let seq = 0;
const report: string[] = [];
const workloads = [
  { title: `${hostCount}-host trivial job: ${BASE_BUSYBOX} running \`true\` on every host`, program: ['true'], target: 1.2 },
  { title: `${hostCount}-host 5-second job: ${BASE_BUSYBOX} running \`sleep 5\` on every host`, program: ['sleep', '5'], target: undefined },
];
for (const w of workloads) {
  const [entrypoint, ...args] = w.program as [string, ...string[]];
  const bareRun = (host: string, extra: string[] = []) => ['run', '--rm', ...extra, ...layouts[host]!, '--entrypoint', entrypoint, BASE_BUSYBOX, ...args];
  const parallelBare = async (): Promise<number> => {
    const start = process.hrtime.bigint();
    await Promise.all(hosts.map((h) => timeCommand('docker', bareRun(h))));
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const parallelBareOnNetwork = async (): Promise<number> => {
    const start = process.hrtime.bigint();
    const net = `sm-local-bench-${process.pid}-${seq++}`;
    await timeCommand('docker', ['network', 'create', net]);
    try {
      await Promise.all(hosts.map((h) => timeCommand('docker', bareRun(h, ['--network', net, '--network-alias', h]))));
    } finally {
      await timeCommand('docker', ['network', 'rm', net]);
    }
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const outputDir = join(work, 'sm-local-output');
  process.stderr.write(`${w.title}\n`);
  const series = await interleave(w.target ? rounds : Math.max(3, Math.ceil(rounds / 2)), [
    { name: `${hostCount} × docker run --rm, parallel`, run: parallelBare },
    { name: '… + one network with host aliases', run: parallelBareOnNetwork },
    {
      name: `sm-local train --instance-count ${hostCount}`,
      run: () => {
        rmSync(outputDir, { recursive: true, force: true });
        return timeCommand(BIN, ['train', BASE_BUSYBOX, '--instance-count', String(hostCount), '--entrypoint', entrypoint, ...args.flatMap((a) => ['--arg', a]), '--output', outputDir]);
      },
    },
  ]);
  const ratio = stats(series[2]!.samples).median / stats(series[0]!.samples).median;
  const vsNetwork = stats(series[2]!.samples).median / stats(series[1]!.samples).median;
  report.push(
    table(w.title, series, series[0]!.name),
    `${w.target ? `target ratio ≤ ${w.target}: ${verdict(ratio, w.target)}` : 'no target'}; against the bare runs on one network: ${vsNetwork.toFixed(3)}`,
    '',
  );
}
rmSync(work, { recursive: true, force: true });
console.log(report.join('\n'));
