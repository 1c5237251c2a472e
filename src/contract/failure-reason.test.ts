import { describe, expect, it } from 'vitest';
import { renderFailureReason } from './failure-reason.js';

describe('FailureReason (CONTRACT §3.10)', () => {
  it('uses the current service format', () => {
    expect(renderFailureReason('ValueError: bad\nline 2', 3)).toBe('AlgorithmError: ValueError: bad\nline 2, exit code: 3');
  });

  it('has an empty text when the algorithm wrote no failure file', () => {
    expect(renderFailureReason(undefined, 1)).toBe('AlgorithmError: , exit code: 1');
  });

  it('keeps the whole field within 1024 characters', () => {
    const reason = renderFailureReason('x'.repeat(5000), 137);
    expect(reason).toHaveLength(1024);
    expect(reason.endsWith('x, exit code: 137')).toBe(true);
  });

  it('does not split a character made of two UTF-16 units', () => {
    const reason = renderFailureReason('😀'.repeat(600), 1);
    expect(reason).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
    expect(Array.from(reason).length).toBeLessThanOrEqual(1024);
  });
});
