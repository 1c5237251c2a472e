import { randomBytes } from 'node:crypto';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describeExit, hyperparameterHint, lastOutput, readinessAdvice, sigtermAdvice, type ContainerProcess } from '../contract/check-advice.js';
import {
  checkResult,
  detectPattern,
  hasTrainingToolkit,
  judgeImage,
  skipped,
  summarize,
  writesOutside,
  type CheckId,
  type CheckResult,
  type ConformanceReport,
  type ImageEvidence,
  type JobWord,
} from '../contract/conformance.js';
import { BIND_TO_PORT_LABEL, INVOCATION_TIMEOUT_MS, MAX_PAYLOAD_BYTES, PING_TIMEOUT_MS, SERVING_STOP_GRACE_SECONDS } from '../contract/serving.js';
import { PROCESSING_STOP_GRACE_SECONDS, TRAINING_STOP_GRACE_SECONDS } from '../contract/limits.js';
import type { ChannelSpec } from '../contract/training-spec.js';
import { AlgorithmError, InputPathError, InterruptedError, InvalidSpecError, InvokeError, jobRecordOf, ModelArchiveError, ServingStartupError } from '../errors.js';
import { LABEL } from '../docker/labels.js';
import { checkChannelSources, runTrainingJob, type TrainingJobInput, type TrainingResult } from './training-runner.js';
import { checkInputSources, runProcessingJob, type ProcessingJobInput, type ProcessingResult } from './processing-runner.js';
import { PROCESSING_PATHS, type ProcessingInputSpec, type ProcessingOutputSpec } from '../contract/processing-spec.js';
import { probeRequest, type ProbeResponse } from '../http/probe-client.js';
import { extractModelArchive } from '../workspace/model-archive.js';
import { removeTree, writeOwnerMarker } from '../workspace/owner.js';
import { warnOnce } from '../log.js';
import { resolveJobDeps, type JobDeps } from './deps.js';
import { probeImage } from './image-probe.js';
import { ResourceScope } from './resource-scope.js';
import { multiModelNotices, startEndpoint, type EndpointHandle, type EndpointInput } from './serving-runner.js';
import { listModelArchives, MODELS_DIR, MultiModelStore } from './multi-model.js';

/** A request to send to the endpoint, and the status the container should answer it with. */
export interface CheckSample {
  /** Shown in the report (a file name). */
  name: string;
  body: Buffer;
  contentType?: string;
  accept?: string;
  /** Default 200. */
  expectStatus?: number;
  /** Sent with InvokeEndpointWithResponseStream: the answer must come as parts, not one block. */
  stream?: boolean;
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
  /** Script mode, as `train` has it: the entry point (relative to sourceDir when given) and the code folder. */
  entryPoint?: string;
  sourceDir?: string;
  /**
   * Run the processing checks (`--process`): a processing job as SageMaker runs it, on `processing`'s
   * inputs and outputs. Alone, it runs no training or serving checks.
   */
  process?: boolean;
  processing?: {
    inputs?: ProcessingInputSpec[];
    outputs?: ProcessingOutputSpec[];
    containerEntrypoint?: string[];
    containerArguments?: string[];
    /** Inputs (by name) to swap in for a run that must fail with /opt/ml/output/message. */
    failInputs?: ProcessingInputSpec[];
  };
  /** SIGTERM → SIGKILL grace for processing (default 120 s, training's: UNCONFIRMED for processing). */
  processStopGraceSeconds?: number;
  /** A multi-model endpoint's model store (`--multi-model DIR`): runs the /models API check instead of the single-model serving checks. */
  multiModel?: string;
  /** Warnings fail the check too. */
  strict?: boolean;
  /** Keep the training job folders here; by default they go to a workspace removed after the check. */
  outputDir?: string;
  /** Without outputDir: where the training job folders stay when the check fails (the CLI: its output folder). */
  keepFailedIn?: string;
}

/**
 * The job words a check runs: `--train` or `--serve` alone picks that one, `--no-train` or
 * `--no-serve` drops one, both negated leaves the image checks only; nothing given runs both.
 */
export function checkWords(input: Pick<CheckInput, 'train' | 'serve' | 'process'>): JobWord[] {
  // --process alone is a processing check: no `train` or `serve` word.
  if (input.process && input.train === undefined && input.serve === undefined) return [];
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
function runRecord<T = TrainingResult>(err: unknown, deps: JobDeps): T {
  const details = jobRecordOf<T>(err);
  if (!details || deps.stop?.aborted) throw err;
  return details;
}

/** Stops the check between steps once the user pressed Ctrl-C. */
function throwIfInterrupted(deps: JobDeps): void {
  if (deps.stop?.aborted) throw new InterruptedError();
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Runs the conformance checks of CONTRACT §11 on an image: the static ones on its configuration and
 * files, then (as asked) a real training job and a real endpoint, each probed the way SageMaker
 * would use them. Every container, network and workspace it creates is removed before it settles.
 */
export async function runConformanceCheck(input: CheckInput, depsIn: Partial<JobDeps> = {}, onCheck?: CheckListener): Promise<ConformanceReport> {
  // Every training run and endpoint start warns about the same image: once is enough.
  const resolved = resolveJobDeps(depsIn);
  const deps: JobDeps = { ...resolved, log: warnOnce(resolved.log) };
  const startedAt = new Date(deps.now());
  const words = checkWords(input);
  const runs = input.staticOnly ? [] : words;
  const instanceType = input.instanceType ?? 'ml.m5.large';
  const results: CheckResult[] = [];
  // --strict: a warning fails the image too, and says so where it is read.
  const reported = () => (input.strict ? results.map((c) => (c.status === 'warn' ? { ...c, status: 'fail' as const, observed: `${c.observed} (a warning, failed by --strict)` } : c)) : results);
  const add = (...checks: CheckResult[]) => {
    for (const c of checks) {
      results.push(c);
      onCheck?.(c);
    }
  };

  // Bad input is found before anything runs (exit 2), never half-way through the checks.
  const runsProcess = Boolean(input.process) && !input.staticOnly;
  const problems = [
    ...(runs.includes('train') ? [...(await checkChannelSources(input.channels ?? [], deps.cwd)), ...(await checkChannelSources(input.failChannels ?? [], deps.cwd))] : []),
    ...(runsProcess ? [...(await checkInputSources(input.processing?.inputs ?? [], deps.cwd)), ...(await checkInputSources(input.processing?.failInputs ?? [], deps.cwd))] : []),
  ];
  if (problems.length) throw new InvalidSpecError(problems, 'the check');
  await deps.docker.ping();
  const [image, engine] = await Promise.all([deps.docker.requireLocalImage(input.image), deps.docker.info()]);
  if (words.includes('serve')) for (const n of multiModelNotices(input.image, image.labels, input.environment ?? {})) deps.log.warn(n);
  const kinds = [...words.map((w) => `\`${w}\``), ...(input.process ? ['a processing job'] : [])];
  deps.log.info(`Checking ${input.image} (${image.id.slice(7, 19)}) for ${kinds.join(' and ') || 'its configuration'} on ${instanceType}${input.staticOnly ? ', without running it' : ''}…`);
  const evidence = await probeImage(deps.docker, image, input.image, engine, { owner: deps.owner, words });
  const staticChecks = judgeImage(evidence, { words, instanceType, ...(input.sourceDir !== undefined ? { sourceDir: input.sourceDir } : {}) });
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
    if (!outputDir && (runs.includes('train') || runsProcess)) {
      // The training runs' folders (logs, describe.json, model.tar.gz) go away after a passing check,
      // and stay for a failing one, in keepFailedIn when given: a failure loses nothing.
      const dir = join(input.keepFailedIn ?? deps.tmpRoot, run);
      outputDir = dir;
      await mkdir(dir, { recursive: true });
      scope.defer(`job folders ${dir}`, async () => {
        if (input.keepFailedIn && !deps.stop?.aborted && summarize(reported()).verdict === 'fail') deps.log.info(`The failing check's training job folders (logs, describe.json, artifacts) are kept in ${dir}`);
        else await removeTree(dir, deps.log);
      });
      if (!input.keepFailedIn) await writeOwnerMarker(dir, { ...deps.owner, jobName: run, jobType: 'check' });
    }

    let trainedModel: string | undefined;
    let noModel: string | undefined;
    // The endpoint on the trained model starts as soon as the model exists, beside the end of the
    // training run (the engine's diff of its container, the removals), not after it.
    const servesTrained = runs.includes('serve') && input.model === undefined && input.multiModel === undefined && !failedStatic('image.serve-program');
    let early: { endpoint: Promise<StartedEndpoint>; at: number; model: string; taken?: boolean } | undefined;
    const serveEarly = (model: string) => {
      deps.log.info(`Serving the model.tar.gz the training run produced (${model})…`);
      early = { endpoint: endpointStarter(input, deps, { run, instanceType, model })({}, 'serve'), at: Date.now(), model };
      early.endpoint.catch(() => {});
    };
    scope.defer('the endpoint on the trained model', () => stopIfStarted(early && !early.taken ? early.endpoint : undefined));
    if (runs.includes('train')) {
      if (failedStatic('image.train-program') || failedStatic('image.architecture')) {
        const why = failedStatic('image.train-program') ? 'the image has nothing to run for `train` (see image.train-program)' : 'the image cannot run on this instance type (see image.architecture)';
        for (const id of ['train.exits-0', 'train.model-written', 'train.model-archive', 'train.writes-outside', 'train.sigterm', 'train.failure-file'] as const) add(skipped(id, why));
        noModel = 'the training run could not run (see the image checks); pass --model';
      } else {
        const outcome = await checkTraining(input, deps, { run, outputDir: outputDir!, instanceType, add, evidence, ...(hint ? { hint } : {}), ...(servesTrained ? { onModelReady: serveEarly } : {}) });
        trainedModel = outcome.model;
        noModel = outcome.noModel;
      }
    }

    if (runsProcess) {
      throwIfInterrupted(deps);
      if (failedStatic('image.architecture')) {
        for (const id of ['process.exits-0', 'process.outputs-written', 'process.writes-outside', 'process.sigterm', 'process.exit-message'] as const) add(skipped(id, 'the image cannot run on this instance type (see image.architecture)'));
      } else await checkProcessing(input, deps, { run, outputDir: outputDir!, instanceType, add, evidence, ...(hint ? { hint } : {}) });
    }

    if (runs.includes('serve')) {
      throwIfInterrupted(deps);
      const model = input.model ?? trainedModel;
      const serveIds = ['serve.ready', 'serve.bind-to-port', 'serve.ping', 'serve.sample', 'serve.concurrency', 'serve.malformed', 'serve.sigterm', 'serve.no-network'] as const;
      if (failedStatic('image.serve-program')) {
        for (const id of serveIds) add(skipped(id, 'the image has nothing to run for `serve` (see image.serve-program)'));
      } else if (input.multiModel !== undefined) {
        deps.log.info(`Serving the model store ${input.multiModel} as a multi-model endpoint…`);
        await checkMultiModel(input, deps, { run, instanceType, add, evidence, ...(hint ? { hint } : {}) });
        for (const id of serveIds.filter((i) => i !== 'serve.ready')) add(skipped(id, 'a multi-model endpoint: these single-model checks are not run on it yet (see serve.multi-model)'));
      } else if (!model) {
        const why = runs.includes('train')
          ? (noModel ?? 'there is no model to serve; pass --model')
          : 'no model given: pass --model DIR|model.tar.gz, or --train to serve the model the training run produces';
        for (const id of serveIds) add(skipped(id, why));
      } else {
        const firstStart = early?.model === model ? early : undefined;
        if (firstStart) firstStart.taken = true;
        else deps.log.info(`Serving ${input.model ? model : `the model.tar.gz the training run produced (${model})`}…`);
        await checkServing(input, deps, { run, model, instanceType, add, evidence, bindLabel: image.labels[BIND_TO_PORT_LABEL] === 'true', ...(hint ? { hint } : {}), ...(firstStart ? { firstStart } : {}) });
      }
    }
  } finally {
    await scope.dispose();
  }

  const checks = reported();
  const { summary, verdict } = summarize(checks);
  return {
    schemaVersion: 1,
    image: input.image,
    imageId: image.id,
    instanceType,
    startedAt: startedAt.toISOString(),
    durationMs: Math.round(deps.now() - startedAt.getTime()),
    ...(input.strict ? { strict: true } : {}),
    pattern: detectPattern(evidence, words),
    verdict,
    summary,
    checks,
  };
}

interface Ctx {
  run: string;
  /** Why a run might fail for a reason the static checks already named (a non-root USER). */
  hint?: string;
  instanceType: string;
  evidence: ImageEvidence;
  add: (...checks: CheckResult[]) => void;
}

/** Container output of a check's runs, tagged with the run. */
function tagged(deps: JobDeps, tag: string): Partial<JobDeps> {
  return { ...deps, ...(deps.onLine ? { onLine: (line: string, source: string) => deps.onLine!(line, `${tag} ${source}`) } : {}) };
}

/** The first and last time a run printed a line: how long its program was busy. */
class OutputClock {
  first?: number;
  last?: number;
  mark(): void {
    const now = Date.now();
    this.first ??= now;
    this.last = now;
  }
  get busyMs(): number | undefined {
    return this.first !== undefined && this.last !== undefined ? this.last - this.first : undefined;
  }
}

/** A run's output, tagged and with a clock on it. */
function clocked(deps: JobDeps, tag: string, clock: OutputClock): Partial<JobDeps> {
  const base = tagged(deps, tag);
  return {
    ...base,
    onLine: (line, source) => {
      clock.mark();
      base.onLine?.(line, source);
    },
  };
}

/**
 * A run stopped the way StopTrainingJob or StopProcessingJob stops one: SIGTERM `delayMs` after its
 * first line of output (or 10 s in, if it prints nothing). Just before the signal, the process table
 * says who is PID 1, which is who gets it.
 */
async function stoppedRun<R>(
  deps: JobDeps,
  opts: { jobName: string; tag: string; delayMs: number; run: (deps: Partial<JobDeps>) => Promise<R> },
): Promise<{ result: R; procs?: ContainerProcess[]; sentAfterMs?: number; clock: OutputClock }> {
  const stop = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  let procs: ContainerProcess[] | undefined;
  let sentAfterMs: number | undefined;
  const clock = new OutputClock();
  const sendSigterm = async () => {
    const [container] = await deps.docker.listContainers([`${LABEL.jobName}=${opts.jobName}`]).catch(() => []);
    procs = container ? await deps.docker.processes(container.id) : undefined;
    sentAfterMs = clock.first !== undefined ? Date.now() - clock.first : undefined;
    stop.abort();
  };
  const arm = (ms: number) => {
    if (!timer) timer = setTimeout(() => void sendSigterm(), ms);
  };
  const base = clocked(deps, opts.tag, clock);
  const fallback = setTimeout(() => arm(0), 10_000 + opts.delayMs);
  const result = await opts
    .run({
      ...base,
      stop: deps.stop ? AbortSignal.any([stop.signal, deps.stop]) : stop.signal,
      onLine: (line, source) => {
        arm(opts.delayMs);
        base.onLine?.(line, source);
      },
    })
    .catch((err: unknown) => runRecord<R>(err, deps))
    .finally(() => {
      clearTimeout(timer);
      clearTimeout(fallback);
    });
  return { result, ...(procs ? { procs } : {}), ...(sentAfterMs !== undefined ? { sentAfterMs } : {}), clock };
}

async function checkTraining(input: CheckInput, deps: JobDeps, ctx: Ctx & { outputDir: string; onModelReady?: (model: string) => void }): Promise<{ model?: string; noModel?: string }> {
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
    ...(input.entryPoint !== undefined ? { entryPoint: input.entryPoint } : {}),
    ...(input.sourceDir !== undefined ? { sourceDir: input.sourceDir } : {}),
    outputDir: ctx.outputDir,
    ...over,
  });
  const { add } = ctx;

  // Three runs side by side, as they do not depend on each other: the job as SageMaker would run it,
  // a second run stopped with SIGTERM once under way (StopTrainingJob), and a run on bad input. Their
  // results are judged once all have ended, in that order.
  deps.log.info('Training: the job as SageMaker runs it…');
  const started = Date.now();
  const firstClock = new OutputClock();
  let tail: readonly string[] = [];
  let took = 0;
  const mainRun = runTrainingJob(job('', { reportChanges: true, ...(ctx.onModelReady ? { onModelReady: ctx.onModelReady } : {}) }), clocked(deps, 'train', firstClock))
    .catch((err: unknown) => {
      const r = runRecord(err, deps);
      if (err instanceof AlgorithmError) tail = err.logTail;
      return r;
    })
    .finally(() => (took = Date.now() - started));
  deps.log.info(`Training: a second run, stopped with SIGTERM (grace ${grace} s)…`);
  const sigtermJob = job('-sigterm');
  const sigtermRun = stoppedRun(deps, {
    jobName: sigtermJob.trainingJobName!,
    tag: 'train:sigterm',
    delayMs: input.sigtermDelayMs ?? 1000,
    run: (d) => runTrainingJob(sigtermJob, d),
  });
  const badRun = (() => {
    if (!input.failChannels?.length) return Promise.resolve(undefined);
    deps.log.info(`Training: a run on bad input (${input.failChannels.map((c) => c.channelName).join(', ')})…`);
    const bad = new Map((input.channels ?? []).map((c) => [c.channelName, c]));
    for (const c of input.failChannels) bad.set(c.channelName, c);
    return runTrainingJob(job('-bad-input', { channels: [...bad.values()] }), tagged(deps, 'train:bad-input')).catch((err: unknown) => runRecord(err, deps));
  })();
  const [result, { result: stopped, procs, sentAfterMs }, failed] = await Promise.all([mainRun, sigtermRun, badRun]);
  const completed = result.status === 'Completed';
  if (completed) add(checkResult('train.exits-0', 'pass', `Completed in ${seconds(took)}`, { durationMs: took }));
  else if (result.secondaryStatus === 'MaxRuntimeExceeded') add(checkResult('train.exits-0', 'fail', `still running after MaxRuntimeInSeconds; stopped`, { durationMs: took }));
  else {
    // With no failure file the FailureReason says little: the last lines of the log say more.
    const last = result.failureFile ? '' : lastOutput(tail);
    const typeHint = hyperparameterHint(`${result.failureReason ?? ''}\n${tail.join('\n')}`, input.hyperParameters ?? {});
    add(
      checkResult('train.exits-0', 'fail', `Failed with exit code ${result.exitCode}: ${result.failureReason ?? ''}.${last}${ctx.hint ? ` (${ctx.hint})` : ''}`, {
        durationMs: took,
        ...(typeHint ? { fix: typeHint } : {}),
      }),
    );
  }

  const artifact = result.modelArtifact;
  let noModel: string | undefined;
  if (!completed) {
    const why = 'the training run did not complete (see train.exits-0)';
    add(skipped('train.model-written', why), skipped('train.model-archive', why), skipped('train.writes-outside', why));
    noModel = 'the training run produced no model to serve (see train.exits-0); pass --model';
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
      noModel = 'the model.tar.gz the training run produced cannot be extracted into /opt/ml/model (see train.model-archive), as SageMaker would refuse it; pass --model to check serving';
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
    add(writesOutsideResult('train.writes-outside', writesOutside(result.changes ?? []), 'nothing outside /opt/ml/model, /opt/ml/output, /opt/ml/checkpoints, scratch folders and interpreter caches'));
  }

  // SIGTERM: PID 1 (who gets it) was read just before the signal.
  add(
    sigtermResult('train.sigterm', stopped, { sentAfterMs, busyMs: completed ? firstClock.busyMs : undefined, tooShort: 'give it enough data or epochs to run for a few seconds' }, () =>
      sigtermAdvice(procs, { word: 'train', graceSeconds: grace, entrypoint: ctx.evidence.entrypoint, trainingToolkit: hasTrainingToolkit(ctx.evidence) }),
    ),
  );

  // Bad input: the job must fail, and say why in /opt/ml/output/failure.
  if (!failed) {
    add(skipped('train.failure-file', 'no --fail-channel given: sm-local has no input the algorithm should reject'));
  } else {
    if (failed.status === 'Completed') add(checkResult('train.failure-file', 'fail', 'the job completed (exit 0) on the bad input'));
    else if (failed.status !== 'Failed') add(checkResult('train.failure-file', 'fail', `the job did not fail on the bad input (${failed.secondaryStatus})`));
    else if (!failed.failureFile) add(checkResult('train.failure-file', 'fail', `exit code ${failed.exitCode}, but no /opt/ml/output/failure: FailureReason would be "${failed.failureReason}"`));
    else add(checkResult('train.failure-file', 'pass', `exit code ${failed.exitCode}; FailureReason: ${failed.failureReason}`));
  }
  return { ...(completed && artifact && !noModel ? { model: artifact } : {}), ...(noModel ? { noModel } : {}) };
}

/** `*.writes-outside`: the files a run wrote where SageMaker keeps nothing, as a warning, or the pass text. */
function writesOutsideResult(id: 'train.writes-outside' | 'process.writes-outside', outside: readonly string[], passText: string): CheckResult {
  return outside.length
    ? checkResult(id, 'warn', `wrote ${outside.slice(0, 5).join(', ')}${outside.length > 5 ? ` and ${outside.length - 5} more` : ''}: lost when the job ends`)
    : checkResult(id, 'pass', passText);
}

/**
 * `*.sigterm` from a stopped run: skipped when the job ended before the signal, a warning with the
 * advice when SIGKILL was needed, else what was seen.
 */
function sigtermResult(
  id: 'train.sigterm' | 'process.sigterm',
  stopped: { status: string; hosts: { exitCode?: number; killed?: boolean; stopMs?: number }[] },
  seen: { sentAfterMs?: number; busyMs: number | undefined; tooShort: string },
  advice: () => { observed: string; fix: string },
): CheckResult {
  const host = stopped.hosts[0];
  if (stopped.status !== 'Stopped') return skipped(id, `the job ended on its own (${stopped.status}, exit ${host?.exitCode}) before SIGTERM was sent; ${seen.tooShort}`);
  if (host?.killed) {
    const a = advice();
    return checkResult(id, 'warn', a.observed, { fix: a.fix });
  }
  // Stopped before its container ran (the engine took longer to start it than the check waited).
  if (host?.exitCode === undefined) return skipped(id, `the stop came before the container had started, so nothing was seen of SIGTERM; ${seen.tooShort}`);
  return checkResult(id, 'pass', sigtermExitObservation(host?.stopMs, host?.exitCode, seen.sentAfterMs, seen.busyMs));
}

/** Files (not folders) at any depth under a local folder; 0 when it is missing. */
async function countFiles(dir: string): Promise<number> {
  let n = 0;
  for (const e of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    if (e.isDirectory()) n += await countFiles(join(dir, e.name));
    else n += 1;
  }
  return n;
}

/**
 * The processing checks (CONTRACT §6, §11): the job as SageMaker runs it on the given inputs, what it
 * wrote (every output, nothing outside them), a second run stopped with SIGTERM, and whether a failed
 * run says why in /opt/ml/output/message.
 */
async function checkProcessing(input: CheckInput, deps: JobDeps, ctx: Ctx & { outputDir: string }): Promise<void> {
  const given = input.processing ?? {};
  const grace = input.processStopGraceSeconds ?? PROCESSING_STOP_GRACE_SECONDS;
  const job = (suffix: string, over: Partial<ProcessingJobInput> = {}): ProcessingJobInput => ({
    image: input.image,
    processingJobName: `${ctx.run}-process${suffix}`.slice(0, 63),
    instanceType: ctx.instanceType,
    inputs: given.inputs ?? [],
    outputs: given.outputs ?? [],
    environment: input.environment ?? {},
    ...(given.containerEntrypoint ? { containerEntrypoint: given.containerEntrypoint } : {}),
    ...(given.containerArguments ? { containerArguments: given.containerArguments } : {}),
    stopGraceSeconds: grace,
    ...(input.maxRuntimeSeconds ? { stoppingCondition: { maxRuntimeInSeconds: input.maxRuntimeSeconds } } : {}),
    outputDir: ctx.outputDir,
    ...over,
  });
  const { add } = ctx;
  const said = (r: ProcessingResult) => (r.exitMessage !== undefined ? `; ExitMessage: ${r.exitMessage}` : '');

  deps.log.info('Processing: the job as SageMaker runs it…');
  const started = Date.now();
  const firstClock = new OutputClock();
  let tail: readonly string[] = [];
  const result = await runProcessingJob(job('', { reportChanges: true }), clocked(deps, 'process', firstClock)).catch((err: unknown) => {
    const r = runRecord<ProcessingResult>(err, deps);
    if (err instanceof AlgorithmError) tail = err.logTail;
    return r;
  });
  const took = Date.now() - started;
  const completed = result.status === 'Completed';
  if (completed) add(checkResult('process.exits-0', 'pass', `Completed in ${seconds(took)}`, { durationMs: took }));
  else if (result.status === 'Stopped') add(checkResult('process.exits-0', 'fail', 'still running after MaxRuntimeInSeconds; stopped', { durationMs: took }));
  else {
    const last = result.exitMessage === undefined ? lastOutput(tail) : '';
    add(checkResult('process.exits-0', 'fail', `Failed with exit code ${result.exitCode}: ${result.failureReason ?? ''}${said(result)}.${last}${ctx.hint ? ` (${ctx.hint})` : ''}`, { durationMs: took }));
  }

  const spec = job('');
  if (!completed) {
    const why = 'the processing run did not complete (see process.exits-0)';
    add(skipped('process.outputs-written', why), skipped('process.writes-outside', why));
  } else {
    if (!result.outputs.length) add(skipped('process.outputs-written', 'the job declares no outputs (--process-output)'));
    else {
      const counts = await Promise.all(result.outputs.map(async (o) => ({ ...o, files: await countFiles(o.destination) })));
      const empty = counts.filter((o) => !o.files);
      add(
        empty.length
          ? checkResult('process.outputs-written', 'warn', `nothing was written to ${empty.map((o) => `${o.outputName} (${(spec.outputs ?? []).find((x) => x.outputName === o.outputName)?.localPath ?? `/opt/ml/processing/output/${o.outputName}`})`).join(', ')}`)
          : checkResult('process.outputs-written', 'pass', counts.map((o) => `${o.outputName}: ${o.files} file${o.files === 1 ? '' : 's'}`).join(', ')),
      );
    }
    const described = result.describe as { ProcessingInputs?: { S3Input: { LocalPath: string } }[]; ProcessingOutputConfig?: { Outputs: { S3Output: { LocalPath: string } }[] } };
    const areas = [
      PROCESSING_PATHS.config,
      PROCESSING_PATHS.output,
      ...(described.ProcessingInputs ?? []).map((i) => i.S3Input.LocalPath),
      ...(described.ProcessingOutputConfig?.Outputs ?? []).map((o) => o.S3Output.LocalPath),
    ];
    add(writesOutsideResult('process.writes-outside', writesOutside(result.changes ?? [], areas), 'nothing outside the outputs, /opt/ml/output, scratch folders and interpreter caches'));
  }

  deps.log.info(`Processing: a second run, stopped with SIGTERM (grace ${grace} s)…`);
  const sigtermJob = job('-sigterm');
  const { result: stopped, procs, sentAfterMs } = await stoppedRun(deps, {
    jobName: sigtermJob.processingJobName!,
    tag: 'process:sigterm',
    delayMs: input.sigtermDelayMs ?? 1000,
    run: (d) => runProcessingJob(sigtermJob, d),
  });
  add(
    sigtermResult('process.sigterm', stopped, { sentAfterMs, busyMs: completed ? firstClock.busyMs : undefined, tooShort: 'give it enough input to run for a few seconds' }, () =>
      sigtermAdvice(procs, { word: 'process', graceSeconds: grace, entrypoint: given.containerEntrypoint ?? ctx.evidence.entrypoint, trainingToolkit: false }),
    ),
  );

  // A failed run must say why: ExitMessage is what DescribeProcessingJob and pipelines show.
  const judgeMessage = (r: ProcessingResult, what: string) =>
    r.status === 'Completed'
      ? checkResult('process.exit-message', 'warn', `the job completed (exit 0) on ${what}`)
      : r.status !== 'Failed'
        ? checkResult('process.exit-message', 'warn', `the job did not fail on ${what} (${r.status})`)
        : r.exitMessage === undefined
          ? checkResult('process.exit-message', 'warn', `exit code ${r.exitCode} on ${what}, but no /opt/ml/output/message: the job has no ExitMessage`)
          : checkResult('process.exit-message', 'pass', `exit code ${r.exitCode} on ${what}; ExitMessage: ${r.exitMessage}`);
  if (!completed && result.status === 'Failed') add(judgeMessage(result, 'the given inputs'));
  else if (!given.failInputs?.length) add(skipped('process.exit-message', 'no --fail-input given: sm-local has no input the program should reject'));
  else {
    deps.log.info(`Processing: a run on bad input (${given.failInputs.map((i) => i.inputName).join(', ')})…`);
    const bad = new Map((given.inputs ?? []).map((i) => [i.inputName, i]));
    for (const i of given.failInputs) bad.set(i.inputName, { ...bad.get(i.inputName), ...i });
    const failed = await runProcessingJob(job('-bad-input', { inputs: [...bad.values()] }), tagged(deps, 'process:bad-input')).catch((err: unknown) => runRecord<ProcessingResult>(err, deps));
    add(judgeMessage(failed, 'the bad input'));
  }
}

/**
 * A multi-model container driven as SageMaker drives it (CONTRACT §7.2): a model loaded and invoked
 * through the runtime (TargetModel), then the /models API straight on the container: a second load
 * (409), the list and get shapes, unload, and 404 for get and invoke once unloaded.
 */
async function checkMultiModel(input: CheckInput, deps: JobDeps, ctx: Ctx): Promise<void> {
  const { add } = ctx;
  const [target] = await listModelArchives(input.multiModel!).catch(() => [] as string[]);
  if (!target) return add(skipped('serve.ready', `no model .tar.gz in ${input.multiModel}`), skipped('serve.multi-model', `no model .tar.gz in ${input.multiModel}`));
  let endpoint: EndpointHandle;
  try {
    endpoint = await startEndpoint(
      { image: input.image, endpointName: ctx.run.slice(0, 63), multiModel: input.multiModel!, instanceType: ctx.instanceType, environment: input.environment ?? {}, stopGraceSeconds: input.serveStopGraceSeconds ?? SERVING_STOP_GRACE_SECONDS, port: 0, ...(input.startupTimeoutSeconds ? { startupTimeoutSeconds: input.startupTimeoutSeconds } : {}) },
      tagged(deps, 'serve'),
    );
  } catch (err) {
    if (!(err instanceof ServingStartupError)) throw err;
    add(checkResult('serve.ready', 'fail', `${err.message}${lastOutput(err.logTail)}`, { ...(err.hint ? { fix: err.hint } : {}) }));
    return add(skipped('serve.multi-model', 'the endpoint did not become ready (see serve.ready)'));
  }
  try {
    add(checkResult('serve.ready', 'pass', `ready in ${seconds(endpoint.readyMs)}`));
    const problems: string[] = [];
    const seen: string[] = [];
    const first = await endpoint.invoke(input.samples?.[0]?.body ?? '{}', { targetModel: target, ...(input.samples?.[0]?.contentType ? { contentType: input.samples[0].contentType } : {}) }).then(
      (r) => `${target}: loaded and invoked (${r.body.length} B)`,
      (err: unknown) => {
        problems.push(`invoking ${target} through the runtime failed: ${err instanceof InvokeError ? `${err.status} ${err.errorType ?? ''} ${err.body.toString().slice(0, 200)}` : (err as Error).message}`);
        return undefined;
      },
    );
    if (first) seen.push(first);
    const base = endpoint.containerUrl;
    const name = MultiModelStore.nameOf(target);
    const url = `${MODELS_DIR}/${name}/model`;
    const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: string) => {
      const r = await probeRequest(`${base}${path}`, { method, timeoutMs: 10_000, keepBytes: 64 * 1024, ...(body !== undefined ? { body: Buffer.from(body), headers: { 'content-type': 'application/json' } } : {}) });
      return r;
    };
    const json = (r: ProbeResponse) => {
      try {
        return JSON.parse(r.head) as unknown;
      } catch {
        return undefined;
      }
    };
    if (first) {
      const again = await call('POST', '/models', JSON.stringify({ model_name: name, url }));
      if (again.status === 409) seen.push('a second load: 409');
      else problems.push(`a second load of a loaded model answered ${answered(again)}, not 409`);
      const list = json(await call('GET', '/models')) as { models?: { modelName?: string; modelUrl?: string }[] } | undefined;
      if (list?.models?.some((m) => m.modelName === name && m.modelUrl === url)) seen.push('GET /models lists it');
      else problems.push(`GET /models does not list {"modelName": "${name}", "modelUrl": "${url}"} under "models" (got ${JSON.stringify(list)?.slice(0, 200)})`);
      const got = json(await call('GET', `/models/${name}`)) as { modelName?: string; modelUrl?: string } | undefined;
      if (got?.modelName === name && got.modelUrl === url) seen.push('GET /models/<name> describes it');
      else problems.push(`GET /models/${name} is not {"modelName": "${name}", "modelUrl": "${url}"} (got ${JSON.stringify(got)?.slice(0, 200)})`);
      const unload = await call('DELETE', `/models/${name}`);
      if (unload.status !== undefined && unload.status >= 200 && unload.status < 300) seen.push('DELETE unloads it');
      else problems.push(`DELETE /models/${name} answered ${answered(unload)}`);
      const gone = await call('GET', `/models/${name}`);
      if (gone.status !== 404) problems.push(`GET /models/${name} after the unload answered ${answered(gone)}, not 404`);
      const invokeGone = await call('POST', `/models/${name}/invoke`, '{}');
      if (invokeGone.status !== 404) problems.push(`POST /models/${name}/invoke after the unload answered ${answered(invokeGone)}, not 404`);
      if (gone.status === 404 && invokeGone.status === 404) seen.push('404 for get and invoke once unloaded');
    }
    add(problems.length ? checkResult('serve.multi-model', 'fail', problems.join('; ')) : checkResult('serve.multi-model', 'pass', seen.join('; ')));
  } finally {
    await endpoint.stop();
  }
}

/**
 * A stopped training run that exited within the grace, saying only what was seen: it exited because
 * of the signal when it ended well before an unstopped run's output did; otherwise it may simply have
 * finished, and SIGTERM handling was not seen.
 */
export function sigtermExitObservation(stopMs: number | undefined, exitCode: number | undefined, sentAfterMs: number | undefined, unstoppedBusyMs: number | undefined): string {
  const exited = `exited ${stopMs !== undefined ? seconds(stopMs) : ''} after SIGTERM (exit code ${exitCode})`;
  if (stopMs === undefined || sentAfterMs === undefined || unstoppedBusyMs === undefined) return `${exited}; the unstopped run gave no length to compare with, so whether the signal ended it was not seen`;
  const ranFor = sentAfterMs + stopMs;
  if (ranFor < unstoppedBusyMs * 0.8) return `${exited}, ${seconds(ranFor)} into a job that runs ${seconds(unstoppedBusyMs)} unstopped: it stopped on SIGTERM`;
  return `${exited}, ${seconds(ranFor)} into a job that runs ${seconds(unstoppedBusyMs)} unstopped: it finished on its own, so SIGTERM handling was not seen (run it longer than the grace, e.g. more epochs, to see it)`;
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

const STREAM_FIX =
  'Write the answer as it is produced: a chunked response (no Content-Length), each part flushed as soon as it exists (a token, a row). A server that writes it all at once makes InvokeEndpointWithResponseStream clients wait for the end, as InvokeEndpoint would.';

/**
 * A streaming sample through the runtime's InvokeEndpointWithResponseStream route: it passes when
 * the container's answer reaches the client as more than one part, the first before the last.
 */
async function streamSample(endpoint: EndpointHandle, s: CheckSample, id: string, title: string): Promise<CheckResult> {
  const { invokeEndpointStream } = await import('../http/client.js');
  const t = performance.now();
  let firstMs: number | undefined;
  let bytes = 0;
  try {
    const out = await invokeEndpointStream(`http://127.0.0.1:${endpoint.port}`, endpoint.name, s.body, (part) => {
      firstMs ??= performance.now() - t;
      bytes += part.length;
    }, { ...(s.contentType ? { contentType: s.contentType } : {}), ...(s.accept ? { accept: s.accept } : {}), timeoutMs: INVOCATION_TIMEOUT_MS });
    const ms = performance.now() - t;
    if (out.parts < 2) {
      return checkResult('serve.sample', 'fail', `the answer came as ${out.parts} part${out.parts === 1 ? '' : 's'} (${bytes} bytes after ${ms.toFixed(0)} ms): nothing streamed`, { id, title, fix: STREAM_FIX, durationMs: ms });
    }
    return checkResult('serve.sample', 'pass', `${out.parts} parts, ${bytes} bytes, the first after ${firstMs!.toFixed(0)} ms, the last after ${ms.toFixed(0)} ms`, { id, title, durationMs: ms });
  } catch (err) {
    return checkResult('serve.sample', 'fail', `InvokeEndpointWithResponseStream failed: ${(err as Error).message}`, { id, title, durationMs: performance.now() - t });
  }
}

const CRASH_FIX =
  'The serving process died on a request: read its output above (a segfault in native code, an out-of-memory kill, an unhandled exception in a single-process server). On SageMaker the instance then fails its health checks and is replaced, and clients get errors until it is back.';

/**
 * Watches a serving container for its exit, so that the first check that meets a dead server names
 * the crash, and the checks after it are skipped for depending on a running server.
 */
class ServerWatch {
  gone?: { exitCode: number; tail: string[] };
  /** The check that saw it go. */
  seenBy?: string;
  constructor(private readonly endpoint: EndpointHandle) {
    endpoint.exited.then((e) => (this.gone = e), () => undefined);
  }

  /** After a request that got no answer or a 5xx: has the container exited (waits up to a second for the engine to say)? */
  async settle(r: ProbeResponse | readonly ProbeResponse[]): Promise<void> {
    const all = Array.isArray(r) ? r : [r as ProbeResponse];
    if (this.gone || !all.some((x) => x.status === undefined || x.status >= 500)) return;
    await Promise.race([this.endpoint.exited.catch(() => undefined), new Promise((done) => setTimeout(done, 1000))]);
  }

  /** The observation of the check that found the server gone (once), and marks who saw it. */
  crash(id: string, during: string): string {
    this.seenBy ??= id;
    return `the server exited with ${describeExit(this.gone!.exitCode)} ${during}.${lastOutput(this.gone!.tail)}`;
  }

  get skipReason(): string {
    return `depends on a running server: the container exited with ${describeExit(this.gone!.exitCode)} (see ${this.seenBy})`;
  }
}

/** A started endpoint of a check run, or why it did not start as an endpoint can fail on SageMaker. */
type StartedEndpoint = EndpointHandle | { problem: string; fix?: string };

/**
 * How a check run starts an endpoint of the image on a model. A start that fails the way an endpoint
 * can fail on SageMaker (not ready, a model archive it cannot extract) is an observation, never the end
 * of the check run.
 */
function endpointStarter(input: CheckInput, deps: JobDeps, ctx: { run: string; instanceType: string; model: string }): (over: Partial<EndpointInput>, tag: string) => Promise<StartedEndpoint> {
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
  const windowSeconds = input.startupTimeoutSeconds ?? 240;
  return async (over, tag) => {
    try {
      return await startEndpoint(spec(over), tagged(deps, tag));
    } catch (err) {
      if (err instanceof ServingStartupError) {
        if (!err.observation) return { problem: `${err.message}${lastOutput(err.logTail)}`, ...(err.hint ? { fix: err.hint } : {}) };
        const advice = readinessAdvice(err.observation, { windowSeconds });
        return { problem: advice.observed, fix: advice.fix };
      }
      if (err instanceof ModelArchiveError || err instanceof InputPathError) return { problem: err.message, ...(err.hint ? { fix: err.hint } : {}) };
      throw err;
    }
  };
}

const isHandle = (x: StartedEndpoint): x is EndpointHandle => 'stop' in x;

/**
 * The serving checks on `model`. `firstStart` is the endpoint's first start when it began earlier
 * (beside the end of the training run that made the model), with when it began.
 */
async function checkServing(input: CheckInput, deps: JobDeps, ctx: Ctx & { model: string; bindLabel: boolean; firstStart?: { endpoint: Promise<StartedEndpoint>; at: number } }): Promise<void> {
  const { add } = ctx;
  const grace = input.serveStopGraceSeconds ?? SERVING_STOP_GRACE_SECONDS;
  const samples = input.samples ?? [];
  const start = endpointStarter(input, deps, ctx);

  // Ready, as SageMaker judges it; with the bind-to-port label, on SAGEMAKER_BIND_TO_PORT first.
  let bindToPort: boolean | undefined;
  let started = ctx.firstStart?.at ?? Date.now();
  let first = await (ctx.firstStart?.endpoint ?? start({}, 'serve'));
  if (ctx.bindLabel) {
    if (isHandle(first)) add(checkResult('serve.bind-to-port', 'pass', `answered on SAGEMAKER_BIND_TO_PORT=${first.bindToPort}`));
    else {
      // Did it fail because of the port? Try once more on 8080.
      started = Date.now();
      const again = await start({ bindToPort: false }, 'serve');
      if (isHandle(again)) {
        first = again;
        bindToPort = false;
        add(checkResult('serve.bind-to-port', 'fail', 'with SAGEMAKER_BIND_TO_PORT set, GET /ping never answered on that port; without it, the server came up on 8080'));
      } else {
        first = again;
        add(skipped('serve.bind-to-port', 'the server did not come up on 8080 either (see serve.ready)'));
      }
    }
  } else {
    add(skipped('serve.bind-to-port', `the image does not declare ${BIND_TO_PORT_LABEL}; only multi-container endpoints set SAGEMAKER_BIND_TO_PORT`));
  }
  if (!isHandle(first)) {
    add(checkResult('serve.ready', 'fail', `${first.problem}${ctx.hint ? ` (${ctx.hint})` : ''}`, first.fix ? { fix: first.fix } : {}));
    const why = 'depends on serve.ready: the endpoint never became ready';
    for (const id of ['serve.ping', 'serve.sample', 'serve.concurrency', 'serve.malformed', 'serve.sigterm', 'serve.no-network'] as const) add(skipped(id, why));
    return;
  }

  const endpoint = first;
  // The no-network endpoint starts now, beside the checks on this one (it needs nothing from them);
  // whether its probe means anything is known once sample 1 has been sent.
  const isolatedStart = deps.docker.remote ? undefined : start({ networkIsolation: true, endpointName: `${ctx.run}-isolated`.slice(0, 63), ...(bindToPort === false ? { bindToPort } : {}) }, 'serve:isolated');
  isolatedStart?.catch(() => {});
  let noNetwork: CheckResult | undefined;
  const watch = new ServerWatch(endpoint);
  const statusOf = new Map<string, CheckResult['status']>();
  const record = (c: CheckResult) => {
    statusOf.set(c.id, c.status);
    add(c);
  };
  /** When the server is gone, the check is skipped for it. */
  const skipIfGone = (id: CheckId, extra: { id?: string; title?: string } = {}) => {
    if (!watch.gone) return false;
    record(skipped(id, watch.skipReason, extra));
    return true;
  };
  let stopped = false;
  try {
    record(checkResult('serve.ready', 'pass', `GET /ping answered 200 ${seconds(endpoint.readyMs)} after the start`, { durationMs: Date.now() - started }));
    const base = endpoint.containerUrl;
    const invoke = (s: CheckSample) => sendSample(base, s, deps.stop);

    // Samples: status, Content-Type, size and time, as the runtime would take them.
    if (!samples.length) record(skipped('serve.sample', 'no --sample given: sm-local does not know what the model accepts'));
    for (const [i, s] of samples.entries()) {
      if (s.stream) {
        const id = `serve.sample-${i + 1}`;
        const title = `Sample ${s.name} streams as parts (InvokeEndpointWithResponseStream)`;
        if (skipIfGone('serve.sample', { id, title })) continue;
        record(await streamSample(endpoint, s, id, title));
        throwIfInterrupted(deps);
        continue;
      }
      const want = s.expectStatus ?? 200;
      const title = `Sample ${s.name} gets ${want} within 60 s, with a Content-Type, at most 6 MiB`;
      const id = `serve.sample-${i + 1}`;
      if (skipIfGone('serve.sample', { id, title })) continue;
      const r = await invoke(s);
      throwIfInterrupted(deps);
      await watch.settle(r);
      if (watch.gone) {
        record(checkResult('serve.sample', 'fail', watch.crash(id, `while answering ${s.name} (${answered(r)})`), { id, title, fix: CRASH_FIX, durationMs: r.ms }));
        continue;
      }
      const problems = [
        r.status !== want ? `answered ${answered(r)}${r.head && r.status ? ` (${r.head.slice(0, 120).trim()})` : ''}, expected ${want}` : '',
        r.status !== undefined && !r.contentType ? 'no Content-Type in the response' : '',
        r.bytes > MAX_PAYLOAD_BYTES ? `response of ${r.bytes} bytes, over the 6 MiB (${MAX_PAYLOAD_BYTES} bytes) limit` : '',
      ].filter(Boolean);
      record(
        problems.length
          ? checkResult('serve.sample', 'fail', problems.join('; '), { id, title, durationMs: r.ms })
          : checkResult('serve.sample', 'pass', `${r.status} ${r.contentType}, ${r.bytes} bytes in ${r.ms.toFixed(0)} ms`, { id, title, durationMs: r.ms }),
      );
    }

    // Concurrency, with /ping probed all along; the same request as sample 1, so only once it passed.
    const n = input.concurrency ?? 8;
    const pingsDuring: ProbeResponse[] = [];
    const firstSample = samples[0];
    if (skipIfGone('serve.concurrency')) {
      // the server is gone
    } else if (!firstSample) {
      record(skipped('serve.concurrency', 'no --sample given: sm-local does not know what the model accepts'));
    } else if (statusOf.get('serve.sample-1') !== 'pass') {
      record(skipped('serve.concurrency', `depends on serve.sample-1, which failed: ${n} copies of the same request would fail for the same reason`));
    } else {
      const want = firstSample.expectStatus ?? 200;
      let concurrencyDone = false;
      const pinging = (async () => {
        while (!concurrencyDone) {
          pingsDuring.push(await ping(base));
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      const t = Date.now();
      const all = await Promise.all(Array.from({ length: n }, () => invoke(firstSample)));
      concurrencyDone = true;
      await pinging;
      throwIfInterrupted(deps);
      await watch.settle(all);
      const bad = all.filter((r) => r.status !== want);
      record(
        watch.gone
          ? checkResult('serve.concurrency', 'fail', watch.crash('serve.concurrency', `during ${n} concurrent requests of ${firstSample.name}`), { fix: CRASH_FIX, durationMs: Date.now() - t })
          : bad.length
            ? checkResult('serve.concurrency', 'fail', `${bad.length} of ${n} concurrent requests did not get ${want}: ${[...new Set(bad.map(answered))].join(', ')}`, { durationMs: Date.now() - t })
            : checkResult('serve.concurrency', 'pass', `${n} concurrent requests of ${firstSample.name}: all ${want}, slowest ${Math.max(...all.map((r) => r.ms)).toFixed(0)} ms`, { durationMs: Date.now() - t }),
      );
    }

    // /ping: answered quickly when idle, and while requests ran.
    if (!skipIfGone('serve.ping')) {
      const idle = await pingTimes(base, 5);
      const pings = [...idle, ...pingsDuring];
      const slow = pings.filter((p) => p.status !== 200);
      const slowest = Math.max(...pings.filter((p) => p.status === 200).map((p) => p.ms), 0);
      record(
        slow.length
          ? checkResult('serve.ping', 'fail', `${slow.length} of ${pings.length} pings (${pingsDuring.length} while requests ran) got no 200 within 2 s: ${[...new Set(slow.map(answered))].join(', ')}`)
          : checkResult('serve.ping', 'pass', `${pings.length} pings (${pingsDuring.length} while requests ran), all 200, slowest ${slowest.toFixed(0)} ms`),
      );
    }

    // A malformed request. What SageMaker cannot live with: a server that dies, hangs past the
    // 60-s invocation limit or stops answering /ping. A 5xx only tells the client less than a 4xx.
    // Always an application/json body of garbage, whatever the samples are, so the verdict does not
    // depend on whether (or which) --sample was given.
    if (!skipIfGone('serve.malformed')) {
      const garbage = Buffer.concat([Buffer.from('{"sm-local": "malformed'), Buffer.from([0x00, 0xff, 0xfe, 0x7b, 0x7b])]);
      throwIfInterrupted(deps);
      const m = await probeRequest(`${base}/invocations`, { method: 'POST', body: garbage, headers: { 'content-type': 'application/json' }, timeoutMs: INVOCATION_TIMEOUT_MS, ...(deps.stop ? { signal: deps.stop } : {}) });
      throwIfInterrupted(deps);
      await watch.settle(m);
      const after = watch.gone ? undefined : await ping(base);
      const what = 'a malformed application/json body';
      if (watch.gone) record(checkResult('serve.malformed', 'fail', watch.crash('serve.malformed', `after ${what} (${answered(m)})`), { fix: CRASH_FIX }));
      else if (m.status === undefined) record(checkResult('serve.malformed', 'fail', `${what}: no answer (${m.error}); the client would wait out the 60-s limit and get a ModelError`));
      else if (after?.status !== 200) record(checkResult('serve.malformed', 'fail', `${what} got ${m.status}, and after it GET /ping got ${after ? answered(after) : 'nothing'}: the server did not stay healthy`));
      else if (m.status >= 500) {
        record(
          checkResult(
            'serve.malformed',
            'warn',
            `${what} got ${m.status}${m.head ? ` (${m.head.slice(0, 120).trim()})` : ''}; /ping still 200. Clients see ModelError (424) with OriginalStatusCode ${m.status}, which reads as a fault of the model rather than of their input`,
          ),
        );
      } else record(checkResult('serve.malformed', 'pass', `${what} got ${m.status}; /ping still 200`));
    }

    // No outside network: the same image and model on an internal network, probed before the SIGTERM
    // below so that both endpoints stop side by side.
    noNetwork = await noNetworkResult(isolatedStart, samples, statusOf.get('serve.sample-1'));

    // SIGTERM, as when SageMaker retires the instance; PID 1 (who gets it) read just before.
    if (!skipIfGone('serve.sigterm')) {
      const procs = await deps.docker.processes(endpoint.containerId);
      const [outcome] = await Promise.all([endpoint.stop(), stopIfStarted(isolatedStart)]);
      stopped = true;
      if (outcome.killed) {
        const advice = sigtermAdvice(procs, { word: 'serve', graceSeconds: grace, entrypoint: ctx.evidence.entrypoint, trainingToolkit: false });
        record(checkResult('serve.sigterm', 'warn', advice.observed, { fix: advice.fix }));
      } else record(checkResult('serve.sigterm', 'pass', `exited ${seconds(outcome.stopMs)} after SIGTERM (${describeExit(outcome.exitCode ?? 0)})`));
    }
  } finally {
    await Promise.all([stopped ? undefined : endpoint.stop(), stopIfStarted(isolatedStart)]);
  }
  throwIfInterrupted(deps);
  add(noNetwork ?? skipped('serve.no-network', 'the check run ended before it'));
}

/** Stops an endpoint of the check run once its start has settled, if it started; idempotent. */
async function stopIfStarted(start: Promise<StartedEndpoint> | undefined): Promise<void> {
  const e = await start?.catch(() => undefined);
  if (e && isHandle(e)) await e.stop();
}

/**
 * serve.no-network: the endpoint with no route out, ready, answering sample 1 as the normal one did.
 * Meaningless on a remote engine (the proxy reaches the container at its own address) or when sample
 * 1 failed with the network on.
 */
async function noNetworkResult(isolatedStart: Promise<StartedEndpoint> | undefined, samples: readonly CheckSample[], sample1: CheckResult['status'] | undefined): Promise<CheckResult> {
  if (!isolatedStart) return skipped('serve.no-network', 'needs a local engine: the proxy reaches the container on an isolated network at its own address');
  if (samples.length && sample1 !== 'pass') {
    return skipped('serve.no-network', 'depends on serve.sample-1, which failed with the network on: without it the same request says nothing about the network');
  }
  const isolated = await isolatedStart;
  if (!isHandle(isolated)) return checkResult('serve.no-network', 'fail', `ready on a normal network, but with no route out: ${isolated.problem}`);
  const firstSample = samples[0];
  if (!firstSample) return checkResult('serve.no-network', 'pass', `ready in ${seconds(isolated.readyMs)} with no route out (no --sample to send)`);
  const r = await sendSample(isolated.containerUrl, firstSample);
  const want = firstSample.expectStatus ?? 200;
  return r.status === want
    ? checkResult('serve.no-network', 'pass', `ready in ${seconds(isolated.readyMs)} with no route out; ${firstSample.name} got ${want}`)
    : checkResult('serve.no-network', 'fail', `with no route out, ${firstSample.name} got ${answered(r)} (it got ${want} with the network on)`);
}

