import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InvokeEndpointCommand, SageMakerRuntimeClient, ValidationError } from '@aws-sdk/client-sagemaker-runtime';
import { describe, expect, it } from 'vitest';
import { fixtureTag } from '../scripts/lib/images.js';
import { LABEL } from '../src/docker/labels.js';
import { InvokeError, ServingStartupError, UsageError } from '../src/errors.js';
import { startEndpoint, type EndpointInput } from '../src/jobs/serving-runner.js';
import { runTransformJob } from '../src/jobs/transform-runner.js';
import { runCli, type CliOptions, type CliRun } from './support/cli.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

/** Honours SAGEMAKER_BIND_TO_PORT and carries the label; SERVER_MODE=stage answers with what it received. */
const STAGE_IMAGE = fixtureTag('serve-bind-to-port');

interface Seen {
  stage: string;
  content_type: string | null;
  accept: string | null;
  custom_attributes: string | null;
  input: string;
  port: number;
  batch?: string | null;
}

const stage = (hostname: string | undefined, env: Record<string, string> = {}) => ({
  image: STAGE_IMAGE,
  ...(hostname ? { hostname } : {}),
  environment: { SERVER_MODE: 'stage', ...(hostname ? { STAGE: hostname } : {}), ...env },
});

describe.skipIf(dockerUnavailable())('multi-container endpoints and production variants (CONTRACT §4.4, §8) on a real engine', () => {
  const s = useTestSession();
  let n = 0;
  const serve = (input: Omit<EndpointInput, 'image'> & { image?: string }) => {
    const { deps, log, lines } = s.deps();
    return { started: startEndpoint({ image: '', endpointName: `mc-${++n}-${s.session}`, port: 0, stopGraceSeconds: 2, ...input }, deps), log, lines };
  };
  const leftovers = async (endpoint: string) => (await s.docker.listManaged([`${LABEL.jobName}=${endpoint}`])).map((r) => `${r.kind} ${r.name}`);
  const failure = async (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as InvokeError);
  const body = (e: InvokeError) => JSON.parse(e.body.toString()) as { Message: string; OriginalStatusCode?: number };

  it('Serial: the request goes through every container in order, each answer with its Content-Type becoming the next request', async () => {
    const { started } = serve({
      containers: [stage('featurizer', { STAGE_OUTPUT_TYPE: 'text/csv; charset=utf-8' }), stage('predictor')],
    });
    const ep = await started;
    try {
      const answer = await ep.invoke('{"rows":[[1,2]]}', { contentType: 'application/json', accept: 'application/json', customAttributes: 'trace=1' });
      expect(answer.invokedProductionVariant).toBe('AllTraffic');
      expect(answer.contentType).toBe('application/json');
      const last = JSON.parse(answer.body.toString()) as Seen;
      const first = JSON.parse(last.input) as Seen;
      // The first container got the client's request, without its Accept (UNCONFIRMED choice, CONTRACT §8.2).
      expect(first).toMatchObject({ stage: 'featurizer', content_type: 'application/json', accept: null, custom_attributes: 'trace=1', input: '{"rows":[[1,2]]}' });
      // The second got the first one's answer, typed as the first answered it, and the client's Accept.
      expect(last).toMatchObject({ stage: 'predictor', content_type: 'text/csv; charset=utf-8', accept: 'application/json', custom_attributes: 'trace=1' });
      // Each container listens where SAGEMAKER_BIND_TO_PORT told it, none on 8080, no two alike.
      expect(ep.containers.map((c) => c.hostname)).toEqual(['featurizer', 'predictor']);
      expect(ep.containers.map((c) => c.bindToPort)).toEqual([first.port, last.port]);
      expect(new Set([first.port, last.port, 8080]).size).toBe(3);
      // TargetContainerHostname is only for Direct endpoints.
      const wrong = await failure(ep.invoke('x', { targetContainerHostname: 'predictor' }));
      expect(wrong).toBeInstanceOf(InvokeError);
      expect([wrong!.status, wrong!.errorType]).toEqual([400, 'ValidationError']);
      expect(body(wrong!).Message).toMatch(/only for endpoints configured for direct invocation/);
    } finally {
      await ep.stop();
    }
    expect(await leftovers(ep.name)).toEqual([]);
  });

  it('Serial: a failing container gets a ModelError that names it, and the containers after it see nothing', async () => {
    const { started, lines } = serve({
      containers: [stage(undefined), stage(undefined, { STAGE_FAIL: '1', STAGE: 'second' }), stage(undefined, { STAGE: 'third' })],
    });
    const ep = await started;
    try {
      // Without ContainerHostname the containers are named from their position (UNCONFIRMED naming).
      expect(ep.containers.map((c) => c.hostname)).toEqual(['container-1', 'container-2', 'container-3']);
      const err = await failure(ep.invoke('{}', { contentType: 'application/json' }));
      expect([err!.status, err!.errorType]).toEqual([424, 'ModelError']);
      expect(body(err!)).toMatchObject({ OriginalStatusCode: 400 });
      expect(body(err!).Message).toMatch(/^Received client error \(400\) from container-2 with message "stage second refuses its input"\. See /);
      // The third container never got that request: called directly now, this is its first.
      const third = await fetch(`${ep.containers[2]!.containerUrl}/invocations`, { method: 'POST', body: 'direct' });
      expect(((await third.json()) as Seen & { calls: number }).calls).toBe(1);
      // Each container's log lines are told apart as SageMaker's log streams are: <variant>/<instance>/<hostname>.
      expect(new Set(lines.map((l) => l.source))).toEqual(new Set(['container-1', 'container-2', 'container-3'].map((h) => `${ep.name}/AllTraffic/1/${h}`)));
    } finally {
      await ep.stop();
    }
  });

  it('Direct: TargetContainerHostname picks the one container that sees the request; the three ValidationErrors', async () => {
    const { started } = serve({ containers: [stage('first'), stage('secondContainer')], executionMode: 'Direct' });
    const ep = await started;
    try {
      const client = new SageMakerRuntimeClient({ endpoint: `http://127.0.0.1:${ep.port}`, region: 'us-east-1', credentials: { accessKeyId: 'A', secretAccessKey: 'B' }, maxAttempts: 1 });
      const out = await client.send(new InvokeEndpointCommand({ EndpointName: ep.name, ContentType: 'text/csv', TargetContainerHostname: 'secondContainer', Body: new TextEncoder().encode('1,2') }));
      expect(JSON.parse(new TextDecoder().decode(out.Body))).toMatchObject({ stage: 'secondContainer', content_type: 'text/csv', input: '1,2' });
      expect(out.InvokedProductionVariant).toBe('AllTraffic');
      const first = JSON.parse((await ep.invoke('a', { targetContainerHostname: 'first' })).body.toString()) as Seen;
      expect(first.stage).toBe('first');
      const missing = client.send(new InvokeEndpointCommand({ EndpointName: ep.name, Body: new TextEncoder().encode('1') }));
      await expect(missing).rejects.toBeInstanceOf(ValidationError);
      await expect(missing).rejects.toThrow(/configured for direct invocation .*give TargetContainerHostname/);
      const unknown = await failure(ep.invoke('a', { targetContainerHostname: 'third' }));
      expect([unknown!.status, unknown!.errorType]).toEqual([400, 'ValidationError']);
      expect(body(unknown!).Message).toMatch(/TargetContainerHostname third does not exist in endpoint .*; its containers are first, secondContainer\./);
    } finally {
      await ep.stop();
    }
  });

  it('refuses an image without the bind-to-port label in a multi-container model, as CreateModel does, before starting anything', async () => {
    const { started } = serve({ endpointName: `mc-label-${s.session}`, containers: [stage('a'), { image: fixtureTag('serve-good'), hostname: 'b' }] });
    const err = await started.then(() => undefined, (e: unknown) => e as UsageError);
    expect(err).toBeInstanceOf(UsageError);
    expect(err!.message).toMatch(new RegExp(`^Your Ecr Image ${fixtureTag('serve-good').replace(/[.:/]/g, '\\$&')} does not contain required com\\.amazonaws\\.sagemaker\\.capabilities\\.accept-bind-to-port=true Docker label\\(s\\)\\. Container b`));
    expect(err!.hint).toMatch(/LABEL com\.amazonaws\.sagemaker\.capabilities\.accept-bind-to-port=true/);
    expect(await leftovers(`mc-label-${s.session}`)).toEqual([]);
  });

  it('fails the start when one container never gets ready where SAGEMAKER_BIND_TO_PORT says, naming it; nothing is left', async () => {
    const endpointName = `mc-ready-${s.session}`;
    const { started } = serve({ endpointName, containers: [stage('good'), { image: fixtureTag('serve-ignores-bind-to-port'), hostname: 'deaf' }], startupTimeoutSeconds: 3 });
    const err = await started.then(() => undefined, (e: unknown) => e as ServingStartupError);
    expect(err).toBeInstanceOf(ServingStartupError);
    expect(err!.message).toMatch(/^Container AllTraffic\/1\/deaf \(\S+serve-ignores-bind-to-port\S*\) did not pass the ping health check: The container did not answer GET \/ping with 200 within the 3 s start-up window/);
    expect(await leftovers(endpointName)).toEqual([]);
  });

  it('production variants: requests split by weight, TargetVariant overrides, instances take turns, DescribeEndpoint lists them', async () => {
    const { started } = serve({
      variants: [
        { variantName: 'Blue', weight: 3, instanceCount: 2, model: { image: STAGE_IMAGE, environment: { SERVER_MODE: 'stage' } } },
        { variantName: 'Green', weight: 1, model: { image: STAGE_IMAGE, environment: { SERVER_MODE: 'stage', STAGE: 'green' } } },
      ],
    });
    const ep = await started;
    try {
      const calls = await Promise.all(Array.from({ length: 8 }, async () => {
        const r = await ep.invoke('x');
        return { variant: r.invokedProductionVariant, stage: (JSON.parse(r.body.toString()) as Seen).stage };
      }));
      // Over every cycle of 4, Blue answers 3 and Green 1.
      expect(calls.filter((c) => c.variant === 'Blue')).toHaveLength(6);
      expect(calls.filter((c) => c.variant === 'Green').map((c) => c.stage)).toEqual(['green', 'green']);
      // Blue's two instances (each its own host name) take turns.
      const blueHosts = calls.filter((c) => c.variant === 'Blue').map((c) => c.stage);
      expect(new Set(blueHosts).size).toBe(2);
      expect(blueHosts.filter((h) => h === blueHosts[0])).toHaveLength(3);
      const targeted = await ep.invoke('x', { targetVariant: 'Green' });
      expect(targeted.invokedProductionVariant).toBe('Green');
      const unknown = await failure(ep.invoke('x', { targetVariant: 'Red' }));
      expect([unknown!.status, unknown!.errorType]).toEqual([400, 'ValidationError']);
      expect(body(unknown!).Message).toMatch(/The variant Red is not present in endpoint .*; its variants are Blue, Green\./);
      expect((ep.describe() as { ProductionVariants: unknown[] }).ProductionVariants).toEqual([
        { VariantName: 'Blue', DeployedImages: [{ SpecifiedImage: STAGE_IMAGE }], CurrentWeight: 3, DesiredWeight: 3, CurrentInstanceCount: 2, DesiredInstanceCount: 2 },
        { VariantName: 'Green', DeployedImages: [{ SpecifiedImage: STAGE_IMAGE }], CurrentWeight: 1, DesiredWeight: 1, CurrentInstanceCount: 1, DesiredInstanceCount: 1 },
      ]);
      expect(ep.containers.map((c) => `${c.variantName}/${c.instance}`)).toEqual(['Blue/1', 'Blue/2', 'Green/1']);
    } finally {
      await ep.stop();
    }
    expect(await leftovers(ep.name)).toEqual([]);
  });

  it('sm-local serve takes CreateModel and CreateEndpointConfig files; invoke --target-variant and --target-container pick', async () => {
    const env = { ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot, SM_LOCAL_OUTPUT: s.dir('cli-output') };
    const endpoint = `mc-cli-${s.session}`;
    const direct = join(s.root, 'direct.json');
    writeFileSync(direct, JSON.stringify({
      ModelName: 'direct-model',
      Containers: [
        { ContainerHostname: 'alpha', Image: STAGE_IMAGE, Environment: { SERVER_MODE: 'stage', STAGE: 'alpha' } },
        { ContainerHostname: 'beta', Image: STAGE_IMAGE, Environment: { SERVER_MODE: 'stage', STAGE: 'beta' } },
      ],
      InferenceExecutionConfig: { Mode: 'Direct' },
    }));
    const single = join(s.root, 'single.json');
    writeFileSync(single, JSON.stringify({ ModelName: 'single-model', PrimaryContainer: { Image: STAGE_IMAGE, Environment: { SERVER_MODE: 'stage', STAGE: 'single' } } }));
    const config = join(s.root, 'config.json');
    writeFileSync(config, JSON.stringify({
      EndpointConfigName: 'two-variants',
      ProductionVariants: [
        { VariantName: 'Pair', ModelName: 'direct-model', InitialInstanceCount: 1, InstanceType: 'ml.m5.large', InitialVariantWeight: 1 },
        { VariantName: 'Solo', ModelName: 'single-model', InitialInstanceCount: 1, InstanceType: 'ml.m5.large', InitialVariantWeight: 0 },
      ],
    }));
    const cli = (args: string[], opts: Partial<CliOptions> = {}) => runCli(args, { env, cwd: s.root, ...opts });
    let results: CliRun[] = [];
    let failed: unknown;
    const run = await cli(['serve', '--model-json', direct, '--model-json', single, '--endpoint-config-json', config, '--name', endpoint, '--port', '0', '--stop-grace', '2'], {
      onStdout: (_line, child) => {
        void Promise.all([
          cli(['invoke', endpoint, '--target-variant', 'Pair', '--target-container', 'beta', '--body', 'b']),
          cli(['invoke', endpoint, '--target-variant', 'Solo', '--body', 's']),
          cli(['invoke', endpoint, '--target-container', 'gamma', '--body', 'g']),
        ])
          .then((r) => (results = r), (e: unknown) => (failed = e))
          .finally(() => child.kill('SIGINT'));
      },
    });
    if (failed) throw failed;
    expect(run.code).toBe(0);
    const [beta, solo, gamma] = results as [CliRun, CliRun, CliRun];
    expect((JSON.parse(beta.stdout) as Seen).stage).toBe('beta');
    expect(beta.stderr).toMatch(/variant Pair$/m);
    expect((JSON.parse(solo.stdout) as Seen).stage).toBe('single');
    expect(solo.stderr).toMatch(/variant Solo$/m);
    expect(gamma.code).toBe(2);
    expect(gamma.stderr).toMatch(/ValidationError.*TargetContainerHostname gamma does not exist/s);
    expect(run.stderr).toMatch(/variant Pair, instance 1, container alpha/);
    expect(run.stderr).toMatch(/^\[proxy\] 200 POST \/endpoints\/\S+\/invocations 1 B in, \d+ B out, [\d.]+ ms, variant Solo$/m);
    expect(await leftovers(endpoint)).toEqual([]);
  });

  it('batch transform with a pipeline model: each record goes through the containers in series; the last answers are the output', async () => {
    const input = s.dir('pipeline-in');
    mkdirSync(join(input, 'day=1'));
    writeFileSync(join(input, 'day=1', 'rows.csv'), 'r1\nr2\n');
    const { deps } = s.deps();
    const result = await runTransformJob(
      {
        image: '',
        containers: [stage('featurizer', { STAGE_OUTPUT_TYPE: 'text/csv' }), stage('predictor')],
        input,
        contentType: 'text/plain',
        accept: 'application/json',
        splitType: 'Line',
        batchStrategy: 'SingleRecord',
        assembleWith: 'Line',
        transformJobName: `mc-transform-${s.session}`,
        outputDir: s.dir(),
        stopGraceSeconds: 2,
      },
      deps,
    );
    const lines = readFileSync(join(result.outputDir, 'day=1', 'rows.csv.out'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Seen);
    expect(lines.map((l) => [l.stage, l.content_type, l.accept])).toEqual([
      ['predictor', 'text/csv', 'application/json'],
      ['predictor', 'text/csv', 'application/json'],
    ]);
    expect(lines.map((l) => (JSON.parse(l.input) as Seen).input.trim())).toEqual(['r1', 'r2']);
    expect((JSON.parse(lines[0]!.input) as Seen).content_type).toBe('text/plain');
    // Both containers got the batch environment, and their lines are told apart in the instance's log.
    expect([lines[0]!.batch, (JSON.parse(lines[0]!.input) as Seen).batch]).toEqual(['true', 'true']);
    expect(readFileSync(join(result.jobDir, 'algo-1.log'), 'utf8')).toMatch(/\[featurizer\] serve: mode=stage listening on 0\.0\.0\.0:\d+/);
    expect(await leftovers(`mc-transform-${s.session}`)).toEqual([]);
  });
});
