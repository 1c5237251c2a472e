/**
 * bench/check: `sm-local check IMAGE --static` (the image checks: inspect, history, a created but
 * never started container to look up programs, toolkits and /opt/ml files) against the floor: the
 * least a person could do by hand to see the same configuration and one file, `docker create` +
 * `docker inspect` + `docker cp` of one path + `docker rm`. Both on the bundled example image.
 *
 * The same pair again in-process, where no process start blurs it: runConformanceCheck({ staticOnly })
 * against the same four steps through the Engine API (create, inspect, one file's archive, remove).
 *
 * Then every check (`sm-local check` in examples/logistic-regression: three training runs, an endpoint
 * on the trained model with its probes, and one with no network) against what it must at least run:
 * the example's training job as a bare `docker run --rm` with its data mounted.
 *
 * Usage: tsx bench/check.ts [rounds=10]
 * Targets: CLI ratio ≤ 1.5; library ratio ≤ 2.0; all checks ≤ 5 s.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerClient } from '../src/docker/client.js';
import { runConformanceCheck } from '../src/jobs/check-runner.js';
import { silentLogger } from '../src/log.js';
import { EXAMPLE_IMAGE, ensureExample, ensurePythonBase, REPO_ROOT } from '../scripts/lib/images.js';
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

// Every check, as a user runs it in the example's folder (its sm-local.check.json).
const exampleDir = join(REPO_ROOT, 'examples', 'logistic-regression');
const fullOut = mkdtempSync(join(tmpdir(), 'sm-local-bench-check-'));
const cfg = JSON.parse(readFileSync(join(exampleDir, 'sm-local.check.json'), 'utf8')) as { hyperparameters: Record<string, string> };
const bareTraining = () => {
  const cfgDir = mkdtempSync(join(tmpdir(), 'sm-local-bench-check-cfg-'));
  mkdirSync(join(cfgDir, 'config'));
  writeFileSync(join(cfgDir, 'config', 'hyperparameters.json'), JSON.stringify(cfg.hyperparameters));
  writeFileSync(join(cfgDir, 'config', 'inputdataconfig.json'), JSON.stringify({ train: {}, validation: {} }));
  writeFileSync(join(cfgDir, 'config', 'resourceconfig.json'), JSON.stringify({ current_host: 'algo-1', hosts: ['algo-1'] }));
  return timeCommand('docker', ['run', '--rm', '-v', `${cfgDir}/config:/opt/ml/input/config`, ...['train', 'validation'].flatMap((c) => ['-v', `${join(exampleDir, 'data', c)}:/opt/ml/input/data/${c}:ro`]), EXAMPLE_IMAGE, 'train']).finally(() =>
    rmSync(cfgDir, { recursive: true, force: true }),
  );
};
const full = await interleave(Math.max(3, Math.ceil(rounds / 3)), [
  { name: 'docker run --rm (the training job)', run: bareTraining },
  { name: 'sm-local check (all checks)', run: () => timeCommand(CLI_BIN, ['check', EXAMPLE_IMAGE, '--output', fullOut], { cwd: exampleDir, env: { ...process.env, NO_COLOR: '1' } }) },
]);
rmSync(fullOut, { recursive: true, force: true });
console.log(table('bench/check: every check of the example image, in its folder', full, 'docker run --rm (the training job)'));
const fullMedian = stats(full[1]!.samples).median;
console.log(`target ≤ 5 s: ${fullMedian <= 5000 ? 'PASS' : 'MISS'} (${(fullMedian / 1000).toFixed(1)} s)`);
