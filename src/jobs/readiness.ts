/**
 * Readiness as SageMaker judges it, as a piece any job kind can use (hosting, batch transform, a
 * pipeline's containers): poll `GET /ping` until it answers 200 within the start-up window, fail at
 * once when the container exits, and when it never gets ready, say what was last seen (a status,
 * nothing listening and where the server does listen, no answer).
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { describeExit, parseListeningSockets, readinessAdvice, type ListeningSocket, type ReadinessObservation } from '../contract/check-advice.js';
import { PING_TIMEOUT_MS } from '../contract/serving.js';
import type { ContainerRun } from '../docker/run.js';
import { InterruptedError, ServingStartupError } from '../errors.js';
import { pingOnce } from '../http/ping.js';
import type { JobDeps } from './deps.js';

/**
 * The TCP sockets a running container listens on, from its own /proc/net/tcp{,6}: read with `cat`
 * through the engine, or (a local engine, an image without `cat`) from the host's view of its pid.
 */
async function listeningSockets(deps: JobDeps, containerId: string): Promise<ListeningSocket[] | undefined> {
  const read = async (file: string) => {
    const inside = await deps.docker.execOutput(containerId, ['cat', file], 3000);
    if (inside !== undefined || deps.docker.remote) return inside;
    const pid = await deps.docker.hostPid(containerId);
    return pid ? readFile(`/proc/${pid}/net/${basename(file)}`, 'utf8').catch(() => undefined) : undefined;
  };
  const [v4, v6] = await Promise.all([read('/proc/net/tcp'), read('/proc/net/tcp6')]);
  return v4 === undefined && v6 === undefined ? undefined : parseListeningSockets(`${v4 ?? ''}\n${v6 ?? ''}`);
}

/**
 * The pause before the next `GET /ping`, `elapsed` ms into the wait. While nothing answers HTTP (the
 * connection is refused or reset: nothing listens yet, which costs next to nothing to ask) it is 5 %
 * of the wait so far, between 5 and 100 ms, so readiness is seen within a few ms at first and within
 * 5 % on a slow model. Once something answers other than 200 (nginx up, its backend not) the caller's
 * doubling pause (10 ms to 100 ms) applies, so such a server logs a handful of 502s, not dozens.
 */
export function nextPingPause(elapsed: number, answeredPause: number | undefined): number {
  if (answeredPause !== undefined) return answeredPause;
  return Math.min(100, Math.max(5, Math.round(elapsed / 20)));
}

/**
 * Waits until `GET /ping` answers 200, as SageMaker judges readiness (CONTRACT §4.1–4.2): each attempt
 * may take 2 s; the container must pass within the start-up window. Fails at once if the container
 * exits. The error carries what the last attempt saw, so a caller can name the cause.
 */
export async function waitUntilReady(base: string, run: ContainerRun, ctx: { deps: JobDeps; containerId: string; port: number; windowSeconds: number }): Promise<void> {
  const { stop } = ctx.deps;
  const window = ctx.windowSeconds;
  const deadline = Date.now() + window * 1000;
  let exited: { exitCode: number; tail: string[] } | undefined;
  void run.exited.then((e) => (exited = e), () => undefined);
  const exitedError = (e: { exitCode: number; tail: string[] }) => {
    const observation: ReadinessObservation = { kind: 'exited', exitCode: e.exitCode, tail: e.tail };
    return new ServingStartupError(`The container exited with ${describeExit(e.exitCode)} while starting, before GET /ping answered 200.`, e.tail, readinessAdvice(observation, { windowSeconds: window }).fix, observation);
  };
  let last: { status?: number; error?: string } = { error: 'no answer yet' };
  const started = Date.now();
  let answeredPause: number | undefined;
  while (Date.now() < deadline) {
    if (exited) throw exitedError(exited);
    if (stop?.aborted) throw new InterruptedError('Stopped while the endpoint was starting.');
    last = await pingOnce(base, Math.min(PING_TIMEOUT_MS, Math.max(1, deadline - Date.now())));
    if (last.status === 200) return;
    if (last.status !== undefined) answeredPause = answeredPause === undefined ? 10 : Math.min(100, answeredPause * 2);
    await new Promise((done) => setTimeout(done, nextPingPause(Date.now() - started, answeredPause)));
  }
  if (exited) throw exitedError(exited);
  let observation: ReadinessObservation;
  if (last.status !== undefined) observation = { kind: 'status', status: last.status };
  else if (/^no answer within/.test(last.error ?? '')) observation = { kind: 'no-answer', error: last.error!, port: ctx.port };
  else {
    const listening = await listeningSockets(ctx.deps, ctx.containerId);
    observation = { kind: 'no-connection', error: last.error ?? 'no connection', port: ctx.port, ...(listening ? { listening } : {}) };
  }
  const advice = readinessAdvice(observation, { windowSeconds: window });
  throw new ServingStartupError(
    `The container did not answer GET /ping with 200 within the ${window} s start-up window (${advice.observed}).`,
    [],
    `${advice.fix} Raise --startup-timeout for slow models.`,
    observation,
  );
}
