import { HOMOGENEOUS_GROUP_NAME } from './limits.js';
import { hostName } from './paths.js';

/** An instance group of a heterogeneous cluster (API:ResourceConfig.InstanceGroups). */
export interface InstanceGroup {
  instanceGroupName: string;
  instanceType: string;
  instanceCount: number;
}

/** One container of the job: its host name, its group and its instance type. */
export interface HostPlan {
  name: string;
  groupName: string;
  instanceType: string;
}

/**
 * The hosts of a job: `algo-1` … `algo-N` (CONTRACT §3.5). With InstanceGroups the numbering runs
 * through the groups in the order given (the platform's assignment is UNCONFIRMED); without them
 * every host is in the group `homogeneousCluster`.
 */
export function planHosts(spec: { instanceType: string; instanceCount: number; instanceGroups?: readonly InstanceGroup[] }): HostPlan[] {
  const groups = spec.instanceGroups?.length
    ? spec.instanceGroups
    : [{ instanceGroupName: HOMOGENEOUS_GROUP_NAME, instanceType: spec.instanceType, instanceCount: spec.instanceCount }];
  const hosts: HostPlan[] = [];
  for (const g of groups) {
    for (let i = 0; i < g.instanceCount; i++) hosts.push({ name: hostName(hosts.length), groupName: g.instanceGroupName, instanceType: g.instanceType });
  }
  return hosts;
}

/** `resourceconfig.json` (CONTRACT §3.5). */
export interface ResourceConfigFile {
  current_host: string;
  current_instance_type: string;
  current_group_name: string;
  hosts: string[];
  instance_groups: { instance_group_name: string; instance_type: string; hosts: string[] }[];
  network_interface_name: string;
}

/**
 * `resourceconfig.json` for `current`. `hosts` is sorted lexicographically, as the platform sorts it
 * (`algo-10` before `algo-2`); the hosts inside each instance group are not guaranteed sorted, and are
 * listed here in descending order, as in the two-host example the contract quotes, so code that
 * assumes an order is caught.
 */
export function renderResourceConfig(plan: readonly HostPlan[], current: HostPlan): ResourceConfigFile {
  const groups = [...new Set(plan.map((h) => h.groupName))];
  return {
    current_host: current.name,
    current_instance_type: current.instanceType,
    current_group_name: current.groupName,
    hosts: plan.map((h) => h.name).sort(),
    instance_groups: groups.map((g) => {
      const members = plan.filter((h) => h.groupName === g);
      return { instance_group_name: g, instance_type: members[0]!.instanceType, hosts: members.map((h) => h.name).sort().reverse() };
    }),
    // eth0 is what current jobs report (CONTRACT §3.5) and what a Docker bridge network gives.
    network_interface_name: 'eth0',
  };
}

/**
 * Which of a channel's objects a host gets. FullyReplicated: all. ShardedByS3Key: every N-th object
 * key in sorted order (the service gives each host "a subset of objects"; the exact split is
 * UNCONFIRMED). `keys` are the objects' paths relative to the channel root.
 */
export function shardKeys(keys: readonly string[], distribution: 'FullyReplicated' | 'ShardedByS3Key', hostIndex: number, hostCount: number): string[] {
  const sorted = [...keys].sort();
  if (distribution === 'FullyReplicated' || hostCount <= 1) return sorted;
  return sorted.filter((_, i) => i % hostCount === hostIndex);
}
