/**
 * bench/reload: from saving `code/inference.py` to the first answer of the new code at the same URL.
 * `sm-local serve --watch` (one process for every round; it notices the change, starts a new
 * container beside the old one, swaps them once the new one answers /ping) against the floor, the
 * same by hand: `docker run -d` of a new container, a tight `GET /ping` loop (every 5 ms), one
 * `POST /invocations` that answers with the new code, then `docker rm -f` of the old one (not timed).
 * Both poll for the new answer every 5 ms. sm-local's time includes its settle window (SETTLE_MS, 150 ms) (an
 * editor's save is several events), which the floor does not have.
 *
 * Usage: tsx bench/reload.ts [rounds=10]
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { DockerClient } from '../src/docker/client.js';
import { SETTLE_MS } from '../src/workspace/file-watch.js';
import { ensureFixtures, ensurePythonBase, fixtureTag } from '../scripts/lib/images.js';
import { CLI_BIN } from '../scripts/lib/paths.js';
import { dockerServeUntilReady, interleave, stats, table, timeCommand } from './lib.js';

const rounds = Number(process.argv[2] ?? 10);
const docker = new DockerClient();
await docker.ping();
await ensurePythonBase(docker);
await ensureFixtures(docker);
const IMAGE = fixtureTag('serve-good');

const work = mkdtempSync(join(tmpdir(), 'sm-local-bench-reload-'));
const code = (dir: string, version: number) => writeFileSync(join(dir, 'code', 'inference.py'), `def handle(body):\n    return "v${version}:" + body.decode()\n`);
const models = ['watched', 'floor'].map((name) => {
  const dir = join(work, name);
  mkdirSync(join(dir, 'code'), { recursive: true });
  code(dir, 0);
  return dir;
});
const [watchedModel, floorModel] = models as [string, string];

async function answer(url: string): Promise<string | undefined> {
  return request(url, { method: 'POST', body: 'x', headers: { 'content-type': 'text/plain' }, signal: AbortSignal.timeout(2000) }).then(
    async (r) => (r.statusCode === 200 ? r.body.text() : (await r.body.dump(), undefined)),
    () => undefined,
  );
}

async function until(url: string, expected: string): Promise<void> {
  for (;;) {
    if ((await answer(url)) === expected) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

// The floor: the container a user would start by hand, then the old one removed.
let floorVersion = 0;
let floorOld: string | undefined;
async function floor(): Promise<number> {
  const version = ++floorVersion;
  const start = process.hrtime.bigint();
  code(floorModel, version);
  const { name, port } = await dockerServeUntilReady(IMAGE, floorModel, 'reload');
  await until(`http://127.0.0.1:${port}/invocations`, `v${version}:x`);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (floorOld) await timeCommand('docker', ['rm', '-f', floorOld]);
  floorOld = name;
  return ms;
}

// sm-local serve --watch, started once.
const serve = spawn(CLI_BIN, ['serve', IMAGE, '--model', watchedModel, '--name', `bench-reload-${process.pid}`, '--port', '0', '--watch'], { stdio: ['ignore', 'pipe', 'ignore'] });
const url = await new Promise<string>((resolve, reject) => {
  serve.stdout.once('data', (c: Buffer) => resolve(c.toString().trim()));
  serve.once('exit', (c) => reject(new Error(`sm-local serve exited with ${c}`)));
});
let watchedVersion = 0;
async function smLocal(): Promise<number> {
  const version = ++watchedVersion;
  const start = process.hrtime.bigint();
  code(watchedModel, version);
  await until(url, `v${version}:x`);
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  // The old container's stop (after the swap) is not timed, as the floor's removal is not.
  await new Promise((r) => setTimeout(r, 1500));
  return ms;
}

try {
  const series = await interleave(rounds, [
    { name: 'docker run -d + /ping loop', run: floor },
    { name: 'sm-local serve --watch', run: smLocal },
  ]);
  const delta = stats(series[1]!.samples).median - stats(series[0]!.samples).median;
  console.log(table('reload: save inference.py → first answer of the new code', series, 'docker run -d + /ping loop'));
  console.log(`sm-local's part: +${delta.toFixed(0)} ms over the floor, of which ${SETTLE_MS} ms is the settle window`);
} finally {
  serve.kill('SIGINT');
  await new Promise((r) => serve.once('exit', r));
  if (floorOld) await timeCommand('docker', ['rm', '-f', floorOld]).catch(() => 0);
  rmSync(work, { recursive: true, force: true });
}
