/**
 * bench/serve: the same load client (wrk) against the proxy (`POST /endpoints/{name}/invocations`)
 * and directly against the container's published port (`POST /invocations`), at concurrency 1, 16
 * and 64; p50/p99 latency and requests per second, plus the peak RSS of the `sm-local serve` process.
 * The upstream is the serve-good fixture answering `Accept: text/plain` (a 17-byte answer).
 *
 * Usage: tsx bench/serve.ts [rounds=3] [seconds=8]
 * Targets: p50 overhead ≤ 0.5 ms; throughput ≥ 90 % of direct at concurrency 16 and ≥ 80 % at 64, no
 * errors (issue 16); RSS ≤ 120 MB. Also the proxy's CPU time per request (user + system, from
 * /proc), which is what the proxy costs wherever it runs: here wrk, the proxy and the container share
 * two cores, so every microsecond of the proxy's is taken from the container.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerClient } from '../src/docker/client.js';
import { ensureFixtures, ensurePythonBase, fixtureTag } from '../scripts/lib/images.js';
import { CLI_BIN } from '../scripts/lib/paths.js';
import { runWrk, stats, type WrkResult } from './lib.js';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 8);
if (spawnSync('wrk', ['--version']).error) throw new Error('bench/serve needs wrk: apt-get install -y wrk');

const docker = new DockerClient();
await docker.ping();
await ensurePythonBase(docker);
await ensureFixtures(docker);

const dir = mkdtempSync(join(tmpdir(), 'sm-local-bench-serve-'));
const script = join(dir, 'post.lua');
writeFileSync(script, `wrk.method = "POST"\nwrk.body = '${JSON.stringify({ instances: Array.from({ length: 8 }, (_, i) => [i, i / 2, i * 3, 1]) })}'\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Accept"] = "text/plain"\n`);

const name = `bench-serve-${process.pid}`;
const serve = spawn(CLI_BIN, ['serve', fixtureTag('serve-good'), '--name', name, '--port', '0', '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
const info = await new Promise<{ url: string; containerHostPort: number }>((resolve, reject) => {
  serve.stdout.once('data', (c: Buffer) => resolve(JSON.parse(c.toString()) as { url: string; containerHostPort: number }));
  serve.once('exit', (code) => reject(new Error(`sm-local serve exited with ${code}`)));
});

let peakRss = 0;
const rss = () => {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${serve.pid}/status`, 'utf8'));
  if (m) peakRss = Math.max(peakRss, Number(m[1]) * 1024);
};
const sampler = setInterval(rss, 50);

const wrk = (url: string, connections: number) => runWrk(url, connections, { seconds, script });
const ticksPerSecond = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;
/** CPU seconds (user + system) the serve process has used so far. */
const cpuSeconds = () => {
  const fields = readFileSync(`/proc/${serve.pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
};
/** A proxy run, with the serve process's CPU time per request. */
const proxyRun = async (connections: number): Promise<WrkResult & { cpuMsPerRequest: number }> => {
  const before = cpuSeconds();
  const r = await wrk(info.url, connections);
  return { ...r, cpuMsPerRequest: ((cpuSeconds() - before) * 1000) / (r.rps * seconds) };
};

const direct = `http://127.0.0.1:${info.containerHostPort}/invocations`;
const lines: string[] = [];
let p50Overhead = 0;
let ratio16 = 0;
let ratio64 = 0;
try {
  await wrk(direct, 4);
  await wrk(info.url, 4);
  const row = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(i ? 7 : 12) : c.padStart(22))).join(' ');
  lines.push(`serve: wrk, ${seconds}s per run, ${rounds} runs each, min/median/max`, row(['concurrency', 'route', 'p50 ms', 'p99 ms', 'req/s']));
  for (const c of [1, 16, 64]) {
    const results: { direct: WrkResult[]; proxy: (WrkResult & { cpuMsPerRequest: number })[] } = { direct: [], proxy: [] };
    for (let r = 0; r < rounds; r++) {
      results.direct.push(await wrk(direct, c));
      results.proxy.push(await proxyRun(c));
    }
    const fmt = (xs: number[], digits: number) => {
      const st = stats(xs);
      return `${st.min.toFixed(digits)}/${st.median.toFixed(digits)}/${st.max.toFixed(digits)}`;
    };
    for (const route of ['direct', 'proxy'] as const) {
      const rs = results[route];
      lines.push(row([String(c), route, fmt(rs.map((x) => x.p50), 2), fmt(rs.map((x) => x.p99), 2), fmt(rs.map((x) => x.rps), 0)]));
    }
    const overhead = stats(results.proxy.map((x) => x.p50)).median - stats(results.direct.map((x) => x.p50)).median;
    const ratio = stats(results.proxy.map((x) => x.rps)).median / stats(results.direct.map((x) => x.rps)).median;
    const cpu = stats(results.proxy.map((x) => x.cpuMsPerRequest)).median;
    lines.push(`${''.padEnd(12)} p50 overhead ${overhead.toFixed(3)} ms, throughput ${(ratio * 100).toFixed(1)} % of direct, proxy CPU ${(cpu * 1000).toFixed(0)} µs per request`);
    if (c === 1) p50Overhead = overhead;
    if (c === 16) ratio16 = ratio;
    if (c === 64) ratio64 = ratio;
  }
} finally {
  clearInterval(sampler);
  serve.kill('SIGINT');
  await new Promise((r) => serve.once('exit', r));
}
lines.push(
  `sm-local serve peak RSS: ${(peakRss / 1e6).toFixed(0)} MB`,
  `target p50 overhead ≤ 0.5 ms at concurrency 1: ${p50Overhead <= 0.5 ? 'PASS' : 'MISS'} (${p50Overhead.toFixed(3)} ms)`,
  `target throughput ≥ 90 % of direct at concurrency 16: ${ratio16 >= 0.9 ? 'PASS' : 'MISS'} (${(ratio16 * 100).toFixed(1)} %)`,
  `target throughput ≥ 80 % of direct at concurrency 64: ${ratio64 >= 0.8 ? 'PASS' : 'MISS'} (${(ratio64 * 100).toFixed(1)} %)`,
  `target RSS ≤ 120 MB: ${peakRss <= 120e6 ? 'PASS' : 'MISS'} (${(peakRss / 1e6).toFixed(0)} MB)`,
);
console.log(lines.join('\n'));
