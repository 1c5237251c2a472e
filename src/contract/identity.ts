import { ACCOUNT_PATTERN, REGION_PATTERN } from './limits.js';
import type { Problems } from './problems.js';

export const DEFAULT_REGION = 'us-east-1';
/** A recognisably fake account id for ARNs and messages; never a real one. */
export const DEFAULT_ACCOUNT = '000000000000';

/** The region and account a local job or endpoint pretends to run in, checked. */
export function resolveIdentity(p: Problems, input: { region?: string; account?: string }): { region: string; account: string } {
  const region = input.region ?? DEFAULT_REGION;
  p.checkString('region', region, { pattern: REGION_PATTERN, patternText: 'an AWS region name such as us-east-1' });
  const account = input.account ?? DEFAULT_ACCOUNT;
  p.checkString('account', account, { pattern: ACCOUNT_PATTERN, patternText: '12 digits' });
  return { region, account };
}

/** The SIGTERM → SIGKILL grace: SageMaker's own value, which a local run may only shorten. */
export function resolveStopGrace(p: Problems, value: number | undefined, serviceGrace: number): number {
  const grace = value ?? serviceGrace;
  if (!Number.isFinite(grace) || grace < 0 || grace > serviceGrace) {
    p.add('stop grace (--stop-grace)', `must be between 0 and ${serviceGrace} seconds, SageMaker's own grace (got ${grace}).`);
  }
  return grace;
}
