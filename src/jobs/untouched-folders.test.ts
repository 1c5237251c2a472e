/**
 * Folders a job's container was given empty and left untouched are known to be empty by their stamp
 * (workspace/folder-stamp.ts) instead of being read through the engine; anything the container wrote
 * is read. What the user gets (model.tar.gz, output.tar.gz) is the same either way.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract } from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryEngine, type ScriptedBehaviour } from '../docker/memory-engine.js';
import { createMemoryLogger } from '../log.js';
import { foldersGivenEmpty } from './cluster.js';
import { runTrainingJob } from './training-runner.js';

const IMAGE = 'algo:test';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function names(tarGz: string): Promise<string[]> {
  const out: string[] = [];
  const ex = extract();
  ex.on('entry', (h, s, next) => {
    out.push(h.name);
    s.resume();
    s.on('end', next);
  });
  await new Promise((resolve, reject) => Readable.from([readFileSync(tarGz)]).pipe(createGunzip()).pipe(ex).on('finish', () => resolve(undefined)).on('error', reject));
  return out;
}

async function train(behaviour: ScriptedBehaviour, product?: 'docker' | 'podman') {
  const root = mkdtempSync(join(tmpdir(), 'sm-local-untouched-'));
  dirs.push(root);
  const engine = new MemoryEngine({ images: { [IMAGE]: { entrypoint: ['train'] } }, behaviour: () => behaviour, ...(product ? { product } : {}) });
  const result = await runTrainingJob(
    { image: IMAGE, trainingJobName: 'untouched', channels: [], outputDir: join(root, 'out') },
    { docker: engine, log: createMemoryLogger(), tmpRoot: join(root, 'tmp'), cwd: root },
  );
  const reads = engine.containers[0]!.archiveReads;
  return { model: await names(result.modelArtifact!), output: await names(join(result.jobDir, 'output.tar.gz')), reads: [...reads.keys()].sort(), leftovers: engine.leftovers() };
}

describe('folders given empty', () => {
  it('on Docker Engine, a model and output folder the container never wrote to are not read, and come back empty', async () => {
    const r = await train({ exitAtMs: 1, exitCode: 0 }, 'docker');
    expect(r.model).toEqual([]);
    expect(r.output).toEqual([]);
    expect(r.reads).toEqual([]);
    expect(r.leftovers).toEqual([]);
  });

  it('whatever the container wrote is read, down to a file in a folder it made', async () => {
    const r = await train({ exitAtMs: 1, exitCode: 0, files: { '/opt/ml/model/model.json': '{}', '/opt/ml/output/data/sub/metrics.csv': '1' } }, 'docker');
    expect(r.model).toEqual(['model.json']);
    expect(r.output).toEqual(['sub/', 'sub/metrics.csv']);
    expect(r.reads).toEqual(['/opt/ml/model', '/opt/ml/output/data']);
  });

  it('a folder written to is read while its untouched neighbour is not', async () => {
    const r = await train({ exitAtMs: 1, exitCode: 0, files: { '/opt/ml/output/data/a.txt': 'a' } }, 'docker');
    expect(r.output).toEqual(['a.txt']);
    expect(r.reads).toEqual(['/opt/ml/output/data']);
  });

  it('on any other engine every folder is read', async () => {
    for (const product of ['podman', undefined] as const) expect((await train({ exitAtMs: 1, exitCode: 0 }, product)).reads).toEqual(['/opt/ml/model', '/opt/ml/output/data']);
  });

  it('only folders the skeleton made empty, inside a fresh volume, with nothing mounted at, above or below them', () => {
    const entries = [{ path: 'opt/ml/model' }, { path: 'opt/ml/output/data' }, { path: 'opt/ml/input/config' }, { path: 'opt/ml/input/config/a.json', content: '{}' }, { path: 'opt/ml/processing/out' }];
    const volumes = ['/opt/ml/model', '/opt/ml/output', '/opt/ml/input'];
    expect(foldersGivenEmpty(['/opt/ml/model', '/opt/ml/output/data'], entries, { volumes })).toEqual(['/opt/ml/model', '/opt/ml/output/data']);
    // Not made by the skeleton, or holding something it put there.
    expect(foldersGivenEmpty(['/opt/ml/checkpoints', '/opt/ml/input/config'], entries, { volumes })).toEqual([]);
    // Outside a fresh volume: the image may ship files there.
    expect(foldersGivenEmpty(['/opt/ml/processing/out'], entries, { volumes })).toEqual([]);
    // A bind mount or a filled named volume at, above or below it; another volume below it.
    expect(foldersGivenEmpty(['/opt/ml/model'], entries, { volumes, mounts: [{ source: '/host/m', target: '/opt/ml/model' }] })).toEqual([]);
    expect(foldersGivenEmpty(['/opt/ml/output/data'], entries, { volumes, namedVolumes: [{ name: 'v', target: '/opt/ml/output' }] })).toEqual([]);
    expect(foldersGivenEmpty(['/opt/ml/model'], entries, { volumes, mounts: [{ source: '/host/x', target: '/opt/ml/model/x' }] })).toEqual([]);
    expect(foldersGivenEmpty(['/opt/ml/output'], [{ path: 'opt/ml/output' }], { volumes: ['/opt/ml/output', '/opt/ml/output/data'] })).toEqual([]);
  });
});
