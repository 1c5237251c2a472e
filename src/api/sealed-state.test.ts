import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StateSealer } from './sealed-state.js';

const request = {
  TrainingJobName: 'j',
  Environment: { API_TOKEN: 'hunter2-secret', REGION: 'eu-west-1' },
  HyperParameters: { db_password: 'pw-123', epochs: '3' },
  OutputDataConfig: { KmsKeyId: 'alias/not-a-secret' },
  Containers: [{ Environment: { AWS_SECRET_ACCESS_KEY: 'abc/def' } }],
};

describe('StateSealer', () => {
  it('seals secret-looking entries of Environment and HyperParameters at any depth, and opens them again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealed-'));
    const sealer = await StateSealer.open(dir);
    const sealed = sealer.seal(request);
    const text = JSON.stringify(sealed);
    for (const secret of ['hunter2-secret', 'pw-123', 'abc/def']) expect(text).not.toContain(secret);
    expect(sealed.Environment.REGION).toBe('eu-west-1');
    expect(sealed.HyperParameters.epochs).toBe('3');
    expect(sealed.OutputDataConfig.KmsKeyId).toBe('alias/not-a-secret');
    expect(sealer.seal(sealed)).toEqual(sealed);
    // Another server on the same folder reads them with the same key.
    expect((await StateSealer.open(dir)).unseal(sealed)).toEqual(request);
    expect(statSync(join(dir, 'state.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, '.gitignore'), 'utf8')).toMatch(/^\*$/m);
  });

  it('refuses, with the reason, a value sealed under another key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealed-'));
    const sealed = (await StateSealer.open(dir)).seal(request);
    writeFileSync(join(dir, 'state.key'), Buffer.alloc(32, 7));
    const other = await StateSealer.open(dir);
    expect(() => other.unseal(sealed)).toThrow(/cannot be opened with state.key/);
  });
});
