import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXAMPLES_DIR, SHARED_EXAMPLES_DIR } from '../../test/support/examples.js';

describe('vendored CONTRACT examples', () => {
  it.runIf(existsSync(SHARED_EXAMPLES_DIR))('match ../shared/spec/examples byte for byte', () => {
    const names = readdirSync(SHARED_EXAMPLES_DIR).filter((n) => n.endsWith('.json'));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      expect(readFileSync(join(EXAMPLES_DIR, name), 'utf8'), name).toBe(readFileSync(join(SHARED_EXAMPLES_DIR, name), 'utf8'));
    }
  });
});
