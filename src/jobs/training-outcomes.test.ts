/**
 * The outcome logic of a training job on the in-memory engine: which host's failure wins, time
 * limits against user stops and forced stops, SIGTERM then SIGKILL after the grace, the statuses the
 * job passes through, and that every path removes what it created. No engine, no timing assertions:
 * scripted containers decide what happens, and the test reads what the job made of it.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryEngine, type ScriptedBehaviour } from '../docker/memory-engine.js';
import type { ContainerInput } from '../docker/engine.js';
import { AlgorithmError, InterruptedError, JobTimeoutError } from '../errors.js';
import { createMemoryLogger } from '../log.js';
import { runTrainingJob, startTrainingJob, type TrainingJobInput, type TrainingResult } from './training-runner.js';

const IMAGE = 'algo:test';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The host a container was created for (`algo-2`), from its name. */
const hostOf = (input: ContainerInput) => /-(algo-\d+)-[0-9a-f]{6}$/.exec(input.name)?.[1] ?? '?';

function setup(behaviour: (host: string) => ScriptedBehaviour) {
  const root = mkdtempSync(join(tmpdir(), 'sm-local-outcomes-'));
  dirs.push(root);
  const data = join(root, 'data');
  mkdirSync(data);
  writeFileSync(join(data, 'rows.csv'), '1,2\n');
  const engine = new MemoryEngine({ images: { [IMAGE]: { entrypoint: ['python3', '/opt/program/train.py'] } }, behaviour: (input) => behaviour(hostOf(input)) });
  const log = createMemoryLogger();
  const job = (over: Partial<TrainingJobInput> = {}): TrainingJobInput => ({
    image: IMAGE,
    trainingJobName: 'outcomes',
    channels: [{ channelName: 'train', source: data }],
    outputDir: join(root, 'out'),
    stopGraceSeconds: 0.2,
    ...over,
  });
  const deps = (extra: { stop?: AbortSignal; force?: AbortSignal } = {}) => ({ docker: engine, log, tmpRoot: join(root, 'tmp'), cwd: root, ...extra });
  return { engine, job, deps, root };
}

/** The job's result whether it completed or not (a failed, stopped or timed-out job carries it in `details`). */
async function outcome(run: Promise<TrainingResult>): Promise<{ result: TrainingResult; error?: unknown }> {
  try {
    return { result: await run };
  } catch (error) {
    return { result: (error as { details: TrainingResult }).details, error };
  }
}

const signalsOf = (engine: MemoryEngine) => Object.fromEntries(engine.containers.map((c) => [hostOf(c.input), c.signals]));
const describeOf = (result: TrainingResult) => JSON.parse(readFileSync(join(result.jobDir, 'describe.json'), 'utf8')) as Record<string, unknown>;

describe('training outcomes on the in-memory engine', () => {
  it('completes: the model comes back as model.tar.gz, the statuses run in order, nothing is left', async () => {
    const { engine, job, deps } = setup(() => ({ output: [{ line: 'epoch 1' }], exitAtMs: 5, exitCode: 0, files: { '/opt/ml/model/model.json': '{"a":1}' } }));
    const { result, error } = await outcome(runTrainingJob(job(), deps()));
    expect(error).toBeUndefined();
    expect(result.status).toBe('Completed');
    expect(existsSync(result.modelArtifact!)).toBe(true);
    const transitions = (describeOf(result).SecondaryStatusTransitions as { Status: string }[]).map((t) => t.Status);
    expect(transitions).toEqual(['Starting', 'Downloading', 'Training', 'Uploading', 'Completed']);
    expect(engine.leftovers()).toEqual([]);
  });

  it('hands the model on as soon as it is written, before the job ends, only when every host exited 0', async () => {
    for (const exitCode of [0, 2]) {
      const { engine, job, deps } = setup(() => ({ exitAtMs: 5, exitCode, files: { '/opt/ml/model/model.json': '{}' } }));
      const handed: { artifact: string; leftovers: string[] }[] = [];
      const { result } = await outcome(runTrainingJob(job({ reportChanges: true, onModelReady: (artifact) => handed.push({ artifact, leftovers: engine.leftovers() }) }), deps()));
      if (exitCode === 0) {
        expect(handed).toEqual([{ artifact: result.modelArtifact, leftovers: [expect.stringMatching(/^container sm-local-training-outcomes-algo-1-/)] }]);
        expect(existsSync(handed[0]!.artifact)).toBe(true);
      } else expect(handed).toEqual([]);
      expect(engine.leftovers()).toEqual([]);
    }
  });

  it('the first host to fail fails the job with its reason, and the others are stopped', async () => {
    const { engine, job, deps } = setup((host) =>
      host === 'algo-2'
        ? { exitAtMs: 20, exitCode: 3, files: { '/opt/ml/output/failure': 'ValueError: algo-2 found a bad row' } }
        : { output: [{ line: `${host} training` }], onSigterm: { exitCode: 0 } },
    );
    const { result, error } = await outcome(runTrainingJob(job({ instanceCount: 3 }), deps()));
    expect(error).toBeInstanceOf(AlgorithmError);
    expect(result.status).toBe('Failed');
    expect(result.failureReason).toMatch(/ValueError: algo-2 found a bad row/);
    expect(signalsOf(engine)).toEqual({ 'algo-1': ['SIGTERM'], 'algo-2': [], 'algo-3': ['SIGTERM'] });
    expect(engine.leftovers()).toEqual([]);
  });

  it('MaxRuntimeInSeconds sends SIGTERM, then SIGKILL after the grace, to a program that ignores it', async () => {
    const { engine, job, deps } = setup(() => ({ output: [{ line: 'training forever' }] }));
    const { result, error } = await outcome(runTrainingJob(job({ stoppingCondition: { maxRuntimeInSeconds: 1 } }), deps()));
    expect(error).toBeInstanceOf(JobTimeoutError);
    expect(result.secondaryStatus).toBe('MaxRuntimeExceeded');
    expect(signalsOf(engine)).toEqual({ 'algo-1': ['SIGTERM', 'SIGKILL'] });
    expect(result.hosts[0]?.killed).toBe(true);
    expect(engine.leftovers()).toEqual([]);
  });

  it('a user stop ends the job Stopped, keeps what the program saved on SIGTERM, and needs no SIGKILL when it exits in the grace', async () => {
    const stop = new AbortController();
    const { engine, job, deps } = setup(() => ({ output: [{ line: 'epoch 1' }], onSigterm: { exitCode: 0 }, files: { '/opt/ml/model/partial.json': '{}' } }));
    const running = runTrainingJob(job(), { ...deps({ stop: stop.signal }), onLine: () => stop.abort() });
    const { result, error } = await outcome(running);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(result.status).toBe('Stopped');
    expect(signalsOf(engine)).toEqual({ 'algo-1': ['SIGTERM'] });
    expect(result.hosts[0]?.killed).toBe(false);
    expect(existsSync(result.modelArtifact!)).toBe(true);
    expect(engine.leftovers()).toEqual([]);
  });

  it('a forced stop kills at once and skips packaging', async () => {
    const stop = new AbortController();
    const force = new AbortController();
    const { engine, job, deps } = setup(() => ({ output: [{ line: 'epoch 1' }], files: { '/opt/ml/model/partial.json': '{}' } }));
    const running = runTrainingJob(job({ stopGraceSeconds: 120 }), {
      ...deps({ stop: stop.signal, force: force.signal }),
      onLine: () => {
        stop.abort();
        force.abort();
      },
    });
    const { result, error } = await outcome(running);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(result.status).toBe('Stopped');
    expect(signalsOf(engine)['algo-1']).toContain('SIGKILL');
    expect(result.modelArtifact).toBeUndefined();
    expect(engine.leftovers()).toEqual([]);
  });

  it('a program that cannot start fails the job and leaves nothing', async () => {
    const { engine, job, deps } = setup(() => ({ startError: 'exec: "train": executable file not found in $PATH' }));
    const { result, error } = await outcome(runTrainingJob(job(), deps()));
    expect(error).toBeInstanceOf(AlgorithmError);
    expect(result.status).toBe('Failed');
    expect(result.failureReason).toBe('AlgorithmError: , exit code: 127');
    expect((error as AlgorithmError).hint).toMatch(/ENTRYPOINT.*`train` on its PATH/);
    expect(readFileSync(result.logFile, 'utf8')).toMatch(/"train": executable file not found in \$PATH/);
    expect(engine.leftovers()).toEqual([]);
  });

  it('a started job has a live describe() while it runs, and stop() ends it Stopped', async () => {
    const { engine, job, deps } = setup(() => ({ output: [{ line: 'epoch 1' }], onSigterm: { exitCode: 0 } }));
    let seen: (() => void) | undefined;
    const training = new Promise<void>((resolve) => (seen = resolve));
    const handle = await startTrainingJob(job(), { ...deps(), onLine: () => seen?.() });
    await training;
    expect(handle.describe()).toMatchObject({ TrainingJobName: 'outcomes', TrainingJobStatus: 'InProgress', SecondaryStatus: 'Training' });
    handle.stop();
    const { result, error } = await outcome(handle.done);
    expect(error).toBeInstanceOf(InterruptedError);
    expect(result.status).toBe('Stopped');
    expect(handle.describe()).toMatchObject({ TrainingJobStatus: 'Stopped', SecondaryStatus: 'Stopped' });
    expect(engine.leftovers()).toEqual([]);
  });

  it('start refuses a bad request before anything runs', async () => {
    const { engine, job, deps } = setup(() => ({ exitAtMs: 0 }));
    await expect(startTrainingJob(job({ image: 'missing:latest' }), deps())).rejects.toThrow(/Image "missing:latest" is not in the local Docker engine/);
    expect(engine.containers).toEqual([]);
  });
});
