import { describe, expect, it } from 'vitest';
import { checkImage, instanceArchitecture } from './image-checks.js';

const base = { entrypoint: null, cmd: null, user: '', os: 'linux', architecture: 'amd64' };
const opts = { jobWord: 'train' as const, entrypointOverridden: false, instanceType: 'ml.m5.large' };

describe('checkImage', () => {
  it('is quiet about a well-formed image', () => {
    expect(checkImage({ ...base, entrypoint: ['python3', 'train.py'] }, opts)).toEqual([]);
  });

  it('warns about a shell-form ENTRYPOINT', () => {
    expect(checkImage({ ...base, entrypoint: ['/bin/sh', '-c', 'python3 train.py'] }, opts)[0]).toMatch(/shell form.*"train" argument.*ignored/);
  });

  it('warns about tini without --, and not with it', () => {
    expect(checkImage({ ...base, entrypoint: ['/usr/bin/tini', 'python3'] }, opts)).toHaveLength(1);
    expect(checkImage({ ...base, entrypoint: ['tini', '--', 'python3'] }, opts)).toEqual([]);
  });

  it('warns about non-root users, but not root by name or id', () => {
    expect(checkImage({ ...base, user: 'app' }, opts)[0]).toMatch(/runs as user "app"/);
    expect(checkImage({ ...base, user: '0:0' }, opts)).toEqual([]);
    expect(checkImage({ ...base, user: 'root' }, opts)).toEqual([]);
  });

  it('warns when the image architecture does not match the instance type', () => {
    expect(checkImage({ ...base, architecture: 'arm64' }, opts)[0]).toMatch(/exec format error/);
    expect(checkImage({ ...base, architecture: 'arm64' }, { ...opts, instanceType: 'ml.c7g.xlarge' })).toEqual([]);
  });

  it('knows which instance families are Graviton', () => {
    expect(['ml.c7g.large', 'ml.m6gd.xlarge', 'ml.g5g.xlarge', 'ml.r7g.2xlarge'].map(instanceArchitecture)).toEqual(['arm64', 'arm64', 'arm64', 'arm64']);
    expect(['ml.m5.large', 'ml.g4dn.xlarge', 'ml.p4d.24xlarge', 'ml.trn1.2xlarge', 'ml.g5.2xlarge'].map(instanceArchitecture)).toEqual(['amd64', 'amd64', 'amd64', 'amd64', 'amd64']);
  });
});
