import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigFileError } from '../errors.js';
import type { LogLevel } from '../log.js';

export type TransferSetting = 'mount' | 'copy';

/** Settings that apply to every command, after precedence: defaults < config file < SM_LOCAL_* < flags. */
export interface ResolvedConfig {
  /** Parent folder of job folders (absolute). */
  outputDir: string;
  transfer?: TransferSetting;
  instanceType?: string;
  region?: string;
  account?: string;
  stopGraceSeconds?: number;
  /** `s3://bucket/key` maps to `<s3Root>/bucket/key` (absolute). */
  s3Root?: string;
  /** Parent of job workspaces (absolute). */
  tmpRoot?: string;
  /** The `sm-local.session` label of everything this run creates (default: a fresh id per run). */
  session?: string;
  logLevel: LogLevel;
  /** The config file that was read, if any. */
  configFile?: string;
}

/** Global flags as yargs hands them over (camel-cased). */
export interface ConfigFlags {
  config?: string;
  output?: string;
  transfer?: string;
  instanceType?: string;
  region?: string;
  account?: string;
  stopGrace?: number;
  s3Root?: string;
  verbose?: boolean;
}

export const CONFIG_FILE_NAME = 'sm-local.json';

/** Keys of `sm-local.json` and the environment variable that overrides each. */
export const CONFIG_KEYS = {
  output: 'SM_LOCAL_OUTPUT',
  transfer: 'SM_LOCAL_TRANSFER',
  instanceType: 'SM_LOCAL_INSTANCE_TYPE',
  region: 'SM_LOCAL_REGION',
  account: 'SM_LOCAL_ACCOUNT',
  stopGrace: 'SM_LOCAL_STOP_GRACE',
  s3Root: 'SM_LOCAL_S3_ROOT',
  tmpDir: 'SM_LOCAL_TMPDIR',
  logLevel: 'SM_LOCAL_LOG_LEVEL',
  session: 'SM_LOCAL_SESSION',
} as const;
type ConfigKey = keyof typeof CONFIG_KEYS;
type RawConfig = Partial<Record<ConfigKey, string | number>>;

const LOG_LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

function readConfigFile(path: string, required: boolean): RawConfig | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigFileError(path, 'the file cannot be read.', err);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigFileError(path, `it is not valid JSON (${(err as Error).message}).`, err);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigFileError(path, 'it must hold a JSON object.');
  const unknown = Object.keys(parsed).filter((k) => !(k in CONFIG_KEYS));
  if (unknown.length) throw new ConfigFileError(path, `unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `"${k}"`).join(', ')}; known keys: ${Object.keys(CONFIG_KEYS).join(', ')}.`);
  for (const [k, v] of Object.entries(parsed)) {
    if (typeof v !== 'string' && typeof v !== 'number') throw new ConfigFileError(path, `"${k}" must be a string or a number.`);
  }
  return parsed as RawConfig;
}

function pick<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined && v !== '');
}

function asTransfer(value: string | number | undefined, where: string): TransferSetting | undefined {
  if (value === undefined || value === '') return undefined;
  if (value === 'mount' || value === 'copy') return value;
  throw new ConfigFileError(where, `transfer must be "mount" or "copy" (got ${JSON.stringify(value)}).`);
}

function asNumber(value: string | number | undefined, where: string, key: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n)) throw new ConfigFileError(where, `${key} must be a number (got ${JSON.stringify(value)}).`);
  return n;
}

/**
 * Resolves global settings with precedence defaults < `sm-local.json` (or `--config`) < `SM_LOCAL_*`
 * < flags. Paths from the file are relative to the file; paths from the environment and flags are
 * relative to `cwd`. Only the CLI calls this: library callers pass explicit values.
 */
export function resolveConfig({ flags = {}, env = process.env, cwd = process.cwd() }: { flags?: ConfigFlags; env?: NodeJS.ProcessEnv; cwd?: string } = {}): ResolvedConfig {
  const configFile = flags.config ? resolve(cwd, flags.config) : resolve(cwd, CONFIG_FILE_NAME);
  const fileFound = readConfigFile(configFile, flags.config !== undefined);
  const file = fileFound ?? {};
  const fileDir = dirname(configFile);
  const fromFile = (key: ConfigKey) => file[key];
  const fromEnv = (key: ConfigKey) => env[CONFIG_KEYS[key]];
  const filePath = (key: ConfigKey) => (file[key] !== undefined ? resolve(fileDir, String(file[key])) : undefined);
  const envPath = (key: ConfigKey) => (fromEnv(key) ? resolve(cwd, String(fromEnv(key))) : undefined);
  const flagPath = (value: string | undefined) => (value ? resolve(cwd, value) : undefined);
  const envName = (key: ConfigKey) => `environment variable ${CONFIG_KEYS[key]}`;

  const logLevelRaw = flags.verbose ? 'debug' : pick<string | number>(fromEnv('logLevel'), fromFile('logLevel'));
  if (logLevelRaw !== undefined && !LOG_LEVELS.includes(logLevelRaw as LogLevel)) {
    throw new ConfigFileError(fromEnv('logLevel') ? envName('logLevel') : configFile, `logLevel must be one of ${LOG_LEVELS.join(', ')}.`);
  }

  const transfer =
    asTransfer(flags.transfer, '--transfer') ?? asTransfer(fromEnv('transfer'), envName('transfer')) ?? asTransfer(fromFile('transfer'), configFile);
  const stopGraceSeconds =
    flags.stopGrace ?? asNumber(fromEnv('stopGrace'), envName('stopGrace'), 'stopGrace') ?? asNumber(fromFile('stopGrace'), configFile, 'stopGrace');

  const str = (flag: string | undefined, key: ConfigKey, ...fallbacks: (string | undefined)[]) =>
    pick<string>(flag, fromEnv(key) as string | undefined, ...fallbacks, fromFile(key) !== undefined ? String(fromFile(key)) : undefined);

  const outputDir = pick(flagPath(flags.output), envPath('output'), filePath('output')) ?? resolve(cwd, 'sm-local-output');
  const s3Root = pick(flagPath(flags.s3Root), envPath('s3Root'), filePath('s3Root'));
  const tmpRoot = pick(envPath('tmpDir'), filePath('tmpDir'));
  const instanceType = str(flags.instanceType, 'instanceType');
  // The region also follows the AWS tools' own variables, below sm-local's.
  const region = pick<string>(flags.region, env[CONFIG_KEYS.region], env.AWS_REGION, env.AWS_DEFAULT_REGION, file.region !== undefined ? String(file.region) : undefined);
  const account = str(flags.account, 'account');
  const session = str(undefined, 'session');
  if (session !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(session)) {
    throw new ConfigFileError(fromEnv('session') ? envName('session') : configFile, 'session must be 1-64 letters, digits, ".", "_" or "-" (it becomes a Docker label).');
  }

  return Object.freeze({
    outputDir,
    logLevel: (logLevelRaw as LogLevel | undefined) ?? 'info',
    ...(transfer ? { transfer } : {}),
    ...(instanceType ? { instanceType } : {}),
    ...(region ? { region } : {}),
    ...(account ? { account } : {}),
    ...(stopGraceSeconds !== undefined ? { stopGraceSeconds } : {}),
    ...(s3Root ? { s3Root } : {}),
    ...(tmpRoot ? { tmpRoot } : {}),
    ...(session ? { session } : {}),
    ...(fileFound ? { configFile } : {}),
  });
}
