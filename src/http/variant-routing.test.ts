import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { serialStageHeaders } from '../contract/serving.js';
import { VariantRouter, type Route, type VariantTarget } from './variant-routing.js';

const pool = {} as Dispatcher;
const containers = (...names: string[]) => names.map((name) => ({ name, pool }));
const variant = (variantName: string, weight: number, over: Partial<VariantTarget> = {}): VariantTarget => ({ variantName, weight, mode: 'Single', instances: [{ containers: containers('primary') }], ...over });
const ok = (r: Route | { error: unknown }) => {
  if ('error' in r) throw new Error(JSON.stringify(r.error));
  return r;
};
const message = (r: Route | { error: { body: Record<string, unknown> } }) => ('error' in r ? (r.error.body.Message as string) : 'routed');

describe('VariantRouter', () => {
  it('splits requests exactly by weight over each cycle, interleaved', () => {
    const router = new VariantRouter('ep', [variant('A', 3), variant('B', 1), variant('Off', 0)]);
    const picks = Array.from({ length: 8 }, () => ok(router.pick({})).variant.variantName);
    expect(picks.filter((p) => p === 'A')).toHaveLength(6);
    expect(picks.filter((p) => p === 'B')).toHaveLength(2);
    // Smooth: B is not held back to the end of a cycle.
    expect(picks.slice(0, 4)).toContain('B');
  });

  it('takes TargetVariant over the weights, even a weight of 0; an unknown one is a ValidationError', () => {
    const router = new VariantRouter('ep', [variant('A', 1), variant('Off', 0)]);
    expect(ok(router.pick({ targetVariant: 'Off' })).variant.variantName).toBe('Off');
    expect(message(router.pick({ targetVariant: 'Nope' }))).toBe('The variant Nope is not present in endpoint ep; its variants are A, Off.');
    expect(message(new VariantRouter('ep', [variant('Off', 0)]).pick({}))).toMatch(/has weight 0/);
  });

  it("takes a variant's instances in turn", () => {
    const router = new VariantRouter('ep', [variant('A', 1, { instances: [{ containers: containers('one') }, { containers: containers('two') }] })]);
    expect(Array.from({ length: 4 }, () => ok(router.pick({})).chain[0]!.name)).toEqual(['one', 'two', 'one', 'two']);
  });

  it('chains every container in Serial mode; picks one by hostname in Direct mode, with the three ValidationErrors', () => {
    const serial = new VariantRouter('ep', [variant('A', 1, { mode: 'Serial', instances: [{ containers: containers('c1', 'c2') }] })]);
    expect(ok(serial.pick({})).chain.map((c) => c.name)).toEqual(['c1', 'c2']);
    expect(message(serial.pick({ targetContainer: 'c1' }))).toMatch(/only for endpoints configured for direct invocation/);
    const direct = new VariantRouter('ep', [variant('A', 1, { mode: 'Direct', instances: [{ containers: containers('c1', 'c2') }] })]);
    expect(ok(direct.pick({ targetContainer: 'c2' })).chain.map((c) => c.name)).toEqual(['c2']);
    expect(message(direct.pick({}))).toMatch(/configured for direct invocation .*give TargetContainerHostname/);
    expect(message(direct.pick({ targetContainer: 'c3' }))).toBe('TargetContainerHostname c3 does not exist in endpoint ep; its containers are c1, c2.');
    expect(message(new VariantRouter('ep', [variant('A', 1)]).pick({ targetContainer: 'primary' }))).toMatch(/not \(its InferenceExecutionConfig Mode is not Direct\)/);
  });
});

describe('serialStageHeaders', () => {
  const client = { 'content-type': 'application/json', accept: 'text/csv', 'x-amzn-sagemaker-custom-attributes': 'a=1' };
  it("gives the first stage the client's Content-Type, the next ones the previous answer's, and only the last the client's Accept", () => {
    expect(serialStageHeaders(client, 0, 3)).toEqual({ 'content-type': 'application/json', 'x-amzn-sagemaker-custom-attributes': 'a=1' });
    expect(serialStageHeaders(client, 1, 3, 'text/csv; charset=utf-8')).toEqual({ 'content-type': 'text/csv; charset=utf-8', 'x-amzn-sagemaker-custom-attributes': 'a=1' });
    expect(serialStageHeaders(client, 2, 3)).toEqual({ accept: 'text/csv', 'x-amzn-sagemaker-custom-attributes': 'a=1' });
    expect(serialStageHeaders(client, 0, 1)).toEqual(client);
  });
});
