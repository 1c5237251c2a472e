import { describe, expect, it } from 'vitest';
import { coalescingWriter, createStreamLogger, SecretMasker, warnOnce } from './log.js';

describe('SecretMasker', () => {
  it('masks values of secret-looking keys only', () => {
    const m = new SecretMasker().addEnvironment({ AWS_SECRET_ACCESS_KEY: 'abcd1234', API_TOKEN: 'tok-999', EPOCHS: '10', DB_PASSWORD: 'pw', LOG: 'x' });
    expect(m.mask('key=abcd1234 token=tok-999 epochs=10 pw')).toBe('key=**** token=**** epochs=10 pw');
  });
});

describe('createStreamLogger', () => {
  it('filters by level, prefixes warnings and masks', () => {
    let out = '';
    const masker = new SecretMasker().addEnvironment({ MY_SECRET: 's3cr3t' });
    const log = createStreamLogger({ write: (s: string) => (out += s) }, { level: 'info', masker });
    log.debug('hidden');
    log.info('shown s3cr3t');
    log.warn('careful');
    expect(out).toBe('shown ****\nwarning: careful\n');
  });
});

describe('warnOnce', () => {
  it('passes each distinct warning once, and everything else every time', () => {
    const seen: string[] = [];
    const log = warnOnce({ debug: (m) => seen.push(`debug ${m}`), info: (m) => seen.push(`info ${m}`), warn: (m) => seen.push(`warn ${m}`), error: (m) => seen.push(`error ${m}`) });
    log.warn('a');
    log.warn('a');
    log.warn('b');
    log.info('i');
    log.info('i');
    expect(seen).toEqual(['warn a', 'warn b', 'info i', 'info i']);
  });
});

describe('coalescingWriter', () => {
  it('hands the writes of one turn on in one write, in order, at the end of the turn or at flush', async () => {
    const out: string[] = [];
    const w = coalescingWriter({ write: (c: string) => out.push(c) });
    w.write('a\n');
    w.write('b\n');
    expect(out).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(out).toEqual(['a\nb\n']);
    w.write('c\n');
    w.flush();
    w.flush();
    expect(out).toEqual(['a\nb\n', 'c\n']);
  });
});
