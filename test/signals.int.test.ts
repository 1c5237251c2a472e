import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureTag, REPO_ROOT } from '../scripts/lib/images.js';
import { CLI_BIN } from '../scripts/lib/paths.js';
import { main } from '../src/cli/main.js';
import { LABEL } from '../src/docker/labels.js';
import { InterruptedError, runTrainingJob } from '../src/index.js';
import { startEngineProxy, type EngineProxy } from './support/engine-proxy.js';
import { rejection, resultOf } from './support/jobs.js';
import { dockerUnavailable, useTestSession } from './support/session.js';
import { tarNames } from './support/tarballs.js';

/** A stderr for an in-process `main()` that keeps the text and calls `onLine` for every line. */
function stderrSink(onLine: (line: string) => void): Writable & { text: string } {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = chunk.toString();
      sink.text += text;
      for (const line of text.split('\n')) if (line) onLine(line);
      done();
    },
  }) as Writable & { text: string };
  sink.text = '';
  return sink;
}

describe.skipIf(dockerUnavailable())('every stop request is honoured, whenever it comes', () => {
  const s = useTestSession();
  const env = { ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot };
  const leftovers = async (name: string) => (await s.docker.listManaged([`${LABEL.jobName}=${name}`])).map((r) => `${r.kind} ${r.name}`);

  it.each([
    ['just as the endpoint is InService', /Endpoint \S+ is InService/, 0],
    ['just as the container answered its first ping', /debug \+\d+ms: GET \/ping answered 200/, 130],
  ] as const)('sm-local serve stops on a Ctrl-C %s', async (_when, trigger, code) => {
    const name = `ready-${s.session}-${code}`;
    const signals = new EventEmitter();
    let sent = false;
    const stderr = stderrSink((line) => {
      // The handler runs inside the write, at the very moment the line is logged.
      if (!sent && trigger.test(line)) {
        sent = true;
        signals.emit('SIGINT', 'SIGINT');
      }
    });
    const stdout = stderrSink(() => {});
    const exit = await main(['serve', fixtureTag('serve-good'), '--name', name, '--port', '0', '--verbose'], {
      stdout,
      stderr,
      env,
      cwd: s.root,
      signals: signals as unknown as Pick<NodeJS.Process, 'on' | 'off'>,
    });
    expect(sent, stderr.text).toBe(true);
    expect(exit, stderr.text).toBe(code);
    expect(stderr.text).toMatch(/Ctrl-C: stopping/);
    expect(await leftovers(name)).toEqual([]);
  });

  describe('on an engine that is slow to accept SIGTERM', () => {
    let proxy: EngineProxy;
    afterAll(async () => proxy?.close());

    it('the grace period starts once the engine accepted SIGTERM, so a container that handles it is not SIGKILLed', async () => {
      // The engine takes 3 s to accept SIGTERM; the grace is 1 s. SIGKILL passes at once.
      proxy = await startEngineProxy([{ match: (c) => c.method === 'POST' && c.path.endsWith('/kill') && c.query.get('signal') === 'SIGTERM', delayMs: 3000 }]);
      const stop = new AbortController();
      const { deps } = s.deps({
        docker: proxy.docker,
        stop: stop.signal,
        onLine: (line) => {
          if (line === 'slow: tick 2') stop.abort();
        },
      });
      const err = await rejection(runTrainingJob({ image: fixtureTag('sigterm-handler'), stopGraceSeconds: 1, outputDir: s.dir() }, deps), InterruptedError);
      const result = resultOf(err);
      expect(result.hosts[0]).toMatchObject({ exitCode: 0, killed: false });
      expect(await tarNames(result.modelArtifact!)).toEqual(['saved-on-sigterm.txt']);
    });
  });

  it('a Ctrl-C while the CLI is still loading its modules stops the command (exit 130), instead of killing it mid-way', async () => {
    const gate = join(s.dir('gate'), 'gate');
    const name = `loading-${s.session}`;
    const child = spawn(CLI_BIN, ['train', fixtureTag('lab'), '--job-name', name, '--output', s.dir()], {
      cwd: s.root,
      env: { ...env, NODE_OPTIONS: `--import=${join(REPO_ROOT, 'test', 'support', 'load-gate', 'register.mjs')}`, SM_LOCAL_TEST_LOAD_GATE: gate },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
    // The bundle's entry has run; its other modules are held at the gate.
    while (!existsSync(`${gate}.waiting`)) await sleep(20);
    child.kill('SIGINT');
    writeFileSync(`${gate}.open`, '');
    const { code, signal } = await exited;
    expect({ code, signal }, stderr).toEqual({ code: 130, signal: null });
    expect(stderr).toMatch(/Ctrl-C: stopping/);
    expect(await leftovers(name)).toEqual([]);
  });
});
