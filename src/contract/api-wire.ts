/**
 * The SageMaker control plane's wire protocol (CONTRACT §9): AWS JSON 1.1 errors as every SDK
 * decodes them, the service's error texts, validation messages, and the list operations' filters,
 * sort and pagination. Data in, data out.
 */
import type { SpecProblem } from '../errors.js';
import { INPUT_SHAPES } from './api-shapes.js';
import { constraintText, shapeProblems, type ConstraintProblem } from './shape-validation.js';

/** A control-plane error: HTTP status, the code the SDKs raise (`__type`), and its message. */
export interface ApiError {
  status: number;
  code: string;
  message: string;
}

/** Its wire form (CONTRACT §9.2, §9.6): body `{"__type","message"}` and the `x-amzn-ErrorType` header, which JS SDK v3 reads first. */
export function apiErrorBody(e: ApiError): { headers: Record<string, string>; body: string } {
  return { headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': e.code }, body: JSON.stringify({ __type: e.code, message: e.message }) };
}

const err = (code: string, message: string, status = 400): ApiError => ({ status, code, message });

export type ResourceKind = 'model' | 'endpoint' | 'endpoint configuration';

/** The service's texts (CONTRACT §9.3). Not found is ValidationException, which the waiters rely on. */
export const apiErrors = {
  validation: (message: string) => err('ValidationException', message),
  /** Describe/Stop of an unknown training, processing or transform job. */
  jobNotFound: () => err('ValidationException', 'Requested resource not found.'),
  /** Describe/Delete of an unknown model, endpoint config or endpoint (the model wording is UNCONFIRMED, by analogy). */
  couldNotFind: (kind: ResourceKind, arn: string) => err('ValidationException', `Could not find ${kind} "${arn}".`),
  /** Create of a model, endpoint config or endpoint that exists (the model wording is UNCONFIRMED, by analogy). */
  alreadyExists: (kind: ResourceKind, arn: string) => err('ValidationException', `Cannot create already existing ${kind} "${arn}".`),
  trainingJobInUse: (arn: string) => err('ResourceInUse', `Training job names must be unique within an AWS account and region, and a training job with this name already exists (${arn})`),
  resourceLimit: (message: string) => err('ResourceLimitExceeded', message),
  /** CreateTrainingJob / CreateTransformJob whose input prefix lists no object, or whose bucket is missing (the service lists it before answering). */
  noS3Objects: (uri: string, region: string, role: string) =>
    err(
      'ValidationException',
      `No S3 objects found under S3 URL "${uri}" given in input data source. Please ensure that the bucket exists in the selected region (${region}), that objects exist under that S3 prefix, and that the role "${role}" has "s3:ListBucket" permissions on bucket "${/^s3:\/\/([^/]*)/.exec(uri)?.[1] ?? ''}".`,
    ),
  /** An operation sm-local does not serve: said in the service's error shape, by name. */
  unknownOperation: (operation: string) =>
    err('UnknownOperationException', `The operation ${operation} is not available in sm-local's local SageMaker; the operations it serves are listed in its README.`),
  /** A request that is not AWS JSON 1.1 the server can read. */
  serialization: (detail: string) => err('SerializationException', `The request body could not be read as JSON: ${detail}`),
  internal: (message: string) => err('InternalFailure', message, 500),
};

/** Constraint messages as the service joins them: `2 validation errors detected: …; …` (exact wording UNCONFIRMED). */
function constraintsError(messages: readonly string[]): ApiError {
  const n = messages.length;
  return apiErrors.validation(`${n} validation error${n === 1 ? '' : 's'} detected: ${messages.join('; ')}`);
}

/** The problems of a request in the AWS style (`1 validation error detected: …`), each with its field path. */
export function validationError(problems: readonly SpecProblem[]): ApiError {
  return constraintsError(problems.map((p) => (p.path ? `Value at '${p.path}' failed to satisfy constraint: ${p.message}` : p.message)));
}

/**
 * The constraints of `op`'s input shape that `body` breaks (none for an operation with no shape).
 * `requestError` below is the service's answer to them; a CLI job file lists them among its problems.
 */
export function requestConstraints(op: string, body: unknown): ConstraintProblem[] {
  const shape = INPUT_SHAPES[op];
  return shape ? shapeProblems(shape, body).constraints : [];
}

/**
 * What the service's front end answers before `op` runs: SerializationException for a member of the
 * wrong JSON type (as a JSON 1.1 service does when it cannot bind a value; wording UNCONFIRMED),
 * else one ValidationException listing every broken constraint; undefined when the request passes.
 */
export function requestError(op: string, body: unknown): ApiError | undefined {
  const shape = INPUT_SHAPES[op];
  if (!shape) return undefined;
  const found = shapeProblems(shape, body);
  const wrong = found.types[0];
  if (wrong) return err('SerializationException', `Cannot read the value at '${wrong.path || 'the request'}': it must be a JSON ${wrong.expected === 'structure' ? 'object' : wrong.expected === 'list' ? 'array' : wrong.expected}.`);
  return found.constraints.length ? constraintsError(found.constraints.map(constraintText)) : undefined;
}

/** What the list operations share (CONTRACT §9.5–9.6). */
export interface ListRequest {
  NextToken?: unknown;
  MaxResults?: unknown;
  SortBy?: unknown;
  SortOrder?: unknown;
  NameContains?: unknown;
  StatusEquals?: unknown;
  CreationTimeAfter?: unknown;
  CreationTimeBefore?: unknown;
  LastModifiedTimeAfter?: unknown;
  LastModifiedTimeBefore?: unknown;
}

/** One listed resource: its name, status and times (epoch ms), and its summary as the operation returns it. */
export interface Listed<S> {
  name: string;
  status?: string;
  createdAt: number;
  modifiedAt: number;
  summary: S;
}

/** A request timestamp: epoch seconds (what JSON 1.1 clients send), or an ISO string. */
function timeOf(value: unknown): number | undefined {
  if (typeof value === 'number') return value * 1000;
  if (typeof value === 'string' && !Number.isNaN(Date.parse(value))) return Date.parse(value);
  return undefined;
}

/**
 * Filters, sorts and pages `items` as a List* operation does: NameContains (case-insensitive),
 * StatusEquals, the creation and modification time windows, SortBy (default CreationTime) with
 * SortOrder (each operation's documented default: Ascending for training and processing jobs,
 * Descending for the others), MaxResults (1–100, default 10) and NextToken. A token names the
 * offset it continues from, so no two pages share one (botocore's paginator stops on a repeated token).
 */
export function listPage<S>(items: readonly Listed<S>[], request: ListRequest, opts: { sortBy?: readonly string[]; defaultOrder: 'Ascending' | 'Descending' }): { page: S[]; nextToken?: string } | { error: ApiError } {
  const max = request.MaxResults ?? 10;
  if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 100) return { error: validationError([{ path: 'maxResults', message: 'Member must have value between 1 and 100' }]) };
  let offset = 0;
  if (request.NextToken !== undefined) {
    const decoded = typeof request.NextToken === 'string' ? /^sm-local:(\d+)$/.exec(Buffer.from(request.NextToken, 'base64').toString()) : null;
    if (!decoded) return { error: apiErrors.validation('Invalid pagination token: NextToken must be one that the previous call returned.') };
    offset = Number(decoded[1]);
  }
  const sortBy = request.SortBy ?? 'CreationTime';
  const allowed = opts.sortBy ?? ['Name', 'CreationTime', 'Status'];
  if (typeof sortBy !== 'string' || !allowed.includes(sortBy)) return { error: validationError([{ path: 'sortBy', message: `Member must satisfy enum value set: [${allowed.join(', ')}]` }]) };
  const order = request.SortOrder ?? opts.defaultOrder;
  if (order !== 'Ascending' && order !== 'Descending') return { error: validationError([{ path: 'sortOrder', message: 'Member must satisfy enum value set: [Ascending, Descending]' }]) };
  const contains = typeof request.NameContains === 'string' ? request.NameContains.toLowerCase() : undefined;
  const window = (at: number, after: unknown, before: unknown) => {
    const a = timeOf(after);
    const b = timeOf(before);
    return (a === undefined || at > a) && (b === undefined || at < b);
  };
  const kept = items.filter(
    (i) =>
      (contains === undefined || i.name.toLowerCase().includes(contains)) &&
      (request.StatusEquals === undefined || i.status === request.StatusEquals) &&
      window(i.createdAt, request.CreationTimeAfter, request.CreationTimeBefore) &&
      window(i.modifiedAt, request.LastModifiedTimeAfter, request.LastModifiedTimeBefore),
  );
  const key = (i: Listed<S>): string | number => (sortBy === 'Name' ? i.name : sortBy === 'Status' ? (i.status ?? '') : i.createdAt);
  kept.sort((x, y) => {
    const a = key(x);
    const b = key(y);
    const c = a < b ? -1 : a > b ? 1 : x.name < y.name ? -1 : x.name > y.name ? 1 : 0;
    return order === 'Ascending' ? c : -c;
  });
  const page = kept.slice(offset, offset + max).map((i) => i.summary);
  const next = offset + max;
  return { page, ...(next < kept.length ? { nextToken: Buffer.from(`sm-local:${next}`).toString('base64') } : {}) };
}
