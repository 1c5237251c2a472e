#!/usr/bin/env -S node --max-semi-space-size=2 --
// A small young generation keeps `sm-local serve` lean under load (≈100 MB instead of ≈120 MB at 64
// concurrent requests) and its scavenges cheap. `env -S` passes the flag to node when the bin runs; the
// `--` stops Node 20 from reading sm-local's own `--env-file` as its own flag.
//
// This file imports nothing: it is the bundle's entry, and the handlers below must be in place before
// the heavier modules load (seconds on a loaded machine), or a Ctrl-C then would kill the process with
// Node's default handler, cleanup and all. Signals that arrive before a command listens are kept and
// handed to it when it does (it then stops at once); with no command to take them, the exit code is 130.

type Signal = 'SIGINT' | 'SIGTERM';
type Listener = (signal: Signal) => void;

/** Process signals, buffered until someone listens: what the CLI's command context subscribes to. */
class SignalHub {
  private readonly listeners: Record<Signal, Listener[]> = { SIGINT: [], SIGTERM: [] };
  private readonly pending: Signal[] = [];

  constructor() {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => this.deliver(signal));
  }

  /** Signals no command took. */
  get untaken(): number {
    return this.pending.length;
  }

  private deliver(signal: Signal): void {
    const listeners = this.listeners[signal];
    if (listeners.length) for (const l of [...listeners]) l(signal);
    else if (this.pending.push(signal) >= 3) process.exit(130);
  }

  on(signal: Signal, listener: Listener): this {
    this.listeners[signal].push(listener);
    for (const s of this.pending.splice(0)) {
      if (s === signal) listener(s);
      else this.pending.push(s);
    }
    return this;
  }

  off(signal: Signal, listener: Listener): this {
    this.listeners[signal] = this.listeners[signal].filter((l) => l !== listener);
    return this;
  }
}

const signals = new SignalHub();
const { main } = await import('./main.js');

main(undefined, { stdout: process.stdout, stderr: process.stderr, env: process.env, cwd: process.cwd(), signals: signals as unknown as Pick<NodeJS.Process, 'on' | 'off'> }).then(
  (code) => {
    // A signal no command took (it came before one listened, or after) still ends the run as interrupted.
    process.exitCode = code === 0 && signals.untaken > 0 ? 130 : code;
  },
  (err: unknown) => {
    process.stderr.write(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);

export {};
