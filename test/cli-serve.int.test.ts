import { createServer } from 'node:net';
import { join } from 'node:path';
import { createWriteStream, writeFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { pack } from 'tar-fs';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_IMAGE, fixtureTag, REPO_ROOT } from '../scripts/lib/images.js';
import { LABEL } from '../src/docker/labels.js';
import { runConformanceCheck } from '../src/jobs/check-runner.js';
import { runCli, type CliOptions } from './support/cli.js';
import { readExample } from './support/examples.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

const EXAMPLE = join(REPO_ROOT, 'examples', 'logistic-regression');

describe.skipIf(dockerUnavailable())('sm-local serve and invoke', () => {
  const s = useTestSession();
  const env = { ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot, SM_LOCAL_OUTPUT: s.dir('cli-output') };
  const cli = (args: string[], opts: Partial<CliOptions> = {}) => runCli(args, { env, cwd: s.root, ...opts });
  const name = (tag: string) => `cli-${tag}-${s.session}`;

  async function leftovers(endpoint: string): Promise<string[]> {
    return (await s.docker.listManaged([`${LABEL.jobName}=${endpoint}`])).map((r) => `${r.kind} ${r.name}`);
  }

  /**
   * Serves until `whileReady` is done with the URL from stdout, then sends Ctrl-C. Returns the serve
   * run and what `whileReady` returned.
   */
  async function serving<T>(args: string[], whileReady: (stdout: string) => Promise<T>) {
    let result: T | undefined;
    let failure: unknown;
    const run = await cli(['serve', ...args], {
      onStdout: (line, child) => {
        void whileReady(line)
          .then((r) => (result = r), (e: unknown) => (failure = e))
          .finally(() => child.kill('SIGINT'));
      },
    });
    if (failure) throw failure;
    return { run, result: result as T };
  }

  it('trains then serves the bundled example; invoke prints the prediction; Ctrl-C stops it cleanly (exit 0)', async () => {
    const trained = await cli(['train', EXAMPLE_IMAGE, '--job-name', name('train'), '--channel', `train=${EXAMPLE}/data/train`, '--hyperparameter', 'epochs=50']);
    expect(trained.code).toBe(0);
    const model = trained.stdout.trim();
    const endpoint = name('logreg');
    const { run, result } = await serving(['--model', model, '--name', endpoint, '--port', '0', EXAMPLE_IMAGE], async (url) => {
      expect(url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/endpoints/${endpoint}/invocations$`));
      return cli(['invoke', endpoint, '--body', `@${EXAMPLE}/sample-request.csv`, '--content-type', 'text/csv', '--accept', 'application/json']);
    });
    expect(result.code).toBe(0);
    const predictions = (JSON.parse(result.stdout) as { predictions: { probability: number; default: number }[] }).predictions;
    expect(predictions.map((p) => p.default)).toEqual([1, 0]);
    expect(result.stderr).toMatch(/^200 application\/json, \d+ B, [\d.]+ ms, variant AllTraffic$/m);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/Endpoint .* is InService \(ready in [\d.]+s\)/);
    expect(run.stderr).toMatch(/^\[proxy\] 200 POST \/endpoints\/\S+\/invocations 33 B in, \d+ B out, [\d.]+ ms$/m);
    expect(run.stderr).toMatch(new RegExp(`^\\[${endpoint}\\] \\| serving model trained for 50 epochs$`, 'm'));
    expect(run.stderr).toMatch(/Endpoint \S+ stopped\./);
    expect(await leftovers(endpoint)).toEqual([]);
  });

  it('--json prints the endpoint as one object; invoke exits 1 on a ModelError and 2 for an unknown endpoint', async () => {
    const endpoint = name('json');
    const { run, result } = await serving(['--json', '--name', endpoint, '--port', '0', fixtureTag('serve-good')], async (line) => {
      const info = JSON.parse(line) as { name: string; url: string; containerId: string; port: number; containerHostPort: number; readyMs: number };
      const modelError = await cli(['invoke', endpoint, '--body', 'x', '--content-type', 'application/x-npy']);
      const unknown = await cli(['invoke', `${endpoint}-nope`, '--body', 'x']);
      const byPort = await cli(['invoke', endpoint, '--port', String(info.port), '--body', 'abc', '--accept', 'text/plain']);
      return { info, modelError, unknown, byPort };
    });
    expect(result.info).toMatchObject({ name: endpoint, url: `http://127.0.0.1:${result.info.port}/endpoints/${endpoint}/invocations`, containerId: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(result.modelError.code).toBe(1);
    expect(result.modelError.stderr).toMatch(/error: InvokeEndpoint failed: ModelError \(424\): Received client error \(400\) from primary/);
    expect(result.unknown.code).toBe(2);
    expect(result.byPort.stdout).toBe('received 3 bytes');
    expect(run.code).toBe(0);
  });

  it('invoke --stream prints a streaming container\'s answer as InvokeEndpointWithResponseStream parts', async () => {
    const endpoint = name('stream');
    const { run, result } = await serving([fixtureTag('serve-stream'), '--name', endpoint, '--port', '0'], async () =>
      cli(['invoke', endpoint, '--stream', '--body', 'tokens arrive one by one', '--accept', 'text/plain']),
    );
    expect(run.code).toBe(0);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('tokens arrive one by one');
    // One part per chunk the container flushed (5 words, 50 ms apart): more than one, never one block.
    const parts = Number(/200 stream text\/plain, (\d+) parts, 24 B/.exec(result.stderr)?.[1]);
    expect(parts).toBeGreaterThan(1);
    expect(await leftovers(endpoint)).toEqual([]);
  });

  it('serves from a CreateModel file with the ModelDataUrl mapped under --s3-root', async () => {
    const request = JSON.parse(readExample('api.create-model.request.json')) as { ModelName: string; PrimaryContainer: Record<string, unknown> };
    request.ModelName = name('cm');
    request.PrimaryContainer.Image = fixtureTag('serve-good');
    request.PrimaryContainer.ModelDataUrl = 's3://bucket/model/model.tar.gz';
    const s3 = s.dir('s3');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(s3, 'bucket', 'model'), { recursive: true });
    const { execFileSync } = await import('node:child_process');
    writeFileSync(join(s3, 'model.json'), '{}');
    execFileSync('tar', ['-czf', join(s3, 'bucket', 'model', 'model.tar.gz'), '-C', s3, 'model.json']);
    const file = join(s.root, 'model.json');
    writeFileSync(file, JSON.stringify(request));
    const { run, result } = await serving(['--model-json', file, '--s3-root', s3, '--port', '0'], async () => cli(['invoke', request.ModelName, '--body', '{}']));
    const seen = JSON.parse(result.stdout) as { env: Record<string, string>; model: Record<string, string> };
    expect(seen.env).toEqual({ SAGEMAKER_PROGRAM: 'inference.py', SAGEMAKER_MODEL_SERVER_WORKERS: '2', SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT: 'application/json' });
    expect(Object.keys(seen.model)).toEqual(['model.json']);
    expect(run.code).toBe(0);
  });

  // The bundled CLI, not the sources: a CommonJS package imported lazily is shaped differently there.
  it('a multi-model endpoint from the CLI loads the TargetModel on first use and invokes it', async () => {
    const store = s.dir('mme-store');
    const src = s.dir('mme-src');
    writeFileSync(join(src, 'model.json'), JSON.stringify({ name: 'model-a' }));
    await pipeline(pack(src), createGzip(), createWriteStream(join(store, 'model-a.tar.gz')));
    const endpoint = name('mme');
    const { run, result } = await serving(['--multi-model', store, '--name', endpoint, '--port', '0', fixtureTag('serve-mme')], () =>
      cli(['invoke', endpoint, '--target-model', 'model-a.tar.gz', '--body', '{"x":1}', '--content-type', 'application/json']),
    );
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ model: { name: 'model-a' }, target: 'model-a.tar.gz' });
    expect(run.stderr).toMatch(/Multi-model: loaded model-a\.tar\.gz as [0-9a-f]{16} in [\d.]+ s\./);
    expect(await leftovers(endpoint)).toEqual([]);
  });

  it('a container that crashes at start: exit 1, its exit code and log lines, nothing left', async () => {
    const endpoint = name('crash');
    const r = await cli(['serve', fixtureTag('serve-crash'), '--name', endpoint, '--port', '0']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/error: The container exited with exit code 2 while starting/);
    expect(await leftovers(endpoint)).toEqual([]);
  });

  it('bad input: a corrupt model archive exits 2; a taken port exits 3; nothing left', async () => {
    const corrupt = join(s.root, 'corrupt.tar.gz');
    writeFileSync(corrupt, Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4, 5]));
    const bad = await cli(['serve', fixtureTag('serve-good'), '--name', name('corrupt'), '--model', corrupt, '--port', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/error: Cannot use the model archive .*corrupt\.tar\.gz: it is not a valid tar\.gz/);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    try {
      const taken = await cli(['serve', fixtureTag('serve-good'), '--name', name('port'), '--port', String((blocker.address() as { port: number }).port)]);
      expect(taken.code).toBe(3);
      expect(taken.stderr).toMatch(/error: Port \d+ on 127\.0\.0\.1 is already in use\.\nhint: Pick another --port/);
    } finally {
      blocker.close();
    }
    expect([...(await leftovers(name('corrupt'))), ...(await leftovers(name('port')))]).toEqual([]);
  });

  it('sm-local check: a streaming sample passes when the answer comes as parts, and fails when it comes as one block', async () => {
    const sample = { name: 'prompt.txt', body: Buffer.from('one two three four'), contentType: 'text/plain', stream: true };
    const model = s.dir('stream-model');
    writeFileSync(join(model, 'model.json'), '{}');
    const streaming = await runConformanceCheck({ image: fixtureTag('serve-stream'), model, serve: true, samples: [sample], serveStopGraceSeconds: 2 }, s.deps().deps);
    expect(streaming.checks.find((c) => c.id === 'serve.sample-1')).toMatchObject({ status: 'pass', title: 'Sample prompt.txt streams as parts (InvokeEndpointWithResponseStream)', observed: expect.stringMatching(/^4 parts, 18 bytes, the first after \d+ ms/) });
    const block = await runConformanceCheck({ image: fixtureTag('serve-good'), model, serve: true, samples: [sample], serveStopGraceSeconds: 2 }, s.deps().deps);
    const row = block.checks.find((c) => c.id === 'serve.sample-1')!;
    expect(row).toMatchObject({ status: 'fail', observed: expect.stringMatching(/^the answer came as 1 part \(\d+ bytes after \d+ ms\): nothing streamed$/) });
    expect(row.fix).toMatch(/chunked response/);
  });
});
