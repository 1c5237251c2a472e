/**
 * `sm-local api`: a local SageMaker on one port of 127.0.0.1 (CONTRACT §9.6): the control plane
 * (`POST /`, `X-Amz-Target: SageMaker.*`) and the runtime (`/endpoints/{name}/…`) of every endpoint
 * it runs, for unmodified boto3, AWS CLI and AWS SDK clients pointed at it.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Pool } from 'undici';
import { PortInUseError } from '../errors.js';
import { handleControlPlane } from '../http/control-plane.js';
import { EndpointRegistry } from '../http/endpoint-registry.js';
import type { RequestLogEntry } from '../http/forward.js';
import type { TraceRecord } from '../http/trace.js';
import { probePort } from '../http/ports.js';
import { buildRuntimeApp } from '../http/proxy-app.js';
import { resolveJobDeps, type JobDeps } from '../jobs/deps.js';
import { registerConsole, type ConsoleSource } from '../console/routes.js';
import { LocalSageMaker } from './local-sagemaker.js';
import { S3Mirror, startLocalS3 } from './s3-mirror.js';

/** The server's port when none is asked for (LocalStack's 4566 and MinIO's 9000 are often taken). */
export const DEFAULT_API_PORT = 8770;

export interface ApiServerOptions {
  /** 0 for any free port. */
  port?: number;
  region: string;
  account: string;
  /** Folder mode: this folder is S3 (`s3://bucket/key` is `<s3Root>/bucket/key`), with no S3 endpoint. */
  s3Root?: string;
  /** An S3-compatible endpoint to use instead of the local one (LocalStack, MinIO, moto server). */
  s3EndpointUrl?: string;
  /** The local S3 endpoint's port (default: any free one). */
  s3Port?: number;
  outputDir: string;
  /** The folder the resources are kept in between runs (`state.json`); none: they live as long as the server. */
  stateDir?: string;
  /** One line per control-plane call. */
  onCall?: (operation: string, status: number, ms: number) => void;
  /** One line per runtime call. */
  onRequest?: (entry: RequestLogEntry) => void;
  /** `--trace`: every exchange on the port (control plane, runtime, S3, console), headers and first bytes. */
  trace?: (record: TraceRecord) => void;
}

export interface ApiServer {
  url: string;
  port: number;
  /** The S3 endpoint the jobs read and write through, unless S3 is a folder (`s3Root`). */
  s3Url?: string;
  sagemaker: LocalSageMaker;
  /** Stops every job and deletes every endpoint it started (forced: SIGKILL at once), then stops listening. */
  close(opts?: { force?: boolean }): Promise<void>;
}

export async function startApiServer(opts: ApiServerOptions, depsIn: Partial<JobDeps> = {}): Promise<ApiServer> {
  const deps = resolveJobDeps(depsIn);
  const port = await probePort(opts.port ?? DEFAULT_API_PORT).catch(async (err: unknown) => {
    if (opts.port === undefined && err instanceof PortInUseError) {
      const free = await probePort(0);
      deps.log.info(`Port ${DEFAULT_API_PORT} is taken; the local SageMaker uses ${free} instead.`);
      return free;
    }
    throw err;
  });
  const registry = new EndpointRegistry({ account: opts.account, ...(opts.onRequest ? { onRequest: opts.onRequest } : {}) });
  // S3: a folder; or an endpoint (the local one, s3rver on a folder of the state, or the user's), mirrored into a folder the jobs see.
  const folderMode = opts.s3Root !== undefined;
  const ownHome = !folderMode && !opts.stateDir;
  if (ownHome) await mkdir(deps.tmpRoot, { recursive: true });
  const s3Home = folderMode ? undefined : (opts.stateDir ?? (await mkdtemp(join(deps.tmpRoot, 'sm-local-api-'))));
  const local = s3Home && opts.s3EndpointUrl === undefined ? await startLocalS3(join(s3Home, 's3'), opts.s3Port ?? 0) : undefined;
  const s3Url = opts.s3EndpointUrl ?? local?.url;
  const mirror = s3Url && s3Home ? new S3Mirror(s3Url, join(s3Home, 's3-mirror'), opts.region) : undefined;
  const s3Root = opts.s3Root ?? mirror!.root;
  const sagemaker = new LocalSageMaker(
    { region: opts.region, account: opts.account, s3Root, outputDir: opts.outputDir, runtime: { registry, port }, ...(opts.stateDir ? { stateFile: join(opts.stateDir, 'state.json') } : {}), ...(mirror ? { s3: mirror } : {}) },
    deps,
  );
  await sagemaker.restore().catch(async (err: unknown) => {
    await local?.close();
    throw err;
  });
  const services = {
    json: { SageMaker: sagemaker.operations, Logs_20140328: sagemaker.logs.operations },
    identity: { account: opts.account, arn: `arn:aws:iam::${opts.account}:user/sm-local`, userId: 'AIDASMLOCALUSER00000' },
  };
  // S3 on this port too, for clients given one endpoint URL for every service.
  const s3Pool = s3Url ? new Pool(s3Url, { connections: 32 }) : undefined;
  const consoleSource: ConsoleSource = {
    call: (op, body) => sagemaker.operations[op]!(body),
    logs: (op, body) => sagemaker.logs.operations[op]!(body),
    jobFolder: (kind, name) => sagemaker.jobFolder(kind === 'training-jobs' ? 'training' : kind === 'processing-jobs' ? 'processing' : 'transform', name),
  };
  const app: FastifyInstance = buildRuntimeApp(registry, {
    controlPlane: (req, res) => handleControlPlane(req, res, services, opts.onCall),
    ...(s3Pool ? { s3: s3Pool } : {}),
    ...(opts.trace ? { trace: opts.trace } : {}),
    routes: (a) => registerConsole(a, consoleSource, { apiUrl: `http://127.0.0.1:${port}` }),
  });
  await app.listen({ host: '127.0.0.1', port }).catch(async (err: NodeJS.ErrnoException) => {
    await local?.close();
    throw err.code === 'EADDRINUSE' ? new PortInUseError(port, err) : err;
  });
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    ...(s3Url ? { s3Url } : {}),
    sagemaker,
    close: (o = {}) =>
      (closing ??= (async () => {
        await sagemaker.shutdown(o.force);
        await app.close();
        mirror?.destroy();
        await s3Pool?.destroy();
        await local?.close();
        if (ownHome && s3Home) await rm(s3Home, { recursive: true, force: true });
      })()),
  };
}
