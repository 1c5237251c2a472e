/**
 * The host keys OpenSSH's `known_hosts` holds for a host: plain names and patterns (`*`, `?`,
 * negated `!`), `[host]:port` for another port, and hashed names (`|1|salt|hmac`, HashKnownHosts).
 * `@revoked` keys and `@cert-authority` lines are never accepted as the host's key.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

function globToRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
}

function hashedMatches(entry: string, name: string): boolean {
  const [, kind, salt, hash] = entry.split('|');
  if (kind !== '1' || !salt || !hash) return false;
  return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
}

/** Does the hosts field of a line (`a,b,[c]:2222,!d`) name `host` on `port`? */
export function hostsFieldMatches(field: string, host: string, port: number): boolean {
  const name = port === 22 ? host : `[${host}]:${port}`;
  let matched = false;
  for (const raw of field.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = negated ? raw.slice(1) : raw;
    const hit = pattern.startsWith('|') ? hashedMatches(pattern, name) : globToRegExp(pattern).test(name);
    if (hit && negated) return false;
    if (hit) matched = true;
  }
  return matched;
}

/** The key blobs (as ssh sends them) `file` accepts for `host`:`port`; none when the file is missing. */
export function knownHostKeys(file: string, host: string, port: number): Buffer[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const keys: Buffer[] = [];
  const revoked: Buffer[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) continue;
    const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
    const [hosts, , blob] = fields;
    if (!hosts || !blob || marker === '@cert-authority') continue;
    if (!hostsFieldMatches(hosts, host, port)) continue;
    (marker === '@revoked' ? revoked : keys).push(Buffer.from(blob, 'base64'));
  }
  return keys.filter((k) => !revoked.some((r) => r.equals(k)));
}
