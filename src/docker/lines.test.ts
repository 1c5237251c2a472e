import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { jsonLines, LineSplitter, Tail } from './lines.js';

describe('LineSplitter', () => {
  it('splits on newlines across chunks, drops CR, flushes the last partial line', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    s.push(Buffer.from('ep'));
    s.push(Buffer.from('och 1\r\nepoch 2\n\nlast'));
    s.end();
    expect(lines).toEqual(['epoch 1', 'epoch 2', '', 'last']);
  });

  it('keeps multi-byte characters split between chunks', () => {
    const lines: string[] = [];
    const s = new LineSplitter((l) => lines.push(l));
    const bytes = Buffer.from('loss=0.5 ✓\n');
    s.push(bytes.subarray(0, 10));
    s.push(bytes.subarray(10));
    s.end();
    expect(lines).toEqual(['loss=0.5 ✓']);
  });
});

describe('Tail', () => {
  it('keeps the last n items', () => {
    const t = new Tail<number>(3);
    [1, 2, 3, 4, 5].forEach((n) => t.push(n));
    expect(t.values()).toEqual([3, 4, 5]);
  });
});

describe('jsonLines', () => {
  it('parses newline-delimited JSON across chunk boundaries', async () => {
    const out = [];
    for await (const e of jsonLines(Readable.from(['{"stream":"a"}\n{"err', 'or":"b"}\n', '{"status":"c"}']))) out.push(e);
    expect(out).toEqual([{ stream: 'a' }, { error: 'b' }, { status: 'c' }]);
  });
});
