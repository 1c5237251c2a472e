import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from './resolve.js';

function dirWithConfig(content?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'sm-local-config-'));
  if (content !== undefined) writeFileSync(join(dir, 'sm-local.json'), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

describe('resolveConfig: defaults < sm-local.json < SM_LOCAL_* < flags', () => {
  it('takes the session label from SM_LOCAL_SESSION, and refuses one Docker cannot carry', () => {
    const cwd = dirWithConfig();
    expect(resolveConfig({ env: { SM_LOCAL_SESSION: 'ci-run-42' }, cwd })).toMatchObject({ session: 'ci-run-42' });
    expect(() => resolveConfig({ env: { SM_LOCAL_SESSION: 'has space' }, cwd })).toThrow(/session must be 1-64 letters, digits/);
  });

  it('has defaults', () => {
    const cwd = dirWithConfig();
    expect(resolveConfig({ env: {}, cwd })).toEqual({ outputDir: join(cwd, 'sm-local-output'), logLevel: 'info' });
  });

  it('layers each source over the one below, key by key', () => {
    const cwd = dirWithConfig({ output: 'from-file', instanceType: 'ml.c5.xlarge', region: 'eu-west-1', stopGrace: 30, transfer: 'copy' });
    const env = { SM_LOCAL_INSTANCE_TYPE: 'ml.m5.2xlarge', SM_LOCAL_STOP_GRACE: '20' };
    const flags = { stopGrace: 10 };
    expect(resolveConfig({ flags, env, cwd })).toMatchObject({
      outputDir: join(cwd, 'from-file'),
      instanceType: 'ml.m5.2xlarge',
      region: 'eu-west-1',
      stopGraceSeconds: 10,
      transfer: 'copy',
      configFile: join(cwd, 'sm-local.json'),
    });
  });

  it('resolves file paths against the file and env/flag paths against cwd', () => {
    const cfgDir = dirWithConfig({ s3Root: 's3' });
    const cwd = dirWithConfig();
    expect(resolveConfig({ flags: { config: join(cfgDir, 'sm-local.json') }, env: {}, cwd }).s3Root).toBe(join(cfgDir, 's3'));
    expect(resolveConfig({ flags: { config: join(cfgDir, 'sm-local.json') }, env: { SM_LOCAL_S3_ROOT: 'mine' }, cwd }).s3Root).toBe(join(cwd, 'mine'));
  });

  it('takes the region from AWS_REGION below SM_LOCAL_REGION', () => {
    const cwd = dirWithConfig();
    expect(resolveConfig({ env: { AWS_REGION: 'ap-south-1' }, cwd }).region).toBe('ap-south-1');
    expect(resolveConfig({ env: { AWS_REGION: 'ap-south-1', SM_LOCAL_REGION: 'us-west-2' }, cwd }).region).toBe('us-west-2');
  });

  it('--verbose means debug logging', () => {
    expect(resolveConfig({ flags: { verbose: true }, env: {}, cwd: dirWithConfig() }).logLevel).toBe('debug');
  });

  it('rejects a broken or unknown config clearly', () => {
    expect(() => resolveConfig({ env: {}, cwd: dirWithConfig('{nope') })).toThrow(/not valid JSON/);
    expect(() => resolveConfig({ env: {}, cwd: dirWithConfig({ outptu: 'x' }) })).toThrow(/unknown key "outptu"/);
    expect(() => resolveConfig({ env: { SM_LOCAL_TRANSFER: 'rsync' }, cwd: dirWithConfig() })).toThrow(/SM_LOCAL_TRANSFER.*"mount" or "copy"/);
    expect(() => resolveConfig({ flags: { config: '/nonexistent/sm-local.json' }, env: {}, cwd: '/' })).toThrow(/cannot be read/);
  });
});
