import { describe, expect, it } from 'vitest';
import { lastValueWins, list, pickFlags } from './options.js';

describe('pickFlags', () => {
  it('camel-cases the given options and leaves out what was not given and switches that are off', () => {
    const argv = { 'job-name': 'j', 'max-runtime': 0, keep: false, 'network-isolation': true, channel: ['a=b'], image: undefined as string | undefined, other: 1 };
    expect(pickFlags(argv, ['job-name', 'max-runtime', 'keep', 'network-isolation', 'channel', 'image'])).toEqual({ jobName: 'j', maxRuntime: 0, networkIsolation: true, channel: ['a=b'] });
  });
});

describe('lastValueWins', () => {
  it('keeps the last value of a flag given twice, and every value of a repeatable one', () => {
    const argv: Record<string, unknown> = { _: ['train'], output: ['a', 'b'], port: [1, 2], env: list(['A=1', 'B=2']), channel: list('train=x'), '--': ['x', 'y'], image: 'img' };
    lastValueWins(argv);
    expect(JSON.parse(JSON.stringify(argv))).toEqual({ _: ['train'], output: 'b', port: 2, env: ['A=1', 'B=2'], channel: ['train=x'], '--': ['x', 'y'], image: 'img' });
  });
});
