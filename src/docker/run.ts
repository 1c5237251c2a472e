/**
 * What every engine shares once a container runs: stopping it (SIGTERM, the grace, SIGKILL), forcing
 * it, and running it to its exit under a stop signal and a time limit. Engine-neutral: an engine only
 * supplies `start` (and the run's `kill`).
 */
import { onAbort } from '../abort.js';
import type { EngineContainer, ExitInfo, RunToExitOptions, Signal, StopOutcome, StopReason } from './engine.js';

/** Timers above 2^31-1 ms fire at once in Node; MaxRuntimeInSeconds goes up to 28 days. */
export function longTimeout(fn: () => void, ms: number): () => void {
  const MAX = 2 ** 31 - 1;
  let handle: NodeJS.Timeout;
  const arm = (left: number) => {
    handle = setTimeout(() => (left > MAX ? arm(left - MAX) : fn()), Math.min(left, MAX));
  };
  arm(ms);
  return () => clearTimeout(handle);
}

/** A started container: its exit, and the two ways to end it early. */
export class ContainerRun {
  /** True once SIGKILL was sent (grace over, or `kill()`). */
  killed = false;
  private stopping?: Promise<StopOutcome>;
  private graceTimer?: () => void;

  private hasExited = false;

  constructor(
    private readonly handle: { kill(signal: Signal): Promise<void> },
    readonly exited: Promise<{ exitCode: number; oomKilled: boolean; tail: string[] }>,
  ) {
    const clear = () => {
      this.hasExited = true;
      this.graceTimer?.();
    };
    exited.then(clear, clear);
  }

  /**
   * SIGTERM, then SIGKILL if it has not exited `graceMs` after the engine accepted the SIGTERM (a slow
   * engine call must not eat the grace). Resolves when it has exited.
   */
  stop(graceMs: number): Promise<StopOutcome> {
    this.stopping ??= (async () => {
      await this.handle.kill('SIGTERM').catch(() => {});
      const sent = Date.now();
      if (!this.hasExited) this.graceTimer = longTimeout(() => this.kill(), graceMs);
      const exit = await this.exited.catch(() => undefined);
      return { ...(exit ? { exitCode: exit.exitCode } : {}), killed: this.killed, stopMs: Date.now() - sent };
    })();
    return this.stopping;
  }

  /** SIGKILL now. */
  kill(): void {
    this.killed = true;
    void this.handle.kill('SIGKILL').catch(() => {});
  }
}

/**
 * Runs to the exit. A stop (the `stop` signal or `timeoutMs`) sends SIGTERM and, after `graceMs`,
 * SIGKILL; `force` sends SIGKILL at once.
 */
export async function runToExit(container: Pick<EngineContainer, 'start'>, opts: RunToExitOptions): Promise<ExitInfo> {
  const run = await container.start(opts);
  opts.onStarted?.();
  let stopReason: StopReason | undefined;
  const cleanups: (() => void)[] = [];
  const requestStop = (reason: StopReason) => {
    if (stopReason) return;
    stopReason = reason;
    opts.onStopping?.(reason);
    void run.stop(opts.graceMs);
  };
  const onStop = () => requestStop('stopped');
  const onForce = () => {
    stopReason ??= 'stopped';
    run.kill();
  };
  if (opts.timeoutMs !== undefined && Number.isFinite(opts.timeoutMs)) cleanups.push(longTimeout(() => requestStop('timeout'), opts.timeoutMs));
  cleanups.push(onAbort(opts.stop, onStop), onAbort(opts.force, onForce));
  try {
    const exit = await run.exited;
    // A stop in progress settles right after the exit; its outcome says how long the exit took.
    const stopped = stopReason ? await run.stop(opts.graceMs) : undefined;
    return { ...exit, ...(stopReason ? { stopReason } : {}), killed: run.killed, ...(stopped ? { stopMs: stopped.stopMs } : {}) };
  } finally {
    for (const c of cleanups) c();
  }
}
