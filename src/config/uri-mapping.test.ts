import { describe, expect, it } from 'vitest';
import { Problems } from '../contract/problems.js';
import { createUriMapper } from './uri-mapping.js';

describe('createUriMapper', () => {
  const p = new Problems();
  const map = createUriMapper({ s3Root: '/s3', baseDir: '/jobs' });
  it('maps s3://bucket/key under the root', () => {
    expect(map('s3://bucket/a/b/', 'x', p)).toBe('/s3/bucket/a/b/');
    expect(map('s3://bucket', 'x', p)).toBe('/s3/bucket');
  });
  it('refuses other schemes and over-long URIs', () => {
    const q = new Problems();
    expect(map('https://bucket.s3.amazonaws.com/k', 'f', q)).toBeUndefined();
    expect(map(`s3://b/${'k'.repeat(1100)}`, 'g', q)).toBeUndefined();
    expect(q.problems.map((x) => x.path)).toEqual(['f', 'g']);
  });
});
