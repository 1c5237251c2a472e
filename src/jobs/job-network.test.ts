import { describe, expect, it } from 'vitest';
import { LABEL } from '../docker/labels.js';
import { MemoryEngine } from '../docker/memory-engine.js';
import { leaseAddresses, pickAddresses, SHARED_JOB_NETWORK, sharedJobNetwork } from './job-network.js';

describe('pickAddresses', () => {
  it('picks distinct host addresses inside the subnet, never the network, gateway or broadcast address, nor a taken one', () => {
    const all = pickAddresses('10.9.8.0/29', ['10.9.8.3'], 4);
    // /29: .0 network, .1 gateway, .7 broadcast; .3 taken: .2, .4, .5, .6 are left.
    expect([...all].sort()).toEqual(['10.9.8.2', '10.9.8.4', '10.9.8.5', '10.9.8.6']);
    expect(() => pickAddresses('10.9.8.0/29', ['10.9.8.3'], 5)).toThrow(/has no room for 5 more containers/);
    const wide = pickAddresses('172.18.0.0/16', [], 50);
    expect(new Set(wide).size).toBe(50);
    for (const ip of wide) expect(ip).toMatch(/^172\.18\.\d+\.\d+$/);
  });

  it('takes a subnet given with host bits set as its network', () => {
    expect(pickAddresses('192.168.5.77/30', [], 1, () => 0)).toEqual(['192.168.5.78']);
  });
});

describe('sharedJobNetwork', () => {
  it('makes the network once, with a subnet of its own the engine chose, labelled as shared, and leaves no probe behind', async () => {
    const engine = new MemoryEngine({});
    const [a, b] = await Promise.all([sharedJobNetwork(engine), sharedJobNetwork(engine)]);
    expect(a).toEqual(b);
    const info = await engine.inspectNetwork(SHARED_JOB_NETWORK);
    expect(info?.subnet).toBe(a.subnet);
    expect(engine.networks.get(SHARED_JOB_NETWORK)?.input).toMatchObject({ subnet: a.subnet, labels: { [LABEL.managed]: 'true', [LABEL.shared]: 'true' } });
    expect([...engine.networks.entries()].filter(([, n]) => !n.removed).map(([name]) => name)).toEqual([SHARED_JOB_NETWORK]);
  });

  it('takes the one another process made', async () => {
    const engine = new MemoryEngine({});
    await engine.createNetwork({ name: SHARED_JOB_NETWORK, labels: {}, subnet: '172.29.0.0/16' });
    expect(await sharedJobNetwork(engine)).toEqual({ name: SHARED_JOB_NETWORK, subnet: '172.29.0.0/16' });
  });
});

describe('leaseAddresses', () => {
  it('never hands the same address to two jobs of one process, even before their containers start, and takes it back on release', async () => {
    const engine = new MemoryEngine({});
    await engine.createNetwork({ name: SHARED_JOB_NETWORK, labels: {}, subnet: '10.1.2.0/29' });
    const a = await leaseAddresses(engine, 3);
    const b = await leaseAddresses(engine, 2);
    expect(a.network).toBe(SHARED_JOB_NETWORK);
    expect(new Set([...a.addresses, ...b.addresses]).size).toBe(5);
    await expect(leaseAddresses(engine, 1)).rejects.toThrow(/no room for 1 more containers/);
    a.release();
    expect((await leaseAddresses(engine, 3)).addresses.sort()).toEqual([...a.addresses].sort());
  });
});
