/**
 * bench/pipe: Pipe-mode throughput. A 1 GB channel read by `cat` inside the container from
 * /opt/ml/input/data/train_0 (fed by sm-local through the FIFO) against `cat` of the same file from
 * a read-only bind mount under a plain `docker run`. The container times `cat` itself, so container
 * start-up is not counted; the file is read once before the runs so both come from the page cache.
 *
 * Usage: tsx bench/pipe.ts [rounds=5] [megabytes=1024]
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DockerClient } from '../src/docker/client.js';
import { BASE_PYTHON, ensurePythonBase, REPO_ROOT } from '../scripts/lib/images.js';
import { CLI_BIN as BIN } from '../scripts/lib/paths.js';
import { stats } from './lib.js';

const rounds = Number(process.argv[2] ?? 5);
const megabytes = Number(process.argv[3] ?? 1024);
const work = join(REPO_ROOT, 'bench', '.data', 'pipe');
const data = join(work, 'channel');
const bytes = megabytes * 1024 * 1024;

const docker = new DockerClient();
await docker.ping();
await ensurePythonBase(docker);

rmSync(work, { recursive: true, force: true });
mkdirSync(data, { recursive: true });
await new Promise<void>((resolve, reject) => {
  const out = createWriteStream(join(data, 'part-0000.bin'));
  const chunk = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;
  let written = 0;
  const write = () => {
    while (written < bytes) {
      written += chunk.length;
      if (!out.write(chunk)) return void out.once('drain', write);
    }
    out.end(resolve);
  };
  out.on('error', reject);
  write();
});

/** Times `cat FILE > /dev/null` inside the container and prints seconds and bytes read. */
const timer = (file: string) =>
  `import subprocess, time, os; t = time.time(); n = int(subprocess.run("cat ${file} | wc -c", shell=True, capture_output=True).stdout); d = time.time() - t; print("PIPEBENCH %f %d" % (d, n), flush=True)`;

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited ${code}:\n${out.slice(-2000)}`))));
  });
}

function mbps(output: string): number {
  const m = /PIPEBENCH ([\d.]+) (\d+)/.exec(output);
  if (!m) throw new Error(`no measurement in:\n${output.slice(-2000)}`);
  if (Number(m[2]) !== bytes) throw new Error(`read ${m[2]} bytes, expected ${bytes}`);
  return bytes / 1024 / 1024 / Number(m[1]);
}

const outputDir = join(work, 'sm-local-output');
const variants = [
  {
    name: 'docker run, bind mount',
    run: async () => mbps(await run('docker', ['run', '--rm', '-v', `${data}:/data:ro`, '--entrypoint', 'python3', BASE_PYTHON, '-c', timer('/data/part-0000.bin')])),
  },
  {
    name: 'sm-local train, Pipe mode',
    run: async () => {
      rmSync(outputDir, { recursive: true, force: true });
      await run(BIN, ['train', BASE_PYTHON, '--channel', `train=${data},mode=Pipe`, '--entrypoint', '["python3", "-c"]', '--arg', timer('/opt/ml/input/data/train_0'), '--output', outputDir]);
      const [job] = readdirSync(outputDir);
      return mbps(readFileSync(join(outputDir, job!, 'algo-1.log'), 'utf8'));
    },
  },
];

readFileSync(join(data, 'part-0000.bin'));
const samples = variants.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) {
  for (const [i, v] of variants.entries()) samples[i]!.push(await v.run());
  process.stderr.write(`  round ${r + 1}/${rounds}\r`);
}
process.stderr.write('\n');
rmSync(work, { recursive: true, force: true });

const base = stats(samples[0]!).median;
console.log(`pipe: ${megabytes} MB channel read by cat inside the container (n=${rounds} each; MB/s, higher is better)`);
console.log(['variant'.padEnd(26), 'min MB/s', 'median MB/s', 'max MB/s', '% of bind mount'].join('  '));
for (const [i, v] of variants.entries()) {
  const s = stats(samples[i]!);
  console.log([v.name.padEnd(26), s.min.toFixed(0).padStart(8), s.median.toFixed(0).padStart(11), s.max.toFixed(0).padStart(8), `${((s.median / base) * 100).toFixed(1)} %`.padStart(15)].join('  '));
}
