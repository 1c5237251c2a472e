import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Problems } from '../contract/problems.js';

/**
 * `--env` and `--env-file` with Docker's rules: `KEY=value` (the value is taken verbatim, quotes
 * included), `KEY` alone copies the variable from sm-local's own environment, blank lines and lines
 * starting with `#` are skipped.
 */
export interface EnvParseResult {
  env: Record<string, string>;
  problems: { path: string; message: string }[];
}

export function parseEnvEntries(entries: readonly string[], where: (index: number) => string, hostEnv: NodeJS.ProcessEnv): EnvParseResult {
  const env: Record<string, string> = {};
  const problems: EnvParseResult['problems'] = [];
  entries.forEach((raw, i) => {
    const eq = raw.indexOf('=');
    if (eq === 0) {
      problems.push({ path: where(i), message: `"${raw}" has no variable name before "=".` });
      return;
    }
    if (eq === -1) {
      const key = raw.trim();
      const value = hostEnv[key];
      if (value === undefined) problems.push({ path: where(i), message: `"${key}" has no "=value" and is not set in sm-local's environment.` });
      else env[key] = value;
      return;
    }
    env[raw.slice(0, eq)] = raw.slice(eq + 1);
  });
  return { env, problems };
}

/** The entries of an env file's text, with their 1-based line numbers. */
export function envFileEntries(text: string): { line: number; entry: string }[] {
  return text
    .split(/\r?\n/)
    .map((entry, i) => ({ line: i + 1, entry: entry.replace(/^\s+/, '') }))
    .filter(({ entry }) => entry !== '' && !entry.startsWith('#'));
}

/**
 * The container environment from `--env-file` files (in order) and then `--env` flags; later
 * entries win. Problems go to `p` with the file and line, or the flag's position.
 */
export async function collectEnvironment(
  flags: { env?: string[]; envFile?: string[] },
  opts: { cwd: string; env: NodeJS.ProcessEnv },
  p: Problems,
): Promise<Record<string, string>> {
  const environment: Record<string, string> = {};
  for (const file of flags.envFile ?? []) {
    const path = resolve(opts.cwd, file);
    let text: string | undefined;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      p.add('--env-file', `file ${path} does not exist or cannot be read.`);
    }
    if (text !== undefined) {
      const entries = envFileEntries(text);
      const parsed = parseEnvEntries(entries.map((e) => e.entry), (i) => `${path}:${entries[i]?.line}`, opts.env);
      parsed.problems.forEach((x) => p.add(x.path, x.message));
      Object.assign(environment, parsed.env);
    }
  }
  const fromFlags = parseEnvEntries(flags.env ?? [], (i) => `--env #${i + 1}`, opts.env);
  fromFlags.problems.forEach((x) => p.add(x.path, x.message));
  Object.assign(environment, fromFlags.env);
  return environment;
}
