/** Shared helpers for the benchmarks: repeated, interleaved timing and a min/median/max table. */
import { spawn } from 'node:child_process';
import { request } from 'undici';
import { probePort } from '../src/http/ports.js';

export interface Series {
  name: string;
  samples: number[];
}

export function stats(samples: number[]): { min: number; median: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { min: s[0]!, median, max: s.at(-1)! };
}

/** Runs each variant once per round, alternating, so drift on a shared machine hits all of them alike. */
export async function interleave(rounds: number, variants: { name: string; run: () => Promise<number> }[], warmup = 1): Promise<Series[]> {
  for (let i = 0; i < warmup; i++) for (const v of variants) await v.run();
  const series = variants.map((v) => ({ name: v.name, samples: [] as number[] }));
  for (let r = 0; r < rounds; r++) {
    for (const [i, v] of variants.entries()) series[i]!.samples.push(await v.run());
    process.stderr.write(`  round ${r + 1}/${rounds}\r`);
  }
  process.stderr.write('\n');
  return series;
}

export function table(title: string, series: Series[], floor: string, unit = 'ms'): string {
  const base = stats(series.find((s) => s.name === floor)!.samples).median;
  const rows = series.map((s) => {
    const st = stats(s.samples);
    return [s.name, st.min.toFixed(0), st.median.toFixed(0), st.max.toFixed(0), (st.median / base).toFixed(3), `${st.median - base >= 0 ? '+' : ''}${(st.median - base).toFixed(0)}`];
  });
  const header = ['variant', `min ${unit}`, `median ${unit}`, `max ${unit}`, 'ratio', `Δ median ${unit}`];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [`${title} (n=${series[0]!.samples.length} each, ratio = median / median of "${floor}")`, line(header), ...rows.map(line)].join('\n');
}

/** Wall-clock milliseconds of a command; rejects on a non-zero exit. */
export function timeCommand(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${err.slice(-2000)}`));
    });
  });
}

export function verdict(ratio: number, target: number): string {
  return ratio <= target ? `PASS (ratio ${ratio.toFixed(3)} ≤ ${target})` : `MISS (ratio ${ratio.toFixed(3)} > ${target})`;
}

/** What wrk measured: p50 and p99 latency in ms, and requests per second. */
export interface WrkResult {
  p50: number;
  p99: number;
  rps: number;
}

function wrkMs(value: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (!m) throw new Error(`cannot read wrk latency "${value}"`);
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
}

/** One wrk run with a Lua request script; rejects on any non-2xx answer or socket error. */
export function runWrk(url: string, connections: number, opts: { seconds: number; script: string }): Promise<WrkResult> {
  const { seconds, script } = opts;
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t', String(Math.min(2, connections)), '-c', String(connections), '-d', `${seconds}s`, '--latency', '-s', script, url]);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.on('close', () => {
      if (/Non-2xx or 3xx responses: (\d+)/.test(out) || /Socket errors/.test(out)) return reject(new Error(`errors under load:\n${out}`));
      const p50 = /^\s+50%\s+(\S+)/m.exec(out)?.[1];
      const p99 = /^\s+99%\s+(\S+)/m.exec(out)?.[1];
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out)?.[1];
      if (!p50 || !p99 || !rps) return reject(new Error(`unexpected wrk output:\n${out}`));
      resolve({ p50: wrkMs(p50), p99: wrkMs(p99), rps: Number(rps) });
    });
  });
}


/**
 * The serving floor: `docker run -d` of `image serve` with `modelDir` read-only at /opt/ml/model and
 * 8080 on a free 127.0.0.1 port, then `GET /ping` every 5 ms until it answers 200.
 */
export async function dockerServeUntilReady(image: string, modelDir: string, tag: string): Promise<{ name: string; port: number }> {
  const port = await probePort(0);
  const name = `sm-local-bench-${tag}-${process.pid}-${port}`;
  await timeCommand('docker', ['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:8080`, '-v', `${modelDir}:/opt/ml/model:ro`, image, 'serve']);
  for (;;) {
    const ok = await request(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(2000) }).then(
      async (r) => (await r.body.dump(), r.statusCode === 200),
      () => false,
    );
    if (ok) return { name, port };
    await new Promise((r) => setTimeout(r, 5));
  }
}
