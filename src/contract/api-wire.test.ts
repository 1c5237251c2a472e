import { describe, expect, it } from 'vitest';
import { apiErrorBody, apiErrors, listPage, validationError } from './api-wire.js';

const items = ['c', 'a', 'b', 'ab'].map((name, i) => ({ name, status: i % 2 ? 'Completed' : 'InProgress', createdAt: 1_000_000 + i * 1000, modifiedAt: 1_000_000 + i * 1000, summary: name }));

describe('listPage', () => {
  it("follows each operation's default order, and SortBy/SortOrder when given", () => {
    expect(listPage(items, {}, { defaultOrder: 'Ascending' })).toEqual({ page: ['c', 'a', 'b', 'ab'] });
    expect(listPage(items, {}, { defaultOrder: 'Descending' })).toEqual({ page: ['ab', 'b', 'a', 'c'] });
    expect(listPage(items, { SortBy: 'Name', SortOrder: 'Ascending' }, { defaultOrder: 'Descending' })).toEqual({ page: ['a', 'ab', 'b', 'c'] });
  });

  it('filters by name, status and time window (epoch seconds, as JSON 1.1 clients send times)', () => {
    expect(listPage(items, { NameContains: 'A' }, { defaultOrder: 'Ascending' })).toEqual({ page: ['a', 'ab'] });
    expect(listPage(items, { StatusEquals: 'Completed' }, { defaultOrder: 'Ascending' })).toEqual({ page: ['a', 'ab'] });
    expect(listPage(items, { CreationTimeAfter: 1000.5, CreationTimeBefore: 1002.5 }, { defaultOrder: 'Ascending' })).toEqual({ page: ['a', 'b'] });
  });

  it('pages with tokens that are never the same twice, and none on the last page', () => {
    const tokens: string[] = [];
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const out = listPage(items, { MaxResults: 1, ...(token ? { NextToken: token } : {}) }, { defaultOrder: 'Ascending' });
      if ('error' in out) throw new Error(out.error.message);
      seen.push(...out.page);
      token = out.nextToken;
      if (token) tokens.push(token);
    } while (token);
    expect(seen).toEqual(['c', 'a', 'b', 'ab']);
    expect(new Set(tokens).size).toBe(3);
    const bad = listPage(items, { NextToken: 'garbage' }, { defaultOrder: 'Ascending' });
    expect('error' in bad && bad.error.code).toBe('ValidationException');
    const big = listPage(items, { MaxResults: 101 }, { defaultOrder: 'Ascending' });
    expect('error' in big && big.error.message).toBe("1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 100");
    const sort = listPage(items, { SortBy: 'Status' }, { sortBy: ['Name', 'CreationTime'], defaultOrder: 'Ascending' });
    expect('error' in sort && sort.error.message).toMatch(/enum value set: \[Name, CreationTime\]/);
  });
});

describe('control-plane errors', () => {
  it('carry the code in __type and in x-amzn-ErrorType, as botocore and JS SDK v3 read them', () => {
    const wire = apiErrorBody(apiErrors.couldNotFind('endpoint', 'arn:aws:sagemaker:us-east-1:1:endpoint/x'));
    expect(wire.headers).toEqual({ 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': 'ValidationException' });
    expect(JSON.parse(wire.body)).toEqual({ __type: 'ValidationException', message: 'Could not find endpoint "arn:aws:sagemaker:us-east-1:1:endpoint/x".' });
    expect(validationError([{ path: 'A', message: 'x' }, { path: '', message: 'y' }]).message).toBe("2 validation errors detected: Value at 'A' failed to satisfy constraint: x; y");
  });
});
