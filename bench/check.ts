/**
 * bench/check: `sm-local check IMAGE --static` (the image checks: inspect, history, a created but
 * never started container to look up programs, toolkits and /opt/ml files) against the floor: the
 * least a person could do by hand to see the same configuration and one file, `docker create` +
 * `docker inspect` + `docker cp` of one path + `docker rm`. Both on the bundled example image.
 *
 * The same pair again in-process, where no process start blurs it: runConformanceCheck({ staticOnly })
 * against the same four steps through the Engine API (create, inspect, one file's archive, remove).
 *
 * Usage: tsx bench/check.ts [rounds=10]
 * Targets: CLI ratio ≤ 1.5; library ratio ≤ 2.0.
 */
import { randomBytes } from 'node:crypto';
import { DockerClient } from '../src/docker/client.js';
import { runConformanceCheck } from '../src/jobs/check-runner.js';
import { silentLogger } from '../src/log.js';
import { EXAMPLE_IMAGE, ensureExample, ensurePythonBase } from '../scripts/lib/images.js';
import { CLI_BIN } from '../scripts/lib/paths.js';
import { interleave, stats, table, timeCommand, verdict } from './lib.js';

const rounds = Number(process.argv[2] ?? 10);
const docker = new DockerClient();
await docker.ping();
await ensurePythonBase(docker);
await ensureExample(docker);

async function floor(): Promise<number> {
  const start = process.hrtime.bigint();
  const name = `sm-local-bench-check-${process.pid}`;
  await timeCommand('docker', ['create', '--name', name, EXAMPLE_IMAGE, 'train']);
  await timeCommand('docker', ['inspect', name]);
  await timeCommand('docker', ['cp', `${name}:/opt/program/logreg.py`, '-']);
  await timeCommand('docker', ['rm', name]);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const series = await interleave(rounds, [
  { name: 'docker create+inspect+cp+rm', run: floor },
  { name: 'sm-local check --static', run: () => timeCommand(CLI_BIN, ['check', EXAMPLE_IMAGE, '--static'], { env: { ...process.env, NO_COLOR: '1' } }) },
]);
console.log(table('bench/check: image checks of the example image', series, 'docker create+inspect+cp+rm'));
const ratio = stats(series[1]!.samples).median / stats(series[0]!.samples).median;
console.log(`target ≤ 1.5: ${verdict(ratio, 1.5)}`);

const owner = { session: `bench-${randomBytes(3).toString('hex')}`, pid: process.pid, hostname: 'bench' };
async function apiFloor(): Promise<number> {
  const start = process.hrtime.bigint();
  const c = await docker.createContainer({ image: EXAMPLE_IMAGE, name: `sm-local-bench-check-api-${process.pid}`, cmd: ['train'], env: [], labels: {} });
  await docker.inspectImage(EXAMPLE_IMAGE);
  const tar = await c.getArchive('/opt/program/logreg.py');
  if (tar) for await (const _ of tar) void _;
  await c.remove();
  return Number(process.hrtime.bigint() - start) / 1e6;
}
async function library(): Promise<number> {
  const start = process.hrtime.bigint();
  const report = await runConformanceCheck({ image: EXAMPLE_IMAGE, staticOnly: true }, { docker, log: silentLogger, owner });
  if (report.verdict !== 'pass') throw new Error(`the example image failed its image checks: ${JSON.stringify(report.checks.filter((c) => c.status === 'fail'))}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}
const inProcess = await interleave(rounds, [
  { name: 'API create+inspect+archive+remove', run: apiFloor },
  { name: 'runConformanceCheck static', run: library },
]);
console.log(table('bench/check: the same in-process', inProcess, 'API create+inspect+archive+remove'));
const libRatio = stats(inProcess[1]!.samples).median / stats(inProcess[0]!.samples).median;
console.log(`target ≤ 2.0: ${verdict(libRatio, 2.0)}`);
