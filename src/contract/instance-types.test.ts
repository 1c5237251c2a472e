import { describe, expect, it } from 'vitest';
import { containerLimits, instanceResources, knownInstanceTypes } from './instance-types.js';

const GiB = 1024 ** 3;

describe('instance types', () => {
  it('knows the resources of common training instances, GPUs included', () => {
    expect(instanceResources('ml.m5.large')).toEqual({ vcpus: 2, memoryGiB: 8, gpus: 0 });
    expect(instanceResources('ml.c5.xlarge')).toEqual({ vcpus: 4, memoryGiB: 8, gpus: 0 });
    expect(instanceResources('ml.p3.8xlarge')).toEqual({ vcpus: 32, memoryGiB: 244, gpus: 4, accelerator: 'NVIDIA V100' });
    expect(instanceResources('ml.g5.12xlarge')?.gpus).toBe(4);
    expect(instanceResources('ml.m5.huge')).toBeUndefined();
    expect(instanceResources('ml.z9.large')).toBeUndefined();
    expect(knownInstanceTypes()).toContain('ml.g4dn.xlarge');
    expect(knownInstanceTypes().every((t) => instanceResources(t) !== undefined)).toBe(true);
  });

  it('limits a container to the instance: CPUs, memory without swap, /dev/shm at half the memory', () => {
    expect(containerLimits('ml.c5.large', { cpus: 8, memoryBytes: 64 * GiB })).toEqual({ nanoCpus: 2e9, memoryBytes: 4 * GiB, shmBytes: 2 * GiB, gpus: 0, notes: [] });
  });

  it('caps what the engine does not have, and says so', () => {
    const limits = containerLimits('ml.m5.4xlarge', { cpus: 2, memoryBytes: 24 * GiB })!;
    expect(limits.nanoCpus).toBe(2e9);
    expect(limits.memoryBytes).toBe(0);
    expect(limits.shmBytes).toBe(12 * GiB);
    expect(limits.notes).toEqual([
      'ml.m5.4xlarge has 16 vCPUs; the engine has 2, so the container gets 2.',
      "ml.m5.4xlarge has 64 GiB of memory; the engine has 24.0 GiB, so the container is not limited to the instance's memory.",
    ]);
  });
});
