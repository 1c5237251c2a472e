/**
 * `sm-local api`: a local SageMaker on one port of 127.0.0.1 (CONTRACT §9.6): the control plane
 * (`POST /`, `X-Amz-Target: SageMaker.*`) and the runtime (`/endpoints/{name}/…`) of every endpoint
 * it runs, for unmodified boto3, AWS CLI and AWS SDK clients pointed at it.
 */
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { MAX_PAYLOAD_BYTES } from '../contract/serving.js';
import { PortInUseError } from '../errors.js';
import { handleControlPlane } from '../http/control-plane.js';
import { EndpointRegistry } from '../http/endpoint-registry.js';
import type { RequestLogEntry } from '../http/forward.js';
import { probePort } from '../http/ports.js';
import { buildRuntimeApp } from '../http/proxy-app.js';
import { resolveJobDeps, type JobDeps } from '../jobs/deps.js';
import { LocalSageMaker } from './local-sagemaker.js';

/** The server's port when none is asked for (LocalStack's 4566 and MinIO's 9000 are often taken). */
export const DEFAULT_API_PORT = 8770;

export interface ApiServerOptions {
  /** 0 for any free port. */
  port?: number;
  region: string;
  account: string;
  s3Root: string;
  outputDir: string;
  /** The folder the resources are kept in between runs (`state.json`); none: they live as long as the server. */
  stateDir?: string;
  /** One line per control-plane call. */
  onCall?: (operation: string, status: number, ms: number) => void;
  /** One line per runtime call. */
  onRequest?: (entry: RequestLogEntry) => void;
}

export interface ApiServer {
  url: string;
  port: number;
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
  const registry = new EndpointRegistry({ cap: MAX_PAYLOAD_BYTES, budgetBytes: 4 * MAX_PAYLOAD_BYTES, account: opts.account, ...(opts.onRequest ? { onRequest: opts.onRequest } : {}) });
  const sagemaker = new LocalSageMaker(
    { region: opts.region, account: opts.account, s3Root: opts.s3Root, outputDir: opts.outputDir, runtime: { registry, port }, ...(opts.stateDir ? { stateFile: join(opts.stateDir, 'state.json') } : {}) },
    deps,
  );
  await sagemaker.restore();
  const services = {
    json: { SageMaker: sagemaker.operations, Logs_20140328: sagemaker.logs.operations },
    identity: { account: opts.account, arn: `arn:aws:iam::${opts.account}:user/sm-local`, userId: 'AIDASMLOCALUSER00000' },
  };
  const app: FastifyInstance = buildRuntimeApp(registry, { controlPlane: (req, res) => handleControlPlane(req, res, services, opts.onCall) });
  await app.listen({ host: '127.0.0.1', port }).catch((err: NodeJS.ErrnoException) => {
    throw err.code === 'EADDRINUSE' ? new PortInUseError(port, err) : err;
  });
  let closing: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    sagemaker,
    close: (o = {}) =>
      (closing ??= (async () => {
        await sagemaker.shutdown(o.force);
        await app.close();
      })()),
  };
}
