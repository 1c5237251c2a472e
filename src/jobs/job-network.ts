/**
 * The network jobs without network isolation run on: one long-lived bridge, `sm-local-jobs`, with a
 * subnet of its own, shared by every job on the engine. Each host gets a fixed address on it, and every
 * host of a job resolves every `algo-N` through `/etc/hosts` lines the engine writes at creation
 * (CONTRACT §3.12: each host reaches the others by those names; here its own name and its peers' are
 * their eth0 addresses for as long as the job runs, even after a peer has exited, as on SageMaker).
 * CONTRACT §3.12 recommends a bridge per job; creating and removing one cost about a third of a short
 * job's time (issue 16). DNS aliases cannot be used on a shared network (two jobs both have an
 * `algo-1`). Jobs with network isolation keep a private internal network each (cluster.ts).
 */
import { randomInt } from 'node:crypto';
import type { ContainerEngine } from '../docker/engine.js';
import { LABEL } from '../docker/labels.js';

export const SHARED_JOB_NETWORK = 'sm-local-jobs';

/** The shared network's labels: sm-local's, with no owner (prune removes it with `--all`, once nothing uses it). */
export const SHARED_NETWORK_LABELS = { [LABEL.managed]: 'true', [LABEL.shared]: 'true' };

const known = new WeakMap<ContainerEngine, Promise<{ name: string; subnet: string }>>();

/**
 * Addresses this process has handed to containers that may not have started yet (the engine lists
 * only running ones): jobs side by side in one process (`check`, `sm-local api`) never meet.
 */
const handedOut = new WeakMap<ContainerEngine, Set<string>>();

/**
 * Addresses for `count` hosts on the shared job network, none in use, and the network itself (made
 * again when it was removed since this process first made it, e.g. by `prune --all`). Give the
 * addresses back with `release` once the containers are gone.
 */
export async function leaseAddresses(docker: ContainerEngine, count: number): Promise<{ network: string; addresses: string[]; release: () => void }> {
  let network = await sharedJobNetwork(docker);
  let now = await docker.inspectNetwork(network.name);
  if (!now) {
    known.delete(docker);
    network = await sharedJobNetwork(docker);
    now = await docker.inspectNetwork(network.name);
  }
  const mine = handedOut.get(docker) ?? new Set<string>();
  handedOut.set(docker, mine);
  const addresses = pickAddresses(network.subnet, [...(now?.addresses ?? []), ...mine], count);
  for (const a of addresses) mine.add(a);
  return { network: network.name, addresses, release: () => addresses.forEach((a) => mine.delete(a)) };
}

/**
 * The shared job network, created on first use. Its subnet is one the engine picks from its own pool
 * (learnt from a network created and removed for the purpose), then given back as the network's own
 * configuration, which fixed addresses need. Two processes creating it at once: one wins, the other
 * takes the winner's.
 */
export function sharedJobNetwork(docker: ContainerEngine): Promise<{ name: string; subnet: string }> {
  let found = known.get(docker);
  if (!found) {
    found = findOrCreate(docker);
    known.set(docker, found);
    found.catch(() => known.delete(docker));
  }
  return found;
}

async function findOrCreate(docker: ContainerEngine): Promise<{ name: string; subnet: string }> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    const existing = await docker.inspectNetwork(SHARED_JOB_NETWORK);
    if (existing?.subnet) return { name: SHARED_JOB_NETWORK, subnet: existing.subnet };
    if (existing) {
      // Made by hand or by another tool without a subnet of its own: of no use for fixed addresses.
      throw new Error(`the network ${SHARED_JOB_NETWORK} exists without a subnet of its own; remove it (docker network rm ${SHARED_JOB_NETWORK}) and sm-local makes it again`);
    }
    const probeName = `${SHARED_JOB_NETWORK}-probe-${randomInt(1e9)}`;
    const probe = await docker.createNetwork({ name: probeName, labels: SHARED_NETWORK_LABELS });
    const subnet = (await docker.inspectNetwork(probeName).finally(() => probe.remove()))?.subnet;
    if (!subnet) throw new Error(`the engine gave network ${probeName} no IPv4 subnet`);
    try {
      await docker.createNetwork({ name: SHARED_JOB_NETWORK, labels: SHARED_NETWORK_LABELS, subnet });
      return { name: SHARED_JOB_NETWORK, subnet };
    } catch (err) {
      // Another process made it first, or took that subnet for something else: look again.
      lastError = err;
    }
  }
  throw lastError;
}

const toInt = (ip: string) => ip.split('.').reduce((n, part) => n * 256 + Number(part), 0);
const toIp = (n: number) => [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');

/**
 * `count` distinct host addresses in `subnet` (`a.b.c.d/len`), none of them in `taken`, the network's
 * own address, its first (the gateway) or its broadcast address. Picked at random over the whole range,
 * so two processes that pick at the same moment rarely meet.
 */
export function pickAddresses(subnet: string, taken: readonly string[], count: number, random: (max: number) => number = randomInt): string[] {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(subnet);
  if (!m) throw new Error(`not an IPv4 subnet: ${subnet}`);
  const size = 2 ** (32 - Number(m[2]));
  const base = toInt(m[1]!) - (toInt(m[1]!) % size);
  const usable = size - 3; // network, gateway (.1), broadcast
  const avoid = new Set(taken);
  if (usable - avoid.size < count) throw new Error(`network subnet ${subnet} has no room for ${count} more containers`);
  const out: string[] = [];
  while (out.length < count) {
    const ip = toIp(base + 2 + random(usable));
    if (avoid.has(ip)) continue;
    avoid.add(ip);
    out.push(ip);
  }
  return out;
}
