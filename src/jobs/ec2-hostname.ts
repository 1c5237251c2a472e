import { randomBytes } from 'node:crypto';

/** An EC2-style private DNS name, as real training containers have in `HOSTNAME` (CONTRACT §3.5, §3.7). */
export function ec2Hostname(region: string): string {
  const [a = 0, b = 0] = randomBytes(2);
  return `ip-10-0-${a}-${b}.${region === 'us-east-1' ? 'ec2.internal' : `${region}.compute.internal`}`;
}
