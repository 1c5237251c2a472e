/**
 * The multi-host container core every multi-instance job kind shares (training now, processing
 * next): run one container per host side by side, stop them all when the first one fails, when the
 * job's time limit passes or when the user stops the job (SIGTERM, the grace, SIGKILL), and force
 * them (SIGKILL) on a second Ctrl-C. What a host does besides running (feeding Pipe channels,
 * fetching archives) is the job kind's, through the callbacks. Engine-neutral: it only runs
 * containers it is given.
 */
import { onAbort } from '../abort.js';
import type { EngineContainer, ExitInfo } from '../docker/engine.js';

/** Why a cluster was stopped before every host ended on its own. */
export type StopCause = 'timeout' | 'stopped' | 'failed';

export interface ClusterRun<H> {
  hosts: readonly H[];
  /** Each host's container, created and ready to start. */
  containerOf: (host: H) => EngineContainer;
  /** The job's time limit (MaxRuntimeInSeconds) from the start. */
  maxRuntimeMs: number;
  /** SIGTERM → SIGKILL. */
  graceMs: number;
  /** The user's stop (StopTrainingJob) and force (the second Ctrl-C). */
  stop?: AbortSignal;
  force?: AbortSignal;
  onLine: (host: H, line: string) => void;
  /** Once, when the first container has started. */
  onFirstStart?: () => void;
  /** Once, when the cluster begins to stop, with why (and for `failed`, the host that failed). */
  onStopping?: (cause: StopCause, failed?: H) => void;
  /** For each host still running when the stop reaches it, just before its SIGTERM. */
  onHostStopping?: (host: H) => void;
  /** Work beside a host's run (Pipe feeding), ended by `done` when the host exits. */
  alongside?: (host: H, done: AbortSignal) => Promise<void>;
  /** Right after a host exits, before the others are told to stop. */
  onExit?: (host: H, exit: ExitInfo) => void;
}

export interface ClusterOutcome<H> {
  stopCause?: StopCause;
  /** The first host that failed, when that is what ended the job (not after a stop or the time limit). */
  failedHost?: H;
}

/** Runs `fn` for every host at once; waits for all to settle, then rethrows the first failure. */
export async function eachHost<T>(hosts: readonly T[], fn: (host: T) => Promise<unknown>): Promise<void> {
  const settled = await Promise.allSettled(hosts.map(fn));
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Starts every host and waits for all to exit. The first non-zero exit stops the others (CONTRACT
 * §3.1: any instance failing fails the job); so do the time limit and the user's stop.
 */
export async function runCluster<H>(run: ClusterRun<H>): Promise<ClusterOutcome<H>> {
  const clusterStop = new AbortController();
  let stopCause: StopCause | undefined;
  let failedHost: H | undefined;
  const stopAll = (cause: StopCause, failed?: H) => {
    if (clusterStop.signal.aborted) return;
    stopCause = cause;
    run.onStopping?.(cause, failed);
    clusterStop.abort(cause);
  };
  const stopListening = onAbort(run.stop, () => stopAll('stopped'));
  const maxRuntime = setTimeout(() => stopAll('timeout'), Math.min(run.maxRuntimeMs, 2 ** 31 - 1));
  let started = 0;
  try {
    await Promise.all(
      run.hosts.map(async (host) => {
        const hostDone = new AbortController();
        const beside = run.alongside ? run.alongside(host, hostDone.signal) : Promise.resolve();
        let exit: ExitInfo;
        try {
          exit = await run.containerOf(host).runToExit({
            onLine: (line) => run.onLine(host, line),
            onStarted: () => {
              if (++started === 1) run.onFirstStart?.();
            },
            ...(run.onHostStopping ? { onStopping: () => run.onHostStopping!(host) } : {}),
            stop: clusterStop.signal,
            ...(run.force ? { force: run.force } : {}),
            graceMs: run.graceMs,
          });
        } finally {
          hostDone.abort();
          await beside;
        }
        run.onExit?.(host, exit);
        if (exit.exitCode !== 0 && !clusterStop.signal.aborted) {
          failedHost = host;
          stopAll('failed', host);
        }
      }),
    );
  } finally {
    clearTimeout(maxRuntime);
    stopListening();
  }
  // A host that fails after the cluster began stopping does not count as the cause.
  return { ...(stopCause ? { stopCause } : {}), ...(failedHost ? { failedHost } : {}) };
}
