import type { Argv } from 'yargs';

/** `job-name` → `jobName`. */
type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;

/**
 * The given options of a command, under camel-case names (`--job-name` → `jobName`), leaving out
 * those not given (and `false` switches), as the config resolvers take them.
 */
export function pickFlags<A extends object, K extends keyof A & string>(argv: A, names: readonly K[]): { [P in K as Camel<P>]?: Exclude<A[P], false> } {
  const out: Record<string, unknown> = {};
  for (const name of names) {
    const value = argv[name];
    if (value !== undefined && value !== false) out[name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
  }
  return out as { [P in K as Camel<P>]?: Exclude<A[P], false> };
}

/** Marks the arrays of repeatable options, which keep every value. */
const REPEATABLE = Symbol('sm-local.repeatable');

/** A repeatable string option (`coerce: list`), always as an array. */
export const list = (v: unknown): string[] | undefined => (v === undefined ? undefined : Object.assign(([] as unknown[]).concat(v).map(String), { [REPEATABLE]: true }));

/**
 * One rule for every flag (a yargs middleware, after validation, when the options' own coercions have
 * marked the repeatable ones): a flag that takes one value, given
 * more than once, keeps the last one, as `docker run` does; repeatable flags (`coerce: list`) keep all.
 * Without it yargs hands over an array where a path or number is expected.
 */
export function lastValueWins(argv: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(argv)) {
    if (key === '_' || key === '--' || !Array.isArray(value) || (value as { [REPEATABLE]?: boolean })[REPEATABLE]) continue;
    argv[key] = value.at(-1);
  }
}

/** Options `train` and `serve` share: the container environment and the AWS identity in ARNs and messages. */
export function commonJobOptions<T>(y: Argv<T>, what: { stopGraceDefault: number }): Argv<T> {
  return y
    .option('env', { type: 'string', coerce: list, describe: 'KEY=VALUE for the container (repeatable); KEY alone copies it from this shell' })
    .option('env-file', { type: 'string', coerce: list, describe: 'File of KEY=VALUE lines (Docker env-file rules)' })
    .option('stop-grace', { type: 'number', describe: `Seconds between SIGTERM and SIGKILL on stop (default and maximum ${what.stopGraceDefault}, as SageMaker)` })
    .option('s3-root', { type: 'string', describe: 'Local folder standing in for S3: s3://bucket/key → DIR/bucket/key' })
    .option('region', { type: 'string', describe: 'AWS region for ARNs, messages and AWS_REGION (default us-east-1)' })
    .option('account', { type: 'string', describe: 'Account id for ARNs and messages (default 000000000000)' }) as unknown as Argv<T>;
}

/** The local escape hatches `train` and `serve` share: /dev/shm, GPUs, the platform, debugger ports, keeping the containers. */
export function escapeHatchOptions<T>(y: Argv<T>, what: { publishTo: string; keep: string }): Argv<T> {
  return y
    .option('shm-size', { type: 'string', describe: 'Escape hatch: /dev/shm size (e.g. 8g) instead of the instance type\'s' })
    .option('gpus', { type: 'string', describe: 'Escape hatch: GPUs to request from the engine (all, or a count) whatever the instance type has' })
    .option('platform', { type: 'string', describe: 'Escape hatch: image platform, e.g. linux/amd64 (the engine refuses an image of another platform)' })
    .option('publish', { type: 'string', coerce: list, describe: `Escape hatch: HOST:CONTAINER port of ${what.publishTo} on 127.0.0.1, e.g. 5678:5678 for a debugger (repeatable)` })
    .option('keep', { type: 'boolean', describe: what.keep }) as unknown as Argv<T>;
}
