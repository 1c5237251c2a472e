import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BASE_PYTHON, fixtureTag } from '../scripts/lib/images.js';
import { AlgorithmError, InterruptedError, JobTimeoutError, runTrainingJob } from '../src/index.js';
import { describeOf, rejection, resultOf } from './support/jobs.js';
import { dockerUnavailable, useTestSession } from './support/session.js';
import { tarNames } from './support/tarballs.js';

describe.skipIf(dockerUnavailable())('how a training job ends', () => {
  const s = useTestSession();

  describe('a non-zero exit fails the job (CONTRACT §3.10)', () => {
    it('reports /opt/ml/output/failure as FailureReason and keeps the log and partial artifacts', async () => {
      const { deps } = s.deps();
      const err = await rejection(runTrainingJob({ image: fixtureTag('fails'), outputDir: s.dir() }, deps), AlgorithmError);
      expect(err).toMatchObject({ code: 'E_ALGORITHM_FAILED', exitCode: 1 });
      const expected = 'AlgorithmError: ValueError: the input has no label column\nsee train.csv line 1, exit code: 3';
      expect(err.failureReason).toBe(expected);
      expect(err.logTail).toContain('fails: about to fail');
      const result = resultOf(err);
      expect(describeOf(result)).toMatchObject({ TrainingJobStatus: 'Failed', SecondaryStatus: 'Failed', FailureReason: expected, SmLocal: { ExitCode: 3 } });
      expect(await tarNames(result.modelArtifact!)).toEqual(['partial-model.txt']);
      expect(await tarNames(result.outputArtifact!)).toEqual(['partial-output.txt']);
      // stdout and stderr are copied separately by the engine: both lines are there, in either order.
      const log = readFileSync(result.logFile, 'utf8').split('\n');
      expect(log).toEqual(expect.arrayContaining(['fails: starting', 'fails: about to fail']));
    });

    it('keeps FailureReason within 1024 characters', async () => {
      const { deps } = s.deps();
      const err = await rejection(runTrainingJob({ image: fixtureTag('fails'), environment: { FAILURE_LENGTH: '5000' }, outputDir: s.dir() }, deps), AlgorithmError);
      expect(err.failureReason).toHaveLength(1024);
      expect(err.failureReason.endsWith(', exit code: 3')).toBe(true);
    });

    it('uses the service wording when there is no failure file', async () => {
      const { deps } = s.deps();
      const err = await rejection(runTrainingJob({ image: fixtureTag('fails'), environment: { NO_FAILURE_FILE: '1' }, outputDir: s.dir() }, deps), AlgorithmError);
      expect(err.failureReason).toBe('AlgorithmError: , exit code: 3');
    });

    it('fails with exit code 127 and a hint when the image has no `train` to run', async () => {
      const { deps } = s.deps();
      const err = await rejection(runTrainingJob({ image: BASE_PYTHON, outputDir: s.dir() }, deps), AlgorithmError);
      expect(err.failureReason).toBe('AlgorithmError: , exit code: 127');
      expect(err.hint).toMatch(/ENTRYPOINT.*`train` on its PATH/);
      const result = resultOf(err);
      expect(readFileSync(result.logFile, 'utf8')).toMatch(/"train": executable file not found in \$PATH/);
      expect(describeOf(result)).toMatchObject({ TrainingJobStatus: 'Failed' });
    });
  });

  describe('stopping (CONTRACT §2.2, §3.11)', () => {
    it('MaxRuntimeInSeconds sends SIGTERM; a handler that saves the model gets it uploaded', async () => {
      const { deps, lines } = s.deps();
      const err = await rejection(
        runTrainingJob({ image: fixtureTag('sigterm-handler'), stoppingCondition: { maxRuntimeInSeconds: 2 }, outputDir: s.dir() }, deps),
        JobTimeoutError,
      );
      expect(err).toMatchObject({ code: 'E_MAX_RUNTIME', exitCode: 4 });
      const result = resultOf(err);
      const d = describeOf(result);
      expect(d).toMatchObject({ TrainingJobStatus: 'Stopped', SecondaryStatus: 'MaxRuntimeExceeded', SmLocal: { Killed: false, ExitCode: 0 } });
      expect(d).not.toHaveProperty('FailureReason');
      expect((d.SecondaryStatusTransitions as { Status: string }[]).map((t) => t.Status)).toEqual(['Starting', 'Downloading', 'Training', 'Stopping', 'Uploading', 'MaxRuntimeExceeded']);
      expect(await tarNames(result.modelArtifact!)).toEqual(['saved-on-sigterm.txt']);
      expect(lines.map((l) => l.line)).toContain('slow: SIGTERM received, model saved');
    });

    it('SIGKILLs a container that ignores SIGTERM once the grace period is over', async () => {
      const { deps, lines } = s.deps();
      const err = await rejection(
        runTrainingJob({ image: fixtureTag('sigterm-ignorer'), stoppingCondition: { maxRuntimeInSeconds: 1 }, stopGraceSeconds: 1, outputDir: s.dir() }, deps),
        JobTimeoutError,
      );
      const result = resultOf(err);
      expect(describeOf(result)).toMatchObject({ TrainingJobStatus: 'Stopped', SecondaryStatus: 'MaxRuntimeExceeded', SmLocal: { Killed: true, ExitCode: 137 } });
      expect(lines.map((l) => l.line)).toContain('slow: ignoring SIGTERM');
      expect(existsSync(result.modelArtifact!)).toBe(true);
    });

    it('a stop request behaves like StopTrainingJob: SIGTERM, then Stopped with the model uploaded', async () => {
      const stop = new AbortController();
      const { deps } = s.deps({
        stop: stop.signal,
        onLine: (line) => {
          if (line === 'slow: tick 2') stop.abort();
        },
      });
      const err = await rejection(runTrainingJob({ image: fixtureTag('sigterm-handler'), outputDir: s.dir() }, deps), InterruptedError);
      expect(err).toMatchObject({ code: 'E_INTERRUPTED', exitCode: 130 });
      const result = resultOf(err);
      expect(describeOf(result)).toMatchObject({ TrainingJobStatus: 'Stopped', SecondaryStatus: 'Stopped' });
      expect(await tarNames(result.modelArtifact!)).toEqual(['saved-on-sigterm.txt']);
    });

    it('a forced stop kills at once and skips the upload', async () => {
      const stop = new AbortController();
      const force = new AbortController();
      const { deps } = s.deps({
        stop: stop.signal,
        force: force.signal,
        onLine: (line) => {
          if (line === 'slow: tick 2') stop.abort();
          if (line === 'slow: ignoring SIGTERM') force.abort();
        },
      });
      const err = await rejection(runTrainingJob({ image: fixtureTag('sigterm-ignorer'), outputDir: s.dir() }, deps), InterruptedError);
      const result = resultOf(err);
      expect(describeOf(result)).toMatchObject({ TrainingJobStatus: 'Stopped', SmLocal: { Killed: true, ExitCode: 137 } });
      expect(result.modelArtifact).toBeUndefined();
      expect(existsSync(result.logFile)).toBe(true);
    });
  });
});
