/**
 * bench/transform: CSV lines through a trivial model (the transform-echo fixture, which answers each
 * record with itself), one record per request (SingleRecord), at MaxConcurrentTransforms 1 and 8.
 * `sm-local transform` against its floor, end to end in both: `docker run -d` of the same image with
 * the same model mount, a tight GET /ping loop, then the same requests sent straight to the
 * container by a tight client (undici) with the same concurrency, then `docker rm -f`. Records/s of
 * both, interleaved, and the ratio.
 *
 * Usage: tsx bench/transform.ts [rounds=3] [lines=20000]
 * Target: sm-local ≥ 90 % of the floor's records/s.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Pool, request } from 'undici';
import { DockerClient } from '../src/docker/client.js';
import { ensureFixtures, fixtureTag, REPO_ROOT } from '../scripts/lib/images.js';
import { CLI_BIN as BIN } from '../scripts/lib/paths.js';
import { interleave, stats, table, timeCommand } from './lib.js';
import { probePort } from '../src/http/ports.js';
import { spawnSync } from 'node:child_process';

const rounds = Number(process.argv[2] ?? 3);
const lines = Number(process.argv[3] ?? 20_000);
const IMAGE = fixtureTag('transform-echo');
const work = join(REPO_ROOT, 'bench', '.data', 'transform');
const docker = new DockerClient();
await docker.ping();
await ensureFixtures(docker);

rmSync(work, { recursive: true, force: true });
mkdirSync(join(work, 'in'), { recursive: true });
mkdirSync(join(work, 'model'), { recursive: true });
writeFileSync(join(work, 'model', 'model.json'), '{}');
const rows = Array.from({ length: lines }, (_, i) => `${i},${(i * 7) % 13},${i % 5}\n`);
writeFileSync(join(work, 'in', 'rows.csv'), rows.join(''));

let seq = 0;
/** The floor: the container started by hand, then every record straight to it, `concurrency` at a time. */
async function floor(concurrency: number): Promise<number> {
  const start = process.hrtime.bigint();
  const port = await probePort(0);
  const name = `sm-local-bench-transform-${process.pid}-${seq++}`;
  const run = spawnSync('docker', ['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:8080`, '-v', `${join(work, 'model')}:/opt/ml/model:ro`, '-e', 'SAGEMAKER_BATCH=true', IMAGE, 'serve']);
  if (run.status !== 0) throw new Error(run.stderr.toString());
  try {
    const base = `http://127.0.0.1:${port}`;
    for (;;) {
      const ok = await request(`${base}/ping`).then(async (r) => (await r.body.text(), r.statusCode === 200), () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    const pool = new Pool(base, { connections: concurrency });
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < rows.length) {
          const body = rows[next++]!;
          const res = await pool.request({ path: '/invocations', method: 'POST', body, headers: { 'content-type': 'text/csv', accept: 'text/csv' } });
          await res.body.arrayBuffer();
        }
      }),
    );
    await pool.close();
  } finally {
    spawnSync('docker', ['rm', '-f', name]);
  }
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const smLocal = (concurrency: number) => () => {
  rmSync(join(work, 'jobs'), { recursive: true, force: true });
  return timeCommand(BIN, [
    'transform', IMAGE, '--model', join(work, 'model'), '--input', join(work, 'in'), '--output-dir', join(work, 'jobs'),
    '--content-type', 'text/csv', '--accept', 'text/csv', '--split-type', 'Line', '--batch-strategy', 'SingleRecord',
    '--max-concurrent', String(concurrency), '--max-payload', '1', '--assemble-with', 'Line',
  ]);
};

const report: string[] = [];
for (const concurrency of [1, 8]) {
  process.stderr.write(`${lines} records, SingleRecord, MaxConcurrentTransforms ${concurrency}\n`);
  const series = await interleave(rounds, [
    { name: 'container + tight client', run: () => floor(concurrency) },
    { name: 'sm-local transform', run: smLocal(concurrency) },
  ]);
  const rate = (ms: number) => (lines / ms) * 1000;
  const [f, s] = series.map((x) => stats(x.samples).median) as [number, number];
  report.push(
    table(`${lines} records at concurrency ${concurrency} (end to end, container start included)`, series, 'container + tight client'),
    `records/s (median): floor ${rate(f).toFixed(0)}, sm-local ${rate(s).toFixed(0)}: ${((rate(s) / rate(f)) * 100).toFixed(1)} % of the floor; target ≥ 90 %: ${rate(s) / rate(f) >= 0.9 ? 'PASS' : 'MISS'}`,
    '',
  );
}
rmSync(work, { recursive: true, force: true });
console.log(report.join('\n'));
