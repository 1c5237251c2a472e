/**
 * Where the engine is, chosen as the Docker CLI chooses it: `DOCKER_HOST`, else `DOCKER_CONTEXT`,
 * else the current context of `~/.docker/config.json`, else the local socket. `unix://`, `tcp://`
 * (TLS with DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, or a context's own certificates) and `ssh://`.
 *
 * Over ssh, one SSH connection carries every API call: each HTTP connection is a channel running
 * `docker system dial-stdio` on the far side (what the Docker CLI runs too). The host key must be in
 * `~/.ssh/known_hosts`, as OpenSSH's default asks; keys come from the ssh agent (SSH_AUTH_SOCK) or
 * `~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`. A port the engine publishes on its own 127.0.0.1 is
 * reached through the same connection (`reach`).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import Docker from 'dockerode';
import { DockerUnavailableError } from '../errors.js';
import { cjsExports } from '../cjs.js';
import { knownHostKeys } from './known-hosts.js';

export interface EngineConnection {
  docker: Docker;
  /** The engine as the user named it: `unix:///var/run/docker.sock`, `tcp://host:2375`, `ssh://user@host`. */
  endpoint: string;
  /** On another machine: this machine's paths and addresses mean nothing there. */
  remote: boolean;
  /** Where the engine was found: `DOCKER_HOST`, `context NAME`, or the default socket. */
  source: string;
  /** The address containers publish their ports on, on the engine's machine. */
  publishIp: string;
  /** How this machine reaches a port published on `publishIp` of the engine's machine. */
  reach(hostPort: number): Promise<{ host: string; port: number }>;
  /** Ends the SSH connection and closes the tunnels, if any. */
  close(): void;
}

type Env = Record<string, string | undefined>;

const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** The engine URL and where it came from, as the Docker CLI resolves it. */
export function engineUrl(env: Env = process.env, home = homedir()): { url: string; source: string; tlsDir?: string } {
  if (env.DOCKER_HOST) return { url: env.DOCKER_HOST, source: 'DOCKER_HOST' };
  const configDir = env.DOCKER_CONFIG ?? join(home, '.docker');
  let name = env.DOCKER_CONTEXT;
  if (!name) {
    try {
      name = (JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')) as { currentContext?: string }).currentContext;
    } catch {
      name = undefined;
    }
  }
  if (name && name !== 'default') {
    const id = createHash('sha256').update(name).digest('hex');
    let meta: { Endpoints?: { docker?: { Host?: string } } };
    try {
      meta = JSON.parse(readFileSync(join(configDir, 'contexts', 'meta', id, 'meta.json'), 'utf8')) as typeof meta;
    } catch {
      throw new DockerUnavailableError(`context "${name}"`, undefined, {
        reason: `the Docker context "${name}" is not in ${join(configDir, 'contexts')}`,
        hint: `Create it (docker context create ${name} --docker host=…), pick another (docker context use default), or set DOCKER_HOST.`,
      });
    }
    const host = meta.Endpoints?.docker?.Host;
    if (host) {
      const tlsDir = join(configDir, 'contexts', 'tls', id, 'docker');
      return { url: host, source: `context ${name}`, ...(existsSync(join(tlsDir, 'ca.pem')) ? { tlsDir } : {}) };
    }
  }
  return { url: 'unix:///var/run/docker.sock', source: 'the default socket' };
}

/** Opens (lazily) the engine named by the environment. */
export function connectEngine(env: Env = process.env, home = homedir()): EngineConnection {
  const { url, source, tlsDir } = engineUrl(env, home);
  if (url.startsWith('unix://') || url.startsWith('npipe://')) {
    const socketPath = url.replace(/^(unix|npipe):\/\//, '') || '/var/run/docker.sock';
    return local(new Docker({ socketPath }), `unix://${socketPath}`, source);
  }
  let parsed: URL;
  try {
    parsed = new URL(url.includes('://') ? url : `tcp://${url}`);
  } catch {
    throw new DockerUnavailableError(url, undefined, { reason: `${source} is not an engine address`, hint: 'Use unix:///path/docker.sock, tcp://host:2375 or ssh://user@host.' });
  }
  const host = parsed.hostname;
  if (parsed.protocol === 'ssh:') return overSsh(parsed, env, home, source);
  if (parsed.protocol !== 'tcp:' && parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new DockerUnavailableError(url, undefined, { reason: `${parsed.protocol.replace(':', '')}:// is not an engine protocol sm-local knows`, hint: 'Use unix://, tcp:// or ssh://.' });
  }
  const certDir = env.DOCKER_CERT_PATH ?? tlsDir;
  const tls = env.DOCKER_TLS_VERIFY === '1' || parsed.protocol === 'https:' || parsed.port === '2376' || (tlsDir !== undefined && !env.DOCKER_CERT_PATH);
  const port = Number(parsed.port || (tls ? 2376 : 2375));
  const docker = new Docker({
    host,
    port,
    protocol: tls ? 'https' : 'http',
    ...(tls && certDir ? { ca: readFileSync(join(certDir, 'ca.pem')), cert: readFileSync(join(certDir, 'cert.pem')), key: readFileSync(join(certDir, 'key.pem')) } : {}),
  });
  const endpoint = `${tls ? 'https' : 'tcp'}://${parsed.host || `${host}:${port}`}`;
  if (LOOPBACK.has(host)) return local(docker, endpoint, source);
  // A remote engine over plain TCP publishes where this machine dialled it; that network already
  // reaches the engine's own API.
  return remoteTcp(docker, endpoint, source, host);
}

/** A connection for a dockerode client made elsewhere (tests, scripts): where it points, read off its modem. */
export function connectionOf(docker: Docker): EngineConnection {
  const modem = docker.modem as unknown as { socketPath?: unknown; host?: string; port?: number | string; protocol?: string };
  if (!modem.host) return local(docker, `unix://${typeof modem.socketPath === 'string' ? modem.socketPath : '/var/run/docker.sock'}`, 'the caller');
  const endpoint = `${modem.protocol === 'https' ? 'https' : 'tcp'}://${modem.host}${modem.port ? `:${modem.port}` : ''}`;
  if (LOOPBACK.has(modem.host)) return local(docker, endpoint, 'the caller');
  return remoteTcp(docker, endpoint, 'the caller', modem.host);
}

/** An engine on another machine reached over TCP: containers publish on the address this machine dialled. */
function remoteTcp(docker: Docker, endpoint: string, source: string, host: string): EngineConnection {
  return { docker, endpoint, remote: true, source, publishIp: host.replace(/^\[|\]$/g, ''), reach: async (hostPort) => ({ host, port: hostPort }), close() {} };
}

function local(docker: Docker, endpoint: string, source: string): EngineConnection {
  return { docker, endpoint, remote: false, source, publishIp: '127.0.0.1', reach: async (hostPort) => ({ host: '127.0.0.1', port: hostPort }), close() {} };
}

/** A Duplex with the socket methods node:http calls on a connection. */
function asSocket(stream: Duplex): Duplex {
  const s = stream as Duplex & Record<string, unknown>;
  for (const m of ['setTimeout', 'setNoDelay', 'setKeepAlive', 'ref', 'unref']) if (typeof s[m] !== 'function') s[m] = () => s;
  return s;
}

type SshClient = import('ssh2').Client;

function overSsh(url: URL, env: Env, home: string, source: string): EngineConnection {
  const host = url.hostname;
  const port = Number(url.port || 22);
  const username = decodeURIComponent(url.username) || userInfo().username;
  const endpoint = `ssh://${username}@${host}${url.port ? `:${url.port}` : ''}`;
  const fail = (reason: string, hint: string, cause?: unknown) => new DockerUnavailableError(endpoint, cause, { reason, hint });

  let client: Promise<SshClient> | undefined;
  const tunnels = new Map<number, Promise<Server>>();
  const connect = (): Promise<SshClient> => {
    client ??= (async () => {
      const { Client } = cjsExports<typeof import('ssh2')>(await import('ssh2'));
      const known = knownHostKeys(join(home, '.ssh', 'known_hosts'), host, port);
      if (!known.length) {
        throw fail(`the host key of ${host}${port !== 22 ? `:${port}` : ''} is not in ${join(home, '.ssh', 'known_hosts')}`, `Connect once with ssh${port !== 22 ? ` -p ${port}` : ''} ${username}@${host} and accept the key, or add it: ssh-keyscan${port !== 22 ? ` -p ${port}` : ''} ${host} >> ~/.ssh/known_hosts (after checking it).`);
      }
      const keyFile = ['id_ed25519', 'id_ecdsa', 'id_rsa'].map((f) => join(home, '.ssh', f)).find((f) => existsSync(f));
      const conn = new Client();
      await new Promise<void>((resolve, reject) => {
        conn.once('ready', () => resolve());
        conn.once('error', (err: Error & { level?: string }) => {
          client = undefined;
          reject(
            err.level === 'client-authentication'
              ? fail(`${username}@${host} refused every key offered`, 'Load your key into the ssh agent (ssh-add) or put it at ~/.ssh/id_ed25519, and allow it in the remote ~/.ssh/authorized_keys.', err)
              : /host denied|host key|verification failed/i.test(err.message)
                ? fail(`the host key of ${host} does not match ${join(home, '.ssh', 'known_hosts')}`, 'Someone may be intercepting the connection, or the host was reinstalled: check, then update known_hosts.', err)
                : fail(err.message, 'Check that the host answers ssh (ssh user@host docker version) and that the Docker CLI is installed there.', err),
          );
        });
        conn.once('close', () => (client = undefined));
        conn.connect({
          host,
          port,
          username,
          ...(env.SSH_AUTH_SOCK ? { agent: env.SSH_AUTH_SOCK } : {}),
          ...(keyFile ? { privateKey: readFileSync(keyFile) } : {}),
          hostVerifier: (key: Buffer) => known.some((k) => k.equals(key)),
          readyTimeout: 15_000,
          keepaliveInterval: 15_000,
        });
      });
      return conn;
    })();
    return client;
  };

  const agent = new Agent({ keepAlive: true });
  (agent as unknown as { createConnection: unknown }).createConnection = (_opts: unknown, done: (err: Error | null, socket?: Duplex) => void) => {
    connect().then(
      (conn) =>
        conn.exec('docker system dial-stdio', (err, stream) => {
          if (err) return done(fail(`docker system dial-stdio could not run on ${host}: ${err.message}`, 'Install the Docker CLI on the remote host; sm-local talks to its engine through it, as the Docker CLI does.', err));
          done(null, asSocket(stream));
        }),
      (err: Error) => done(err),
    );
    return undefined;
  };

  const docker = new Docker({ protocol: 'http', host, port: 2375, agent } as Docker.DockerOptions);

  /** A listener on this machine's 127.0.0.1 whose every connection is forwarded to the remote 127.0.0.1:hostPort. */
  const tunnel = (hostPort: number): Promise<Server> => {
    let open = tunnels.get(hostPort);
    if (!open) {
      open = (async () => {
        const conn = await connect();
        const server = createServer((socket) => {
          conn.forwardOut('127.0.0.1', 0, '127.0.0.1', hostPort, (err, channel) => {
            if (err) return socket.destroy();
            socket.pipe(channel).pipe(socket);
            socket.once('close', () => channel.close());
            channel.once('close', () => socket.destroy());
          });
        });
        server.unref();
        await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()));
        return server;
      })();
      tunnels.set(hostPort, open);
    }
    return open;
  };

  return {
    docker,
    endpoint,
    remote: true,
    source,
    publishIp: '127.0.0.1',
    reach: async (hostPort) => ({ host: '127.0.0.1', port: ((await tunnel(hostPort)).address() as AddressInfo).port }),
    close() {
      for (const t of tunnels.values()) void t.then((s) => s.close(), () => {});
      tunnels.clear();
      agent.destroy();
      void client?.then((c) => c.end(), () => {});
    },
  };
}
