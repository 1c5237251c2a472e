/**
 * A serial inference pipeline's calls (CONTRACT §8.2): the request goes to the first container, each
 * answer (with its Content-Type) becomes the next container's request, and the last container's call
 * is left to the caller, which answers the client with it (whole, or as a stream).
 */
import { serialStageHeaders } from '../contract/serving.js';
import { invokeContainer, type InvocationRequest, type InvocationTarget } from './invocation.js';
import type { ContainerTarget } from './variant-routing.js';

/** Each container's invocation target, made once per base (an endpoint's limits) and container. */
const targets = new WeakMap<object, WeakMap<ContainerTarget, InvocationTarget>>();
export function targetFor(base: Omit<InvocationTarget, 'pool' | 'container'>, c: ContainerTarget): InvocationTarget {
  let mine = targets.get(base);
  if (!mine) targets.set(base, (mine = new WeakMap()));
  let target = mine.get(c);
  if (!target) mine.set(c, (target = { ...base, pool: c.pool, container: c.name }));
  return target;
}

export type StagedCall = { ok: true; target: InvocationTarget; request: InvocationRequest } | { ok: false; error: import('../contract/serving.js').RuntimeError; detail?: string };

/**
 * Runs every container of `chain` but the last with `request` passed along; returns the last
 * container's target and request, or the error of the container that failed (named in its ModelError).
 */
export function throughStages(base: Omit<InvocationTarget, 'pool' | 'container'>, chain: readonly ContainerTarget[], request: InvocationRequest): StagedCall | Promise<StagedCall> {
  // One container (the common case): its call as it is, with no extra turn of the event loop.
  if (chain.length === 1) return { ok: true, target: targetFor(base, chain[0]!), request };
  return serialStages(base, chain, request);
}

async function serialStages(base: Omit<InvocationTarget, 'pool' | 'container'>, chain: readonly ContainerTarget[], request: InvocationRequest): Promise<StagedCall> {
  const targetOf = (c: ContainerTarget) => targetFor(base, c);
  const client = request.headers;
  let current: InvocationRequest = { ...request, headers: serialStageHeaders(client, 0, chain.length) };
  for (let i = 0; i < chain.length - 1; i++) {
    const answer = await invokeContainer(targetOf(chain[i]!), current);
    if (!answer.ok) return answer;
    // Without streamAbove the answer is always read whole.
    current = { ...(request.path !== undefined ? { path: request.path } : {}), headers: serialStageHeaders(client, i + 1, chain.length, answer.contentType), body: answer.body! };
  }
  return { ok: true, target: targetOf(chain[chain.length - 1]!), request: current };
}
