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
