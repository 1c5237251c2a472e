/**
 * bench/pack: packaging a 500 MB /opt/ml/model into model.tar.gz the way `sm-local train` does it
 * (the Engine's archive stream of the container's model volume, re-packed and gzip'd by sm-local)
 * against `tar -czf` of the same folder on the host. Also reports sm-local's peak RSS while packing.
 *
 * The model is ~430 MB of float32 weights (normally distributed, as trained weights are: gzip
 * saves little) plus ~70 MB of text (vocabulary and config files: gzip saves a lot).
 * Usage: tsx bench/pack.ts [rounds=5]
 * Target: ratio ≤ 1.1.
 */
import { createWriteStream, existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DockerClient } from '../src/docker/client.js';
import { channelTar, repackTarGz, underPrefix } from '../src/workspace/archive.js';
import { BASE_BUSYBOX, ensureBusyboxBase, REPO_ROOT } from '../scripts/lib/images.js';
import { interleave, stats, table, timeCommand, verdict } from './lib.js';

const rounds = Number(process.argv[2] ?? 5);
const dataDir = join(REPO_ROOT, 'bench', '.data', 'pack-model');
const outDir = join(REPO_ROOT, 'bench', '.data', 'pack-out');

/** Deterministic data: a xorshift generator, Box-Muller for the weights. */
async function makeModel(): Promise<void> {
  const marker = join(dataDir, '.complete');
  if (existsSync(marker)) return;
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(join(dataDir, 'tokenizer'), { recursive: true });
  let s = 0x9e3779b9;
  const rand = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) + 0.5) / 4294967296;
  };
  const writeFile = (path: string, chunks: number, fill: (buf: Buffer) => void) =>
    new Promise<void>((resolve, reject) => {
      const out = createWriteStream(path);
      let i = 0;
      const next = () => {
        while (i < chunks) {
          const buf = Buffer.alloc(1 << 20);
          fill(buf);
          i += 1;
          if (!out.write(buf)) return void out.once('drain', next);
        }
        out.end(resolve);
      };
      out.on('error', reject);
      next();
    });
  for (let shard = 1; shard <= 4; shard++) {
    await writeFile(join(dataDir, `model-0000${shard}-of-00004.bin`), 108, (buf) => {
      for (let o = 0; o < buf.length; o += 8) {
        const r = Math.sqrt(-2 * Math.log(rand())) * 0.02;
        const t = 2 * Math.PI * rand();
        buf.writeFloatLE(r * Math.cos(t), o);
        buf.writeFloatLE(r * Math.sin(t), o + 4);
      }
    });
  }
  const words = Array.from({ length: 50_000 }, (_, i) => `tok${i.toString(36)}`);
  await writeFile(join(dataDir, 'tokenizer', 'vocab.txt'), 70, (buf) => {
    let o = 0;
    while (o < buf.length) o += buf.write(`${words[Math.floor(rand() * words.length)]} ${Math.floor(rand() * 1e6)}\n`, o);
  });
  writeFileSync(join(dataDir, 'config.json'), JSON.stringify({ hidden_size: 1024, layers: 24, vocab_size: 50_000 }, null, 2));
  writeFileSync(marker, '');
}

await makeModel();
const docker = new DockerClient();
await docker.ping();
await ensureBusyboxBase(docker);
mkdirSync(outDir, { recursive: true });

// A container whose model volume holds the data, as a finished training job's would.
const container = await docker.createContainer({ name: `sm-local-bench-pack-${process.pid}`, image: BASE_BUSYBOX, env: [], labels: { 'sm-local.managed': 'true', 'sm-local.pid': String(process.pid), 'sm-local.session': 'bench' }, volumes: ['/opt/ml/model'] });
try {
  await container.putArchive(await channelTar(dataDir), '/opt/ml/model');
  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
  const series = await interleave(rounds, [
    { name: 'tar -czf (host folder)', run: () => timeCommand('tar', ['-czf', join(outDir, 'floor.tar.gz'), '-C', dataDir, '--exclude', '.complete', '.']) },
    {
      name: 'sm-local (engine stream → model.tar.gz)',
      run: async () => {
        const start = process.hrtime.bigint();
        const tar = await container.getArchive('/opt/ml/model');
        await repackTarGz(tar!, join(outDir, 'model.tar.gz'), underPrefix('model/'));
        return Number(process.hrtime.bigint() - start) / 1e6;
      },
    },
  ], 0);
  clearInterval(sampler);
  const ratio = stats(series[1]!.samples).median / stats(series[0]!.samples).median;
  const mb = (p: string) => (statSync(p).size / 1e6).toFixed(1);
  console.log(table('pack: 500 MB /opt/ml/model → model.tar.gz', series, 'tar -czf (host folder)'));
  console.log(`archive sizes: tar -czf ${mb(join(outDir, 'floor.tar.gz'))} MB, sm-local ${mb(join(outDir, 'model.tar.gz'))} MB`);
  console.log(`sm-local peak RSS while packing: ${(peakRss / 1e6).toFixed(0)} MB`);
  console.log(`target ratio ≤ 1.1: ${verdict(ratio, 1.1)}`);
} finally {
  await container.remove();
  rmSync(outDir, { recursive: true, force: true });
}
