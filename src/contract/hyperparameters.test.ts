import { describe, expect, it } from 'vitest';
import { pythonJsonDumps, stringifyHyperParameters } from './hyperparameters.js';

describe('stringifyHyperParameters', () => {
  it('turns JSON numbers, booleans and lists into the strings the SageMaker SDK sends, and says so', () => {
    const { hyperParameters, notices } = stringifyHyperParameters({ epochs: 10, lr: 0.001, amp: true, layers: [256, 128], opt: 'adam' }, '--hyperparameters');
    expect(hyperParameters).toEqual({ epochs: '10', lr: '0.001', amp: 'true', layers: '[256, 128]', opt: 'adam' });
    expect(notices).toHaveLength(4);
    expect(notices[0]).toMatch(/"epochs" from --hyperparameters is a JSON number; it is passed as the string "10"/);
  });

  it('writes JSON the way Python json.dumps does', () => {
    expect(pythonJsonDumps({ a: 1, b: [1, 'x'], c: null })).toBe('{"a": 1, "b": [1, "x"], "c": null}');
  });
});
