import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { InvokeEndpointCommand, ModelError, SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { fixtureTag } from '../scripts/lib/images.js';
import { channelTar } from '../src/workspace/archive.js';
import {
  EndpointExistsError,
  ImageNotFoundError,
  InvokeError,
  ModelArchiveError,
  PortInUseError,
  ServingStartupError,
  startEndpoint,
  type EndpointInput,
} from '../src/index.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

/** What the serve fixture saw (fixtures/images/programs/serve.py). */
interface Seen {
  method: string;
  path: string;
  headers: Record<string, string>;
  body_sha256: string;
  body_length: number;
  port: number;
  env: Record<string, string>;
  model: Record<string, string>;
  model_writable: boolean;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe.skipIf(dockerUnavailable())('startEndpoint on a real engine', () => {
  const s = useTestSession();
  const modelDir = s.dir('model');
  mkdirSync(join(modelDir, 'code'));
  writeFileSync(join(modelDir, 'model.json'), '{"weights": [0.1, 0.2]}');
  writeFileSync(join(modelDir, 'code', 'inference.py'), '# handler\n');
  const modelTarGz = join(s.dir('archive'), 'model.tar.gz');

  const start = async (input: Partial<EndpointInput> & { image: string }) => {
    const { deps, lines, log } = s.deps();
    const endpoint = await startEndpoint({ port: 0, endpointName: `ep-${s.session}-${Math.random().toString(36).slice(2, 7)}`, ...input }, deps);
    return { endpoint, lines, log };
  };
  const startError = async (input: Partial<EndpointInput> & { image: string }) => start(input).then(
    async ({ endpoint }) => {
      await endpoint.stop();
      throw new Error('expected the endpoint not to start');
    },
    (err: unknown) => err,
  );

  it('serves a model.tar.gz: extracted, mounted read-only, body and documented headers forwarded byte for byte', async () => {
    await pipeline(await channelTar(modelDir), createGzip(), createWriteStream(modelTarGz));
    const { endpoint, lines } = await start({ image: fixtureTag('serve-good'), model: modelTarGz, environment: { MODEL_FLAVOR: 'test' } });
    try {
      expect(endpoint.url).toBe(`http://127.0.0.1:${endpoint.port}/endpoints/${endpoint.name}/invocations`);
      const body = Buffer.from([0x7b, 0x00, 0xff, 0x0a, 0x7d]);
      const out = await endpoint.invoke(body, { contentType: 'application/x-custom', accept: 'application/json', customAttributes: 'trace-id=42' });
      expect(out.contentType).toBe('application/json');
      expect(out.customAttributes).toBe('echo:trace-id=42');
      expect(out.invokedProductionVariant).toBe('AllTraffic');
      const seen = JSON.parse(out.body.toString()) as Seen;
      expect(seen).toMatchObject({ method: 'POST', path: '/invocations', body_sha256: sha256(body), body_length: 5, port: 8080, model_writable: false });
      expect(seen.headers).toMatchObject({ 'content-type': 'application/x-custom', accept: 'application/json', 'x-amzn-sagemaker-custom-attributes': 'trace-id=42' });
      expect(seen.env).toEqual({ MODEL_FLAVOR: 'test' });
      expect(seen.model).toEqual({ 'model.json': sha256(readFileSync(join(modelDir, 'model.json'))), 'code/inference.py': sha256('# handler\n') });
      expect(lines).toContainEqual({ line: 'serve: mode=good listening on 0.0.0.0:8080', source: endpoint.name });
    } finally {
      await endpoint.stop();
    }
    expect(lines).toContainEqual({ line: 'serve: SIGTERM, shutting down', source: endpoint.name });
  });

  it('mounts a model folder as it is, and answers the real AWS SDK like the runtime', async () => {
    await using ep = (await start({ image: fixtureTag('serve-good'), model: modelDir })).endpoint;
    const client = new SageMakerRuntimeClient({ endpoint: `http://127.0.0.1:${ep.port}`, region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'B' }, maxAttempts: 1 });
    const ok = await client.send(new InvokeEndpointCommand({ EndpointName: ep.name, Body: new TextEncoder().encode('hi'), Accept: 'text/plain', CustomAttributes: 'a=1' }));
    expect(new TextDecoder().decode(ok.Body)).toBe('received 2 bytes');
    expect(ok.ContentType).toBe('text/plain');
    expect(ok.CustomAttributes).toBe('echo:a=1');
    const err = await client.send(new InvokeEndpointCommand({ EndpointName: ep.name, Body: new Uint8Array([1]), ContentType: 'application/x-npy' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ OriginalStatusCode: 400, OriginalMessage: 'unsupported content type: application/x-npy' });
    expect((err as Error).message).toMatch(/^Received client error \(400\) from primary with message "unsupported content type: application\/x-npy"\. See https:\/\/us-east-1\.console\.aws\.amazon\.com/);
  });

  it('waits for a container that is slow to become ready', async () => {
    await using ep = (await start({ image: fixtureTag('serve-slow-ready'), environment: { READY_AFTER: '2' } })).endpoint;
    expect((await ep.invoke('x', { accept: 'text/plain' })).body.toString()).toBe('received 1 bytes');
  });

  it('gives up on a container that never answers /ping with 200, and leaves nothing running', async () => {
    const err = await startError({ image: fixtureTag('serve-never-ready'), startupTimeoutSeconds: 3 });
    expect(err).toBeInstanceOf(ServingStartupError);
    expect((err as Error).message).toBe('The container did not answer GET /ping with 200 within the 3 s start-up window (GET /ping answered 503 until the 3 s start-up window ended).');
    expect((err as ServingStartupError).exitCode).toBe(1);
  });

  it('fails at once, with the exit code and last log lines, when the container crashes at start', async () => {
    const err = await startError({ image: fixtureTag('serve-crash') });
    expect(err).toBeInstanceOf(ServingStartupError);
    expect((err as Error).message).toMatch(/^The container exited with exit code 2 while starting/);
    expect((err as ServingStartupError).logTail).toContain('serve: loading the model failed: /opt/ml/model/model.json is missing');
  });

  it('turns a container 500 into ModelError with OriginalStatusCode 500', async () => {
    await using ep = (await start({ image: fixtureTag('serve-error500') })).endpoint;
    const err = (await ep.invoke('x').catch((e: unknown) => e)) as InvokeError;
    expect(err).toBeInstanceOf(InvokeError);
    expect([err.status, err.errorType]).toEqual([424, 'ModelError']);
    expect(JSON.parse(err.body.toString())).toMatchObject({
      ErrorCode: 'SERVER_ERROR_FROM_MODEL',
      OriginalStatusCode: 500,
      OriginalMessage: 'internal failure: model exploded',
      Message: expect.stringMatching(/^Received server error \(500\) from primary with message "internal failure: model exploded"\./),
    });
  });

  it('turns an invocation past the deadline into the timeout ModelError', async () => {
    await using ep = (await start({ image: fixtureTag('serve-hang'), invocationTimeoutMs: 1500, stopGraceSeconds: 1 })).endpoint;
    const err = (await ep.invoke('x').catch((e: unknown) => e)) as InvokeError;
    expect([err.status, err.errorType]).toEqual([424, 'ModelError']);
    expect(JSON.parse(err.body.toString())).toMatchObject({ OriginalStatusCode: 0, Message: expect.stringContaining('Your invocation timed out while waiting for a response from container primary') });
  });

  it('refuses a response over 6 MiB', async () => {
    await using ep = (await start({ image: fixtureTag('serve-huge') })).endpoint;
    const err = (await ep.invoke('x').catch((e: unknown) => e)) as InvokeError;
    expect(JSON.parse(err.body.toString()).Message).toMatch(/could not load the entire response body/);
  });

  it('gives SAGEMAKER_BIND_TO_PORT to an image that declares it, and reaches it there', async () => {
    await using ep = (await start({ image: fixtureTag('serve-bind-to-port') })).endpoint;
    const seen = JSON.parse((await ep.invoke('{}')).body.toString()) as Seen;
    expect(seen.port).not.toBe(8080);
    expect(seen.env.SAGEMAKER_BIND_TO_PORT).toBe(String(seen.port));
    expect(seen.env.SAGEMAKER_SAFE_PORT_RANGE).toMatch(/^\d+-\d+$/);
  });

  it('catches an image that declares SAGEMAKER_BIND_TO_PORT but listens on 8080 anyway', async () => {
    const err = await startError({ image: fixtureTag('serve-ignores-bind-to-port'), startupTimeoutSeconds: 3 });
    expect(err).toBeInstanceOf(ServingStartupError);
    expect((err as ServingStartupError).hint).toMatch(/SAGEMAKER_BIND_TO_PORT/);
  });

  it('serves several endpoints at once, each with its own port and container', async () => {
    await using a = (await start({ image: fixtureTag('serve-good') })).endpoint;
    await using b = (await start({ image: fixtureTag('serve-good') })).endpoint;
    expect(a.port).not.toBe(b.port);
    expect(a.containerId).not.toBe(b.containerId);
    const [ra, rb] = await Promise.all([a.invoke('aa', { accept: 'text/plain' }), b.invoke('bbb', { accept: 'text/plain' })]);
    expect([ra.body.toString(), rb.body.toString()]).toEqual(['received 2 bytes', 'received 3 bytes']);
    expect(ra.invokedProductionVariant).toBe('AllTraffic');
    // Each proxy answers for its own endpoint only.
    const other = await fetch(`http://127.0.0.1:${a.port}/endpoints/${b.name}/invocations`, { method: 'POST', body: 'x' });
    expect(other.status).toBe(400);
    expect(other.headers.get('x-amzn-errortype')).toBe('ValidationError');
  });

  it('describes itself as DescribeEndpoint does: InService while serving, Deleting once stopped', async () => {
    const { endpoint } = await start({ image: fixtureTag('serve-good'), model: modelDir });
    expect(endpoint.describe()).toMatchObject({ EndpointName: endpoint.name, EndpointStatus: 'InService', ProductionVariants: [{ VariantName: 'AllTraffic', CurrentInstanceCount: 1 }] });
    await endpoint.stop();
    expect(endpoint.describe()).toMatchObject({ EndpointStatus: 'Deleting' });
  });

  it('refuses a second endpoint with a name already being served', async () => {
    const name = `dup-${s.session}`;
    await using first = (await start({ image: fixtureTag('serve-good'), endpointName: name })).endpoint;
    const err = await startError({ image: fixtureTag('serve-good'), endpointName: name });
    expect(err).toBeInstanceOf(EndpointExistsError);
    expect((err as Error).message).toContain(first.url);
  });

  it('refuses a port that is taken, before starting anything', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    try {
      const port = (blocker.address() as { port: number }).port;
      const err = await startError({ image: fixtureTag('serve-good'), port });
      expect(err).toBeInstanceOf(PortInUseError);
      expect(err).toMatchObject({ exitCode: 3, hint: expect.stringMatching(/--port 0/) });
    } finally {
      blocker.close();
    }
  });

  it('refuses a model archive with an entry outside the model folder, and removes its workspace', async () => {
    const evil = join(s.dir('evil'), 'model.tar.gz');
    const pack = tarStream.pack();
    pack.entry({ name: 'model.json' }, '{}');
    pack.entry({ name: '../../outside.txt' }, 'gotcha');
    pack.finalize();
    await pipeline(pack, createGzip(), createWriteStream(evil));
    const err = await startError({ image: fixtureTag('serve-good'), model: evil });
    expect(err).toBeInstanceOf(ModelArchiveError);
    expect((err as Error).message).toMatch(/entry "\.\.\/\.\.\/outside\.txt" would land outside the model folder/);
  });

  it('refuses an image that is not in the engine', async () => {
    expect(await startError({ image: 'sm-local-test/no-such-server:1' })).toBeInstanceOf(ImageNotFoundError);
  });
});
