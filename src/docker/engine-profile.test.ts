import { describe, expect, it } from 'vitest';
import type { EngineInfo } from './engine.js';
import { engineProfile, untestedWarning } from './engine-profile.js';

const base: EngineInfo = {
  endpoint: 'unix:///var/run/docker.sock',
  remote: false,
  serverVersion: '20.10.24+dfsg1',
  apiVersion: '1.41',
  operatingSystem: 'Debian GNU/Linux 12 (bookworm)',
  osType: 'linux',
  architecture: 'x86_64',
  cpus: 2,
  memTotalBytes: 8 * 1024 ** 3,
  storageDriver: 'overlay2',
  rootDir: '/var/lib/docker',
  runtimes: ['runc'],
  rootless: false,
  product: 'docker',
};

describe('engineProfile: the engine by the name its users know, whether it is tested, what it cannot do', () => {
  it('names each engine from its version components, OS and security options', () => {
    expect(engineProfile(base).name).toBe('Docker Engine');
    expect(engineProfile({ ...base, operatingSystem: 'Docker Desktop', serverVersion: '27.3.1' }).name).toBe('Docker Desktop');
    expect(engineProfile({ ...base, rootless: true }).name).toBe('rootless Docker');
    expect(engineProfile({ ...base, product: 'podman', serverVersion: '4.3.1', operatingSystem: 'debian' }).name).toBe('Podman');
    expect(engineProfile({ ...base, product: 'podman', rootless: true }).name).toBe('rootless Podman');
    const { product: _p, ...unknown } = base;
    expect(engineProfile(unknown).name).toBe('an unknown engine');
  });

  it('warns about an engine the suite does not run against, and only then', () => {
    expect(untestedWarning(engineProfile(base))).toBeUndefined();
    expect(untestedWarning(engineProfile({ ...base, serverVersion: '28.2.2' }))).toBeUndefined();
    expect(untestedWarning(engineProfile({ ...base, product: 'podman', serverVersion: '4.9.3' }))).toBeUndefined();
    expect(untestedWarning(engineProfile({ ...base, product: 'podman', serverVersion: '5.2.0' }))).toMatch(/not against Podman 5\.2\.0/);
    expect(untestedWarning(engineProfile({ ...base, serverVersion: '19.03.8' }))).toMatch(/not against Docker Engine 19\.03\.8/);
    expect(untestedWarning(engineProfile({ ...base, operatingSystem: 'Docker Desktop' }))).toMatch(/Docker Desktop/);
  });

  it('says which features need a local engine, for a remote one only', () => {
    expect(engineProfile(base).needsLocal).toEqual([]);
    const remote = engineProfile({ ...base, remote: true, endpoint: 'ssh://ci@gpu-box' }).needsLocal.join('\n');
    expect(remote).toMatch(/--transfer mount/);
    expect(remote).toMatch(/Pipe mode/);
    expect(remote).toMatch(/network-isolation probe/);
  });
});
