import { hostname } from 'node:os';
import { resolveConfig, type ConfigFlags, type ResolvedConfig } from '../config/resolve.js';
import type { JobDeps } from '../jobs/deps.js';
import { defaultTmpRoot, newSessionId } from '../jobs/deps.js';
import { DockerClient } from '../docker/client.js';
import { coalescingWriter, createStreamLogger, SecretMasker, type LineHandler, type Logger } from '../log.js';

export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** Where SIGINT/SIGTERM handlers go; the real process by default. */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>;
  exit?: (code: number) => never;
}

export interface CommandContext {
  io: CliIO;
  config: ResolvedConfig;
  log: Logger;
  masker: SecretMasker;
  color: boolean;
  /** Aborted by the first Ctrl-C (or SIGTERM). */
  stop: AbortSignal;
  /** Aborted by the second Ctrl-C. */
  force: AbortSignal;
  /** Writes the command's result to stdout (one line). */
  result(text: string): void;
  /** Writes one JSON object to stdout; `line` puts it on one line (for commands that keep running). */
  json(value: unknown, opts?: { line?: boolean }): void;
  /** The deps a job runner gets: the engine, logger, container output rendering, signals, owner. */
  jobDeps(): Partial<JobDeps>;
  /**
   * Opens the connection to the engine now (a ping nobody waits for), so that it is ready by the
   * time the command's modules have loaded: call it first in a command that talks to the engine.
   */
  warmEngine(): void;
}

export interface GlobalArgs extends ConfigFlags {
  [key: string]: unknown;
}

function useColor(io: CliIO): boolean {
  return Boolean(io.stderr.isTTY) && io.env.NO_COLOR === undefined && io.env.TERM !== 'dumb';
}

const HOST_COLORS = ['36', '35', '33', '32', '34'];

/** `[algo-1] | line`, secrets masked; the prefix is coloured per host on a terminal. */
export function createLineRenderer(out: { write(chunk: string): unknown }, masker: SecretMasker, color: boolean): LineHandler {
  const hosts = new Map<string, string>();
  return (line, source) => {
    let code = hosts.get(source);
    if (!code) {
      code = HOST_COLORS[hosts.size % HOST_COLORS.length]!;
      hosts.set(source, code);
    }
    const prefix = color ? `\u001b[${code}m[${source}] |\u001b[0m` : `[${source}] |`;
    out.write(`${prefix} ${masker.mask(line)}\n`);
  };
}

/**
 * Everything a command needs, created once and torn down after it: config, logger, the two-stage
 * Ctrl-C (first: stop the job and clean up, exit 130; second: kill containers at once; third: exit now).
 */
export async function withCommandContext<T>(argv: GlobalArgs, io: CliIO, fn: (ctx: CommandContext) => Promise<T>): Promise<T> {
  const config = resolveConfig({ flags: argv, env: io.env, cwd: io.cwd });
  const color = useColor(io);
  const masker = new SecretMasker();
  // The logger and the containers' lines share one writer, so their order holds; it is flushed when
  // the command ends, and at a forced exit.
  const stderr = coalescingWriter(io.stderr);
  process.once('exit', stderr.flush);
  const log = createStreamLogger(stderr, { level: config.logLevel, masker, color });
  const stop = new AbortController();
  const force = new AbortController();
  let presses = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    presses += 1;
    if (presses === 1) {
      log.info(`${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping… (Ctrl-C again to force)`);
      stop.abort();
    } else if (presses === 2) {
      log.info('Forcing: killing containers now; cleaning up… (Ctrl-C again to exit at once; `sm-local prune` removes leftovers)');
      force.abort();
    } else {
      (io.exit ?? process.exit)(130);
    }
  };
  const signals = io.signals ?? process;
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  const owner = { session: config.session ?? newSessionId(), pid: process.pid, hostname: hostname() };
  const renderLine = createLineRenderer(stderr, masker, color);
  let engine: DockerClient | undefined;
  const engineOf = () => (engine ??= new DockerClient(undefined, log));
  const ctx: CommandContext = {
    io,
    config,
    log,
    masker,
    color,
    stop: stop.signal,
    force: force.signal,
    result: (text) => void io.stdout.write(`${text}\n`),
    json: (value, opts) => void io.stdout.write(`${JSON.stringify(value, null, opts?.line ? undefined : 2)}\n`),
    warmEngine: () => void engineOf().ping().catch(() => {}),
    jobDeps: () => ({
      docker: engineOf(),
      log,
      onLine: renderLine,
      owner,
      tmpRoot: config.tmpRoot ?? defaultTmpRoot(),
      cwd: io.cwd,
      stop: stop.signal,
      force: force.signal,
    }),
  };
  try {
    return await fn(ctx);
  } finally {
    engine?.close();
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
    stderr.flush();
    process.off('exit', stderr.flush);
  }
}
