import { describe, expect, it } from 'vitest';
import { pickFlags } from './options.js';

describe('pickFlags', () => {
  it('camel-cases the given options and leaves out what was not given and switches that are off', () => {
    const argv = { 'job-name': 'j', 'max-runtime': 0, keep: false, 'network-isolation': true, channel: ['a=b'], image: undefined as string | undefined, other: 1 };
    expect(pickFlags(argv, ['job-name', 'max-runtime', 'keep', 'network-isolation', 'channel', 'image'])).toEqual({ jobName: 'j', maxRuntime: 0, networkIsolation: true, channel: ['a=b'] });
  });
});
