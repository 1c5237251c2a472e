import { createHash, createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectEngine, engineUrl } from './connection.js';
import { hostsFieldMatches, knownHostKeys } from './known-hosts.js';

function dockerConfig(contexts: Record<string, string>, current?: string): string {
  const home = mkdtempSync(join(tmpdir(), 'sm-local-ctx-'));
  const dir = join(home, '.docker');
  mkdirSync(dir, { recursive: true });
  if (current) writeFileSync(join(dir, 'config.json'), JSON.stringify({ currentContext: current }));
  for (const [name, host] of Object.entries(contexts)) {
    const meta = join(dir, 'contexts', 'meta', createHash('sha256').update(name).digest('hex'));
    mkdirSync(meta, { recursive: true });
    writeFileSync(join(meta, 'meta.json'), JSON.stringify({ Name: name, Endpoints: { docker: { Host: host, SkipTLSVerify: false } } }));
  }
  return home;
}

describe('engineUrl: the engine the Docker CLI would talk to', () => {
  it('takes DOCKER_HOST first, then DOCKER_CONTEXT, then the current context, then the default socket', () => {
    const home = dockerConfig({ podman: 'unix:///run/user/1000/podman/podman.sock', box: 'ssh://ci@gpu-box' }, 'podman');
    expect(engineUrl({ DOCKER_HOST: 'tcp://10.0.0.5:2375' }, home)).toEqual({ url: 'tcp://10.0.0.5:2375', source: 'DOCKER_HOST' });
    expect(engineUrl({ DOCKER_CONTEXT: 'box' }, home)).toEqual({ url: 'ssh://ci@gpu-box', source: 'context box' });
    expect(engineUrl({}, home)).toEqual({ url: 'unix:///run/user/1000/podman/podman.sock', source: 'context podman' });
    expect(engineUrl({ DOCKER_CONTEXT: 'default' }, home)).toEqual({ url: 'unix:///var/run/docker.sock', source: 'the default socket' });
    expect(engineUrl({}, mkdtempSync(join(tmpdir(), 'sm-local-noctx-')))).toEqual({ url: 'unix:///var/run/docker.sock', source: 'the default socket' });
  });

  it('refuses a context that does not exist, saying how to fix it', () => {
    expect(() => engineUrl({ DOCKER_CONTEXT: 'gone' }, dockerConfig({}))).toThrow(/Docker context "gone" is not in/);
  });

  it('treats ssh:// and a non-loopback tcp:// as remote, loopback and sockets as local', () => {
    expect(connectEngine({ DOCKER_HOST: 'unix:///tmp/podman.sock' })).toMatchObject({ endpoint: 'unix:///tmp/podman.sock', remote: false, publishIp: '127.0.0.1' });
    expect(connectEngine({ DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toMatchObject({ endpoint: 'tcp://127.0.0.1:2375', remote: false });
    expect(connectEngine({ DOCKER_HOST: 'tcp://10.1.2.3:2375' })).toMatchObject({ endpoint: 'tcp://10.1.2.3:2375', remote: true, publishIp: '10.1.2.3' });
    expect(connectEngine({ DOCKER_HOST: 'ssh://ci@gpu-box:2222' })).toMatchObject({ endpoint: 'ssh://ci@gpu-box:2222', remote: true, publishIp: '127.0.0.1' });
    expect(() => connectEngine({ DOCKER_HOST: 'ftp://x' })).toThrow(/ftp:\/\/ is not an engine protocol/);
  });
});

describe('knownHostKeys: what ~/.ssh/known_hosts accepts for a host', () => {
  const key = (n: number) => Buffer.from(`key-${n}`).toString('base64');
  const hashed = (name: string) => {
    const salt = Buffer.from('0123456789abcdef0123');
    return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  };

  it('matches plain names, [host]:port, patterns and hashed names, and never a revoked key or a CA line', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'sm-local-kh-')), 'known_hosts');
    writeFileSync(
      file,
      [
        '# comment',
        `gpu-box,10.0.0.7 ssh-ed25519 ${key(1)}`,
        `[gpu-box]:2222 ssh-ed25519 ${key(2)}`,
        `*.lab.example ssh-ed25519 ${key(3)}`,
        `${hashed('hidden')} ssh-ed25519 ${key(4)}`,
        `@revoked gpu-box ssh-ed25519 ${key(1)}`,
        `@cert-authority * ssh-ed25519 ${key(5)}`,
        `*,!secret ssh-rsa ${key(6)}`,
        '',
      ].join('\n'),
    );
    const names = (host: string, port = 22) => knownHostKeys(file, host, port).map((b) => b.toString());
    expect(names('10.0.0.7')).toEqual(['key-1', 'key-6']);
    expect(names('gpu-box')).toEqual(['key-6']);
    expect(names('gpu-box', 2222)).toEqual(['key-2', 'key-6']);
    expect(names('a.lab.example')).toEqual(['key-3', 'key-6']);
    expect(names('hidden')).toEqual(['key-4', 'key-6']);
    expect(names('secret')).toEqual([]);
    expect(knownHostKeys(join(tmpdir(), 'no-such-known-hosts'), 'x', 22)).toEqual([]);
  });

  it('needs the port in brackets for a port other than 22', () => {
    expect(hostsFieldMatches('gpu-box', 'gpu-box', 2222)).toBe(false);
    expect(hostsFieldMatches('[gpu-box]:2222', 'gpu-box', 2222)).toBe(true);
  });
});
