import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { TrainingResult } from '../../src/index.js';

/** The job record every failed, stopped or timed-out job carries. */
export function resultOf(err: { details?: unknown }): TrainingResult {
  return err.details as TrainingResult;
}

/** describe.json of a job, as written to its folder. */
export function describeOf(result: TrainingResult): Record<string, unknown> {
  return JSON.parse(readFileSync(result.describeFile, 'utf8')) as Record<string, unknown>;
}

/** The error a job rejected with, checked to be of `type`. */
export async function rejection<E>(promise: Promise<unknown>, type: abstract new (...args: never[]) => E): Promise<E> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    return err as E;
  }
  throw new Error('expected the job to reject');
}
