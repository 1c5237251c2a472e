import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestSshd {
  port: number;
  /** A HOME for sm-local: `.ssh/id_ed25519` and a `known_hosts` that holds this server's key. */
  home: string;
  /** `ssh://root@127.0.0.1:PORT`. */
  url: string;
  /** The server's own key line, for tests that write their own known_hosts. */
  hostKeyLine: string;
  stop(): Promise<void>;
}

export const SSHD = '/usr/sbin/sshd';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Debian's OpenSSH server on 127.0.0.1 and a port of its own, with a host key and a client key made
 * for the test, and its configuration in a temp folder: the remote end of `DOCKER_HOST=ssh://` on
 * this same machine. The Docker CLI there (`docker system dial-stdio`) reaches the local engine.
 */
export async function startSshd(): Promise<TestSshd> {
  const dir = mkdtempSync(join(tmpdir(), 'sm-local-sshd-'));
  const home = join(dir, 'home');
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(home, '.ssh', 'id_ed25519')]);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(home, '.ssh', 'id_ed25519.pub')));
  mkdirSync('/run/sshd', { recursive: true });
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'AllowTcpForwarding yes',
      // The test's own PATH, so that `docker` resolves as it does here.
      `SetEnv PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
      '',
    ].join('\n'),
  );
  const hostKey = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const hostKeyLine = `[127.0.0.1]:${port} ${hostKey}`;
  writeFileSync(join(home, '.ssh', 'known_hosts'), `${hostKeyLine}\n`);
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  // Listening once a TCP connection is accepted.
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(true));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(false)));
    });
    if (up) break;
    if (child.exitCode !== null || i > 100) throw new Error(`sshd did not start: ${log}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    home,
    url: `ssh://root@127.0.0.1:${port}`,
    hostKeyLine,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const sshdAvailable = (): boolean => existsSync(SSHD);
