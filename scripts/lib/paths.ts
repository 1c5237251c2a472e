import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The bundled CLI (`npm run build`), what the `sm-local` bin points at. */
export const CLI_BIN = join(REPO_ROOT, 'dist', 'cli-bundle', 'sm-local.mjs');
