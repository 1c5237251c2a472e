import { spawn } from 'node:child_process';
import { close, constants, createReadStream, open } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { recordIOHeader, recordIOPadding } from '../contract/recordio.js';

/** One Pipe-mode channel as one host sees it. */
export interface PipeChannel {
  channelName: string;
  /** The objects this host gets, as absolute local paths, in key order. */
  files: string[];
  recordWrapperType: 'None' | 'RecordIO';
  compressionType: 'None' | 'Gzip';
  shuffleSeed?: number;
}

/** `mkfifo` (Node has no API for named pipes). */
export function makeFifo(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('mkfifo', ['-m', '0644', path], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', (e) => reject(new Error(`mkfifo is needed for Pipe mode: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`mkfifo ${path} failed: ${err.trim()}`))));
  });
}

/** A seeded shuffle (mulberry32), so ShuffleConfig.Seed gives the same order every run. */
export function shuffled<T>(items: readonly T[], seed: number, epoch: number): T[] {
  let s = (seed ^ (epoch * 0x9e3779b1)) >>> 0;
  const random = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A plain numeric fd: the Socket owns it. (A FileHandle would close it under the Socket when collected.) */
function openFd(path: string, flags: number): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/**
 * Opens a FIFO for writing once a reader has opened it. A non-blocking open fails with ENXIO until
 * then; polling keeps a libuv thread from blocking on the open.
 */
async function openWhenRead(path: string, signal: AbortSignal): Promise<Socket | undefined> {
  while (!signal.aborted) {
    try {
      const fd = await openFd(path, constants.O_WRONLY | constants.O_NONBLOCK);
      return new Socket({ fd, readable: false, writable: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENXIO') throw err;
      await sleep(20);
    }
  }
  return undefined;
}

const closeFd = (fd: number) => new Promise<void>((resolve) => close(fd, () => resolve()));

/** Files per `cat`, well inside the argument size a process can be given. */
const CAT_BATCH = 500;

/**
 * Plain bytes, the common case, copied by `cat` into a blocking descriptor of the FIFO: one process
 * doing read/write in a loop keeps the pipe full, where node's writes into a non-blocking 64 KiB
 * pipe wake up for every few kilobytes (about two thirds of a bind mount's throughput). Rejects with
 * EPIPE when the reader closed the pipe early, as the node path does.
 */
async function catEpoch(out: Socket, fifo: string, files: readonly string[], signal: AbortSignal): Promise<void> {
  // The reader is there (`out` is open), so a blocking open returns at once; `out` closes only after,
  // so the reader never sees an end of file in between.
  const fd = await openFd(fifo, constants.O_WRONLY);
  out.destroy();
  try {
    for (let i = 0; i < files.length && !signal.aborted; i += CAT_BATCH) {
      await new Promise<void>((resolve, reject) => {
        const child = spawn('cat', ['--', ...files.slice(i, i + CAT_BATCH)], { stdio: ['ignore', fd, 'pipe'] });
        let err = '';
        child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
        const stop = () => child.kill('SIGKILL');
        signal.addEventListener('abort', stop, { once: true });
        child.on('error', (e) => reject(new Error(`cat is needed for Pipe mode: ${e.message}`)));
        child.on('close', (code, sig) => {
          signal.removeEventListener('abort', stop);
          if (code === 0 || signal.aborted) return resolve();
          // The reader closed its end: SIGPIPE, or `write error: Broken pipe`.
          if (sig === 'SIGPIPE' || /broken pipe/i.test(err)) return reject(Object.assign(new Error('EPIPE'), { code: 'EPIPE' }));
          reject(new Error(`feeding ${fifo} failed: cat ${sig ? `was killed by ${sig}` : `exited ${code}`}: ${err.trim()}`));
        });
      });
    }
  } finally {
    await closeFd(fd);
  }
}

/** Writes one epoch; rejects with EPIPE when the reader closed the pipe early. */
async function writeEpoch(out: Socket, channel: PipeChannel, files: readonly string[]): Promise<void> {
  const write = (chunk: Buffer) => new Promise<void>((resolve, reject) => out.write(chunk, (err) => (err ? reject(err) : resolve())));
  for (const file of files) {
    // 1 MiB reads: fewer, larger writes into the FIFO.
    const raw = createReadStream(file, { highWaterMark: 1 << 20 });
    const source = channel.compressionType === 'Gzip' ? raw.pipe(createGunzip()) : raw;
    if (channel.recordWrapperType === 'RecordIO') {
      // One record per object: its size is only known once it is read (after decompression).
      const chunks: Buffer[] = [];
      for await (const c of source) chunks.push(c as Buffer);
      const payload = Buffer.concat(chunks);
      await write(Buffer.concat([recordIOHeader(payload.length), payload, recordIOPadding(payload.length)]));
    } else {
      for await (const c of source) await write(c as Buffer);
    }
  }
  await new Promise<void>((resolve) => out.end(resolve));
}

/**
 * Feeds a Pipe-mode channel the way SageMaker does (CONTRACT §3.6): FIFO `<channel>_0` exists when the
 * container starts; each time the algorithm has read an epoch to its end (or closed it early), the
 * FIFO of the next epoch appears. Runs until `signal` aborts (the container exited).
 */
export async function feedPipeChannel(dataDir: string, channel: PipeChannel, signal: AbortSignal, onEpoch?: (epoch: number) => void): Promise<void> {
  for (let epoch = 0; !signal.aborted; epoch++) {
    const fifo = join(dataDir, `${channel.channelName}_${epoch}`);
    if (epoch > 0) await makeFifo(fifo);
    const out = await openWhenRead(fifo, signal);
    if (!out) return;
    out.on('error', () => {});
    const files = channel.shuffleSeed !== undefined ? shuffled(channel.files, channel.shuffleSeed, epoch) : channel.files;
    try {
      if (channel.compressionType === 'None' && channel.recordWrapperType === 'None') await catEpoch(out, fifo, files, signal);
      else await writeEpoch(out, channel, files);
    } catch (err) {
      // The reader closed the pipe before the end of the epoch: that is allowed, and ends it.
      if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
      out.destroy();
    }
    onEpoch?.(epoch);
  }
}
