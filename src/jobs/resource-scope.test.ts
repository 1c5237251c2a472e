import { describe, expect, it } from 'vitest';
import { createMemoryLogger } from '../log.js';
import { ResourceScope } from './resource-scope.js';

describe('ResourceScope', () => {
  it('runs cleanups in reverse order, once, and keeps going past a failure', async () => {
    const log = createMemoryLogger();
    const order: string[] = [];
    const scope = new ResourceScope(log);
    scope.defer('workspace', () => order.push('workspace'));
    scope.defer('network', () => {
      throw new Error('engine said no');
    });
    scope.defer('container', async () => order.push('container'));
    await Promise.all([scope.dispose(), scope.dispose()]);
    await scope[Symbol.asyncDispose]();
    expect(order).toEqual(['container', 'workspace']);
    expect(log.messages.filter((m) => m.level === 'warn').map((m) => m.message)).toEqual([expect.stringMatching(/Cleanup of network failed: engine said no/)]);
  });

  it('stops waiting at its deadline and says what to do', async () => {
    const log = createMemoryLogger();
    const scope = new ResourceScope(log, 20);
    scope.defer('stuck', () => new Promise(() => {}));
    await scope.dispose();
    expect(log.messages.at(-1)?.message).toMatch(/did not finish.*sm-local prune/);
  });

  it('works with await using', async () => {
    const order: string[] = [];
    {
      await using scope = new ResourceScope(createMemoryLogger());
      scope.defer('a', () => order.push('a'));
    }
    expect(order).toEqual(['a']);
  });
});
