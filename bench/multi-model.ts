/**
 * bench/multi-model: a loaded model of a multi-model endpoint invoked through the proxy
 * (`POST /endpoints/{name}/invocations` with TargetModel) against the container's own
 * `POST /models/<name>/invoke` straight on its published port, with the same wrk load at concurrency
 * 1 and 16. The upstream is the serve-mme fixture.
 *
 * Usage: tsx bench/multi-model.ts [rounds=3] [seconds=5]
 * Target: the single-model serving targets (p50 overhead ≤ 0.5 ms at concurrency 1).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-fs';
import { DockerClient } from '../src/docker/client.js';
import { invokeEndpoint } from '../src/http/client.js';
import { MultiModelStore } from '../src/jobs/multi-model.js';
import { ensureFixtures, fixtureTag } from '../scripts/lib/images.js';
import { CLI_BIN } from '../scripts/lib/paths.js';
import { runWrk, stats, type WrkResult } from './lib.js';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 5);
if (spawnSync('wrk', ['--version']).error) throw new Error('bench/multi-model needs wrk: apt-get install -y wrk');
const docker = new DockerClient();
await docker.ping();
await ensureFixtures(docker);

const dir = mkdtempSync(join(tmpdir(), 'sm-local-bench-mme-'));
const store = join(dir, 'store');
mkdirSync(join(dir, 'model'), { recursive: true });
mkdirSync(store);
writeFileSync(join(dir, 'model', 'model.json'), '{"name":"bench"}');
await pipeline(pack(join(dir, 'model')), createGzip(), createWriteStream(join(store, 'bench.tar.gz')));
const target = 'bench.tar.gz';
const name = MultiModelStore.nameOf(target);
const script = (path: string, withTarget: boolean) => {
  const file = join(dir, `${withTarget ? 'proxy' : 'direct'}.lua`);
  writeFileSync(file, `wrk.method = "POST"\nwrk.body = '{"x":[1,2,3]}'\nwrk.headers["Content-Type"] = "application/json"\n${withTarget ? `wrk.headers["X-Amzn-SageMaker-Target-Model"] = "${target}"\n` : ''}`);
  return { path, file };
};

const endpoint = `bench-mme-${process.pid}`;
const serve = spawn(CLI_BIN, ['serve', fixtureTag('serve-mme'), '--name', endpoint, '--multi-model', store, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
const info = await new Promise<{ url: string; port: number; containerHostPort: number }>((resolve, reject) => {
  serve.stdout.once('data', (c: Buffer) => resolve(JSON.parse(c.toString()) as { url: string; port: number; containerHostPort: number }));
  serve.once('exit', (code) => reject(new Error(`sm-local serve exited with ${code}`)));
});
const lines: string[] = [];
try {
  // Loaded once, through the runtime, as a first call would.
  await invokeEndpoint(`http://127.0.0.1:${info.port}`, endpoint, '{}', { contentType: 'application/json', targetModel: target });
  const routes = { direct: script(`http://127.0.0.1:${info.containerHostPort}/models/${name}/invoke`, false), proxy: script(info.url, true) };
  const run = (route: 'direct' | 'proxy', c: number) => runWrk(routes[route].path, c, { seconds, script: routes[route].file });
  await run('direct', 2);
  await run('proxy', 2);
  lines.push(`multi-model: wrk, ${seconds}s per run, ${rounds} runs each, median p50 / req/s`);
  for (const c of [1, 16]) {
    const results: Record<'direct' | 'proxy', WrkResult[]> = { direct: [], proxy: [] };
    for (let r = 0; r < rounds; r++) {
      results.direct.push(await run('direct', c));
      results.proxy.push(await run('proxy', c));
    }
    const med = (route: 'direct' | 'proxy', k: 'p50' | 'rps') => stats(results[route].map((x) => x[k])).median;
    lines.push(
      `concurrency ${c}: direct ${med('direct', 'p50').toFixed(2)} ms / ${med('direct', 'rps').toFixed(0)} req/s; proxy ${med('proxy', 'p50').toFixed(2)} ms / ${med('proxy', 'rps').toFixed(0)} req/s; p50 overhead ${(med('proxy', 'p50') - med('direct', 'p50')).toFixed(3)} ms, throughput ${((med('proxy', 'rps') / med('direct', 'rps')) * 100).toFixed(1)} % of direct`,
    );
  }
} finally {
  serve.kill('SIGINT');
  await new Promise((r) => serve.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
}
console.log(lines.join('\n'));
