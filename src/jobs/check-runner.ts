import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  checkResult,
  detectPattern,
  judgeImage,
  skipped,
  summarize,
  writesOutside,
  type CheckResult,
  type ConformanceReport,
  type JobWord,
} from '../contract/conformance.js';
import { BIND_TO_PORT_LABEL, INVOCATION_TIMEOUT_MS, MAX_PAYLOAD_BYTES, PING_TIMEOUT_MS, SERVING_STOP_GRACE_SECONDS } from '../contract/serving.js';
import { TRAINING_STOP_GRACE_SECONDS } from '../contract/limits.js';
import type { ChannelSpec } from '../contract/training-spec.js';
import { AlgorithmError, InterruptedError, JobTimeoutError, ModelArchiveError, ServingStartupError } from '../errors.js';
import { probeRequest, type ProbeResponse } from '../http/probe-client.js';
import { extractModelArchive } from '../workspace/model-archive.js';
import { removeTree, writeOwnerMarker } from '../workspace/owner.js';
import { resolveJobDeps, type JobDeps } from './deps.js';
import { probeImage } from './image-probe.js';
import { ResourceScope } from './resource-scope.js';
import { startEndpoint, type EndpointHandle, type EndpointInput } from './serving-runner.js';
import { runTrainingJob, type TrainingJobInput, type TrainingResult } from './training-runner.js';

/** A request to send to the endpoint, and the status the container should answer it with. */
export interface CheckSample {
  /** Shown in the report (a file name). */
  name: string;
  body: Buffer;
  contentType?: string;
  accept?: string;
  /** Default 200. */
  expectStatus?: number;
}

/** What `sm-local check` runs (CLI flags and sm-local.check.json resolve to this). */
export interface CheckInput {
  image: string;
  /** Which dynamic checks run (see checkWords): when neither is given, both do. */
  train?: boolean;
  serve?: boolean;
  /** Judge the image's configuration and files for those words, and run nothing. */
  staticOnly?: boolean;
  /** Default ml.m5.large. */
  instanceType?: string;
  channels?: ChannelSpec[];
  hyperParameters?: Record<string, string>;
  environment?: Record<string, string>;
  /** Channels (by name) to swap in for a run that must fail with /opt/ml/output/failure. */
  failChannels?: ChannelSpec[];
  /** A model folder or model.tar.gz to serve; without it, the model the training run produced. */
  model?: string;
  samples?: CheckSample[];
  /** SIGTERM → SIGKILL grace: the service's 120 s (training) and 30 s (serving) by default. */
  trainStopGraceSeconds?: number;
  serveStopGraceSeconds?: number;
  /** How long after its first output line the training job gets SIGTERM (default 1 s). */
  sigtermDelayMs?: number;
  /** Concurrent requests of the concurrency check (default 8). */
  concurrency?: number;
  startupTimeoutSeconds?: number;
  maxRuntimeSeconds?: number;
  /** Keep the training job folders here; by default they go to a workspace removed after the check. */
  outputDir?: string;
  /** Without outputDir: where the training job folders stay when the check fails (the CLI: its output folder). */
  keepFailedIn?: string;
}

/**
 * The job words a check runs: `--train` or `--serve` alone picks that one, `--no-train` or
 * `--no-serve` drops one, both negated leaves the image checks only; nothing given runs both.
 */
export function checkWords(input: Pick<CheckInput, 'train' | 'serve'>): JobWord[] {
  const train = input.train ?? input.serve !== true;
  const serve = input.serve ?? input.train !== true;
  return [...(train ? ['train' as const] : []), ...(serve ? ['serve' as const] : [])];
}

/** Called as each check completes, for live progress. */
export type CheckListener = (check: CheckResult) => void;

const shortName = (image: string) =>
  (image.split('/').pop() ?? image)
    .split(':')[0]!
    .replace(/[^a-zA-Z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 30) || 'image';

/**
 * The record of a run that ended as a job can end (failed, timed out, stopped by the check itself);
 * the user's Ctrl-C, or anything else, goes on up.
 */
function runRecord(err: unknown, deps: JobDeps): TrainingResult {
  const details = err instanceof AlgorithmError || err instanceof JobTimeoutError || err instanceof InterruptedError ? (err.details as TrainingResult | undefined) : undefined;
  if (!details || deps.stop?.aborted) throw err;
  return details;
}

/** Stops the check between steps once the user pressed Ctrl-C. */
function throwIfInterrupted(deps: JobDeps): void {
  if (deps.stop?.aborted) throw new InterruptedError();
}

/** The last lines a container printed, for an observation. */
const lastOutput = (tail: readonly string[]) => (tail.length ? ` Last output: ${tail.slice(-3).map((l) => l.trim()).join(' | ')}` : '');

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Runs the conformance checks of CONTRACT §11 on an image: the static ones on its configuration and
 * files, then (as asked) a real training job and a real endpoint, each probed the way SageMaker
 * would use them. Every container, network and workspace it creates is removed before it settles.
 */
export async function runConformanceCheck(input: CheckInput, depsIn: Partial<JobDeps> = {}, onCheck?: CheckListener): Promise<ConformanceReport> {
  const deps = resolveJobDeps(depsIn);
  const startedAt = new Date(deps.now());
  const words = checkWords(input);
  const runs = input.staticOnly ? [] : words;
  const instanceType = input.instanceType ?? 'ml.m5.large';
  const results: CheckResult[] = [];
  const add = (...checks: CheckResult[]) => {
    for (const c of checks) {
      results.push(c);
      onCheck?.(c);
    }
  };

  await deps.docker.ping();
  const [image, engine] = await Promise.all([deps.docker.requireLocalImage(input.image), deps.docker.info()]);
  deps.log.info(`Checking ${input.image} (${image.id.slice(7, 19)}) for ${words.map((w) => `\`${w}\``).join(' and ') || 'its configuration'} on ${instanceType}${input.staticOnly ? ', without running it' : ''}…`);
  const evidence = await probeImage(deps.docker, image, input.image, engine, { owner: deps.owner, words });
  const staticChecks = judgeImage(evidence, { words, instanceType });
  add(...staticChecks);
  const failedStatic = (id: string) => staticChecks.find((c) => c.id === id)?.status === 'fail';
  // Why a run might fail here for a reason the static checks already know.
  const engineArch = ({ x86_64: 'amd64', aarch64: 'arm64' } as Record<string, string>)[engine.architecture] ?? engine.architecture;
  const hints = [
    staticChecks.find((c) => c.id === 'image.user')?.status === 'warn' ? `the image runs as USER ${evidence.user}: see image.user` : '',
    evidence.architecture && engineArch && evidence.architecture !== engineArch
      ? `the image is linux/${evidence.architecture} and this engine runs linux/${engineArch}: without emulation (qemu binfmt) it cannot run here`
      : '',
  ].filter(Boolean);
  const hint = hints.length ? hints.join('; ') : undefined;

  const scope = new ResourceScope(deps.log);
  try {
    const run = `${shortName(input.image)}-check-${randomBytes(3).toString('hex')}`;
    let outputDir = input.outputDir;
    if (!outputDir && runs.includes('train')) {
      // The training runs' folders (logs, describe.json, model.tar.gz) go away after a passing check,
      // and stay for a failing one, in keepFailedIn when given: a failure loses nothing.
      const dir = join(input.keepFailedIn ?? deps.tmpRoot, run);
      outputDir = dir;
      await mkdir(dir, { recursive: true });
      scope.defer(`job folders ${dir}`, async () => {
        if (input.keepFailedIn && !deps.stop?.aborted && summarize(results).verdict === 'fail') deps.log.info(`The failing check's training job folders (logs, describe.json, artifacts) are kept in ${dir}`);
        else await removeTree(dir, deps.log);
      });
      if (!input.keepFailedIn) await writeOwnerMarker(dir, { ...deps.owner, jobName: run, jobType: 'check' });
    }

    let trainedModel: string | undefined;
    let trainingFailed = false;
    if (runs.includes('train')) {
      if (failedStatic('image.train-program') || failedStatic('image.architecture')) {
        const why = failedStatic('image.train-program') ? 'the image has nothing to run for `train` (see image.train-program)' : 'the image cannot run on this instance type (see image.architecture)';
        for (const id of ['train.exits-0', 'train.model-written', 'train.model-archive', 'train.writes-outside', 'train.sigterm', 'train.failure-file'] as const) add(skipped(id, why));
        trainingFailed = true;
      } else {
        const outcome = await checkTraining(input, deps, { run, outputDir: outputDir!, instanceType, add, tmp: scope, ...(hint ? { hint } : {}) });
        trainedModel = outcome.model;
        trainingFailed = outcome.failed;
      }
    }

    if (runs.includes('serve')) {
      throwIfInterrupted(deps);
      const model = input.model ?? trainedModel;
      const serveIds = ['serve.ready', 'serve.bind-to-port', 'serve.ping', 'serve.sample', 'serve.concurrency', 'serve.malformed', 'serve.sigterm', 'serve.no-network'] as const;
      if (failedStatic('image.serve-program')) {
        for (const id of serveIds) add(skipped(id, 'the image has nothing to run for `serve` (see image.serve-program)'));
      } else if (!model) {
        const why = runs.includes('train')
          ? trainingFailed
            ? 'the training run produced no model to serve (see the train checks); pass --model'
            : 'there is no model to serve; pass --model'
          : 'no model given: pass --model DIR|model.tar.gz, or --train to serve the model the training run produces';
        for (const id of serveIds) add(skipped(id, why));
      } else {
        deps.log.info(`Serving ${input.model ? model : `the model.tar.gz the training run produced (${model})`}…`);
        await checkServing(input, deps, { run, model, instanceType, add, bindLabel: image.labels[BIND_TO_PORT_LABEL] === 'true', ...(hint ? { hint } : {}) });
      }
    }
  } finally {
    await scope.dispose();
  }

  const { summary, verdict } = summarize(results);
  return {
    schemaVersion: 1,
    image: input.image,
    imageId: image.id,
    instanceType,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(deps.now() - startedAt.getTime()),
    pattern: detectPattern(evidence),
    verdict,
    summary,
    checks: results,
  };
}

interface Ctx {
  run: string;
  /** Why a run might fail for a reason the static checks already named (a non-root USER). */
  hint?: string;
  instanceType: string;
  add: (...checks: CheckResult[]) => void;
}

/** Container output of a check's runs, tagged with the run. */
function tagged(deps: JobDeps, tag: string): Partial<JobDeps> {
  return { ...deps, ...(deps.onLine ? { onLine: (line: string, source: string) => deps.onLine!(line, `${tag} ${source}`) } : {}) };
}

async function checkTraining(input: CheckInput, deps: JobDeps, ctx: Ctx & { outputDir: string; tmp: ResourceScope }): Promise<{ model?: string; failed: boolean }> {
  const grace = input.trainStopGraceSeconds ?? TRAINING_STOP_GRACE_SECONDS;
  const job = (suffix: string, over: Partial<TrainingJobInput> = {}): TrainingJobInput => ({
    image: input.image,
    trainingJobName: `${ctx.run}${suffix}`.slice(0, 63),
    instanceType: ctx.instanceType,
    channels: input.channels ?? [],
    hyperParameters: input.hyperParameters ?? {},
    environment: input.environment ?? {},
    stopGraceSeconds: grace,
    ...(input.maxRuntimeSeconds ? { stoppingCondition: { maxRuntimeInSeconds: input.maxRuntimeSeconds } } : {}),
    outputDir: ctx.outputDir,
    ...over,
  });
  const { add } = ctx;

  // The job as SageMaker would run it.
  deps.log.info('Training: the job as SageMaker runs it…');
  const started = Date.now();
  let tail: readonly string[] = [];
  const result = await runTrainingJob(job('', { reportChanges: true }), tagged(deps, 'train')).catch((err: unknown) => {
    const r = runRecord(err, deps);
    if (err instanceof AlgorithmError) tail = err.logTail;
    return r;
  });
  const took = Date.now() - started;
  const completed = result.status === 'Completed';
  if (completed) add(checkResult('train.exits-0', 'pass', `Completed in ${seconds(took)}`, { durationMs: took }));
  else if (result.secondaryStatus === 'MaxRuntimeExceeded') add(checkResult('train.exits-0', 'fail', `still running after MaxRuntimeInSeconds; stopped`, { durationMs: took }));
  else {
    // With no failure file the FailureReason says little: the last lines of the log say more.
    const last = result.failureFile ? '' : lastOutput(tail);
    add(checkResult('train.exits-0', 'fail', `Failed with exit code ${result.exitCode}: ${result.failureReason ?? ''}.${last}${ctx.hint ? ` (${ctx.hint})` : ''}`, { durationMs: took }));
  }

  const artifact = result.modelArtifact;
  if (!completed) {
    const why = 'the training run did not complete (see train.exits-0)';
    add(skipped('train.model-written', why), skipped('train.model-archive', why), skipped('train.writes-outside', why));
  } else {
    const files = (result.describe.SmLocal as { ModelBytes?: number } | undefined)?.ModelBytes;
    const dest = join(ctx.outputDir, `${ctx.run}-model-check`);
    let extracted: { files: number; bytes: number; skipped: string[] } | undefined;
    let archiveProblem: string | undefined;
    try {
      extracted = await extractModelArchive(artifact!, dest);
    } catch (err) {
      if (!(err instanceof ModelArchiveError)) throw err;
      archiveProblem = err.message;
    } finally {
      await removeTree(dest, deps.log);
    }
    if (archiveProblem) {
      add(checkResult('train.model-written', 'pass', 'model.tar.gz has entries'));
      add(checkResult('train.model-archive', 'fail', archiveProblem));
    } else if (!extracted!.files) {
      add(checkResult('train.model-written', 'fail', `/opt/ml/model was empty when the job ended: model.tar.gz (${files ?? 0} bytes) holds no files`));
      add(checkResult('train.model-archive', 'pass', 'model.tar.gz is a valid, empty archive'));
    } else {
      add(checkResult('train.model-written', 'pass', `${extracted!.files} file${extracted!.files > 1 ? 's' : ''}, ${extracted!.bytes} bytes`));
      add(
        extracted!.skipped.length
          ? checkResult('train.model-archive', 'fail', `entries that are not files, folders or links: ${extracted!.skipped.slice(0, 3).join(', ')}`)
          : checkResult('train.model-archive', 'pass', 'extracts into /opt/ml/model with nothing outside it'),
      );
    }
    const outside = writesOutside(result.changes ?? []);
    add(
      outside.length
        ? checkResult('train.writes-outside', 'warn', `wrote ${outside.slice(0, 5).join(', ')}${outside.length > 5 ? ` and ${outside.length - 5} more` : ''}: lost when the job ends`)
        : checkResult('train.writes-outside', 'pass', 'nothing outside /opt/ml/model, /opt/ml/output, /opt/ml/checkpoints and scratch folders'),
    );
  }

  // SIGTERM: a second run, stopped once it is under way (StopTrainingJob).
  deps.log.info(`Training: a second run, stopped with SIGTERM (grace ${grace} s)…`);
  const stop = new AbortController();
  const delay = input.sigtermDelayMs ?? 1000;
  let timer: NodeJS.Timeout | undefined;
  const arm = (ms: number) => {
    if (!timer) timer = setTimeout(() => stop.abort(), ms);
  };
  const base = tagged(deps, 'train:sigterm');
  const fallback = setTimeout(() => arm(0), 10_000 + delay);
  const stopped = await runTrainingJob(job('-sigterm'), {
    ...base,
    stop: deps.stop ? AbortSignal.any([stop.signal, deps.stop]) : stop.signal,
    onLine: (line, source) => {
      arm(delay);
      base.onLine?.(line, source);
    },
  })
    .catch((err: unknown) => runRecord(err, deps))
    .finally(() => {
      clearTimeout(timer);
      clearTimeout(fallback);
    });
  const host = stopped.hosts[0];
  if (stopped.status !== 'Stopped') {
    add(skipped('train.sigterm', `the job ended on its own (${stopped.status}, exit ${host?.exitCode}) before SIGTERM was sent; give it enough data or epochs to run for a few seconds`));
  } else if (host?.killed) {
    add(checkResult('train.sigterm', 'fail', `still running ${grace} s after SIGTERM: killed with SIGKILL`));
  } else {
    add(checkResult('train.sigterm', 'pass', `exited ${host?.stopMs !== undefined ? seconds(host.stopMs) : ''} after SIGTERM (exit code ${host?.exitCode})`));
  }

  // Bad input: the job must fail, and say why in /opt/ml/output/failure.
  if (!input.failChannels?.length) {
    add(skipped('train.failure-file', 'no --fail-channel given: sm-local has no input the algorithm should reject'));
  } else {
    deps.log.info(`Training: a run on bad input (${input.failChannels.map((c) => c.channelName).join(', ')})…`);
    const bad = new Map((input.channels ?? []).map((c) => [c.channelName, c]));
    for (const c of input.failChannels) bad.set(c.channelName, c);
    const failed = await runTrainingJob(job('-bad-input', { channels: [...bad.values()] }), tagged(deps, 'train:bad-input')).catch((err: unknown) => runRecord(err, deps));
    if (failed.status === 'Completed') add(checkResult('train.failure-file', 'fail', 'the job completed (exit 0) on the bad input'));
    else if (failed.status !== 'Failed') add(checkResult('train.failure-file', 'fail', `the job did not fail on the bad input (${failed.secondaryStatus})`));
    else if (!failed.failureFile) add(checkResult('train.failure-file', 'fail', `exit code ${failed.exitCode}, but no /opt/ml/output/failure: FailureReason would be "${failed.failureReason}"`));
    else add(checkResult('train.failure-file', 'pass', `exit code ${failed.exitCode}; FailureReason: ${failed.failureReason}`));
  }
  return { ...(completed && artifact ? { model: artifact } : {}), failed: !completed };
}

/** The container's status for a request, as the report words it. */
function answered(r: ProbeResponse): string {
  return r.status !== undefined ? `${r.status}` : `no answer (${r.error})`;
}

/** One `GET /ping` straight to the container, with the service's 2-s limit. */
const ping = (base: string) => probeRequest(`${base}/ping`, { method: 'GET', timeoutMs: PING_TIMEOUT_MS });

async function pingTimes(base: string, count: number): Promise<ProbeResponse[]> {
  const out: ProbeResponse[] = [];
  for (let i = 0; i < count; i++) out.push(await ping(base));
  return out;
}

/** A sample sent straight to the container's /invocations, with the runtime's 60-s limit. */
function sendSample(base: string, s: CheckSample, signal?: AbortSignal): Promise<ProbeResponse> {
  return probeRequest(`${base}/invocations`, {
    method: 'POST',
    body: s.body,
    headers: { ...(s.contentType ? { 'content-type': s.contentType } : {}), ...(s.accept ? { accept: s.accept } : {}) },
    timeoutMs: INVOCATION_TIMEOUT_MS,
    ...(signal ? { signal } : {}),
  });
}

async function checkServing(input: CheckInput, deps: JobDeps, ctx: Ctx & { model: string; bindLabel: boolean }): Promise<void> {
  const { add } = ctx;
  const grace = input.serveStopGraceSeconds ?? SERVING_STOP_GRACE_SECONDS;
  const spec = (over: Partial<EndpointInput> = {}): EndpointInput => ({
    image: input.image,
    endpointName: ctx.run.slice(0, 63),
    model: ctx.model,
    instanceType: ctx.instanceType,
    environment: input.environment ?? {},
    stopGraceSeconds: grace,
    ...(input.startupTimeoutSeconds ? { startupTimeoutSeconds: input.startupTimeoutSeconds } : {}),
    port: 0,
    ...over,
  });
  const samples = input.samples ?? [];

  // Ready, as SageMaker judges it; with the bind-to-port label, on SAGEMAKER_BIND_TO_PORT first.
  let ep: EndpointHandle | undefined;
  let bindToPort: boolean | undefined;
  let started = Date.now();
  let startError: ServingStartupError | undefined;
  try {
    ep = await startEndpoint(spec(), tagged(deps, 'serve'));
  } catch (err) {
    if (!(err instanceof ServingStartupError)) throw err;
    startError = err;
  }
  if (ctx.bindLabel) {
    if (ep) add(checkResult('serve.bind-to-port', 'pass', `answered on SAGEMAKER_BIND_TO_PORT=${ep.bindToPort}`));
    else {
      // Did it fail because of the port? Try once more on 8080.
      started = Date.now();
      try {
        ep = await startEndpoint(spec({ bindToPort: false }), tagged(deps, 'serve'));
        bindToPort = false;
        startError = undefined;
        add(checkResult('serve.bind-to-port', 'fail', 'with SAGEMAKER_BIND_TO_PORT set, GET /ping never answered on that port; without it, the server came up on 8080'));
      } catch (err) {
        if (!(err instanceof ServingStartupError)) throw err;
        add(skipped('serve.bind-to-port', 'the server did not come up on 8080 either (see serve.ready)'));
      }
    }
  } else {
    add(skipped('serve.bind-to-port', `the image does not declare ${BIND_TO_PORT_LABEL}; only multi-container endpoints set SAGEMAKER_BIND_TO_PORT`));
  }
  if (!ep) {
    add(checkResult('serve.ready', 'fail', `${startError!.message}${lastOutput(startError!.logTail)}${ctx.hint ? ` (${ctx.hint})` : ''}`));
    const why = 'the endpoint never became ready (see serve.ready)';
    for (const id of ['serve.ping', 'serve.sample', 'serve.concurrency', 'serve.malformed', 'serve.sigterm', 'serve.no-network'] as const) add(skipped(id, why));
    return;
  }

  const endpoint = ep;
  let stopped = false;
  try {
    add(checkResult('serve.ready', 'pass', `GET /ping answered 200 ${seconds(endpoint.readyMs)} after the start`, { durationMs: Date.now() - started }));
    const base = endpoint.containerUrl;
    const invoke = (s: CheckSample) => sendSample(base, s, deps.stop);

    // Samples: status, Content-Type, size and time, as the runtime would take them.
    if (!samples.length) add(skipped('serve.sample', 'no --sample given: sm-local does not know what the model accepts'));
    for (const [i, s] of samples.entries()) {
      const r = await invoke(s);
      throwIfInterrupted(deps);
      const want = s.expectStatus ?? 200;
      const problems = [
        r.status !== want ? `answered ${answered(r)}${r.head && r.status ? ` (${r.head.slice(0, 120).trim()})` : ''}, expected ${want}` : '',
        r.status !== undefined && !r.contentType ? 'no Content-Type in the response' : '',
        r.bytes > MAX_PAYLOAD_BYTES ? `response of ${r.bytes} bytes, over the 6 MiB (${MAX_PAYLOAD_BYTES} bytes) limit` : '',
      ].filter(Boolean);
      const title = `Sample ${s.name} gets ${want} within 60 s, with a Content-Type, at most 6 MiB`;
      add(
        problems.length
          ? checkResult('serve.sample', 'fail', problems.join('; '), { id: `serve.sample-${i + 1}`, title, durationMs: r.ms })
          : checkResult('serve.sample', 'pass', `${r.status} ${r.contentType}, ${r.bytes} bytes in ${r.ms.toFixed(0)} ms`, { id: `serve.sample-${i + 1}`, title, durationMs: r.ms }),
      );
    }

    // Concurrency, with /ping probed all along.
    const n = input.concurrency ?? 8;
    const pingsDuring: ProbeResponse[] = [];
    let concurrencyDone = false;
    const pinging = (async () => {
      while (!concurrencyDone) {
        pingsDuring.push(await ping(base));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    if (samples.length) {
      const first = samples[0]!;
      const want = first.expectStatus ?? 200;
      const t = Date.now();
      const all = await Promise.all(Array.from({ length: n }, () => invoke(first)));
      concurrencyDone = true;
      await pinging;
      throwIfInterrupted(deps);
      const bad = all.filter((r) => r.status !== want);
      add(
        bad.length
          ? checkResult('serve.concurrency', 'fail', `${bad.length} of ${n} concurrent requests did not get ${want}: ${[...new Set(bad.map(answered))].join(', ')}`, { durationMs: Date.now() - t })
          : checkResult('serve.concurrency', 'pass', `${n} concurrent requests of ${first.name}: all ${want}, slowest ${Math.max(...all.map((r) => r.ms)).toFixed(0)} ms`, { durationMs: Date.now() - t }),
      );
    } else {
      concurrencyDone = true;
      add(skipped('serve.concurrency', 'no --sample given: sm-local does not know what the model accepts'));
    }
    await pinging;

    // /ping: answered quickly when idle, and while requests ran.
    const idle = await pingTimes(base, 5);
    const pings = [...idle, ...pingsDuring];
    const slow = pings.filter((p) => p.status !== 200);
    const slowest = Math.max(...pings.filter((p) => p.status === 200).map((p) => p.ms), 0);
    add(
      slow.length
        ? checkResult('serve.ping', 'fail', `${slow.length} of ${pings.length} pings (${pingsDuring.length} while requests ran) got no 200 within 2 s: ${[...new Set(slow.map(answered))].join(', ')}`)
        : checkResult('serve.ping', 'pass', `${pings.length} pings (${pingsDuring.length} while requests ran), all 200, slowest ${slowest.toFixed(0)} ms`),
    );

    // A malformed request.
    const contentType = samples[0]?.contentType ?? 'application/json';
    const garbage = Buffer.concat([Buffer.from('{"sm-local": "malformed'), Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x7b])]);
    throwIfInterrupted(deps);
    const m = await probeRequest(`${base}/invocations`, { method: 'POST', body: garbage, headers: { 'content-type': contentType }, timeoutMs: INVOCATION_TIMEOUT_MS, ...(deps.stop ? { signal: deps.stop } : {}) });
    throwIfInterrupted(deps);
    const after = await ping(base);
    const malformedProblem =
      after.status !== 200
        ? `after it, GET /ping got ${answered(after)}: the server did not stay up`
        : m.status === undefined
          ? `no answer: ${m.error}`
          : m.status >= 400 && m.status < 500
            ? undefined
            : `answered ${m.status}${m.head ? ` (${m.head.slice(0, 120).trim()})` : ''}; bad input should get a 4xx`;
    add(
      malformedProblem
        ? checkResult('serve.malformed', 'fail', `a malformed ${contentType} body: ${malformedProblem}`)
        : checkResult('serve.malformed', 'pass', `a malformed ${contentType} body got ${m.status}; /ping still 200`),
    );

    // SIGTERM, as when SageMaker retires the instance.
    const outcome = await endpoint.stop();
    stopped = true;
    add(
      outcome.killed
        ? checkResult('serve.sigterm', 'fail', `still running ${grace} s after SIGTERM: killed with SIGKILL`)
        : checkResult('serve.sigterm', 'pass', `exited ${seconds(outcome.stopMs)} after SIGTERM (exit code ${outcome.exitCode})`),
    );
  } finally {
    if (!stopped) await endpoint.stop();
  }

  // No outside network: the same image and model on an internal network.
  throwIfInterrupted(deps);
  if (deps.docker.remote) {
    add(skipped('serve.no-network', 'needs a local engine: the proxy reaches the container on an isolated network at its own address'));
    return;
  }
  let isolated: EndpointHandle | undefined;
  try {
    isolated = await startEndpoint(spec({ networkIsolation: true, endpointName: `${ctx.run}-isolated`.slice(0, 63), ...(bindToPort === false ? { bindToPort } : {}) }), tagged(deps, 'serve:isolated'));
    const first = samples[0];
    if (first) {
      const r = await sendSample(isolated.containerUrl, first);
      const want = first.expectStatus ?? 200;
      add(
        r.status === want
          ? checkResult('serve.no-network', 'pass', `ready in ${seconds(isolated.readyMs)} with no route out; ${first.name} got ${want}`)
          : checkResult('serve.no-network', 'fail', `with no route out, ${first.name} got ${answered(r)} (expected ${want})`),
      );
    } else {
      add(checkResult('serve.no-network', 'pass', `ready in ${seconds(isolated.readyMs)} with no route out (no --sample to send)`));
    }
  } catch (err) {
    if (!(err instanceof ServingStartupError)) throw err;
    add(checkResult('serve.no-network', 'fail', `with no route out: ${err.message}${lastOutput(err.logTail)}`));
  } finally {
    await isolated?.stop();
  }
}
