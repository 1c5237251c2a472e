/**
 * Every failure a user can act on is a {@link SmLocalError}: a stable `code`, a one-line `message`
 * (what happened), an optional `hint` (what to do) and the process `exitCode` the CLI uses.
 * Anything else that escapes is a bug.
 */

/** Process exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  /** The job failed inside the container (AlgorithmError). */
  jobFailed: 1,
  /** Usage or configuration error: nothing was started. */
  usage: 2,
  /** The environment is not usable: Docker down, image missing, port taken. */
  environment: 3,
  /** A stopping condition was hit (MaxRuntimeInSeconds). */
  stopped: 4,
  /** A bug in sm-local. */
  internal: 70,
  /** Interrupted by the user (Ctrl-C); cleanup finished. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export type ErrorCode =
  | 'E_USAGE'
  | 'E_INVALID_SPEC'
  | 'E_CONFIG_FILE'
  | 'E_INPUT_PATH'
  | 'E_JOB_EXISTS'
  | 'E_DOCKER_UNAVAILABLE'
  | 'E_DOCKER'
  | 'E_IMAGE_NOT_FOUND'
  | 'E_IMAGE_BUILD'
  | 'E_CONTAINER_START'
  | 'E_MODEL_ARCHIVE'
  | 'E_PORT_IN_USE'
  | 'E_ENDPOINT_EXISTS'
  | 'E_SERVING_STARTUP'
  | 'E_ENDPOINT_NOT_FOUND'
  | 'E_JOB_NOT_FOUND'
  | 'E_INVOKE'
  | 'E_ALGORITHM_FAILED'
  | 'E_MAX_RUNTIME'
  | 'E_INTERRUPTED'
  | 'E_STORAGE'
  | 'E_ENGINE_MISMATCH';

export class SmLocalError extends Error {
  readonly hint?: string;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly exitCode: ExitCode,
    opts: { cause?: unknown; hint?: string } = {},
  ) {
    super(message, { cause: opts.cause });
    this.name = new.target.name;
    this.hint = opts.hint;
  }
}

export class UsageError extends SmLocalError {
  constructor(message: string, hint?: string) {
    super('E_USAGE', message, EXIT.usage, { hint });
  }
}

/** One problem found while validating a spec; `path` names the field the way the API does. */
export interface SpecProblem {
  path: string;
  message: string;
}

/** All the problems of one spec at once, each with its field path. */
export class InvalidSpecError extends SmLocalError {
  constructor(
    readonly problems: readonly SpecProblem[],
    readonly source = 'the training job spec',
  ) {
    const n = problems.length;
    const lines = problems.map((p) => `  - ${p.path ? `${p.path}: ` : ''}${p.message}`);
    super('E_INVALID_SPEC', `${source} has ${n} problem${n === 1 ? '' : 's'}:\n${lines.join('\n')}`, EXIT.usage, {
      hint: 'Fix the fields listed above; nothing was started.',
    });
  }
}

export class ConfigFileError extends SmLocalError {
  constructor(file: string, detail: string, cause?: unknown) {
    super('E_CONFIG_FILE', `Cannot use ${file}: ${detail}`, EXIT.usage, { cause });
  }
}

/** A local input (channel directory, hyperparameters file, env file) is missing or unreadable. */
export class InputPathError extends SmLocalError {
  constructor(what: string, path: string, hint?: string, cause?: unknown) {
    super('E_INPUT_PATH', `${what} "${path}" does not exist or cannot be read.`, EXIT.usage, { hint, cause });
  }
}

/** The job folder already exists: SageMaker job names are unique forever (ResourceInUse). */
export class JobExistsError extends SmLocalError {
  constructor(jobName: string, jobDir: string, jobKind = 'training job') {
    super(
      'E_JOB_EXISTS',
      `A ${jobKind} named "${jobName}" already exists: ${jobDir}. SageMaker job names must be unique within an account and region.`,
      EXIT.usage,
      { hint: 'Pick another --job-name, leave it out to get a timestamped one, or remove that folder.' },
    );
  }
}

export class DockerUnavailableError extends SmLocalError {
  constructor(endpoint: string, cause?: unknown, why?: { reason: string; hint: string }) {
    super('E_DOCKER_UNAVAILABLE', `Cannot reach the Docker engine at ${endpoint}${why ? `: ${why.reason}` : ''}.`, EXIT.environment, {
      cause,
      hint: why?.hint ?? 'Start Docker (for example `sudo dockerd &` or `systemctl start docker`), or point DOCKER_HOST at a running engine (a Podman socket: unix:///run/podman/podman.sock). `sm-local doctor` checks the set-up.',
    });
  }
}

/** An engine call failed for a reason the user should see (not a bug in sm-local). */
export class DockerError extends SmLocalError {
  constructor(action: string, detail: string, cause?: unknown, hint?: string) {
    super('E_DOCKER', `Docker could not ${action}: ${detail}`, EXIT.environment, { cause, ...(hint ? { hint } : {}) });
  }
}

export class ImageNotFoundError extends SmLocalError {
  constructor(readonly image: string) {
    super('E_IMAGE_NOT_FOUND', `Image "${image}" is not in the local Docker engine.`, EXIT.environment, {
      hint: `sm-local never pulls images. Build it first (docker build -t ${image} .) or load it (docker load -i image.tar).`,
    });
  }
}

/** model.tar.gz is not a gzip'd tar, is corrupt, or has an entry that would land outside the model folder. */
export class ModelArchiveError extends SmLocalError {
  constructor(archive: string, detail: string, cause?: unknown) {
    super('E_MODEL_ARCHIVE', `Cannot use the model archive ${archive}: ${detail}`, EXIT.usage, {
      cause,
      hint: 'SageMaker extracts ModelDataUrl (a .tar.gz with paths relative to the model folder) into /opt/ml/model. Rebuild it with: tar -czf model.tar.gz -C <model folder> .',
    });
  }
}

export class PortInUseError extends SmLocalError {
  constructor(port: number, cause?: unknown, hint = 'Pick another --port, or --port 0 for any free port.') {
    super('E_PORT_IN_USE', `Port ${port} on 127.0.0.1 is already in use.`, EXIT.environment, {
      cause,
      hint,
    });
  }
}

/** An endpoint with this name is already being served (CreateEndpoint: "Cannot create already existing endpoint"). */
export class EndpointExistsError extends SmLocalError {
  constructor(name: string, where: string) {
    super('E_ENDPOINT_EXISTS', `Cannot create already existing endpoint "${name}": it is served at ${where}.`, EXIT.usage, {
      hint: 'Stop that sm-local serve, or give this one another --name.',
    });
  }
}

/** The container exited, or never answered GET /ping with 200, within the start-up window. */
/** What a readiness wait last saw. */
export type ReadinessObservation =
  | { kind: 'exited'; exitCode: number; tail: readonly string[] }
  | { kind: 'status'; status: number }
  | { kind: 'no-connection'; error: string; port: number; listening?: readonly ListeningSocket[] }
  | { kind: 'no-answer'; error: string; port: number };

export interface ListeningSocket {
  address: string;
  port: number;
}

export class ServingStartupError extends SmLocalError {
  constructor(
    message: string,
    readonly logTail: readonly string[],
    hint?: string,
    /** What the readiness wait last saw (an exit, a status, no connection), when it got that far. */
    readonly observation?: ReadinessObservation,
  ) {
    super('E_SERVING_STARTUP', message, EXIT.jobFailed, { hint });
  }
}

export class EndpointNotFoundError extends SmLocalError {
  constructor(name: string) {
    super('E_ENDPOINT_NOT_FOUND', `No endpoint named "${name}" is being served by sm-local.`, EXIT.usage, {
      hint: 'Start one with `sm-local serve IMAGE --name NAME`, or give --port of a running proxy.',
    });
  }
}

/** `sm-local logs` and `exec`: no job or endpoint of that name has a container on the engine (or none on that host). */
export class JobNotFoundError extends SmLocalError {
  constructor(message: string, hint = 'Run `sm-local ps` for the jobs and endpoints sm-local runs on this engine. A finished job\'s containers are gone (unless it ran with --keep): its logs are in its job folder.') {
    super('E_JOB_NOT_FOUND', message, EXIT.usage, { hint });
  }
}

/** InvokeEndpoint answered with an error (ModelError, ValidationError…); carries what the client saw. */
export class InvokeError extends SmLocalError {
  constructor(
    readonly status: number,
    readonly errorType: string | undefined,
    readonly body: Buffer,
  ) {
    // ModelError: the container failed (1); other 4xx: the request was wrong (2); 5xx: the runtime itself (3).
    super(
      'E_INVOKE',
      `InvokeEndpoint failed: ${errorType ?? `HTTP ${status}`} (${status}): ${describeErrorBody(body)}`,
      status === 424 ? EXIT.jobFailed : status < 500 ? EXIT.usage : EXIT.environment,
    );
  }
}

function describeErrorBody(body: Buffer): string {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as { Message?: string; message?: string };
    return parsed.Message ?? parsed.message ?? body.toString('utf8');
  } catch {
    return body.toString('utf8').slice(0, 2000);
  }
}

export class ImageBuildError extends SmLocalError {
  constructor(tag: string, detail: string) {
    super('E_IMAGE_BUILD', `Building image "${tag}" failed: ${detail}`, EXIT.environment);
  }
}

/** The engine refused to start the container (for example its program is not on PATH). */
export class ContainerStartError extends SmLocalError {
  constructor(
    readonly detail: string,
    /** The exit code the engine recorded for the failed start (127: program not found, 126: not executable). */
    readonly containerExitCode: number,
    cause?: unknown,
  ) {
    super('E_CONTAINER_START', `The container could not start: ${detail}`, EXIT.jobFailed, { cause });
  }
}

/**
 * The algorithm exited non-zero: the job is `Failed`. Carries the job's `FailureReason` and the last
 * lines of its log; `details` holds whatever the runner knows about the failed job (its describe record).
 */
export class AlgorithmError<TDetails = unknown> extends SmLocalError {
  constructor(
    readonly failureReason: string,
    readonly logTail: readonly string[],
    readonly details?: TDetails,
    hint?: string,
    /** What failed, for the message: `Training job`, `Processing job`, … */
    jobKind = 'Training job',
  ) {
    super('E_ALGORITHM_FAILED', `${jobKind} failed. FailureReason: ${failureReason}`, EXIT.jobFailed, { hint });
  }
}

/** MaxRuntimeInSeconds was reached; the container was stopped (SIGTERM, grace, SIGKILL). */
export class JobTimeoutError<TDetails = unknown> extends SmLocalError {
  constructor(
    readonly maxRuntimeInSeconds: number,
    readonly details?: TDetails,
    jobKind = 'Training job',
  ) {
    super(
      'E_MAX_RUNTIME',
      `${jobKind} stopped: MaxRuntimeInSeconds (${maxRuntimeInSeconds} s) was reached${jobKind === 'Training job' ? ' (SecondaryStatus MaxRuntimeExceeded)' : ''}.`,
      EXIT.stopped,
      { hint: 'Raise --max-runtime, or make the algorithm save its model when it receives SIGTERM.' },
    );
  }
}

/** The user stopped the job (Ctrl-C, or an aborted signal in the library). */
export class InterruptedError<TDetails = unknown> extends SmLocalError {
  constructor(
    message = 'Stopped by the user.',
    readonly details?: TDetails,
  ) {
    super('E_INTERRUPTED', message, EXIT.interrupted);
  }
}

/**
 * The record a job's error carries, typed by the caller who knows the kind (`jobRecordOf<TrainingResult>(err)`):
 * a failed (AlgorithmError), timed-out (JobTimeoutError) or stopped (InterruptedError) job has one;
 * anything else (bad input, the engine) has none.
 */
export function jobRecordOf<T>(err: unknown): T | undefined {
  return err instanceof AlgorithmError || err instanceof JobTimeoutError || err instanceof InterruptedError ? (err.details as T | undefined) : undefined;
}

/** Why a write on this machine failed. */
export type StorageProblem = 'full' | 'read-only' | 'permission' | 'missing' | 'other';

const STORAGE_ERRNOS: Record<string, StorageProblem> = {
  ENOSPC: 'full',
  EDQUOT: 'full',
  EFBIG: 'full',
  EROFS: 'read-only',
  EACCES: 'permission',
  EPERM: 'permission',
  ENOENT: 'missing',
  ENOTDIR: 'missing',
  EIO: 'other',
};

const STORAGE_WORDING: Record<StorageProblem, string> = {
  full: 'the disk is full',
  'read-only': 'the file system is read-only',
  permission: 'permission denied',
  missing: 'the folder does not exist (any more)',
  other: 'the disk reported an I/O error',
};

/**
 * Writing on this machine failed: a full disk, a read-only or vanished folder, no permission. It is
 * about the environment, never the job: exit 3, with the path and what to do.
 */
export class StorageError extends SmLocalError {
  constructor(
    readonly path: string,
    readonly problem: StorageProblem,
    detail?: string,
    cause?: unknown,
  ) {
    super('E_STORAGE', `Cannot write ${path}: ${detail ?? STORAGE_WORDING[problem]}.`, EXIT.environment, {
      cause,
      hint:
        problem === 'full'
          ? 'Free some disk space, or point --output (job folders) and SM_LOCAL_TMPDIR (workspaces) at a disk with room; `sm-local doctor` shows free space.'
          : 'Point --output (job folders) and SM_LOCAL_TMPDIR (workspaces) at a folder this user can write.',
    });
  }
}

/**
 * The StorageError a file system error stands for, naming `path` (the folder or file being written:
 * errors from streams carry no path of their own); `undefined` when `err` is not such an error.
 */
export function storageErrorOf(err: unknown, path: string): StorageError | undefined {
  if (err instanceof StorageError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const problem = code ? STORAGE_ERRNOS[code] : undefined;
  return problem ? new StorageError(path, problem, undefined, err) : undefined;
}

/**
 * What the engine handed back does not match what the container left (an engine whose archive API
 * misses volume contents): reading on would report a job's work as lost or empty, so it stops here.
 */
export class EngineMismatchError extends SmLocalError {
  constructor(endpoint: string, detail: string) {
    super('E_ENGINE_MISMATCH', `The engine at ${endpoint} ${detail}`, EXIT.environment, {
      hint: 'sm-local reads the job\'s areas through the Engine API\'s archive endpoint; this engine\'s answer misses what the container wrote. Use Docker Engine, or report the engine and version.',
    });
  }
}

export function isSmLocalError(err: unknown): err is SmLocalError {
  return err instanceof SmLocalError;
}

/** How the SageMaker API answers a failed call: the AWS error code (`__type`, `x-amzn-errortype`), its HTTP status, and the message. */
export interface AwsError {
  code: string;
  status: number;
  message: string;
}

/**
 * The AWS error each sm-local error stands for when a control plane answers with it (CONTRACT §9.3:
 * modelled errors are HTTP 400; "not found" is ValidationException). Errors about this machine (the
 * engine, the disk, a port) are the service's own fault: InternalFailure 500. Job outcomes (a failed
 * algorithm, a stop, a start-up failure) are not call errors on the service, where they show as the
 * job's status; should one reach an API caller, it is InternalFailure too.
 */
const AWS_ERRORS: Record<ErrorCode, { code: string; status: number }> = {
  E_USAGE: { code: 'ValidationException', status: 400 },
  E_INVALID_SPEC: { code: 'ValidationException', status: 400 },
  E_CONFIG_FILE: { code: 'ValidationException', status: 400 },
  E_INPUT_PATH: { code: 'ValidationException', status: 400 },
  // UNCONFIRMED how the service words a missing image at Create; its documented class for bad input is ValidationException.
  E_IMAGE_NOT_FOUND: { code: 'ValidationException', status: 400 },
  E_MODEL_ARCHIVE: { code: 'ValidationException', status: 400 },
  E_JOB_EXISTS: { code: 'ResourceInUse', status: 400 },
  E_ENDPOINT_EXISTS: { code: 'ValidationException', status: 400 },
  E_ENDPOINT_NOT_FOUND: { code: 'ValidationException', status: 400 },
  E_JOB_NOT_FOUND: { code: 'ValidationException', status: 400 },
  E_DOCKER_UNAVAILABLE: { code: 'InternalFailure', status: 500 },
  E_DOCKER: { code: 'InternalFailure', status: 500 },
  E_IMAGE_BUILD: { code: 'InternalFailure', status: 500 },
  E_PORT_IN_USE: { code: 'InternalFailure', status: 500 },
  E_STORAGE: { code: 'InternalFailure', status: 500 },
  E_ENGINE_MISMATCH: { code: 'InternalFailure', status: 500 },
  E_CONTAINER_START: { code: 'InternalFailure', status: 500 },
  E_SERVING_STARTUP: { code: 'InternalFailure', status: 500 },
  E_ALGORITHM_FAILED: { code: 'InternalFailure', status: 500 },
  E_MAX_RUNTIME: { code: 'InternalFailure', status: 500 },
  E_INTERRUPTED: { code: 'InternalFailure', status: 500 },
  E_INVOKE: { code: 'InternalFailure', status: 500 },
};

/** The AWS error a failure answers with; anything that is not an SmLocalError is an InternalFailure with a neutral message. */
export function awsErrorOf(err: unknown): AwsError {
  if (err instanceof InvokeError) return { code: err.errorType ?? 'InternalFailure', status: err.status, message: err.message };
  if (!(err instanceof SmLocalError)) return { code: 'InternalFailure', status: 500, message: 'An internal error occurred.' };
  return { ...AWS_ERRORS[err.code], message: err.message };
}
