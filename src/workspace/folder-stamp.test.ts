import { describe, expect, it } from 'vitest';
import { isStamp, newFolderStamp, paxMtime } from './folder-stamp.js';

describe('folder stamps', () => {
  const stamp = { seconds: 1796161426, nanos: 123456789 };

  it('matches the time the Engine reports for a folder that carries the stamp, in any zone', () => {
    expect(isStamp('2026-12-01T21:43:46.123456789Z', stamp)).toBe(true);
    expect(isStamp('2026-12-01T22:43:46.123456789+01:00', stamp)).toBe(true);
    // Go drops trailing zeros.
    expect(isStamp('2026-12-01T21:43:46.1234Z', { seconds: stamp.seconds, nanos: 123400000 })).toBe(true);
  });

  it('does not match a folder written to since, a coarser filesystem, or an unreadable time', () => {
    expect(isStamp('2026-12-01T21:43:46.927992375Z', stamp)).toBe(false);
    expect(isStamp('2026-12-01T21:43:47.123456789Z', stamp)).toBe(false);
    expect(isStamp('2026-12-01T21:43:46.123456Z', stamp)).toBe(false);
    expect(isStamp('2026-12-01T21:43:46Z', stamp)).toBe(false);
    expect(isStamp(undefined, stamp)).toBe(false);
    expect(isStamp('yesterday', stamp)).toBe(false);
  });

  it('is in the current second, with nanoseconds that no truncation to microseconds reaches', () => {
    expect(newFolderStamp(1796161426999, () => 5_000)).toEqual({ seconds: 1796161426, nanos: 5_001 });
    expect(newFolderStamp(1796161426000, () => 42)).toEqual({ seconds: 1796161426, nanos: 42 });
    expect(paxMtime({ seconds: 1796161426, nanos: 42 })).toBe('1796161426.000000042');
  });
});
