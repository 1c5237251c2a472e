/**
 * A remote engine: `DOCKER_HOST=ssh://root@127.0.0.1:PORT`, Debian's OpenSSH server on a private port
 * in front of this machine's engine, as a GPU box or a remote builder would be. sm-local must treat
 * it as remote (copy its data through the Engine API, never bind-mount this machine's paths), reach a
 * served endpoint's published port through the same SSH connection, say what needs a local engine,
 * refuse an unknown host key, and leave nothing behind on either side.
 */
import { writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LABEL } from '../src/docker/labels.js';
import { runCli, type CliOptions } from './support/cli.js';
import { dockerUnavailable, useTestSession } from './support/session.js';
import { sshdAvailable, startSshd, type TestSshd } from './support/sshd.js';
import { readTarGz } from './support/tarballs.js';
import { EXAMPLE_IMAGE, fixtureTag, REPO_ROOT } from '../scripts/lib/images.js';

const EXAMPLE = join(REPO_ROOT, 'examples', 'logistic-regression');

const mustRun = process.env.CI === 'true';

describe.skipIf(dockerUnavailable() || (!sshdAvailable() && !mustRun))('a remote engine over ssh (DOCKER_HOST=ssh://)', () => {
  const s = useTestSession();
  let sshd: TestSshd;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[], opts: Partial<CliOptions> = {}) => runCli(args, { env, cwd: s.root, ...opts });
  const name = (tag: string) => `remote-${tag}-${s.session}`;

  beforeAll(async () => {
    sshd = await startSshd();
    const { SSH_AUTH_SOCK: _agent, DOCKER_HOST: _host, DOCKER_CONTEXT: _context, ...rest } = process.env;
    env = { ...rest, HOME: sshd.home, DOCKER_HOST: sshd.url, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot, SM_LOCAL_OUTPUT: s.dir('remote-output'), SM_LOCAL_SESSION: s.session };
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('doctor names the engine as remote and says what needs a local one', async () => {
    const r = await cli(['doctor']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^engine {5}ok: Docker Engine \\S+ \\(API [\\d.]+\\) at ssh://root@127\\.0\\.0\\.1:${sshd.port} \\(remote\\)`, 'm'));
    expect(r.stdout).toMatch(/^needs local engine: bind mounts \(--transfer mount\)/m);
    expect(r.stdout).toMatch(/^needs local engine: Pipe mode/m);
    expect(r.stdout).toMatch(/^needs local engine: check's network-isolation probe/m);
  });

  it('trains with --transfer copy by default, and the model comes back whole', async () => {
    const job = name('train');
    const r = await cli(['train', EXAMPLE_IMAGE, '--job-name', job, '--channel', `train=${EXAMPLE}/data/train`, '--hyperparameter', 'epochs=20']);
    expect(r.stderr).toMatch(/transfer=copy/);
    expect(r.code).toBe(0);
    const entries = await readTarGz(r.stdout.trim());
    expect(entries.map((e) => e.name)).toContain('model.json');
    expect(await s.docker.listManaged([`${LABEL.jobName}=${job}`])).toEqual([]);
  });

  it('refuses Pipe mode before any container starts, saying why', async () => {
    const r = await cli(['train', EXAMPLE_IMAGE, '--job-name', name('pipe'), '--channel', `train=${EXAMPLE}/data/train,mode=Pipe`]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/Pipe mode .* local engine/);
    expect(await s.docker.listManaged([`${LABEL.jobName}=${name('pipe')}`])).toEqual([]);
  });

  it('serves through the SSH connection: the proxy reaches the published port, invoke answers, Ctrl-C leaves nothing', async () => {
    const endpoint = name('serve');
    let invoked: Awaited<ReturnType<typeof cli>> | undefined;
    let failure: unknown;
    const run = await cli(['serve', '--name', endpoint, '--port', '0', fixtureTag('serve-good')], {
      onStdout: (line, child) => {
        if (!line.startsWith('http://')) return;
        void cli(['invoke', endpoint, '--body', '{"x":1}', '--content-type', 'application/json'])
          .then((r) => (invoked = r), (e: unknown) => (failure = e))
          .finally(() => child.kill('SIGINT'));
      },
    });
    if (failure) throw failure;
    expect(run.stderr).toMatch(/is InService/);
    expect(invoked?.code).toBe(0);
    expect(invoked?.stderr).toMatch(/^200 /m);
    expect(run.code).toBe(0);
    expect(await s.docker.listManaged([`${LABEL.jobName}=${endpoint}`])).toEqual([]);
  });

  it('refuses a host whose key is not in known_hosts, naming the host and what to do', async () => {
    writeFileSync(join(sshd.home, '.ssh', 'known_hosts'), '');
    try {
      const r = await cli(['doctor']);
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(new RegExp(`NOT USABLE: Cannot reach the Docker engine at ssh://root@127\\.0\\.0\\.1:${sshd.port}: the host key of 127\\.0\\.0\\.1:${sshd.port} is not in \\S+known_hosts`));
      expect(r.stdout).toMatch(/ssh-keyscan -p \d+ 127\.0\.0\.1 >> ~\/\.ssh\/known_hosts/);
    } finally {
      writeFileSync(join(sshd.home, '.ssh', 'known_hosts'), `${sshd.hostKeyLine}\n`);
    }
  });

  it('refuses a host that shows another key than known_hosts holds', async () => {
    writeFileSync(join(sshd.home, '.ssh', 'known_hosts'), `[127.0.0.1]:${sshd.port} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n`);
    try {
      const r = await cli(['doctor']);
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/the host key of 127\.0\.0\.1 does not match/);
    } finally {
      writeFileSync(join(sshd.home, '.ssh', 'known_hosts'), `${sshd.hostKeyLine}\n`);
    }
  });
});

/**
 * `DOCKER_HOST=tcp://127.0.0.1:PORT`: the engine's API over TCP (a forwarder in front of this
 * machine's socket, as `dockerd -H tcp://…` or an SSH port forward would give), with --transfer copy:
 * plain HTTP and the hijacked attach streams through a TCP connection, end to end.
 */
describe.skipIf(dockerUnavailable())('an engine over tcp:// (DOCKER_HOST=tcp://127.0.0.1:PORT)', () => {
  const s = useTestSession();
  let forwarder: Server;
  let env: NodeJS.ProcessEnv;
  const cli = (args: string[], opts: Partial<CliOptions> = {}) => runCli(args, { env, cwd: s.root, ...opts });
  const name = (tag: string) => `tcp-${tag}-${s.session}`;

  beforeAll(async () => {
    const socketPath = s.docker.endpoint.replace(/^unix:\/\//, '');
    forwarder = createServer((client) => {
      const engine = connect(socketPath);
      client.pipe(engine).pipe(client);
      client.once('error', () => engine.destroy());
      engine.once('error', () => client.destroy());
    });
    await new Promise<void>((r) => forwarder.listen(0, '127.0.0.1', () => r()));
    const { DOCKER_HOST: _host, DOCKER_CONTEXT: _context, ...rest } = process.env;
    env = { ...rest, DOCKER_HOST: `tcp://127.0.0.1:${(forwarder.address() as AddressInfo).port}`, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot, SM_LOCAL_OUTPUT: s.dir('tcp-output'), SM_LOCAL_SESSION: s.session };
  });
  afterAll(() => new Promise<void>((r) => forwarder.close(() => r())));

  it('trains with --transfer copy and serves, through the TCP endpoint, and leaves nothing', async () => {
    const job = name('train');
    const trained = await cli(['train', EXAMPLE_IMAGE, '--job-name', job, '--transfer', 'copy', '--channel', `train=${EXAMPLE}/data/train`, '--hyperparameter', 'epochs=20']);
    expect(trained.stderr).toMatch(/transfer=copy/);
    expect(trained.code).toBe(0);
    expect((await readTarGz(trained.stdout.trim())).map((e) => e.name)).toContain('model.json');
    const endpoint = name('serve');
    let invoked: Awaited<ReturnType<typeof cli>> | undefined;
    const run = await cli(['serve', '--model', trained.stdout.trim(), '--name', endpoint, '--port', '0', EXAMPLE_IMAGE], {
      onStdout: (line, child) => {
        if (!line.startsWith('http://')) return;
        void cli(['invoke', endpoint, '--body', `@${EXAMPLE}/sample-request.csv`, '--content-type', 'text/csv'])
          .then((r) => (invoked = r))
          .finally(() => child.kill('SIGINT'));
      },
    });
    expect(run.stderr).toMatch(/is InService/);
    expect(invoked?.code).toBe(0);
    expect(run.code).toBe(0);
    expect(await s.docker.listManaged([`${LABEL.jobName}=${job}`])).toEqual([]);
    expect(await s.docker.listManaged([`${LABEL.jobName}=${endpoint}`])).toEqual([]);
  });
});
