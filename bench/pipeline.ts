/**
 * bench/pipeline: a two-container serial inference pipeline through the proxy (one InvokeEndpoint,
 * the proxy calls container 1 then container 2 with its answer) against the same two calls chained
 * by the benchmark itself, straight to each container. The same client (undici, keep-alive) drives
 * both, for `seconds` per run at concurrency 1 and 16; latencies per request, p50 of each run.
 * The containers are the serve-bind-to-port fixture in its `stage` mode.
 *
 * Usage: tsx bench/pipeline.ts [rounds=3] [seconds=5]
 * Target: the single-model serving targets (p50 overhead ≤ 0.5 ms at concurrency 1).
 */
import { Pool } from 'undici';
import { DockerClient } from '../src/docker/client.js';
import { startEndpoint } from '../src/jobs/serving-runner.js';
import { ensureFixtures, fixtureTag } from '../scripts/lib/images.js';
import { stats } from './lib.js';

const rounds = Number(process.argv[2] ?? 3);
const seconds = Number(process.argv[3] ?? 5);
const docker = new DockerClient();
await docker.ping();
await ensureFixtures(docker);

const stage = (hostname: string, extra: Record<string, string> = {}) => ({ image: fixtureTag('serve-bind-to-port'), hostname, environment: { SERVER_MODE: 'stage', STAGE: hostname, ...extra } });
const endpoint = await startEndpoint({ image: '', endpointName: `bench-pipeline-${process.pid}`, port: 0, stopGraceSeconds: 2, containers: [stage('featurizer', { STAGE_OUTPUT_TYPE: 'text/csv' }), stage('predictor')] });
const body = '{"x":[1,2,3]}';
const proxy = new Pool(`http://127.0.0.1:${endpoint.port}`, { connections: 32 });
const [one, two] = endpoint.containers.map((c) => new Pool(c.containerUrl, { connections: 32 })) as [Pool, Pool];
const post = async (pool: Pool, path: string, payload: string | Buffer, contentType: string) => {
  const res = await pool.request({ method: 'POST', path, body: payload, headers: { 'content-type': contentType } });
  const out = Buffer.from(await res.body.arrayBuffer());
  if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}: ${out.toString()}`);
  return { out, type: String(res.headers['content-type']) };
};
const routes = {
  proxy: () => post(proxy, `/endpoints/${endpoint.name}/invocations`, body, 'application/json'),
  // What the proxy does, done by the benchmark: container 1, then container 2 with its answer.
  chained: async () => {
    const first = await post(one, '/invocations', body, 'application/json');
    return post(two, '/invocations', first.out, first.type);
  },
};

/** `c` loops calling `route` for `seconds`; the p50 latency (ms) and requests per second. */
async function load(route: keyof typeof routes, c: number, secs: number): Promise<{ p50: number; rps: number }> {
  const latencies: number[] = [];
  const until = performance.now() + secs * 1000;
  await Promise.all(
    Array.from({ length: c }, async () => {
      while (performance.now() < until) {
        const t = performance.now();
        await routes[route]();
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { p50: stats(latencies).median, rps: latencies.length / secs };
}

const lines: string[] = [];
try {
  await load('chained', 2, 1);
  await load('proxy', 2, 1);
  lines.push(`pipeline (2 containers, serial): ${seconds}s per run, ${rounds} runs each, median of the runs' p50 / req/s`);
  for (const c of [1, 16]) {
    const results = { chained: [] as { p50: number; rps: number }[], proxy: [] as { p50: number; rps: number }[] };
    for (let r = 0; r < rounds; r++) {
      results.chained.push(await load('chained', c, seconds));
      results.proxy.push(await load('proxy', c, seconds));
    }
    const med = (route: 'chained' | 'proxy', k: 'p50' | 'rps') => stats(results[route].map((x) => x[k])).median;
    const range = (route: 'chained' | 'proxy') => {
      const st = stats(results[route].map((x) => x.p50));
      return `${st.min.toFixed(2)}/${st.median.toFixed(2)}/${st.max.toFixed(2)}`;
    };
    lines.push(
      `concurrency ${c}: chained direct p50 min/median/max ${range('chained')} ms, ${med('chained', 'rps').toFixed(0)} req/s; proxy ${range('proxy')} ms, ${med('proxy', 'rps').toFixed(0)} req/s; p50 overhead ${(med('proxy', 'p50') - med('chained', 'p50')).toFixed(3)} ms (ratio ${(med('proxy', 'p50') / med('chained', 'p50')).toFixed(3)}), throughput ${((med('proxy', 'rps') / med('chained', 'rps')) * 100).toFixed(1)} % of chained`,
    );
  }
} finally {
  await Promise.all([proxy.close(), one.close(), two.close()]);
  await endpoint.stop();
}
console.log(lines.join('\n'));
