/**
 * SageMaker real-time inference: what the platform does with a serving container and what the
 * runtime API (InvokeEndpoint) answers (CONTRACT §4, §8). Data in, data out.
 */

/** The port a serving container listens on unless SAGEMAKER_BIND_TO_PORT says otherwise (DG:your-algorithms-inference-code). */
export const SERVING_PORT = 8080;

/** Per-attempt timeout of `GET /ping` (DG:your-algorithms-inference-code). */
export const PING_TIMEOUT_MS = 2_000;

/**
 * The start-up window for passing health checks. The 2023 developer guide says 4 minutes; the
 * per-variant ContainerStartupHealthCheckTimeoutInSeconds accepts 60–3600. Today's default is
 * UNCONFIRMED (newer docs may say 8 minutes); the documented 4 minutes is used.
 */
export const STARTUP_TIMEOUT_SECONDS = { default: 240, min: 60, max: 3600 } as const;

/** `POST /invocations` must answer within 60 s (DG:your-algorithms-inference-code; API:InvokeEndpoint). */
export const INVOCATION_TIMEOUT_MS = 60_000;

/** Request and response bodies of real-time inference: at most 6,291,456 bytes (API:InvokeEndpointInput.Body). */
export const MAX_PAYLOAD_BYTES = 6_291_456;

/** SIGTERM → SIGKILL grace when an endpoint's container is retired (CONTRACT §2.2). */
export const SERVING_STOP_GRACE_SECONDS = 30;

/** The single variant of a local endpoint, as `CreateEndpointConfig` examples name it. */
export const DEFAULT_VARIANT_NAME = 'AllTraffic';

/** The container name the service uses in messages for single-container models (CONTRACT §4.5). */
export const PRIMARY_CONTAINER = 'primary';

/** Image label declaring support for SAGEMAKER_BIND_TO_PORT (DG:inference-pipeline-real-time). */
export const BIND_TO_PORT_LABEL = 'com.amazonaws.sagemaker.capabilities.accept-bind-to-port';
/** Declares multi-model support; the platform then sets SAGEMAKER_MULTI_MODEL=true (CONTRACT §7.1). */
export const MULTI_MODEL_LABEL = 'com.amazonaws.sagemaker.capabilities.multi-models';

export const ENDPOINT_NAME = { max: 63, pattern: /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/ } as const;
export const MODEL_ENVIRONMENT = { maxEntries: 100, keyMax: 1024, valueMax: 1024, totalMax: 32 * 1024 } as const;
export const CUSTOM_ATTRIBUTES_MAX = 1024;

/** InvokeEndpoint request headers that reach the container (CONTRACT §4.2: the documented set). */
export const FORWARDED_REQUEST_HEADERS = ['content-type', 'accept', 'x-amzn-sagemaker-custom-attributes'] as const;

export const HEADER = {
  errorType: 'x-amzn-errortype',
  /** InvokeEndpoint.TargetModel, and what a multi-model container gets at /models/<name>/invoke (CONTRACT §7.2). */
  targetModel: 'x-amzn-sagemaker-target-model',
  customAttributes: 'x-amzn-sagemaker-custom-attributes',
  invokedVariant: 'x-amzn-invoked-production-variant',
  /** InvokeEndpoint.TargetVariant: overrides weight-based routing (CONTRACT §4.4). */
  targetVariant: 'x-amzn-sagemaker-target-variant',
  /** InvokeEndpoint.TargetContainerHostname: a direct-invocation endpoint's container (CONTRACT §8.3). */
  targetContainer: 'x-amzn-sagemaker-target-container-hostname',
  requestId: 'x-amzn-requestid',
} as const;

export interface EndpointIdentity {
  endpointName: string;
  region: string;
  account: string;
}

/** `arn:aws:logs:<region>:<account>:log-group:/aws/sagemaker/Endpoints/<EndpointName>` (CONTRACT §4.5). */
export function logStreamArn(e: EndpointIdentity): string {
  return `arn:aws:logs:${e.region}:${e.account}:log-group:/aws/sagemaker/Endpoints/${e.endpointName}`;
}

function seeLogs(e: EndpointIdentity): string {
  return `See https://${e.region}.console.aws.amazon.com/cloudwatch/home?region=${e.region}#logEventViewer:group=/aws/sagemaker/Endpoints/${e.endpointName} in account ${e.account} for more information.`;
}

/** A runtime API error as the SDKs decode it: status, `X-Amzn-ErrorType` header, JSON body. */
export interface RuntimeError {
  status: number;
  errorType?: string;
  body: Record<string, unknown>;
}

/** A ModelError (HTTP 424) with the members real responses carry (`examples/runtime.invoke-endpoint.model-error.body.json`). */
function modelError(e: EndpointIdentity, m: { errorCode: string; message: string; originalStatus: number; originalMessage?: string }): RuntimeError {
  return {
    status: 424,
    errorType: 'ModelError',
    body: {
      ErrorCode: m.errorCode,
      LogStreamArn: logStreamArn(e),
      Message: `${m.message} ${seeLogs(e)}`,
      ...(m.originalMessage !== undefined ? { OriginalMessage: m.originalMessage } : {}),
      OriginalStatusCode: m.originalStatus,
    },
  };
}

/**
 * ModelError: the container answered non-2xx. `ErrorCode` for 5xx is UNCONFIRMED (CONTRACT §4.5).
 * `container` is `primary` for a single-container model; in a multi-container model the service names
 * the container, and how is UNCONFIRMED: its ContainerHostname is used.
 */
export function modelErrorFromStatus(e: EndpointIdentity, originalStatus: number, originalMessage: string, container: string = PRIMARY_CONTAINER): RuntimeError {
  const client = originalStatus >= 400 && originalStatus < 500;
  return modelError(e, {
    errorCode: client ? 'CLIENT_ERROR_FROM_MODEL' : 'SERVER_ERROR_FROM_MODEL',
    message: `Received ${client ? 'client' : 'server'} error (${originalStatus}) from ${container} with message "${originalMessage}".`,
    originalStatus,
    originalMessage,
  });
}

/**
 * ModelError for an invocation that did not answer within the deadline (CONTRACT §4.5: status 0 in the
 * message). Its `ErrorCode` is UNCONFIRMED; the server-error code is used, as the message says "server error".
 */
export function modelErrorTimeout(e: EndpointIdentity, container: string = PRIMARY_CONTAINER): RuntimeError {
  const original = `Your invocation timed out while waiting for a response from container ${container}. Review the latency metrics for each container in Amazon CloudWatch, resolve the issue, and try again.`;
  return modelError(e, { errorCode: 'SERVER_ERROR_FROM_MODEL', message: `Received server error (0) from ${container} with message "${original}".`, originalStatus: 0, originalMessage: original });
}

/**
 * ModelError for a response that could not be read whole: larger than 6 MiB, or the connection broke.
 * The wording is the service's; exactly when it uses it is UNCONFIRMED (CONTRACT §4.5).
 */
export function modelErrorUnreadable(e: EndpointIdentity, container: string = PRIMARY_CONTAINER): RuntimeError {
  return modelError(e, { errorCode: 'SERVER_ERROR_FROM_MODEL', message: `Received server error (500) from ${container} and could not load the entire response body.`, originalStatus: 500 });
}

/**
 * The ValidationErrors of direct invocation (CONTRACT §8.3: a hostname the endpoint does not have, none
 * for a Direct endpoint, one for an endpoint that is not Direct). The service's exact wording is
 * UNCONFIRMED; the documented cases are kept apart so each says what to change.
 */
export const directInvocationError = {
  unknown: (hostname: string, endpointName: string, known: readonly string[]) =>
    validationError(`TargetContainerHostname ${hostname} does not exist in endpoint ${endpointName}; its containers are ${known.join(', ')}.`),
  missing: (endpointName: string) =>
    validationError(`Endpoint ${endpointName} is configured for direct invocation (InferenceExecutionConfig Mode Direct): give TargetContainerHostname (header X-Amzn-SageMaker-Target-Container-Hostname) to pick its container.`),
  notDirect: (endpointName: string) =>
    validationError(`TargetContainerHostname is only for endpoints configured for direct invocation; endpoint ${endpointName} is not (its InferenceExecutionConfig Mode is not Direct).`),
};

/** TargetVariant naming no variant of the endpoint (wording UNCONFIRMED). */
export function unknownVariant(variant: string, endpointName: string, known: readonly string[]): RuntimeError {
  return validationError(`The variant ${variant} is not present in endpoint ${endpointName}; its variants are ${known.join(', ')}.`);
}

/** Every variant weighs 0 and no TargetVariant was given: there is nowhere to send the request (wording UNCONFIRMED). */
export function noWeightedVariant(endpointName: string): RuntimeError {
  return validationError(`Every production variant of endpoint ${endpointName} has weight 0: give TargetVariant, or a variant a weight above 0.`);
}

/** What CreateModel says of an image in a multi-container model without the bind-to-port label (DG:multi-container-troubleshooting). */
export function missingBindToPortLabel(image: string): string {
  return `Your Ecr Image ${image} does not contain required ${BIND_TO_PORT_LABEL}=true Docker label(s).`;
}

/** ValidationError (HTTP 400) for an endpoint name this runtime does not know (CONTRACT §4.5). */
export function endpointNotFound(endpointName: string, account: string): RuntimeError {
  return { status: 400, errorType: 'ValidationError', body: { Message: `Endpoint ${endpointName} of account ${account} not found.` } };
}

export function validationError(message: string): RuntimeError {
  return { status: 400, errorType: 'ValidationError', body: { Message: message } };
}

/**
 * A request body above 6 MiB. The only observed answer is HTTP 413 without a modeled error code,
 * `HTTP content length exceeded <n> bytes.` (2018, with the old 5 MB limit); current wording UNCONFIRMED.
 */
export function payloadTooLarge(): RuntimeError {
  // No error code was observed; ValidationError (the runtime's code for a bad request) lets the SDKs name it.
  return { status: 413, errorType: 'ValidationError', body: { Message: `HTTP content length exceeded ${MAX_PAYLOAD_BYTES} bytes.` } };
}

/** A path or method the runtime has no operation for: what AWS's REST front ends answer (404 UnknownOperationException). */
export function unknownOperation(method: string, path: string, status: 404 | 405 = 404): RuntimeError {
  return { status, errorType: 'UnknownOperationException', body: { Message: `The runtime has no operation for ${method} ${path}.` } };
}

/** A request that is not HTTP/1.x the runtime can read (a bare HTTP/0.9 line, a malformed head). */
export function malformedRequest(detail: string): RuntimeError {
  return { status: 400, errorType: 'ValidationError', body: { Message: `The request could not be read: ${detail}.` } };
}

/** The runtime itself failed (InternalFailure, 500), or could not reach what it serves: `status` says which. */
/**
 * A multi-model endpoint's model still loading after 60 s (CONTRACT §7.3): 429, while loading goes on;
 * clients retry. The message wording is UNCONFIRMED.
 */
export function modelNotReady(targetModel: string): RuntimeError {
  return { status: 429, errorType: 'ModelNotReadyException', body: { Message: `Model ${targetModel} is still loading. Retry the request; loading continues.` } };
}

export function internalFailure(message: string, status = 500): RuntimeError {
  return { status, errorType: 'InternalFailure', body: { Message: message } };
}

/** Checks the headers InvokeEndpoint validates; returns a ValidationError message or undefined. */
export function checkInvokeHeaders(headers: { customAttributes?: string; contentType?: string; accept?: string }): string | undefined {
  const visibleAscii = /^[\x20-\x7e]*$/;
  if (headers.customAttributes !== undefined) {
    if (headers.customAttributes.length > CUSTOM_ATTRIBUTES_MAX || !visibleAscii.test(headers.customAttributes)) {
      return `1 validation error detected: Value at 'customAttributes' failed to satisfy constraint: Member must have length less than or equal to ${CUSTOM_ATTRIBUTES_MAX} and contain only visible US-ASCII characters`;
    }
  }
  // Any ASCII text is a ContentType or Accept (no "type/subtype" rule): `csv` reaches the container as it is.
  for (const [name, value] of [['contentType', headers.contentType], ['accept', headers.accept]] as const) {
    if (value !== undefined && (value.length > 1024 || !/^[\x00-\x7f]*$/.test(value))) {
      return `1 validation error detected: Value at '${name}' failed to satisfy constraint: Member must have length less than or equal to 1024 and contain only ASCII characters`;
    }
  }
  return undefined;
}

/**
 * The environment of a serving container: the model's `Environment`, plus SAGEMAKER_BIND_TO_PORT and
 * SAGEMAKER_SAFE_PORT_RANGE when the image declares it accepts them (CONTRACT §4.3, §8.1).
 */
export function renderServingEnvironment(environment: Record<string, string>, bind?: { port: number; safeRange: [number, number] }): Record<string, string> {
  return {
    ...environment,
    ...(bind ? { SAGEMAKER_BIND_TO_PORT: String(bind.port), SAGEMAKER_SAFE_PORT_RANGE: `${bind.safeRange[0]}-${bind.safeRange[1]}` } : {}),
  };
}

/**
 * The headers stage `index` of `count` in a serial inference pipeline receives (CONTRACT §8.2): the
 * first gets the client's Content-Type, each later one the previous container's answer's Content-Type
 * (none if it sent none). Which Accept intermediate containers get is UNCONFIRMED: only the last gets
 * the client's, so the others answer in their own default type (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT,
 * which pipeline images rely on). Custom attributes reach every container.
 */
export function serialStageHeaders(client: Readonly<Record<string, string>>, index: number, count: number, previousContentType?: string): Record<string, string> {
  const headers: Record<string, string> = { ...client };
  if (index > 0) {
    delete headers['content-type'];
    if (previousContentType !== undefined) headers['content-type'] = previousContentType;
  }
  if (index < count - 1) delete headers.accept;
  return headers;
}
