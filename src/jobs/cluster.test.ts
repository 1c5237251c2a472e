/**
 * The multi-host core on the in-memory engine: what it creates for a job (names, labels, limits, the
 * network and host names), what it collects from hosts as they exit, and that it removes all of it
 * on every path unless told to keep it.
 */
import { Readable } from 'node:stream';
import { pack } from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { LABEL } from '../docker/labels.js';
import { MemoryEngine, type ScriptedBehaviour } from '../docker/memory-engine.js';
import { createMemoryLogger } from '../log.js';
import { streamToBuffer } from '../workspace/archive.js';
import { JobCluster, type ClusterHost, type ClusterSetup } from './cluster.js';
import { SHARED_JOB_NETWORK } from './job-network.js';
import { ResourceScope } from './resource-scope.js';

const IMAGE = 'job:test';
const OWNER = { session: 'cluster-test', pid: 4242, hostname: 'here' };

function make(opts: { hosts?: ClusterHost[]; behaviour?: (name: string) => ScriptedBehaviour; setup?: Partial<ClusterSetup>; failCreateOf?: string } = {}) {
  const engine = new MemoryEngine({
    images: { [IMAGE]: {} },
    behaviour: (input) => opts.behaviour?.(input.name) ?? { exitAtMs: 0, exitCode: 0 },
  });
  if (opts.failCreateOf) {
    const create = engine.createContainer.bind(engine);
    engine.createContainer = async (input) => {
      if (input.name.includes(opts.failCreateOf!)) throw new Error(`no room for ${input.name}`);
      return create(input);
    };
  }
  const log = createMemoryLogger();
  const warned: string[] = [];
  const scope = new ResourceScope(log);
  const hosts = opts.hosts ?? [
    { name: 'algo-1', instanceType: 'ml.m5.large' },
    { name: 'algo-2', instanceType: 'ml.m5.large' },
  ];
  const cluster = new JobCluster(
    {
      deps: { docker: engine, log, owner: OWNER },
      engineInfo: { endpoint: 'memory://', remote: false, serverVersion: 'memory', apiVersion: '1.41', operatingSystem: 'memory', osType: 'linux', architecture: 'x86_64', cpus: 2, memTotalBytes: 16 * 1024 ** 3, storageDriver: 'memory', rootDir: '/', runtimes: ['runc'], rootless: false },
      jobType: 'processing',
      jobName: 'Nightly_Job',
      image: IMAGE,
      isolated: false,
      keep: false,
      collect: ['/opt/ml/processing/output'],
      warnOnce: (m) => void (warned.includes(m) || warned.push(m)),
      ...opts.setup,
    },
    hosts,
    scope,
  );
  return { engine, cluster, scope, warned, hosts };
}

const plain = () => ({ env: [] as string[] });

describe('JobCluster', () => {
  it("creates one container per host, named and labelled as the job's, each at an address of its own on the shared job network, every host naming all", async () => {
    const { engine, cluster, scope } = make();
    await cluster.createContainers(plain);
    await cluster.connect();
    expect(engine.containers.map((c) => c.input.name)).toEqual([`sm-local-processing-nightly_job-algo-1-${cluster.suffix}`, `sm-local-processing-nightly_job-algo-2-${cluster.suffix}`]);
    for (const c of engine.containers) {
      expect(c.input.labels).toMatchObject({ [LABEL.managed]: 'true', [LABEL.jobType]: 'processing', [LABEL.jobName]: 'Nightly_Job', [LABEL.session]: 'cluster-test' });
      expect(c.input.image).toBe(IMAGE);
    }
    const shared = await engine.inspectNetwork(SHARED_JOB_NETWORK);
    expect(cluster.networkName).toBe(SHARED_JOB_NETWORK);
    expect(shared?.labels).toEqual({ [LABEL.managed]: 'true', [LABEL.shared]: 'true' });
    const [a1, a2] = engine.containers.map((c) => c.network?.ipv4Address);
    expect(a1).not.toBe(a2);
    expect(engine.containers.map((c) => c.network)).toEqual([
      { name: SHARED_JOB_NETWORK, aliases: [], ipv4Address: a1 },
      { name: SHARED_JOB_NETWORK, aliases: [], ipv4Address: a2 },
    ]);
    for (const c of engine.containers) expect(c.input.extraHosts).toEqual([`algo-1:${a1}`, `algo-2:${a2}`]);
    // Only the shared network: none of the job's own, and none left of the one that found the subnet.
    expect([...engine.networks.entries()].filter(([, n]) => !n.removed).map(([name]) => name)).toEqual([SHARED_JOB_NETWORK]);
    await scope.dispose();
    expect(engine.leftovers()).toEqual([]);
  });

  it('with network isolation, puts the hosts on an isolated network of the job under their host names, and removes it', async () => {
    const { engine, cluster, scope } = make({ setup: { isolated: true } });
    await cluster.createContainers(plain);
    await cluster.connect();
    expect(cluster.networkName).toBe(`sm-local-processing-nightly_job-${cluster.suffix}`);
    expect(engine.containers.map((c) => c.network)).toEqual([
      { name: cluster.networkName, aliases: ['algo-1'] },
      { name: cluster.networkName, aliases: ['algo-2'] },
    ]);
    expect(engine.networks.get(cluster.networkName)?.input).toMatchObject({ isolated: true, labels: cluster.labels });
    expect(engine.networks.has(SHARED_JOB_NETWORK)).toBe(false);
    await scope.dispose();
    expect(engine.leftovers()).toEqual([]);
  });

  it('makes the shared network again when it was removed under a long-lived process', async () => {
    const first = make();
    await first.cluster.createContainers(plain);
    await first.scope.dispose();
    await first.engine.removeNetwork((await first.engine.inspectNetwork(SHARED_JOB_NETWORK))!.id);
    const again = new JobCluster({ ...(first.cluster as unknown as { setup: ClusterSetup }).setup }, first.hosts, new ResourceScope(createMemoryLogger()));
    await again.createContainers(plain);
    expect(await first.engine.inspectNetwork(SHARED_JOB_NETWORK)).toBeDefined();
  });

  it("limits each container to its instance type, within what the engine has, and says once what it could not give", async () => {
    const { engine, cluster, warned } = make({
      hosts: [
        { name: 'algo-1', instanceType: 'ml.m5.xlarge' },
        { name: 'algo-2', instanceType: 'ml.m5.xlarge' },
        { name: 'algo-3', instanceType: 'ml.g5.xlarge' },
        { name: 'algo-4', instanceType: 'ml.future.huge' },
      ],
    });
    await cluster.createContainers(plain);
    const [m5, , g5, unknown] = engine.containers.map((c) => c.input.resources);
    // ml.m5.xlarge: 4 vCPUs and 16 GiB; the engine has 2 CPUs and 16 GiB.
    expect(m5).toEqual({ nanoCpus: 2e9, memoryBytes: 16 * 1024 ** 3, shmBytes: 8 * 1024 ** 3 });
    expect(g5?.gpus).toBeUndefined();
    expect(unknown).toEqual({});
    expect(warned.filter((w) => /ml\.m5\.xlarge has 4 vCPUs/.test(w))).toHaveLength(1);
    expect(warned.some((w) => /ml\.g5\.xlarge has 1 GPU, but the engine has no NVIDIA runtime/.test(w))).toBe(true);
    expect(warned.some((w) => /ml\.future\.huge is not in sm-local's instance table/.test(w))).toBe(true);
  });

  it('takes the escape hatches over the instance type: all GPUs, a /dev/shm size', async () => {
    const { engine, cluster } = make({ hosts: [{ name: 'algo-1', instanceType: 'ml.m5.large' }], setup: { escapes: { gpus: 'all', shmSizeBytes: 1024 ** 3 } } });
    await cluster.createContainers(plain);
    expect(engine.containers[0]!.input.resources).toMatchObject({ gpus: -1, shmBytes: 1024 ** 3 });
  });

  it('removes every container it did create, the network and the volumes, when creating one host fails', async () => {
    const { engine, cluster, scope } = make({ failCreateOf: 'algo-2' });
    const tar = pack();
    tar.entry({ name: 'a.csv' }, '1\n');
    tar.finalize();
    const volume = await cluster.filledVolume('algo-1-input', tar as unknown as Readable);
    await expect(cluster.createContainers(plain)).rejects.toThrow(/no room for/);
    expect(cluster.hasContainer(cluster.hosts[0]!)).toBe(true);
    expect(engine.volumes.has(volume)).toBe(true);
    await scope.dispose();
    expect(engine.leftovers()).toEqual([]);
  });

  it('collects what each host left in the collected folders as it exits, and keeps everything with keep', async () => {
    const { engine, cluster, scope } = make({
      setup: { keep: true },
      behaviour: (name) => ({ exitAtMs: 1, exitCode: 0, files: { '/opt/ml/processing/output/part.csv': `${/algo-\d/.exec(name)![0]}\n` } }),
    });
    await cluster.createContainers(plain);
    await cluster.connect();
    const outcome = await cluster.run({ maxRuntimeMs: 60_000, graceMs: 100, onLine: () => {} });
    expect(outcome).toEqual({});
    for (const host of cluster.hosts) {
      const tar = await cluster.archive(host, '/opt/ml/processing/output');
      expect((await streamToBuffer(tar!)).toString('latin1')).toContain(`${host.name}\n`);
    }
    await scope.dispose();
    expect(cluster.containerIds()).toHaveLength(2);
    expect(engine.leftovers()).toEqual(engine.containers.map((c) => `container ${c.input.name}`));
  });
});
