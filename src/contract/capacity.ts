/**
 * How much a local SageMaker runs at once (the local stand-in for the account's service quotas,
 * which answer ResourceLimitExceeded). Each instance of a running job or endpoint counts its
 * instance type's memory, capped to the machine's (what its container may use); together they may
 * come to 4 × the machine's memory. Container memory limits are ceilings, not reservations, hence
 * the factor; past it, starting one more would make the machine swap or the kernel kill containers.
 */
import { instanceResources } from './instance-types.js';

export const MEMORY_OVERCOMMIT = 4;

/** An instance type unknown to sm-local's table counts as this much (an ml.m5.large). */
const UNKNOWN_INSTANCE_GIB = 8;

export interface InstanceUse {
  instanceType: string;
  count: number;
}

const gib = (bytes: number) => bytes / 1024 ** 3;

/** The memory (GiB) `uses` count for on a machine of `machineBytes`. */
export function memoryOf(uses: readonly InstanceUse[], machineBytes: number): number {
  return uses.reduce((sum, u) => sum + u.count * Math.min(instanceResources(u.instanceType)?.memoryGiB ?? UNKNOWN_INSTANCE_GIB, gib(machineBytes)), 0);
}

/** Why `wanted` does not fit beside `running` on this machine, or undefined when it does. */
export function capacityProblem(what: string, wanted: readonly InstanceUse[], running: readonly InstanceUse[], machineBytes: number): string | undefined {
  const capacity = MEMORY_OVERCOMMIT * gib(machineBytes);
  const need = memoryOf(wanted, machineBytes);
  const inUse = memoryOf(running, machineBytes);
  if (inUse + need <= capacity) return undefined;
  const f = (n: number) => n.toFixed(n < 10 ? 1 : 0);
  return `sm-local's limit on this machine is ${f(capacity)} GiB of instance memory at once (${MEMORY_OVERCOMMIT} × its ${f(gib(machineBytes))} GiB); running jobs and endpoints count ${f(inUse)} GiB, and this ${what} needs ${f(need)} GiB more (${wanted.map((w) => `${w.count} × ${w.instanceType}`).join(', ')}). Wait for a job to end, delete an endpoint, or ask for fewer or smaller instances.`;
}
