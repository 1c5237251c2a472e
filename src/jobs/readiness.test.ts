import { describe, expect, it } from 'vitest';
import { nextPingPause } from './readiness.js';

describe('the pause between readiness pings', () => {
  it('while nothing answers HTTP: 5 % of the wait so far, from 5 ms to 100 ms', () => {
    expect([0, 50, 200, 1000, 2000, 60_000].map((elapsed) => nextPingPause(elapsed, undefined))).toEqual([5, 5, 10, 50, 100, 100]);
  });

  it('once a server answers other than 200, the doubling pause the caller keeps, whatever the wait so far', () => {
    expect(nextPingPause(0, 10)).toBe(10);
    expect(nextPingPause(60_000, 40)).toBe(40);
  });
});
