import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { RECORDIO_MAGIC } from '../contract/recordio.js';
import { feedPipeChannel, makeFifo, shuffled, type PipeChannel } from './pipe-feeder.js';

/** Reads a FIFO as an algorithm would: waits for it to appear, then reads to EOF. */
async function readEpoch(path: string): Promise<Buffer> {
  for (let i = 0; i < 200 && !(await stat(path).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 10));
  return readFile(path);
}

/** Splits RecordIO framing back into payloads, checking magic and padding. */
function records(data: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < data.length; ) {
    expect(data.readUInt32LE(at)).toBe(RECORDIO_MAGIC);
    const length = data.readUInt32LE(at + 4);
    out.push(data.subarray(at + 8, at + 8 + length).toString());
    at += 8 + length + ((4 - (length % 4)) % 4);
    expect(at).toBeLessThanOrEqual(data.length);
  }
  return out;
}


describe('Pipe mode feeding (CONTRACT §3.6)', () => {
  it('shuffles with a seed: the same order for the same seed and epoch, a new one per epoch', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    expect(shuffled(items, 7, 0)).toEqual(shuffled(items, 7, 0));
    expect(shuffled(items, 7, 0)).not.toEqual(shuffled(items, 7, 1));
    expect(shuffled(items, 7, 0)).not.toEqual(shuffled(items, 8, 0));
    expect([...shuffled(items, 7, 3)].sort((a, b) => a - b)).toEqual(items);
  });

  it('serves one FIFO per epoch, the next appearing after the previous was read, RecordIO-wrapped and gunzipped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-local-pipe-'));
    const objects = { 'a.txt': 'alpha', 'b.txt': 'bravo!', 'c.txt': 'charlie-42' };
    const files = Object.entries(objects).map(([name, text]) => {
      const path = join(dir, `${name}.gz`);
      writeFileSync(path, gzipSync(text));
      return path;
    });
    const channel: PipeChannel = { channelName: 'train', files, recordWrapperType: 'RecordIO', compressionType: 'Gzip' };
    await makeFifo(join(dir, 'train_0'));
    const done = new AbortController();
    const epochs: number[] = [];
    const feeding = feedPipeChannel(dir, channel, done.signal, (e) => epochs.push(e));

    const first = await readEpoch(join(dir, 'train_0'));
    const second = await readEpoch(join(dir, 'train_1'));
    done.abort();
    await feeding;
    expect(records(first)).toEqual(Object.values(objects));
    expect(createHash('sha256').update(second).digest('hex')).toBe(createHash('sha256').update(first).digest('hex'));
    expect(epochs).toEqual([0, 1]);
  });

  it('passes bytes through unchanged without RecordIO, and lets the reader close an epoch early', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-local-pipe-'));
    const big = join(dir, 'big.bin');
    writeFileSync(big, Buffer.alloc(4 * 1024 * 1024, 7));
    const small = join(dir, 'small.txt');
    writeFileSync(small, 'tail');
    await makeFifo(join(dir, 'c_0'));
    const done = new AbortController();
    const feeding = feedPipeChannel(dir, { channelName: 'c', files: [big, small], recordWrapperType: 'None', compressionType: 'None' }, done.signal);

    // Epoch 0: read 10 bytes and close.
    const handle = await open(join(dir, 'c_0'), 'r');
    const head = Buffer.alloc(10);
    await handle.read(head, 0, 10, null);
    await handle.close();
    expect(head).toEqual(Buffer.alloc(10, 7));
    const whole = await readEpoch(join(dir, 'c_1'));
    done.abort();
    await feeding;
    expect(whole.length).toBe(4 * 1024 * 1024 + 4);
    expect(whole.subarray(-4).toString()).toBe('tail');
  });

  it('feeds a channel of more objects than one copying process takes, in order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sm-local-pipe-'));
    const files = Array.from({ length: 1203 }, (_, i) => {
      const f = join(dir, `part-${String(i).padStart(5, '0')}`);
      writeFileSync(f, `${i}\n`);
      return f;
    });
    await makeFifo(join(dir, 'many_0'));
    const done = new AbortController();
    const feeding = feedPipeChannel(dir, { channelName: 'many', files, recordWrapperType: 'None', compressionType: 'None' }, done.signal);
    const epoch = await readEpoch(join(dir, 'many_0'));
    done.abort();
    await feeding;
    expect(epoch.toString()).toBe(files.map((_, i) => `${i}\n`).join(''));
  });
});
