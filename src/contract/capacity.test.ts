import { describe, expect, it } from 'vitest';
import { capacityProblem, memoryOf } from './capacity.js';

const GiB = 1024 ** 3;

describe('capacity', () => {
  it("counts each instance's memory, capped to the machine", () => {
    expect(memoryOf([{ instanceType: 'ml.m5.large', count: 2 }], 24 * GiB)).toBe(16);
    // An ml.p3.16xlarge (488 GiB) counts as the whole machine, as its container may use no more.
    expect(memoryOf([{ instanceType: 'ml.p3.16xlarge', count: 1 }], 24 * GiB)).toBe(24);
  });

  it('lets up to 4 × the machine run at once, and says why one more does not fit', () => {
    const running = Array.from({ length: 11 }, () => ({ instanceType: 'ml.m5.large', count: 1 }));
    expect(capacityProblem('training job', [{ instanceType: 'ml.m5.large', count: 1 }], running, 24 * GiB)).toBeUndefined();
    const problem = capacityProblem('training job', [{ instanceType: 'ml.m5.xlarge', count: 1 }], running, 24 * GiB);
    expect(problem).toBe("sm-local's limit on this machine is 96 GiB of instance memory at once (4 × its 24 GiB); running jobs and endpoints count 88 GiB, and this training job needs 16 GiB more (1 × ml.m5.xlarge). Wait for a job to end, delete an endpoint, or ask for fewer or smaller instances.");
  });
});
