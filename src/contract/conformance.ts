/**
 * `sm-local check`: the conformance checks of a custom image against SageMaker's container contract
 * (CONTRACT §2, §3, §4 and the validation ideas of §11). This module is the catalogue (what each
 * check means, and how to fix a failure), the judgement of the static checks on what an image's
 * configuration and files show, and the verdict. Data in, data out.
 */
import { effectiveArgv, resolveContainerCommand } from './container-command.js';
import { PLATFORM_AREAS } from './paths.js';
import { instanceArchitecture, type ImageFacts } from './image-checks.js';
import { BIND_TO_PORT_LABEL, MULTI_MODEL_LABEL } from './serving.js';

export type CheckStatus = 'pass' | 'warn' | 'fail' | 'skip';
export type CheckGroup = 'image' | 'train' | 'serve' | 'process';
export type JobWord = 'train' | 'serve';

/** One row of the report. */
export interface CheckResult {
  /** Stable id, e.g. `image.entrypoint-form`, `serve.sample-2`. */
  id: string;
  group: CheckGroup;
  title: string;
  status: CheckStatus;
  /** What was observed (for a skip: why the check could not apply). */
  observed: string;
  /** How to fix it; present for `fail` and `warn`. */
  fix?: string;
  /** The CONTRACT section the check rests on. */
  ref: string;
  durationMs?: number;
}

interface CheckDefinition {
  group: CheckGroup;
  title: string;
  ref: string;
  fix: string;
}

/** Every check, in report order. Sample checks (`serve.sample-N`) share `serve.sample`. */
export const CHECKS = {
  'image.entrypoint-form': {
    group: 'image',
    title: 'ENTRYPOINT is in exec form',
    ref: '§2.1',
    fix: 'Write ENTRYPOINT ["program", "arg"] (exec form). SageMaker runs a shell-form ENTRYPOINT too, but /bin/sh is then PID 1: the train/serve word never reaches your program, and neither does SIGTERM (no final save on a stop; SIGKILL after the grace).',
  },
  'image.tini': {
    group: 'image',
    title: 'tini, if used, is followed by "--"',
    ref: '§2.1',
    fix: 'Write ENTRYPOINT ["tini", "--", "program"]: SageMaker\'s docs say tini gets confused by the appended train/serve argument otherwise.',
  },
  'image.train-program': {
    group: 'image',
    title: '`docker run IMAGE train` has something to run',
    ref: '§2.1',
    fix: 'Give the image an exec-form ENTRYPOINT that takes "train" as its last argument, or put an executable file named `train` on its PATH.',
  },
  'image.serve-program': {
    group: 'image',
    title: '`docker run IMAGE serve` has something to run',
    ref: '§2.1',
    fix: 'Give the image an exec-form ENTRYPOINT that takes "serve" as its last argument, or put an executable file named `serve` on its PATH.',
  },
  'image.cmd-replaced': {
    group: 'image',
    title: 'CMD is not needed at run time',
    ref: '§2.1',
    fix: 'SageMaker replaces CMD with the train/serve word: move the arguments the program needs into ENTRYPOINT (or read them from the environment), and keep CMD for local convenience only.',
  },
  'image.architecture': {
    group: 'image',
    title: 'Image platform matches the instance type',
    ref: '§2.1',
    fix: 'Build for the instance family: linux/amd64 for most ml.* types, linux/arm64 for Graviton types (ml.c7g, ml.m6g, …), e.g. docker buildx build --platform linux/amd64.',
  },
  'image.manifest': {
    group: 'image',
    title: 'Pushes as a single-platform image manifest',
    ref: '§2.1',
    fix: 'Push one platform without attestations: docker buildx build --platform linux/amd64 --provenance=false --sbom=false, so ECR gets an image manifest rather than an index.',
  },
  'image.user': {
    group: 'image',
    title: 'Runs as root',
    ref: '§2.1',
    fix: 'Drop the USER instruction (or USER root): SageMaker expects containers to run as root, and /opt/ml may not be writable for other users.',
  },
  'image.opt-ml-files': {
    group: 'image',
    title: 'Ships nothing where SageMaker mounts its own folders',
    ref: '§2.1, §3.2',
    fix: 'Move these files out of /opt/ml/input, /opt/ml/model, /opt/ml/output and /opt/ml/checkpoints (e.g. to /opt/program or /opt/ml/code): SageMaker mounts fresh folders there and hides them.',
  },
  'image.pattern': {
    group: 'image',
    title: 'Custom-container pattern',
    ref: '§2.1, §3.8',
    fix: 'Images built on the SageMaker training toolkit must keep its `train` console script: remove your ENTRYPOINT and name your script with SAGEMAKER_PROGRAM (or use script mode).',
  },
  'image.baked-code': {
    group: 'image',
    title: 'The script given at run time is the one that runs',
    ref: '§3.8',
    fix: 'The training toolkit unpacks sagemaker_submit_directory (--source-dir) into /opt/ml/code only when that folder is empty, so the code baked into the image wins. To run the given code, build the image without /opt/ml/code (keep baked code elsewhere), or drop --source-dir to run the baked program.',
  },
  'train.exits-0': {
    group: 'train',
    title: 'Training exits 0 on the given data',
    ref: '§3.10',
    fix: 'Read the log above; the job must exit 0 when it succeeds.',
  },
  'train.model-written': {
    group: 'train',
    title: 'Training writes a model to /opt/ml/model',
    ref: '§3.2, §3.9',
    fix: 'Save the model under /opt/ml/model (SM_MODEL_DIR with the toolkit): only that folder becomes model.tar.gz.',
  },
  'train.model-archive': {
    group: 'train',
    title: 'model.tar.gz is valid and extracts safely',
    ref: '§3.9, §4.1',
    fix: 'Keep /opt/ml/model to plain files, folders and links that stay inside it: the archive is extracted into /opt/ml/model of the serving container.',
  },
  'train.writes-outside': {
    group: 'train',
    title: 'Training writes only where SageMaker keeps files',
    ref: '§3.2',
    fix: 'Write results under /opt/ml/model, /opt/ml/output/data or /opt/ml/checkpoints (scratch files under /tmp): everything else is lost when the instance goes.',
  },
  'train.sigterm': {
    group: 'train',
    title: 'Training exits within the grace period after SIGTERM',
    ref: '§2.2, §3.11',
    fix: 'Handle SIGTERM (StopTrainingJob, MaxRuntimeInSeconds, spot interruptions): save what you need and exit. PID 1 gets no default action for SIGTERM, so without a handler the signal is ignored and SIGKILL follows the grace.',
  },
  'train.failure-file': {
    group: 'train',
    title: 'Bad input fails the job with /opt/ml/output/failure',
    ref: '§3.10',
    fix: 'On an error, write a one-line reason to /opt/ml/output/failure and exit non-zero: it becomes the job\'s FailureReason (first 1024 characters).',
  },
  'process.exits-0': {
    group: 'process',
    title: 'Processing exits 0 on the given inputs',
    ref: '§6.1',
    fix: 'Read the log above; every container of a processing job must exit 0 for the job to complete.',
  },
  'process.outputs-written': {
    group: 'process',
    title: 'Processing writes every declared output',
    ref: '§6.2',
    fix: 'Write each output into its LocalPath (the folder under /opt/ml/processing/ named in /opt/ml/config/processingjobconfig.json): SageMaker completes the job anyway but uploads nothing for an empty one, and the step that reads it finds no objects (a training job refuses an empty S3 prefix).',
  },
  'process.writes-outside': {
    group: 'process',
    title: 'Processing writes only where SageMaker keeps files',
    ref: '§6.2',
    fix: 'Write results under the outputs\' LocalPaths (scratch files under /tmp): everything else is lost when the instance goes.',
  },
  'process.sigterm': {
    group: 'process',
    title: 'Processing exits within the grace period after SIGTERM',
    ref: '§2.2',
    fix: 'Handle SIGTERM (StopProcessingJob, MaxRuntimeInSeconds): write what you have and exit. PID 1 gets no default action for SIGTERM, so without a handler the signal is ignored and SIGKILL follows the grace.',
  },
  'process.exit-message': {
    group: 'process',
    title: 'A failed run says why in /opt/ml/output/message',
    ref: '§6.2',
    fix: 'On an error, write a short UTF-8 reason to /opt/ml/output/message and exit non-zero: its first 1 KB becomes the job\'s ExitMessage, which DescribeProcessingJob and pipelines show.',
  },
  'serve.ready': {
    group: 'serve',
    title: 'GET /ping answers 200 within the start-up window',
    ref: '§4.1, §4.2',
    fix: 'Listen on 0.0.0.0:8080 (not 127.0.0.1) and answer GET /ping with 200 once the model is loaded, within the start-up window.',
  },
  'serve.bind-to-port': {
    group: 'serve',
    title: 'Serving honours SAGEMAKER_BIND_TO_PORT (the image declares it)',
    ref: '§4.3, §8',
    fix: `Listen on the port in SAGEMAKER_BIND_TO_PORT when it is set (8080 otherwise), or remove the ${BIND_TO_PORT_LABEL} label.`,
  },
  'serve.ping': {
    group: 'serve',
    title: 'GET /ping answers within 2 s, also while requests run',
    ref: '§4.2',
    fix: 'Answer /ping from a thread or worker that invocations cannot block: SageMaker takes an instance out of service when /ping is slow or fails.',
  },
  'serve.sample': {
    group: 'serve',
    title: 'Sample request',
    ref: '§4.2, §4.5',
    fix: 'Answer POST /invocations within 60 s with the expected status, a Content-Type, and a body of at most 6 MiB (6,291,456 bytes).',
  },
  'serve.concurrency': {
    group: 'serve',
    title: 'Concurrent requests all succeed',
    ref: '§4.2',
    fix: 'Serve requests concurrently (several workers or threads): SageMaker sends requests in parallel.',
  },
  'serve.malformed': {
    group: 'serve',
    title: 'A malformed request gets an answer and the server stays up',
    ref: '§4.2, §4.5',
    fix: 'Validate input and answer bad requests with a 4xx such as 400: clients see ModelError (424) either way, but OriginalStatusCode 400 tells them the input was theirs to fix. The server must never die or hang on bad input.',
  },
  'serve.sigterm': {
    group: 'serve',
    title: 'Serving stops within 30 s of SIGTERM',
    ref: '§2.2',
    fix: 'Handle SIGTERM: stop accepting requests, finish the ones in flight and exit within 30 s. PID 1 gets no default action for SIGTERM, so the process that gets it must handle it or pass it on.',
  },
  'serve.multi-model': {
    group: 'serve',
    title: 'The /models API of a multi-model container',
    ref: '§7.2',
    fix: 'Implement the multi-model container API as SageMaker drives it: POST /models {"model_name","url"} loads (409 when already loaded), GET /models lists {"models":[{"modelName","modelUrl"}]}, GET /models/<name> answers {"modelName","modelUrl"} (404 when not loaded), DELETE /models/<name> unloads, POST /models/<name>/invoke answers (404 when not loaded). The SageMaker inference toolkit with Multi Model Server implements it.',
  },
  'serve.no-network': {
    group: 'serve',
    title: 'Serving works with no outside network',
    ref: '§4.1',
    fix: 'Ship everything the server needs (model files, packages, tokenizers) in the image or the model archive: with network isolation, or in a VPC without internet access, downloads at start-up fail.',
  },
} as const satisfies Record<string, CheckDefinition>;

export type CheckId = keyof typeof CHECKS;

/** A result for a catalogued check; `fix` is attached to failures and warnings. */
export function checkResult(id: CheckId, status: CheckStatus, observed: string, extra: { title?: string; id?: string; fix?: string; durationMs?: number } = {}): CheckResult {
  const def: CheckDefinition = CHECKS[id];
  return {
    id: extra.id ?? id,
    group: def.group,
    title: extra.title ?? def.title,
    status,
    observed,
    ...(status === 'fail' || status === 'warn' ? { fix: extra.fix ?? def.fix } : {}),
    ref: def.ref,
    ...(extra.durationMs !== undefined ? { durationMs: Math.round(extra.durationMs) } : {}),
  };
}

/** `skip` with the reason the check cannot apply. */
export function skipped(id: CheckId, reason: string, extra: { title?: string; id?: string } = {}): CheckResult {
  return checkResult(id, 'skip', reason, extra);
}

/**
 * Which custom-container pattern an image follows: the SageMaker developer guide's three (extend a
 * framework image, own base with a toolkit, from scratch), and an inference image built on a model
 * server (MMS, TorchServe, Triton) without the toolkit.
 */
export type ImagePattern = 'aws-framework' | 'toolkit' | 'model-server' | 'scratch';

/** What sm-local learned about an image without running it. */
export interface ImageEvidence extends ImageFacts {
  env: Record<string, string>;
  labels: Record<string, string>;
  /** `train` / `serve` looked up on the image's PATH: where it was found (null: nowhere). */
  programs: Partial<Record<JobWord, { path: string; executable: boolean } | null>>;
  /** Files the image has in the folders the platform mounts, per folder (a few names and the count). */
  hiddenFiles: { area: string; count: number; sample: string[] }[];
  /** SageMaker toolkit packages found in the image's Python site-packages, and where. */
  toolkits: { name: string; path: string }[];
  /** Model servers found in the image (`mms`, `torchserve`, `triton`), and where. */
  modelServers: { name: 'mms' | 'torchserve' | 'triton'; path: string }[];
  /** Files the image ships in /opt/ml/code (a few names and the count): baked-in training code. */
  bakedCode: { count: number; sample: string[] };
  /** Build steps in the image history that install a SageMaker toolkit. */
  toolkitBuildSteps: string[];
  /** The image's manifests as the engine stores them; `known: false` when the engine cannot say. */
  manifests: { known: false; reason: string } | { known: true; index: boolean; platforms: string[]; attestations: number };
}

const SHELL_FORM = (ep: readonly string[]) => ep.length >= 2 && /(^|\/)(ba|da)?sh$/.test(ep[0] ?? '') && ep[1] === '-c';
const IS_TINI = (ep: readonly string[]) => /(^|\/)tini(-static)?$/.test(ep[0] ?? '');

/** Environment and labels that AWS Deep Learning Containers (the framework images) carry. */
const FRAMEWORK_ENV = ['SAGEMAKER_TRAINING_MODULE', 'SAGEMAKER_SERVING_MODULE', 'DLC_CONTAINER_TYPE'];
const FRAMEWORK_LABELS = ['dlc_major_version', 'com.amazonaws.sagemaker.dlc.framework'];

export interface PatternVerdict {
  pattern: ImagePattern;
  /** What the pattern was recognised from. */
  signals: string[];
  advice: string;
}

const TRAINING_TOOLKITS = /sagemaker[-_](training|containers)/;

/** Whether the image carries the SageMaker training toolkit (installed, or installed by a build step). */
export function hasTrainingToolkit(image: Pick<ImageEvidence, 'toolkits' | 'toolkitBuildSteps'>): boolean {
  return image.toolkits.some((t) => TRAINING_TOOLKITS.test(t.name)) || image.toolkitBuildSteps.some((s) => TRAINING_TOOLKITS.test(s));
}

/** What the pattern means for each job word in scope: the advice must match what is in the image. */
function patternAdvice(image: Pick<ImageEvidence, 'toolkits' | 'toolkitBuildSteps' | 'modelServers'>, pattern: ImagePattern, words: readonly JobWord[]): string {
  const parts: string[] = [];
  if (words.includes('train')) {
    if (pattern === 'aws-framework') {
      parts.push('Training: keep the framework image\'s ENTRYPOINT and `train` program and bring your code with script mode (--entry-point/--source-dir) or SAGEMAKER_PROGRAM; if the image only adds pip packages, a requirements.txt next to your script may make it unnecessary.');
    } else if (hasTrainingToolkit(image)) {
      parts.push('Training: the toolkit\'s `train` console script runs your script (SAGEMAKER_PROGRAM, or script mode --entry-point/--source-dir), so the image needs no ENTRYPOINT of its own; it is PID 1 and does not pass SIGTERM to your script.');
    } else {
      parts.push('Training: the image\'s own `train` program (or ENTRYPOINT) owns the contract: reading /opt/ml/input, writing /opt/ml/model, SIGTERM, /opt/ml/output/failure.');
    }
  }
  if (words.includes('serve')) {
    const inference = image.toolkits.some((t) => t.name === 'sagemaker_inference') || image.toolkitBuildSteps.some((s) => /sagemaker[-_]inference/.test(s));
    const servers = new Set(image.modelServers.map((m) => m.name));
    if (pattern === 'aws-framework') parts.push('Serving: keep the framework image\'s serving stack and bring inference code in the model archive (code/inference.py).');
    else if (inference) {
      const server = servers.has('torchserve') ? 'TorchServe' : servers.has('mms') ? 'Multi Model Server' : 'a model server (Multi Model Server or TorchServe)';
      parts.push(`Serving: the inference toolkit runs your handlers (model_fn, input_fn, predict_fn, output_fn in /opt/ml/model/code/inference.py, or the handler service the image names) inside ${server}, which answers GET /ping and POST /invocations on 8080; the ENTRYPOINT must start it on \`serve\` and keep a process in the foreground that exits on SIGTERM.`);
    } else if (servers.has('triton')) parts.push('Serving: Triton in SageMaker mode answers GET /ping and POST /invocations on 8080 with the model repository from /opt/ml/model; `serve` must start tritonserver in the foreground.');
    else if (servers.size) {
      parts.push(`Serving: ${servers.has('torchserve') ? 'TorchServe' : 'Multi Model Server'} must answer GET /ping and POST /invocations on 0.0.0.0:8080 with the model from /opt/ml/model; \`serve\` must start it and keep a process in the foreground that exits on SIGTERM.`);
    } else parts.push('Serving: the image\'s `serve` program answers GET /ping and POST /invocations on 0.0.0.0:8080 itself, and exits on SIGTERM.');
  }
  return parts.join(' ');
}

/** The custom-container pattern (DG:docker-containers-adapt-your-own and siblings), from what is in the image. */
export function detectPattern(image: Pick<ImageEvidence, 'env' | 'labels' | 'toolkits' | 'toolkitBuildSteps' | 'modelServers'>, words: readonly JobWord[] = ['train', 'serve']): PatternVerdict {
  const frameworkSignals = [
    ...FRAMEWORK_ENV.filter((k) => image.env[k] !== undefined).map((k) => `ENV ${k}=${image.env[k]}`),
    ...Object.keys(image.labels).filter((k) => FRAMEWORK_LABELS.some((l) => k === l || k.startsWith(`${l}.`))).map((k) => `LABEL ${k}`),
  ];
  // Installed packages are the evidence; build steps that mention a toolkit only when nothing is found on disk.
  const toolkitSignals = image.toolkits.length ? image.toolkits.map((t) => `${t.name} in ${t.path}`) : image.toolkitBuildSteps.map((s) => `build step: ${s}`);
  const serverSignals = image.modelServers.map((m) => `${m.name} at ${m.path}`);
  const multiModel = image.labels[MULTI_MODEL_LABEL] === 'true' ? [`LABEL ${MULTI_MODEL_LABEL}=true (sm-local serves it single-model)`] : [];
  const pattern: ImagePattern = frameworkSignals.length ? 'aws-framework' : toolkitSignals.length ? 'toolkit' : serverSignals.length ? 'model-server' : 'scratch';
  const lead = {
    'aws-framework': 'Extends an AWS framework image.',
    toolkit: 'Own base image with a SageMaker toolkit installed.',
    'model-server': 'Inference image on a model server, without the SageMaker inference toolkit.',
    scratch: 'Written from scratch: the image owns the whole contract.',
  }[pattern];
  const signals = [...frameworkSignals, ...toolkitSignals, ...serverSignals, ...multiModel];
  return {
    pattern,
    signals: signals.length ? signals : ['no SageMaker toolkit, model server or framework-image marks found'],
    advice: [lead, patternAdvice(image, pattern, words)].filter(Boolean).join(' '),
  };
}

/** The image's manifests as the service would receive them on push. */
export function judgeManifest(m: ImageEvidence['manifests']): CheckResult {
  if (!m.known) return skipped('image.manifest', m.reason);
  if (m.index && (m.platforms.length > 1 || m.attestations > 0)) {
    const parts = [m.platforms.length > 1 ? `${m.platforms.length} platforms (${m.platforms.join(', ')})` : '', m.attestations ? `${m.attestations} attestation manifest${m.attestations > 1 ? 's' : ''}` : '']
      .filter(Boolean)
      .join(' and ');
    return checkResult('image.manifest', 'fail', `the image is an index with ${parts}; SageMaker pulls a single image manifest`);
  }
  return checkResult('image.manifest', 'pass', `one image manifest (${m.platforms.join(', ') || 'single platform'})`);
}

/**
 * The static checks: the image's configuration and files, judged for the job words in scope and
 * the instance type (CONTRACT §2.1, §11).
 */
export function judgeImage(image: ImageEvidence, opts: { words: readonly JobWord[]; instanceType: string; sourceDir?: string }): CheckResult[] {
  const ep = image.entrypoint ?? [];
  const out: CheckResult[] = [];

  out.push(
    SHELL_FORM(ep)
      ? checkResult('image.entrypoint-form', 'warn', `ENTRYPOINT ${JSON.stringify(ep)} is shell form`)
      : checkResult('image.entrypoint-form', 'pass', ep.length ? `ENTRYPOINT ${JSON.stringify(ep)}` : 'no ENTRYPOINT'),
  );
  out.push(
    !IS_TINI(ep)
      ? checkResult('image.tini', 'pass', 'the entrypoint is not tini')
      : ep.includes('--')
        ? checkResult('image.tini', 'pass', `ENTRYPOINT ${JSON.stringify(ep)} has "--"`)
        : checkResult('image.tini', 'warn', `ENTRYPOINT ${JSON.stringify(ep)} runs tini without "--"`),
  );

  for (const word of ['train', 'serve'] as const) {
    const id = word === 'train' ? 'image.train-program' : 'image.serve-program';
    if (!opts.words.includes(word)) continue;
    const argv = effectiveArgv(resolveContainerCommand(word), image);
    if (ep.length) {
      out.push(checkResult(id, 'pass', `runs ${JSON.stringify(argv)}`));
      continue;
    }
    const found = image.programs[word];
    if (found?.executable) out.push(checkResult(id, 'pass', `no ENTRYPOINT; \`${word}\` is ${found.path}`));
    else if (found) out.push(checkResult(id, 'fail', `no ENTRYPOINT, and ${found.path} is not executable`, { fix: `chmod +x ${found.path} in the Dockerfile (RUN chmod 755 ${found.path}).` }));
    else out.push(checkResult(id, 'fail', `no ENTRYPOINT, and no \`${word}\` on PATH (${image.env.PATH ?? 'the default PATH'}): Docker fails with "executable file not found"`));
  }

  const cmd = image.cmd ?? [];
  if (cmd.length && opts.words.length) {
    const words = opts.words.map((w) => `"${w}"`).join(' or ');
    const surprising = ep.length ? `ENTRYPOINT ${JSON.stringify(ep)} never gets CMD ${JSON.stringify(cmd)}: SageMaker passes only ${words}` : `CMD ${JSON.stringify(cmd)} never runs: SageMaker replaces it with ${words}`;
    // The job word itself (CMD ["serve"]) changes nothing; a lone shell is a base image's default
    // (debian, ubuntu: CMD ["bash"]), which nothing needs.
    const jobWord = cmd.length === 1 && opts.words.includes(cmd[0] as JobWord);
    const shell = cmd.length === 1 && /^(\/usr)?(\/bin\/)?(ba|da)?sh$/.test(cmd[0] ?? '');
    out.push(
      jobWord || shell
        ? checkResult('image.cmd-replaced', 'pass', `CMD ${JSON.stringify(cmd)} is ${jobWord ? 'the job word itself' : "a base image's default shell"}`)
        : checkResult('image.cmd-replaced', 'warn', surprising),
    );
  } else {
    out.push(checkResult('image.cmd-replaced', 'pass', cmd.length ? `CMD ${JSON.stringify(cmd)}` : 'no CMD'));
  }

  const want = instanceArchitecture(opts.instanceType);
  if (image.os && image.os !== 'linux') out.push(checkResult('image.architecture', 'fail', `the image is built for ${image.os}; SageMaker runs linux images`));
  else if (image.architecture && image.architecture !== want) {
    out.push(checkResult('image.architecture', 'fail', `the image is linux/${image.architecture}, but ${opts.instanceType} runs linux/${want}: it would fail with "exec format error"`));
  } else out.push(checkResult('image.architecture', 'pass', `linux/${image.architecture || want} on ${opts.instanceType} (linux/${want})`));

  out.push(judgeManifest(image.manifests));

  const user = image.user.split(':')[0] ?? '';
  out.push(user === '' || user === 'root' || user === '0' ? checkResult('image.user', 'pass', image.user ? `USER ${image.user}` : 'no USER (root)') : checkResult('image.user', 'warn', `USER ${image.user}`));

  const hidden = image.hiddenFiles.filter((h) => h.count > 0);
  out.push(
    hidden.length
      ? checkResult('image.opt-ml-files', 'warn', hidden.map((h) => `${h.area}: ${h.count} file${h.count > 1 ? 's' : ''} (${h.sample.join(', ')}${h.count > h.sample.length ? ', …' : ''})`).join('; '))
      : checkResult('image.opt-ml-files', 'pass', 'nothing under /opt/ml/{input,model,output,checkpoints}'),
  );

  const pattern = detectPattern(image, opts.words);
  const observed = `${pattern.pattern} (${pattern.signals.join('; ')}). ${pattern.advice}`;
  out.push(
    pattern.pattern === 'toolkit' && hasTrainingToolkit(image) && ep.length && opts.words.includes('train')
      ? checkResult('image.pattern', 'warn', `${observed} This image sets ENTRYPOINT ${JSON.stringify(ep)}, so \`train\` goes to it, not to the toolkit.`)
      : checkResult('image.pattern', 'pass', observed),
  );

  // Script mode on an image with code baked into /opt/ml/code: the toolkit keeps the baked code.
  if (opts.words.includes('train') && opts.sourceDir !== undefined) {
    const baked = image.bakedCode;
    const program = image.env.SAGEMAKER_PROGRAM;
    out.push(
      baked.count && hasTrainingToolkit(image)
        ? checkResult('image.baked-code', 'warn', bakedCodeObservation(baked, program, opts.sourceDir))
        : checkResult('image.baked-code', 'pass', baked.count ? 'the image ships /opt/ml/code, but no training toolkit unpacks --source-dir there' : `nothing baked into /opt/ml/code: ${opts.sourceDir} is unpacked there and runs`),
    );
  }
  return out;
}

const bakedCodeObservation = (baked: ImageEvidence['bakedCode'], program: string | undefined, sourceDir: string) =>
  `the image ships ${baked.count} file${baked.count > 1 ? 's' : ''} in /opt/ml/code (${baked.sample.join(', ')}${baked.count > baked.sample.length ? ', …' : ''})${program ? ` and sets SAGEMAKER_PROGRAM=${program}` : ''}: the toolkit does not unpack ${sourceDir} over them, so the baked code runs, not the given one (SageMaker does the same)`;

/** `train --source-dir` on an image with code in /opt/ml/code: the same finding as `image.baked-code`, as a log warning. */
export function bakedCodeWarning(baked: ImageEvidence['bakedCode'], program: string | undefined, sourceDir: string): string {
  return `--source-dir: ${bakedCodeObservation(baked, program, sourceDir)}. ${CHECKS['image.baked-code'].fix}`;
}

/**
 * Interpreter and tool caches, and scratch space: written by Python, pip, matplotlib, numba and the
 * like on their own, never the user's results. SageMaker drops them with the instance, harmlessly.
 */
const SCRATCH = new RegExp(
  [
    String.raw`^/(tmp|var/tmp|run|var/run|var/cache|dev|proc|sys)(/|$)`,
    String.raw`^/(root|home/[^/]+)/\.(cache|config|local|keras|npm|ipython|jupyter|matplotlib|nv|triton)(/|$)`,
    String.raw`/__pycache__(/|$)`,
    String.raw`\.py[co]$`,
    String.raw`\.nb[ic]$`,
    String.raw`^/opt/ml/code(/|$)`,
  ].join('|'),
);

/**
 * Files in a container's change list that SageMaker does not keep and that are not caches or
 * scratch, by name (`areas`: the folders the platform provides; a training job's by default). A folder appears in the list as changed whenever something inside it changes,
 * and a new folder along with everything in it: only the paths that changed themselves are named.
 */
export function writesOutside(changes: readonly { path: string; kind: 'added' | 'changed' | 'deleted' }[], areas: readonly string[] = PLATFORM_AREAS): string[] {
  // The platform's own areas, and the folders above them that the mounts create, are where writes belong.
  const platform = (p: string) => areas.some((area) => p === area || p.startsWith(`${area}/`) || area.startsWith(`${p}/`));
  const hasChild = (p: string) => changes.some((o) => o.path.startsWith(`${p}/`));
  return changes
    .filter((c) => !SCRATCH.test(c.path) && !platform(c.path) && !hasChild(c.path))
    .map((c) => (c.kind === 'deleted' ? `${c.path} (deleted)` : c.path))
    .sort();
}

export interface CheckSummary {
  pass: number;
  warn: number;
  fail: number;
  skip: number;
}

export function summarize(checks: readonly CheckResult[]): { summary: CheckSummary; verdict: 'pass' | 'fail' } {
  const summary: CheckSummary = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const c of checks) summary[c.status] += 1;
  return { summary, verdict: summary.fail ? 'fail' : 'pass' };
}

/** The report `sm-local check --json` prints; its JSON Schema is docs/check-report.schema.json. */
export interface ConformanceReport {
  schemaVersion: 1;
  image: string;
  imageId: string;
  instanceType: string;
  startedAt: string;
  durationMs: number;
  /** Set when warnings were turned into failures (`--strict`). */
  strict?: true;
  pattern: PatternVerdict;
  verdict: 'pass' | 'fail';
  summary: CheckSummary;
  checks: CheckResult[];
}
