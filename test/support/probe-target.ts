import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll } from 'vitest';
import { LABEL } from '../../src/docker/labels.js';
import { BASE_BUSYBOX as BUSYBOX } from '../../scripts/lib/images.js';
import type { useTestSession } from './session.js';

/**
 * A TCP server on this machine, at the gateway address of a network the test creates: reachable from
 * any container with a route out, and from nothing else. `target()` is its `host:port` once the
 * suite's beforeAll has run; the server and its network go in afterAll.
 */
export function useProbeTarget(s: ReturnType<typeof useTestSession>, name: string): { target: () => string } {
  let server: Server | undefined;
  let target = '';
  let network: { remove: () => Promise<void> } | undefined;
  let holder: { remove: () => Promise<void> } | undefined;
  beforeAll(async () => {
    const net = await s.docker.createNetwork({ name: `sm-local-test-${name}-${s.session}`, labels: { [LABEL.session]: s.session } });
    network = net;
    const info = (await s.dockerode.getNetwork(net.id).inspect()) as { IPAM: { Config: { Gateway: string }[] } };
    const gateway = info.IPAM.Config[0]!.Gateway;
    if ((await s.docker.info()).product === 'podman') {
      // Podman brings a network's bridge (and its gateway address) up only while a container is on it.
      const c = await s.docker.createContainer({ name: `sm-local-test-${name}-holder-${s.session}`, image: BUSYBOX, cmd: ['sleep', '3600'], env: [], labels: { [LABEL.session]: s.session }, network: { name: net.name, aliases: [] } });
      holder = c;
      await c.start();
    }
    server = createServer((sock) => sock.end());
    await new Promise<void>((resolve, reject) => server!.once('error', reject).listen(0, gateway, resolve));
    target = `${gateway}:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server?.close();
    await holder?.remove();
    await network?.remove();
  });
  return { target: () => target };
}
