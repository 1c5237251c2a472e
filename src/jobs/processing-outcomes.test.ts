/**
 * The outcome logic of a processing job on the in-memory engine: any host failing fails the job,
 * ExitMessage gathered from every host, the time limit against a user stop and a forced one, the
 * outputs kept after a failure, the statuses it passes through, and that every path removes what it
 * created. Scripted containers decide what happens; no engine, no timing assertions.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ContainerInput } from '../docker/engine.js';
import { MemoryEngine, type ScriptedBehaviour } from '../docker/memory-engine.js';
import { AlgorithmError, InterruptedError, JobTimeoutError } from '../errors.js';
import { createMemoryLogger } from '../log.js';
import { runProcessingJob, startProcessingJob, type ProcessingJobInput, type ProcessingResult } from './processing-runner.js';

const IMAGE = 'proc:test';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const hostOf = (input: ContainerInput) => /-(algo-\d+)-[0-9a-f]{6}$/.exec(input.name)?.[1] ?? '?';

function setup(behaviour: (host: string) => ScriptedBehaviour) {
  const root = mkdtempSync(join(tmpdir(), 'sm-local-processing-outcomes-'));
  dirs.push(root);
  mkdirSync(join(root, 'raw'));
  writeFileSync(join(root, 'raw', 'rows.csv'), '1,2\n');
  const engine = new MemoryEngine({ images: { [IMAGE]: { entrypoint: ['python3', '/opt/program/p.py'] } }, behaviour: (input) => behaviour(hostOf(input)) });
  const job = (over: Partial<ProcessingJobInput> = {}): ProcessingJobInput => ({
    image: IMAGE,
    processingJobName: 'outcomes',
    inputs: [{ inputName: 'raw', source: join(root, 'raw') }],
    outputs: [{ outputName: 'out' }],
    outputDir: join(root, 'jobs'),
    stopGraceSeconds: 0.2,
    ...over,
  });
  const deps = (extra: { stop?: AbortSignal; force?: AbortSignal } = {}) => ({ docker: engine, log: createMemoryLogger(), tmpRoot: join(root, 'tmp'), cwd: root, ...extra });
  return { engine, job, deps };
}

async function outcome(run: Promise<ProcessingResult>): Promise<{ result: ProcessingResult; error?: unknown }> {
  try {
    return { result: await run };
  } catch (error) {
    return { result: (error as { details: ProcessingResult }).details, error };
  }
}

const OUT = '/opt/ml/processing/output/out';

describe('processing outcomes on the in-memory engine', () => {
  it('completes when every host exits 0: each host’s output uploaded, the container started with no job word, nothing left', async () => {
    const { engine, job, deps } = setup((host) => ({ exitAtMs: 5, exitCode: 0, files: { [`${OUT}/${host}.csv`]: `${host}\n` } }));
    const { result, error } = await outcome(runProcessingJob(job({ instanceCount: 2 }), deps()));
    expect(error).toBeUndefined();
    expect(result.status).toBe('Completed');
    expect(readFileSync(join(result.jobDir, 'out', 'algo-1.csv'), 'utf8')).toBe('algo-1\n');
    expect(readFileSync(join(result.jobDir, 'out', 'algo-2.csv'), 'utf8')).toBe('algo-2\n');
    for (const c of engine.containers) {
      expect(c.input.entrypoint).toBeUndefined();
      expect(c.input.cmd).toBeUndefined();
      expect(c.input.volumes).toEqual(['/opt/ml/config', '/opt/ml/output', OUT]);
      expect(c.input.mounts).toEqual([{ source: join(result.jobDir, '..', '..', 'raw'), target: '/opt/ml/processing/input/raw', readOnly: true }]);
      expect(JSON.parse(c.files.get('/opt/ml/config/resourceconfig.json')!)).toEqual({ current_host: hostOf(c.input), hosts: ['algo-1', 'algo-2'] });
    }
    expect(engine.leftovers()).toEqual([]);
  });

  it('fails when any host exits non-zero, stops the others, gathers every ExitMessage in host order and keeps the outputs written', async () => {
    const { engine, job, deps } = setup((host): ScriptedBehaviour =>
      host === 'algo-2'
        ? { exitAtMs: 10, exitCode: 2, files: { '/opt/ml/output/message': 'algo-2: bad shard;', [`${OUT}/partial.csv`]: 'x\n' } }
        : { onSigterm: { exitCode: 0 }, files: { '/opt/ml/output/message': 'algo-1: stopped;' } },
    );
    const { result, error } = await outcome(runProcessingJob(job({ instanceCount: 2 }), deps()));
    expect(error).toBeInstanceOf(AlgorithmError);
    expect((error as AlgorithmError).message).toBe('Processing job failed. FailureReason: AlgorithmError: See job logs for more information');
    expect(result).toMatchObject({ status: 'Failed', exitCode: 2, exitMessage: 'algo-1: stopped;algo-2: bad shard;' });
    expect(Object.fromEntries(engine.containers.map((c) => [hostOf(c.input), c.signals]))).toEqual({ 'algo-1': ['SIGTERM'], 'algo-2': [] });
    expect(existsSync(join(result.jobDir, 'out', 'partial.csv'))).toBe(true);
    expect(JSON.parse(readFileSync(result.describeFile, 'utf8'))).toMatchObject({ ProcessingJobStatus: 'Failed', SmLocal: { FailedHost: 'algo-2' } });
    expect(engine.leftovers()).toEqual([]);
  });

  it('MaxRuntimeInSeconds stops the job: SIGTERM, SIGKILL after the grace, Stopped with the reason', async () => {
    const { engine, job, deps } = setup(() => ({ output: [{ line: 'working' }] }));
    const { result, error } = await outcome(runProcessingJob(job({ stoppingCondition: { maxRuntimeInSeconds: 1 } }), deps()));
    expect(error).toBeInstanceOf(JobTimeoutError);
    expect((error as JobTimeoutError).message).toBe('Processing job stopped: MaxRuntimeInSeconds (1 s) was reached.');
    expect(result.status).toBe('Stopped');
    expect(result.failureReason).toMatch(/exceeded MaxRuntimeInSeconds/);
    expect(engine.containers[0]!.signals).toEqual(['SIGTERM', 'SIGKILL']);
    expect(engine.leftovers()).toEqual([]);
  });

  it('a stop goes InProgress → Stopping → Stopped with the outputs uploaded; a forced stop skips the upload', async () => {
    for (const forced of [false, true]) {
      const { engine, job, deps } = setup(() => ({ output: [{ line: 'started' }], onSigterm: { exitCode: 0, afterMs: 50 }, files: { [`${OUT}/done.csv`]: 'y\n' } }));
      const stop = new AbortController();
      const force = new AbortController();
      const handle = await startProcessingJob(job({ processingJobName: `stop-${forced}` }), deps({ stop: stop.signal, force: force.signal }));
      expect(handle.describe().ProcessingJobStatus).toBe('InProgress');
      while (engine.containers[0]?.state !== 'running') await new Promise((r) => setTimeout(r, 5));
      stop.abort();
      if (forced) force.abort();
      else expect(handle.describe().ProcessingJobStatus).toBe('Stopping');
      const { result, error } = await outcome(handle.done);
      expect(error).toBeInstanceOf(InterruptedError);
      expect(result.status).toBe('Stopped');
      expect(existsSync(join(result.jobDir, 'out', 'done.csv'))).toBe(!forced);
      expect(engine.leftovers()).toEqual([]);
    }
  });

  it('a program the engine cannot start fails the job, as SageMaker does, with the hint for a processing image', async () => {
    const { engine, job, deps } = setup(() => ({ startError: 'exec: "python3": executable file not found in $PATH' }));
    const { result, error } = await outcome(runProcessingJob(job(), deps()));
    expect(error).toBeInstanceOf(AlgorithmError);
    expect((error as AlgorithmError).hint).toMatch(/docker run <image>` for a processing job/);
    expect(result.status).toBe('Failed');
    expect(readFileSync(result.logFile, 'utf8')).toContain('executable file not found');
    expect(engine.leftovers()).toEqual([]);
  });
});
