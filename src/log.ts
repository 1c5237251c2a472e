/**
 * The library never writes to stdout or stderr itself: it reports through a {@link Logger} (silent
 * by default) and an `onLine` callback for container output. The CLI decides how to render both.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** A line of container output; `source` is the host that printed it (`algo-1`). */
export type LineHandler = (line: string, source: string) => void;

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** The same logger, printing each distinct warning once: for a command that runs several jobs of one image. */
export function warnOnce(log: Logger): Logger {
  const seen = new Set<string>();
  return {
    debug: (m) => log.debug(m),
    info: (m) => log.info(m),
    error: (m) => log.error(m),
    warn: (m) => {
      if (seen.has(m)) return;
      seen.add(m);
      log.warn(m);
    },
  };
}

/**
 * Environment keys whose values never appear in sm-local's output, in files it writes (describe.json,
 * logs) or on stdout: any key containing SECRET, TOKEN, PASSWORD, CREDENTIAL or KEY (any case).
 */
export const SECRET_KEY_PATTERN = /SECRET|TOKEN|PASSWORD|CREDENTIAL|KEY/i;

/** What a secret value is shown as. */
export const MASK = '****';

/** The map with the values of secret-looking keys replaced by `****` (for records written or printed). */
export function maskSecretValues(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, SECRET_KEY_PATTERN.test(k) ? MASK : v]));
}

/**
 * Replaces the values of secret-looking environment entries with `****` in any text.
 * Values shorter than 4 characters are left alone: masking "1" would garble every line.
 */
export class SecretMasker {
  private readonly values = new Set<string>();

  addEnvironment(env: Record<string, string>): this {
    for (const [key, value] of Object.entries(env)) {
      if (SECRET_KEY_PATTERN.test(key) && value.length >= 4) this.values.add(value);
    }
    return this;
  }

  mask(text: string): string {
    let out = text;
    for (const value of this.values) out = out.split(value).join(MASK);
    return out;
  }
}

export interface StreamLoggerOptions {
  level?: LogLevel;
  masker?: SecretMasker;
  /** Prefix for warnings and errors, e.g. colourised "warning:". */
  color?: boolean;
}

/** A logger that writes one line per message to a writable stream (the CLI passes stderr). */
export function createStreamLogger(
  stream: { write(chunk: string): unknown },
  opts: StreamLoggerOptions = {},
): Logger {
  const min = RANK[opts.level ?? 'info'];
  const started = performance.now();
  const paint = (code: string, text: string) => (opts.color ? `\u001b[${code}m${text}\u001b[0m` : text);
  const emit = (level: LogLevel, message: string) => {
    if (RANK[level] < min) return;
    const text = opts.masker ? opts.masker.mask(message) : message;
    const prefix =
      level === 'warn'
        ? paint('33', 'warning: ')
        : level === 'error'
          ? paint('31', 'error: ')
          : level === 'debug'
            ? paint('2', `debug +${Math.round(performance.now() - started)}ms: `)
            : '';
    stream.write(`${prefix}${text}\n`);
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
  };
}

/**
 * A stream's writes within one turn of the event loop, handed on in one write at its end (or at
 * `flush`), in order. Under load `sm-local serve` logs a line per request: thousands of small writes
 * a second to a terminal or a pipe, each a system call, cost the proxy a twentieth of its CPU.
 */
export function coalescingWriter(stream: { write(chunk: string): unknown }): { write(chunk: string): boolean; flush(): void } {
  let pending = '';
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (!pending) return;
    const out = pending;
    pending = '';
    stream.write(out);
  };
  return {
    write(chunk: string) {
      pending += chunk;
      if (pending.length >= 64 * 1024) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
      return true;
    },
    flush,
  };
}

/** A logger that keeps messages in memory; handy for tests and for collecting warnings. */
export function createMemoryLogger(): Logger & { messages: { level: LogLevel; message: string }[] } {
  const messages: { level: LogLevel; message: string }[] = [];
  const push = (level: LogLevel) => (message: string) => void messages.push({ level, message });
  return { messages, debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}
