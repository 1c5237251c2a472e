/**
 * What `sm-local check` says when a serving or training container misbehaves: the real cause, named
 * from what was observed (the process table, the socket table, the exit), and the fix that fits this
 * image. Data in, text out.
 */
import type { ListeningSocket, ReadinessObservation } from '../errors.js';

export type { ListeningSocket, ReadinessObservation };

/** One process of a container as the engine's `top` lists it. */
export interface ContainerProcess {
  pid: number;
  ppid: number;
  /** The full command line. */
  args: string;
}

const SIGNALS: Record<number, string> = { 1: 'SIGHUP', 2: 'SIGINT', 3: 'SIGQUIT', 4: 'SIGILL', 6: 'SIGABRT', 7: 'SIGBUS', 8: 'SIGFPE', 9: 'SIGKILL', 11: 'SIGSEGV', 13: 'SIGPIPE', 15: 'SIGTERM' };

/** `exit code 139 (killed by SIGSEGV)`: a code above 128 is 128 + the signal that ended the program. */
export function describeExit(exitCode: number): string {
  const signal = exitCode > 128 ? SIGNALS[exitCode - 128] : undefined;
  return `exit code ${exitCode}${signal ? ` (killed by ${signal}${signal === 'SIGKILL' ? ', often the kernel out of memory' : ''})` : ''}`;
}

/** The last lines a container printed, for an observation. */
export const lastOutput = (tail: readonly string[]) => (tail.length ? ` Last output: ${tail.slice(-3).map((l) => l.trim()).join(' | ')}` : '');

const hex4 = (h: string) => Number.parseInt(h, 16);

/** IPv4 of /proc/net/tcp: 8 hex digits, little-endian on every platform SageMaker runs. */
function ipv4(hex: string): string {
  const n = hex4(hex);
  return [n & 255, (n >>> 8) & 255, (n >>> 16) & 255, (n >>> 24) & 255].join('.');
}

/** IPv6 of /proc/net/tcp6: four little-endian 32-bit words. */
function ipv6(hex: string): string {
  if (/^0{32}$/.test(hex)) return '::';
  if (/^0{24}01000000$/.test(hex)) return '::1';
  if (/^0{16}FFFF0000/i.test(hex)) return `::ffff:${ipv4(hex.slice(24))}`;
  const words = [0, 8, 16, 24].map((i) => hex.slice(i, i + 8).match(/../g)!.reverse().join(''));
  return words.flatMap((w) => [w.slice(0, 4), w.slice(4)]).map((g) => g.replace(/^0+(?=.)/, '').toLowerCase()).join(':');
}

/** The listening TCP sockets of /proc/net/tcp and /proc/net/tcp6 (state 0A), as `address:port`. */
export function parseListeningSockets(procNetTcp: string): ListeningSocket[] {
  const out: ListeningSocket[] = [];
  for (const line of procNetTcp.split('\n')) {
    const m = /^\s*\d+:\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+[0-9A-Fa-f:]+\s+0A\s/.exec(line);
    if (!m) continue;
    const address = m[1]!.length === 8 ? ipv4(m[1]!) : ipv6(m[1]!);
    const port = hex4(m[2]!);
    if (!out.some((s) => s.address === address && s.port === port)) out.push({ address, port });
  }
  return out;
}

const showSocket = (s: ListeningSocket) => (s.address.includes(':') ? `[${s.address}]:${s.port}` : `${s.address}:${s.port}`);
const isLoopback = (a: string) => a.startsWith('127.') || a === '::1';

/** `serve.ready`: why GET /ping never answered 200, and what to change, by what was seen. */
export function readinessAdvice(o: ReadinessObservation, ctx: { windowSeconds: number }): { observed: string; fix: string } {
  switch (o.kind) {
    case 'exited':
      return {
        observed: `the container exited with ${describeExit(o.exitCode)} before GET /ping answered 200.${lastOutput(o.tail)}`,
        fix: 'The server must keep running: read the container output above for why it ended (an exception while loading the model, a missing file or package). `docker run IMAGE serve` with the model in /opt/ml/model shows the same.',
      };
    case 'status':
      return o.status === 404
        ? {
            observed: `GET /ping answered 404 for the whole ${ctx.windowSeconds} s start-up window: the server runs, but has no /ping route`,
            fix: 'Add a GET /ping route (exactly /ping, no prefix) that answers 200 once the model is loaded.',
          }
        : {
            observed: `GET /ping answered ${o.status} until the ${ctx.windowSeconds} s start-up window ended`,
            fix: `Answer GET /ping with 200 once the model is loaded; ${o.status >= 500 ? 'a 5xx means "not ready"' : `${o.status} is not 200`}. If loading takes longer, raise --startup-timeout (SageMaker: ContainerStartupHealthCheckTimeoutInSeconds).`,
          };
    case 'no-answer':
      return {
        observed: `GET /ping on port ${o.port} got no answer within 2 s (${o.error}) until the ${ctx.windowSeconds} s start-up window ended`,
        fix: 'Answer GET /ping within 2 s from a thread or worker that model loading and requests cannot block.',
      };
    case 'no-connection': {
      const listening = o.listening;
      const onPort = listening?.filter((s) => s.port === o.port) ?? [];
      if (onPort.length && onPort.every((s) => isLoopback(s.address))) {
        return {
          observed: `nothing answered on port ${o.port} from outside the container (${o.error}): the server listens on ${onPort.map(showSocket).join(', ')}, which only the container itself can reach`,
          fix: `Listen on 0.0.0.0:${o.port} (all addresses), not ${onPort.map(showSocket).join(', ')}: SageMaker connects to the container from outside.`,
        };
      }
      const elsewhere = listening?.filter((s) => s.port !== o.port) ?? [];
      if (listening && elsewhere.length) {
        return {
          observed: `nothing listens on port ${o.port} (${o.error}); the container listens on ${elsewhere.map(showSocket).join(', ')}`,
          fix: `Listen on port ${o.port}${o.port === 8080 ? '' : ' (SAGEMAKER_BIND_TO_PORT)'} on 0.0.0.0: SageMaker sends /ping and /invocations there and nowhere else.`,
        };
      }
      return {
        observed: `nothing accepted a connection on port ${o.port} within the ${ctx.windowSeconds} s start-up window (${o.error})${listening ? '; the container listens on no TCP port at all' : ''}`,
        fix: `Start the HTTP server on 0.0.0.0:${o.port} within the start-up window${listening ? ': no server was listening, so check that `serve` starts it (and that it does not exit or wait for something)' : ''}. Raise --startup-timeout if it really needs longer.`,
      };
    }
  }
}

const SHELLS = /(^|\/)(ba|da|a)?sh$/;
const argv0 = (args: string) => args.trim().split(/\s+/)[0] ?? '';
const words = (args: string) => args.trim().split(/\s+/);

/** What a command runs: the script of an interpreter (`python3 -u train.py` → `train.py`, `-m pkg`), else the program. */
function programOf(args: string): string {
  const w = words(args);
  if (!/(^|\/)(python[\d.]*|node|ruby|perl|Rscript)$/.test(w[0] ?? '')) return w[0] ?? '';
  for (let i = 1; i < w.length; i++) {
    if (w[i] === '-m' && w[i + 1]) return `${w[0]} -m ${w[i + 1]}`;
    if (!w[i]!.startsWith('-')) return w[i]!;
  }
  return w[0]!;
}

/** PID 1 of the container (the process whose parent is outside it) and its children. */
export function processTree(procs: readonly ContainerProcess[]): { root: ContainerProcess; children: ContainerProcess[] } | undefined {
  const pids = new Set(procs.map((p) => p.pid));
  const root = procs.find((p) => !pids.has(p.ppid));
  if (!root) return undefined;
  return { root, children: procs.filter((p) => p.ppid === root.pid) };
}

export interface SigtermContext {
  /** The job kind: its word (`train`, `serve`), or `process` for a processing job (which has none). */
  word: 'train' | 'serve' | 'process';
  graceSeconds: number;
  /** The image's ENTRYPOINT (null or empty: none). */
  entrypoint: readonly string[] | null;
  /** The image follows the training-toolkit pattern (its `train` console script runs the user's script). */
  trainingToolkit: boolean;
}

/** What a job loses when SIGKILL follows the grace. */
function consequence(ctx: SigtermContext): string {
  if (ctx.word === 'process') {
    return `On SageMaker, StopProcessingJob and MaxRuntimeInSeconds send SIGTERM, wait ${ctx.graceSeconds} s (UNCONFIRMED for processing; training's grace), then SIGKILL: the job still ends (Stopped), but the program gets no chance to finish its outputs or write /opt/ml/output/message.`;
  }
  return ctx.word === 'train'
    ? `On SageMaker, StopTrainingJob, MaxRuntimeInSeconds and a spot interruption send SIGTERM, wait ${ctx.graceSeconds} s, then SIGKILL: the job still ends (Stopped), but the program gets no chance to save a final model or checkpoint.`
    : `On SageMaker, scale-in and endpoint updates send SIGTERM, wait ${ctx.graceSeconds} s, then SIGKILL: requests still in flight are cut off, and every stop takes the full ${ctx.graceSeconds} s.`;
}

const quote = (s: string) => `\`${s.length > 100 ? `${s.slice(0, 97)}…` : s}\``;

/**
 * `train.sigterm` / `serve.sigterm` when the container sat out the grace: which process is PID 1, why
 * it did not exit, and the fix for this image's pattern. `procs` is the process table just before the
 * SIGTERM (undefined when the engine could not list it).
 */
export function sigtermAdvice(procs: readonly ContainerProcess[] | undefined, ctx: SigtermContext): { observed: string; fix: string } {
  const killed = `still running ${ctx.graceSeconds} s after SIGTERM: killed with SIGKILL`;
  const tree = procs ? processTree(procs) : undefined;
  const handler = {
    train: 'a SIGTERM handler that saves the model (and a checkpoint) and exits, e.g. in Python signal.signal(signal.SIGTERM, on_term)',
    process: 'a SIGTERM handler that writes what it has to the outputs and exits, e.g. in Python signal.signal(signal.SIGTERM, on_term)',
    serve: 'a SIGTERM handler that stops accepting requests, finishes the ones in flight and exits (gunicorn, uvicorn and nginx do this themselves)',
  }[ctx.word];
  if (!tree) {
    const entry = ctx.entrypoint?.length ? ` Make sure the signal reaches it: ENTRYPOINT ${JSON.stringify(ctx.entrypoint)} must be the program itself or pass the signal on.` : '';
    return { observed: killed, fix: `${consequence(ctx)} Give the program ${handler}.${entry}` };
  }
  const { root, children } = tree;
  const rootWords = words(root.args);
  const child = children.find((c) => !/(^|\/)tail$/.test(argv0(c.args))) ?? children[0];
  const tails = children.filter((c) => /(^|\/)tail$/.test(argv0(c.args)) && /-f/.test(c.args));
  const pid1 = `PID 1 is ${quote(root.args)}`;

  if (SHELLS.test(argv0(root.args))) {
    if (rootWords[1] === '-c') {
      return {
        observed: `${killed}. ${pid1}, a shell running a command string: it gets the SIGTERM and does not pass it on${child ? ` to ${quote(child.args)}` : ''}`,
        fix: `${consequence(ctx)} Put \`exec\` in front of the program in the command string (sh -c "exec program …"), or use an exec-form ENTRYPOINT ["program", "arg"] so the program itself is PID 1; then give it ${handler}.`,
      };
    }
    const script = rootWords.slice(1).find((w) => !w.startsWith('-')) ?? 'the entrypoint script';
    const tailNote = tails.length ? ` The script ends in ${quote(tails[0]!.args)}, which keeps the container up and never exits on SIGTERM.` : '';
    return {
      observed: `${killed}. ${pid1}, a shell script that started ${child ? quote(child.args) : 'the program'} without \`exec\`: the shell gets the SIGTERM and does not pass it on.${tailNote}`,
      fix: `${consequence(ctx)} In ${script}, start the program with \`exec\` (\`exec ${child ? argv0(child.args) : 'program'} …\`) so it replaces the shell as PID 1 and gets the signal${tails.length ? ', instead of running it in the background and ending in `tail -f /dev/null`' : ''}. If the script must stay in charge, forward the signal: start the program with \`&\`, keep \`pid=$!\`, \`trap 'kill -TERM "$pid"' TERM\`, then \`wait "$pid"\`. The program itself needs ${handler}.`,
    };
  }

  if (ctx.word === 'train' && ctx.trainingToolkit && !ctx.entrypoint?.length && rootWords.some((w) => /(^|\/)train$/.test(w))) {
    return {
      observed: `${killed}. ${pid1}, the SageMaker training toolkit's \`train\`: it installs no SIGTERM handler (so as PID 1 it ignores the signal) and does not pass it to your script${child ? ` (${quote(child.args)})` : ''}`,
      fix: `${consequence(ctx)} Under the toolkit your script never receives SIGTERM, so a handler in it does not help: save checkpoints to /opt/ml/checkpoints as you go (with CheckpointConfig they are uploaded and restored when a spot job resumes) and keep /opt/ml/model current (what is there when the job stops is still uploaded). For a final save on stop, the image needs a PID 1 that delivers SIGTERM to your script and waits for it, for example an exec-form ENTRYPOINT that runs your script itself.`,
    };
  }

  if (/(^|\/)(tini|tini-static|dumb-init)$/.test(argv0(root.args)) && child) {
    return {
      observed: `${killed}. ${pid1}, which passed the SIGTERM to ${quote(child.args)}; that program did not exit`,
      fix: `${consequence(ctx)} Give ${quote(programOf(child.args))} ${handler}.`,
    };
  }

  if (child) {
    return {
      observed: `${killed}. ${pid1}; it did not exit on SIGTERM, and its child ${quote(child.args)} does the work`,
      fix: `${consequence(ctx)} PID 1 gets no default action for SIGTERM: ${quote(programOf(root.args))} must handle it, pass it to ${quote(programOf(child.args))} and exit when that does (or \`exec\` the child so it becomes PID 1). The program that does the work needs ${handler}.`,
    };
  }
  return {
    observed: `${killed}. ${pid1}, which has no SIGTERM handler: as PID 1 a program gets no default action for SIGTERM, so the signal is ignored`,
    fix: `${consequence(ctx)} Give ${quote(programOf(root.args))} ${handler}.`,
  };
}

/** A training failure whose log shows a type error on a value: SageMaker passes hyperparameters as strings. */
export function hyperparameterHint(text: string, hyperParameters: Record<string, string>): string | undefined {
  if (!Object.keys(hyperParameters).length) return undefined;
  const typeError = /TypeError:[^\n]*\b(str|string|'str'|"str")\b|'str' object (cannot|is not|has no)|must be (int|float|real number|integer), not str|unsupported operand type\(s\)[^\n]*'str'/;
  if (!typeError.test(text)) return undefined;
  return 'The log shows a type error on a string: SageMaker passes every hyperparameter to the container as a string ("10", not 10), in hyperparameters.json and as arguments. Convert it where you read it (int(hp["epochs"]), or argparse type=int).';
}
