import { describe, expect, it } from 'vitest';
import type { ContainerEngine, EngineContainer, EngineInfo } from '../docker/engine.js';
import { EngineMismatchError } from '../errors.js';
import { verifyReadBack } from './read-back.js';

const engineInfo = (product: EngineInfo['product']) => ({ endpoint: 'unix:///run/podman/podman.sock', serverVersion: '4.3.1', apiVersion: '1.41', product }) as EngineInfo;

function engine(sizes: Record<string, number>) {
  let asked = 0;
  const docker = { volumeSizes: async () => (asked++, new Map(Object.entries(sizes))) } as unknown as ContainerEngine;
  const container = (volume: string) => ({ volumeAt: async () => volume }) as unknown as EngineContainer;
  return { docker, container, asked: () => asked };
}

describe('verifyReadBack: what came back from a volume agrees with what the engine counts in it', () => {
  it('fails as an environment error when an archive came back empty from a volume the engine counts bytes in', async () => {
    const e = engine({ 'vol-out': 4096 });
    const reads = [{ host: 'algo-1', container: e.container('vol-out'), path: '/opt/ml/processing/output', files: 0 }];
    const err = await verifyReadBack(e.docker, engineInfo('podman'), reads, 'the output').catch((x: unknown) => x);
    expect(err).toBeInstanceOf(EngineMismatchError);
    expect((err as Error).message).toMatch(/returned an archive of \/opt\/ml\/processing\/output of algo-1 with no files in it, but counts 4096 bytes in that volume \(vol-out\): the output the container wrote cannot be read back/);
  });

  it('accepts a folder that really is empty, and anything that came back with files', async () => {
    const e = engine({ 'vol-empty': 0, 'vol-full': 10 });
    await expect(verifyReadBack(e.docker, engineInfo('podman'), [{ host: 'algo-1', container: e.container('vol-empty'), path: '/opt/ml/model', files: 0 }], 'the model')).resolves.toBeUndefined();
    await expect(verifyReadBack(e.docker, engineInfo('podman'), [{ host: 'algo-1', container: e.container('vol-full'), path: '/opt/ml/model', files: 3 }], 'the model')).resolves.toBeUndefined();
  });

  it('costs Docker Engine nothing: it never asks for the volume sizes there', async () => {
    const e = engine({ 'vol-out': 4096 });
    await verifyReadBack(e.docker, engineInfo('docker'), [{ host: 'algo-1', container: e.container('vol-out'), path: '/opt/ml/model', files: 0 }], 'the model');
    expect(e.asked()).toBe(0);
  });
});
