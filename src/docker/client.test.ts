import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { DockerClient, topColumns } from './client.js';

/** A dockerode stand-in whose modem answers `/system/df` from a script. */
function engineAnswering(answers: ((cb: (err: unknown, data?: unknown) => void) => void)[]) {
  let calls = 0;
  const modem = { socketPath: '/var/run/docker.sock', dial: (_opts: unknown, cb: (err: unknown, data?: unknown) => void) => answers[Math.min(calls++, answers.length - 1)]!(cb) };
  return { docker: { modem } as unknown as Docker, calls: () => calls };
}

const busy = (cb: (err: unknown) => void) => cb({ statusCode: 500, json: { message: 'a disk usage operation is already running' } });
const sizes = (cb: (err: unknown, data: unknown) => void) => cb(null, { Volumes: [{ Name: 'v1', UsageData: { Size: 42 } }] });

describe('DockerClient.volumeSizes', () => {
  it('waits while another job on the engine is counting disk usage, instead of failing the job', async () => {
    const fake = engineAnswering([busy, busy, sizes]);
    const client = new DockerClient(fake.docker);
    expect(await client.volumeSizes('1.41')).toEqual(new Map([['v1', 42]]));
    expect(fake.calls()).toBe(3);
  });

  it('counts again when Podman loses a container or a volume removed by another job meanwhile', async () => {
    const gone = (message: string) => (cb: (err: unknown) => void) => cb({ statusCode: 500, json: { message } });
    const fake = engineAnswering([
      gone('failed to get state of container 29567: container 29567 does not exist in database: no such container'),
      gone('no volume with name c3561023 found in DB: no such volume'),
      gone('lstat /var/lib/containers/storage/volumes/c39741d7/_data: no such file or directory'),
      sizes,
    ]);
    expect(await new DockerClient(fake.docker).volumeSizes('1.41')).toEqual(new Map([['v1', 42]]));
    expect(fake.calls()).toBe(4);
  });

  it('still fails on any other engine error', async () => {
    const fake = engineAnswering([(cb) => cb({ statusCode: 500, json: { message: 'boom' } })]);
    await expect(new DockerClient(fake.docker).volumeSizes('1.41')).rejects.toThrow(/Docker could not report its disk usage: boom/);
  });
});

describe('DockerClient.info', () => {
  const answering = (components: { Name: string }[]) => {
    const modem = { socketPath: '/var/run/docker.sock' };
    return { modem, info: async () => ({ ServerVersion: '1', NCPU: 2, MemTotal: 1 }), version: async () => ({ ApiVersion: '1.41', Components: components }) } as unknown as Docker;
  };

  it('names the engine from its version components: Docker Engine, Podman, or nothing it knows', async () => {
    expect((await new DockerClient(answering([{ Name: 'Engine' }, { Name: 'containerd' }])).info()).product).toBe('docker');
    expect((await new DockerClient(answering([{ Name: 'Podman Engine' }])).info()).product).toBe('podman');
    expect((await new DockerClient(answering([])).info()).product).toBeUndefined();
  });
});

describe('topColumns', () => {
  it("reads Podman's one-string rows as Docker Engine's columns, the command line whole", () => {
    expect(topColumns(['PID   PPID  COMMAND'], [['1     0 /bin/bash /usr/local/bin/entrypoint.sh serve'], ['7     1 python3 -u /opt/program/check_serve.py']])).toEqual({
      titles: ['PID', 'PPID', 'COMMAND'],
      rows: [
        ['1', '0', '/bin/bash /usr/local/bin/entrypoint.sh serve'],
        ['7', '1', 'python3 -u /opt/program/check_serve.py'],
      ],
    });
    const docker = { titles: ['PID', 'PPID', 'COMMAND'], rows: [['4242', '4200', 'sleep 30']] };
    expect(topColumns(docker.titles, docker.rows)).toEqual(docker);
  });
});

describe('DockerClient.wrap, when nothing answers at the default socket', () => {
  it('points at a Podman socket that is there', async () => {
    const { mkdtempSync, mkdirSync } = await import('node:fs');
    const { createServer } = await import('node:net');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const { connectEngine } = await import('./connection.js');
    const runtime = mkdtempSync(join(tmpdir(), 'sm-local-xdg-'));
    mkdirSync(join(runtime, 'podman'));
    const server = createServer();
    await new Promise<void>((r) => server.listen(join(runtime, 'podman', 'podman.sock'), () => r()));
    const saved = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = runtime;
    try {
      const client = new DockerClient(connectEngine({}, runtime));
      const err = client.wrap('answer a ping', Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }));
      expect(err.message).toBe('Cannot reach the Docker engine at unix:///var/run/docker.sock: no engine answers there.');
      expect(err.hint).toBe(`A Podman socket is at ${join(runtime, 'podman', 'podman.sock')}: export DOCKER_HOST=unix://${join(runtime, 'podman', 'podman.sock')} to use it (Podman 4 is tested; see the README, Engines).`);
      const elsewhere = new DockerClient(connectEngine({ DOCKER_HOST: 'unix:///nowhere.sock' }, runtime)).wrap('answer a ping', Object.assign(new Error('x'), { code: 'ENOENT' }));
      expect(elsewhere.hint).toMatch(/^Start Docker/);
    } finally {
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
      else process.env.XDG_RUNTIME_DIR = saved;
      server.close();
    }
  });
});
