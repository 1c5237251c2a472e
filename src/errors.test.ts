import { describe, expect, it } from 'vitest';
import {
  AlgorithmError,
  awsErrorOf,
  DockerUnavailableError,
  EndpointNotFoundError,
  EXIT,
  InvalidSpecError,
  InvokeError,
  jobRecordOf,
  JobExistsError,
  JobTimeoutError,
  StorageError,
} from './errors.js';

describe('awsErrorOf', () => {
  it('answers bad requests with ValidationException 400 and a reused job name with ResourceInUse (CONTRACT §9.3)', () => {
    expect(awsErrorOf(new InvalidSpecError([{ path: 'TrainingJobName', message: 'too long' }]))).toMatchObject({ code: 'ValidationException', status: 400 });
    expect(awsErrorOf(new EndpointNotFoundError('ep'))).toMatchObject({ code: 'ValidationException', status: 400 });
    expect(awsErrorOf(new JobExistsError('job', '/out/job'))).toMatchObject({ code: 'ResourceInUse', status: 400, message: expect.stringMatching(/^A training job named "job" already exists/) });
  });

  it("answers this machine's own failures with InternalFailure 500, and anything unknown without leaking it", () => {
    expect(awsErrorOf(new DockerUnavailableError('unix:///var/run/docker.sock'))).toMatchObject({ code: 'InternalFailure', status: 500 });
    expect(awsErrorOf(new StorageError('/out', 'full'))).toMatchObject({ code: 'InternalFailure', status: 500 });
    expect(awsErrorOf(new TypeError('x is undefined'))).toEqual({ code: 'InternalFailure', status: 500, message: 'An internal error occurred.' });
  });

  it("passes the runtime's own error type and status through", () => {
    expect(awsErrorOf(new InvokeError(424, 'ModelError', Buffer.from('{"Message":"bad"}')))).toMatchObject({ code: 'ModelError', status: 424 });
  });
});

describe('job-kind wording', () => {
  it('names the kind of job that failed, training by default, with the same exit codes', () => {
    expect(new AlgorithmError('AlgorithmError: , exit code: 1', []).message).toBe('Training job failed. FailureReason: AlgorithmError: , exit code: 1');
    expect(new AlgorithmError('x', [], undefined, undefined, 'Processing job').message).toBe('Processing job failed. FailureReason: x');
    expect(new JobTimeoutError(60, undefined, 'Processing job').message).toMatch(/^Processing job stopped: MaxRuntimeInSeconds \(60 s\)/);
    expect(new JobExistsError('p', '/out/p', 'processing job').exitCode).toBe(EXIT.usage);
  });
});

describe('jobRecordOf', () => {
  it('returns the record a job outcome carries, and nothing for other errors', () => {
    const record = { status: 'Failed' };
    expect(jobRecordOf<typeof record>(new AlgorithmError('x', [], record))).toBe(record);
    expect(jobRecordOf<typeof record>(new JobTimeoutError(1, record))).toBe(record);
    expect(jobRecordOf(new StorageError('/out', 'full'))).toBeUndefined();
  });
});
