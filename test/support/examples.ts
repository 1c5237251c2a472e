import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Test helper: the vendored CONTRACT example files (test/contract-examples). */
export const EXAMPLES_DIR = join(import.meta.dirname, '..', 'contract-examples');
export const SHARED_EXAMPLES_DIR = join(import.meta.dirname, '..', '..', '..', 'shared', 'spec', 'examples');

export function readExample(name: string): string {
  return readFileSync(join(EXAMPLES_DIR, name), 'utf8');
}
