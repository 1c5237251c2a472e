import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtureTag } from '../scripts/lib/images.js';
import { LABEL } from '../src/docker/labels.js';
import { probePort } from '../src/http/ports.js';
import { startApiCli } from './support/api-cli.js';
import { runCli, type CliOptions } from './support/cli.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

/** User code as the inference toolkit loads it: `handle(body)` answers; at import it may listen on a debugger's port, as `debugpy.listen(5678)` does. */
const inferenceCode = (version: string, debugPort?: number) => `
import socket, threading
${
  debugPort
    ? `
def _debugger():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", ${debugPort}))
    s.listen(4)
    while True:
        c, _ = s.accept()
        c.sendall(b"debugger of ${version}\\n")
        c.close()
threading.Thread(target=_debugger, daemon=True).start()
`
    : ''
}
def handle(body):
    return "${version}:" + body.decode()
`;

/** The README's PyCharm recipe: the default gateway of the container, from /proc/net/route. */
const GATEWAY_PY = `import socket, struct
for line in open("/proc/net/route").read().splitlines()[1:]:
    f = line.split()
    if f[1] == "00000000":
        print(socket.inet_ntoa(struct.pack("<L", int(f[2], 16))))
        break`;

/** The first line a TCP server on 127.0.0.1:port sends. */
function banner(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('end', () => resolve(text.trim()));
    socket.on('error', reject);
  });
}

/**
 * A Debug Adapter Protocol `initialize` request, as VS Code sends it when it attaches to debugpy,
 * and the adapter's answer; retried while the adapter is not listening yet.
 */
async function dapInitialize(port: number, timeoutMs = 30_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1');
        const body = JSON.stringify({ seq: 1, type: 'request', command: 'initialize', arguments: { adapterID: 'sm-local-test', clientID: 'sm-local' } });
        socket.on('connect', () => socket.write(`Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`));
        let buf = Buffer.alloc(0);
        // Messages (events first, such as debugpy's output) until the answer to the request.
        socket.on('data', (c: Buffer) => {
          buf = Buffer.concat([buf, c]);
          for (;;) {
            const head = buf.indexOf('\r\n\r\n');
            const length = Number(/Content-Length: (\d+)/i.exec(buf.subarray(0, Math.max(0, head)).toString())?.[1] ?? NaN);
            if (head < 0 || buf.length < head + 4 + length) return;
            const message = JSON.parse(buf.subarray(head + 4, head + 4 + length).toString()) as Record<string, unknown>;
            buf = buf.subarray(head + 4 + length);
            if (message.type === 'response') {
              socket.destroy();
              return resolve(message);
            }
          }
        });
        socket.on('error', reject);
        socket.on('close', () => reject(new Error('closed before an answer')));
      });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** Polls until `check` holds (a condition on output that streams in), or fails with what it saw. */
async function until(what: string, check: () => boolean, timeoutMs = 60_000, seen: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; saw:\n${seen()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(dockerUnavailable())('debugging: serve --watch, --publish and --trace; ps, logs and exec', () => {
  const s = useTestSession();
  const env = { ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot, SM_LOCAL_OUTPUT: s.dir('cli-output') };
  const cli = (args: string[], opts: Partial<CliOptions> = {}) => runCli(args, { env, cwd: s.root, ...opts });
  const name = (tag: string) => `dbg-${tag}-${s.session}`;

  const invoke = async (url: string, body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'text/plain', ...headers }, body });
    return { status: res.status, text: await res.text() };
  };

  /** Every `serve` a test started and has not stopped: a failed assertion leaves none running. */
  const running = new Set<() => Promise<unknown>>();
  afterEach(async () => {
    await Promise.all([...running].map((stop) => stop()));
    running.clear();
  });

  /** `serve` in the background: its URL once ready, its stderr as it comes, and a way to stop it (Ctrl-C). */
  function serving(args: string[]) {
    const stderr: string[] = [];
    let child: import('node:child_process').ChildProcess | undefined;
    let url = '';
    const run = cli(['serve', ...args], {
      onStdout: (line, c) => {
        child = c;
        url ||= line.trim();
      },
      onStderr: (line, c) => {
        child = c;
        stderr.push(line);
      },
    });
    const stop = async () => {
      running.delete(stop);
      child?.kill('SIGINT');
      return run;
    };
    running.add(stop);
    return {
      stderr,
      run,
      url: async () => {
        await until('the endpoint URL', () => url !== '' || stderr.some((l) => l.startsWith('error:')), 120_000, () => stderr.join('\n'));
        if (!url) throw new Error(stderr.join('\n'));
        return url;
      },
      stop,
    };
  }

  it('serve --watch: an edit to code/inference.py is served at the same URL once reloaded; a broken edit keeps the last good one serving', async () => {
    const model = s.dir('watch-model');
    mkdirSync(join(model, 'code'));
    writeFileSync(join(model, 'code', 'inference.py'), inferenceCode('v1'));
    const endpoint = name('watch');
    const served = serving([fixtureTag('serve-good'), '--model', model, '--name', endpoint, '--port', '0', '--watch']);
    const url = await served.url();
    expect(await invoke(url, 'hi')).toEqual({ status: 200, text: 'v1:hi' });
    const reloads = () => served.stderr.filter((l) => /^Reloaded endpoint \S+ in [\d.]+s: /.test(l)).length;

    writeFileSync(join(model, 'code', 'inference.py'), inferenceCode('v2'));
    await until('the first reload', () => reloads() === 1, 60_000, () => served.stderr.join('\n'));
    expect(served.stderr.join('\n')).toMatch(/^Changed: watch-model-\w+\/code\/inference\.py\. Starting endpoint/m);
    expect(await invoke(url, 'hi')).toEqual({ status: 200, text: 'v2:hi' });

    // A syntax error: the new container fails its start, the v2 one goes on serving, and the log says so.
    writeFileSync(join(model, 'code', 'inference.py'), 'def handle(body) oops\n');
    await until('the failed reload', () => served.stderr.some((l) => l.startsWith('warning: The reload failed')), 60_000, () => served.stderr.join('\n'));
    expect(served.stderr.join('\n')).toMatch(/SyntaxError[^]*The previous containers go on serving; save a fix to try again\./);
    expect(await invoke(url, 'hi')).toEqual({ status: 200, text: 'v2:hi' });

    writeFileSync(join(model, 'code', 'inference.py'), inferenceCode('v3'));
    await until('the second reload', () => reloads() === 2, 60_000, () => served.stderr.join('\n'));
    expect(await invoke(url, 'hi')).toEqual({ status: 200, text: 'v3:hi' });

    // Code that kills its server on the first call: the call gets the runtime's error, serve says so and goes on watching.
    writeFileSync(join(model, 'code', 'inference.py'), 'import os\ndef handle(body):\n    print("crashing", flush=True)\n    os._exit(3)\n');
    await until('the third reload', () => reloads() === 3, 60_000, () => served.stderr.join('\n'));
    expect((await invoke(url, 'hi')).status).toBeGreaterThanOrEqual(400);
    await until('the crash report', () => served.stderr.some((l) => / exited with code 3 while serving:$/.test(l)), 30_000, () => served.stderr.join('\n'));
    writeFileSync(join(model, 'code', 'inference.py'), inferenceCode('v4'));
    await until('the fourth reload', () => reloads() === 4, 60_000, () => served.stderr.join('\n'));
    expect(await invoke(url, 'hi')).toEqual({ status: 200, text: 'v4:hi' });
    const result = await served.stop();
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`Endpoint ${endpoint} stopped.`);
    expect(await s.docker.listManaged([`${LABEL.jobName}=${endpoint}`])).toEqual([]);
  });

  it('serve --publish: a debugger port in the container is reachable on 127.0.0.1, also after a --watch reload; --trace-file has each exchange, secrets masked', async () => {
    const model = s.dir('publish-model');
    mkdirSync(join(model, 'code'));
    writeFileSync(join(model, 'code', 'inference.py'), inferenceCode('v1', 5678));
    const debugPort = await probePort(0);
    const traceFile = join(s.dir('trace'), 'requests.trace');
    const endpoint = name('publish');
    const served = serving([
      fixtureTag('serve-good'), '--model', model, '--name', endpoint, '--port', '0',
      '--publish', `${debugPort}:5678`, '--watch', join(model, 'code'), '--trace-file', traceFile, '--env', 'MY_API_TOKEN=s3cr3t-value-42',
    ]);
    const url = await served.url();
    expect(served.stderr.join('\n')).toContain(`published: 127.0.0.1:${debugPort} -> container port 5678`);
    await until('the debugger port', () => served.stderr.some((l) => l.includes('loaded handle()')), 30_000);
    expect(await banner(debugPort)).toBe('debugger of v1');

    expect(await invoke(url, 'token is s3cr3t-value-42', { authorization: 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261202/us-east-1/sagemaker/aws4_request' })).toEqual({ status: 200, text: 'v1:token is s3cr3t-value-42' });
    // With --publish the old container stops first (one container can hold the port), then the new one takes it.
    writeFileSync(join(model, 'code', 'inference.py'), inferenceCode('v2', 5678));
    await until('the reload', () => served.stderr.some((l) => l.startsWith('Reloaded endpoint')), 60_000, () => served.stderr.join('\n'));
    await until('the new debugger port', () => served.stderr.filter((l) => l.includes('loaded handle()')).length === 2, 30_000);
    expect(await banner(debugPort)).toBe('debugger of v2');
    expect((await served.stop()).code).toBe(0);

    const trace = readFileSync(traceFile, 'utf8');
    expect(statSync(traceFile).mode & 0o777).toBe(0o600);
    expect(trace).toContain(`[trace #1] > POST /endpoints/${endpoint}/invocations`);
    expect(trace).toContain('[trace #1] >  content-type: text/plain');
    expect(trace).toContain('[trace #1] >  authorization: ****');
    expect(trace).toContain('[trace #1] > body 24 B: token is ****');
    expect(trace).toMatch(/\[trace #1\] < 200 \([\d.]+ ms\)/);
    expect(trace).toContain('[trace #1] <  x-amzn-invoked-production-variant: AllTraffic');
    expect(trace).toContain('[trace #1] < body 27 B: v1:token is ****');
    expect(trace).not.toContain('s3cr3t-value-42');
    expect(trace).not.toContain('AKIAEXAMPLE');
  });

  it('train --watch: the script-mode job runs again, as a job of its own, when train.py changes; Ctrl-C ends it', async () => {
    const src = s.dir('watch-src');
    writeFileSync(join(src, 'train.py'), 'print("training v1")\n');
    const job = name('wtrain');
    const stderr: string[] = [];
    let sent = false;
    const run = await cli(['train', fixtureTag('toolkit'), '--job-name', job, '--source-dir', src, '--entry-point', 'train.py', '--watch'], {
      onStderr: (line, child) => {
        stderr.push(line);
        const watching = stderr.filter((l) => l.startsWith('Watching ')).length;
        if (watching === 1 && line.startsWith('Watching ')) writeFileSync(join(src, 'train.py'), 'print("training v2")\n');
        if (watching === 2 && !sent) {
          sent = true;
          child.kill('SIGINT');
        }
      },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/training v1[^]*Changed: watch-src-\w+\/train\.py\. Running the job again…[^]*training v2/);
    expect(run.stderr).toContain(`Training job ${job}: Completed`);
    expect(run.stderr).toContain(`Training job ${job}-2: Completed`);
    expect(await s.docker.listManaged([`${LABEL.jobName}=${job}`])).toEqual([]);
  });

  it('serve --keep leaves the stopped container for a look afterwards; --shm-size sizes /dev/shm; --platform refuses an image of another platform', async () => {
    const endpoint = name('keep');
    const served = serving([fixtureTag('serve-good'), '--name', endpoint, '--port', '0', '--keep', '--shm-size', '256m']);
    await served.url();
    const shm = await cli(['exec', endpoint, '--', 'sh', '-c', "df -k /dev/shm | tail -n 1 | awk '{print $2}'"]);
    expect(shm.stdout.trim()).toBe(String(256 * 1024));
    const result = await served.stop();
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/^Kept container [0-9a-f]{12} \(sm-local-serving-/m);
    const kept = await s.docker.listManaged([`${LABEL.jobName}=${endpoint}`]);
    expect(kept.map((r) => [r.kind, r.state])).toEqual([['container', 'exited']]);
    // What a user does next: read its log, then let prune (here: the test) remove it.
    const logs = await cli(['logs', endpoint]);
    expect(logs.stdout).toContain('serve: SIGTERM, shutting down');
    await s.docker.removeContainer(kept[0]!.id);

    const arch = (await s.docker.inspectImage(fixtureTag('serve-good')))!.architecture;
    const elsewhere = arch === 'arm64' ? 'linux/amd64' : 'linux/arm64';
    const other = await cli(['serve', fixtureTag('serve-good'), '--name', name('arm'), '--port', '0', '--platform', elsewhere]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`${fixtureTag('serve-good')} is built for linux/${arch}, not ${elsewhere}`);
    // --gpus on an engine that cannot hand out GPUs: an environment error, with nothing left behind.
    if (!(await s.docker.info()).runtimes.includes('nvidia')) {
      const gpus = await cli(['serve', fixtureTag('serve-good'), '--name', name('gpu'), '--port', '0', '--gpus', 'all']);
      expect(gpus.code, gpus.stderr).toBe(3);
      expect(gpus.stderr).toMatch(/with GPUs/);
      expect(await s.docker.listManaged([`${LABEL.jobName}=${name('gpu')}`])).toEqual([]);
    }
  });

  it('api --trace-file has every call on the port, the control plane\'s too, with the SigV4 signature masked', async () => {
    const traceFile = join(s.dir('api-trace'), 'api.trace');
    const api = await startApiCli(['--s3-root', s.dir('api-s3'), '--state', s.dir('api-state'), '--output', s.dir('api-out'), '--trace-file', traceFile], env);
    const res = await fetch(api.url, {
      method: 'POST',
      headers: { 'x-amz-target': 'SageMaker.ListTrainingJobs', 'content-type': 'application/x-amz-json-1.1', authorization: 'AWS4-HMAC-SHA256 Credential=AKIASECRET/20261202/us-east-1/sagemaker/aws4_request, Signature=abc' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(await api.stop()).toBe(0);
    const trace = readFileSync(traceFile, 'utf8');
    expect(trace).toContain('[trace #1] >  x-amz-target: SageMaker.ListTrainingJobs');
    expect(trace).toContain('[trace #1] >  authorization: ****');
    expect(trace).toMatch(/\[trace #1\] < body \d+ B: \{"TrainingJobSummaries":\[\]\}/);
    expect(trace).not.toContain('AKIASECRET');
  });

  it('the README\'s debugpy recipe: VS Code\'s attach handshake reaches debugpy in a serving and in a training container through --publish', async () => {
    const servePort = await probePort(0);
    const served = serving([fixtureTag('debugpy'), '--name', name('debugpy'), '--port', '0', '--publish', `${servePort}:5678`]);
    const url = await served.url();
    expect(await dapInitialize(servePort)).toMatchObject({ type: 'response', command: 'initialize', success: true });
    // The endpoint serves as usual meanwhile.
    expect((await invoke(url, 'x', { accept: 'text/plain' })).status).toBe(200);
    expect((await served.stop()).code).toBe(0);

    const trainPort = await probePort(0);
    let answer: Record<string, unknown> | undefined;
    const trained = await cli(['train', fixtureTag('debugpy'), '--job-name', name('debugpy-train'), '--env', 'SLOW_SECONDS=4', '--publish', `${trainPort}:5678`], {
      onStdout: () => {},
      onStderr: (line) => {
        if (line.includes('slow: started') && !answer) void dapInitialize(trainPort).then((a) => (answer = a));
      },
    });
    expect(trained.code, trained.stderr).toBe(0);
    expect(answer).toMatchObject({ type: 'response', command: 'initialize', success: true });
  });

  it('the README\'s PyCharm recipe: a container reaches a debug server on this machine at its default gateway', async () => {
    const served = serving([fixtureTag('serve-good'), '--name', name('pycharm'), '--port', '0']);
    const endpoint = name('pycharm');
    await served.url();
    // The recipe's way to the machine running PyCharm: the container's default gateway (/proc/net/route).
    const gateway = (await cli(['exec', endpoint, '--', 'python3', '-c', GATEWAY_PY])).stdout.trim();
    expect(gateway).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    // A stand-in for PyCharm's debug server, on that address only (what only the engine's containers reach).
    const server = createServer((socket) => socket.end('pydevd server\n'));
    await new Promise<void>((r) => server.listen(0, gateway, r));
    const port = (server.address() as AddressInfo).port;
    const reached = await cli(['exec', endpoint, '--', 'python3', '-c', `import socket; s = socket.create_connection(("${gateway}", ${port}), 5); print(s.recv(64).decode().strip())`]);
    server.close();
    expect(reached.stdout.trim(), reached.stderr).toBe('pydevd server');
    expect((await served.stop()).code).toBe(0);
  });

  it('ps lists a running endpoint and a two-host job; logs prints and follows their output; exec runs a command on a chosen host with its exit code', async () => {
    const endpoint = name('ps');
    const served = serving([fixtureTag('serve-good'), '--name', endpoint, '--port', '0', '--trace']);
    const url = await served.url();
    const job = name('job');
    const training = cli(['train', fixtureTag('sigterm-handler'), '--job-name', job, '--instance-count', '2', '--env', 'SLOW_SECONDS=6']);
    type Listed = { name: string; kind: string; status: string; url?: string; containers: { role: string }[] }[];
    let listed: Listed = [];
    const deadline = Date.now() + 60_000;
    while (listed.find((j) => j.name === job && j.status === 'running')?.containers.length !== 2) {
      if (Date.now() > deadline) throw new Error(`the job never showed in ps: ${JSON.stringify(listed)}`);
      listed = JSON.parse((await cli(['ps', '--json'])).stdout) as Listed;
    }
    expect(listed.find((j) => j.name === endpoint)).toMatchObject({ kind: 'serving', status: 'running', url, containers: [{ role: 'primary' }] });
    expect(listed.find((j) => j.name === job)).toMatchObject({ kind: 'training', status: 'running', containers: [{ role: 'algo-1' }, { role: 'algo-2' }] });
    const table = (await cli(['ps'])).stdout;
    expect(table).toMatch(new RegExp(`^${job}\\s+training\\s+running\\s+algo-1,algo-2\\s+\\d+[sm]\\s*$`, 'm'));
    expect(table).toMatch(new RegExp(`^${endpoint}\\s+endpoint\\s+running\\s+primary\\s+\\d+[sm]\\s+${url.replace(/[.]/g, '\\.')}$`, 'm'));

    const onHost2 = await cli(['exec', job, '--host', 'algo-2', '--', 'sh', '-c', 'cat /opt/ml/input/config/resourceconfig.json; exit 3']);
    expect(onHost2.code).toBe(3);
    expect(JSON.parse(onHost2.stdout)).toMatchObject({ current_host: 'algo-2', hosts: ['algo-1', 'algo-2'] });
    const inEndpoint = await cli(['exec', endpoint, '--', 'sh', '-c', 'echo "$SAGEMAKER_BIND_TO_PORT|$(cat /proc/1/cmdline | tr "\\0" " ")"']);
    expect(inEndpoint.code).toBe(0);
    expect(inEndpoint.stdout).toMatch(/serve/);

    // logs -f follows both hosts, prefixed, until the job ends.
    const followed = await cli(['logs', job, '-f']);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toMatch(/^\[algo-1\] \| slow: finished$/m);
    expect(followed.stdout).toMatch(/^\[algo-2\] \| slow: tick \d+$/m);
    expect((await training).code).toBe(0);
    const logs = await cli(['logs', endpoint]);
    expect(logs.stdout).toMatch(/^serve: mode=good listening on 0\.0\.0\.0:8080$/m);

    const missing = await cli(['logs', name('nothing')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`No job or endpoint named "${name('nothing')}" has a container on this engine`);
    const noHost = await cli(['exec', endpoint, '--host', 'algo-9', '--', 'true']);
    expect(noHost.code).toBe(2);
    expect(noHost.stderr).toContain('Its hosts: primary.');
    expect((await served.stop()).code).toBe(0);
  });
});
