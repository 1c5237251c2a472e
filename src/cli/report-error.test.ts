import { describe, expect, it } from 'vitest';
import { AlgorithmError, ImageNotFoundError } from '../errors.js';
import { reportError } from './report-error.js';

const capture = () => {
  let text = '';
  return { stream: { write: (s: string) => (text += s) }, text: () => text };
};

describe('reportError', () => {
  it('prints message and hint for user errors and returns their exit code', () => {
    const c = capture();
    expect(reportError(new ImageNotFoundError('algo:1'), c.stream)).toBe(3);
    expect(c.text()).toBe('error: Image "algo:1" is not in the local Docker engine.\nhint: sm-local never pulls images. Build it first (docker build -t algo:1 .) or load it (docker load -i image.tar).\n');
  });

  it('shows the log tail of a failed job before the error', () => {
    const c = capture();
    expect(reportError(new AlgorithmError('AlgorithmError: boom, exit code: 3', ['a', 'b']), c.stream)).toBe(1);
    expect(c.text()).toMatch(/^Last 2 lines of the container log:\n {2}\| a\n {2}\| b\nerror: Training job failed. FailureReason: AlgorithmError: boom, exit code: 3\n/);
  });

  it('treats anything else as a bug (exit 70) with its stack', () => {
    const c = capture();
    expect(reportError(new TypeError('x is undefined'), c.stream)).toBe(70);
    expect(c.text()).toMatch(/internal error: TypeError: x is undefined[\s\S]*This is a bug in sm-local/);
  });

  it('reports a full disk or a folder it may not write to as an environment problem (exit 3)', () => {
    const c = capture();
    const err = Object.assign(new Error("EACCES: permission denied, mkdir '/ro/job'"), { code: 'EACCES', path: '/ro/job' });
    expect(reportError(err, c.stream)).toBe(3);
    expect(c.text()).toMatch(/^error: Cannot write \/ro\/job: permission denied\.\nhint: .*--output/);
  });
});
