import { describe, expect, it } from 'vitest';
import { PortInUseError } from '../errors.js';
import { probePort, reservePort } from './ports.js';

describe('ports', () => {
  it('a reserved port cannot be taken until it is released; release is idempotent', async () => {
    const held = await reservePort(0);
    expect(held.port).toBeGreaterThan(0);
    await expect(reservePort(held.port)).rejects.toBeInstanceOf(PortInUseError);
    await expect(probePort(held.port)).rejects.toBeInstanceOf(PortInUseError);
    await held.release();
    await held.release();
    const again = await reservePort(held.port);
    expect(again.port).toBe(held.port);
    await again.release();
  });
});
