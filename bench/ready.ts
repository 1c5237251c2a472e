/**
 * bench/ready: from the command's start to the first successful invocation. `sm-local serve` (then
 * one InvokeEndpoint through its proxy) against the floor: a bare `docker run -d -p` of the same image
 * with the same read-only model mount, then a tight `GET /ping` loop (every 5 ms) and one
 * `POST /invocations`. Both serve the bundled example with a trained model.
 *
 * Usage: tsx bench/ready.ts [rounds=10]
 * Target (issue 16): sm-local ≤ floor + 50 ms.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { DockerClient } from '../src/docker/client.js';
import { runTrainingJob } from '../src/jobs/training-runner.js';
import { extractModelArchive } from '../src/workspace/model-archive.js';
import { EXAMPLE_IMAGE, ensureExample, ensurePythonBase, REPO_ROOT } from '../scripts/lib/images.js';
import { CLI_BIN } from '../scripts/lib/paths.js';
import { dockerServeUntilReady, interleave, stats, table, timeCommand } from './lib.js';

const rounds = Number(process.argv[2] ?? 10);
const docker = new DockerClient();
await docker.ping();
await ensurePythonBase(docker);
await ensureExample(docker);

const work = mkdtempSync(join(tmpdir(), 'sm-local-bench-ready-'));
const data = join(REPO_ROOT, 'examples', 'logistic-regression', 'data');
const trained = await runTrainingJob({ image: EXAMPLE_IMAGE, channels: [{ channelName: 'train', source: join(data, 'train') }], hyperParameters: { epochs: '20' }, outputDir: work });
const modelDir = join(work, 'model');
await extractModelArchive(trained.modelArtifact!, modelDir);
const body = '42.0,0.61,1.5,3\n';

async function invokeUntilOk(url: string): Promise<void> {
  const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'text/csv', accept: 'text/csv' } });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`invocation answered ${res.statusCode}: ${text}`);
}

async function floor(): Promise<number> {
  const start = process.hrtime.bigint();
  const { name, port } = await dockerServeUntilReady(EXAMPLE_IMAGE, modelDir, 'ready');
  await invokeUntilOk(`http://127.0.0.1:${port}/invocations`);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  await timeCommand('docker', ['rm', '-f', name]);
  return ms;
}

let n = 0;
function smLocal(): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(CLI_BIN, ['serve', EXAMPLE_IMAGE, '--model', modelDir, '--name', `bench-ready-${process.pid}-${n++}`, '--port', '0'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let ms = 0;
    child.stdout.once('data', (c: Buffer) => {
      invokeUntilOk(c.toString().trim()).then(
        () => {
          ms = Number(process.hrtime.bigint() - start) / 1e6;
          child.kill('SIGINT');
        },
        (err: unknown) => {
          child.kill('SIGINT');
          reject(err);
        },
      );
    });
    child.once('exit', (code) => (code === 0 && ms > 0 ? resolve(ms) : reject(new Error(`sm-local serve exited with ${code}`))));
  });
}

try {
  const series = await interleave(rounds, [
    { name: 'docker run -d + /ping loop', run: floor },
    { name: 'sm-local serve', run: smLocal },
  ]);
  const delta = stats(series[1]!.samples).median - stats(series[0]!.samples).median;
  console.log(table('ready: command start → first successful invocation', series, 'docker run -d + /ping loop'));
  console.log(`target ≤ floor + 50 ms: ${delta <= 50 ? 'PASS' : 'MISS'} (+${delta.toFixed(0)} ms)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
