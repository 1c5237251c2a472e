import { describe, expect, it } from 'vitest';
import { envFileEntries, parseEnvEntries } from './env-file.js';

describe('env entries (Docker rules)', () => {
  it('parses KEY=value verbatim, copies bare KEYs from the host, reports the rest', () => {
    const out = parseEnvEntries(['A=1', 'B="quoted"', 'C=x=y', 'HOST_ONLY', 'MISSING', '=nokey', 'EMPTY='], (i) => `#${i}`, { HOST_ONLY: 'h' });
    expect(out.env).toEqual({ A: '1', B: '"quoted"', C: 'x=y', HOST_ONLY: 'h', EMPTY: '' });
    expect(out.problems.map((p) => p.path)).toEqual(['#4', '#5']);
  });

  it('skips comments and blank lines and keeps line numbers', () => {
    expect(envFileEntries('# comment\n\nA=1\r\n  B=2\n')).toEqual([
      { line: 3, entry: 'A=1' },
      { line: 4, entry: 'B=2' },
    ]);
  });
});
