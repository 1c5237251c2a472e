/**
 * A serving container as SageMaker runs one (CONTRACT §4.1–4.2): `<image> serve` with the model at
 * /opt/ml/model, its port published on 127.0.0.1 (or reached on an internal network), ready once
 * `GET /ping` answers 200 within the start-up window. The piece every kind of hosting uses: a
 * single-model endpoint now, batch transform and each container of a pipeline next.
 */
import { onAbort } from '../abort.js';
import { OPT_ML } from '../contract/paths.js';
import { resolveContainerCommand } from '../contract/container-command.js';
import type { ContainerInput, EngineContainer, PortPair, StopOutcome } from '../docker/engine.js';
import type { ContainerRun } from '../docker/run.js';
import { pingOnce } from '../http/ping.js';
import type { JobDeps } from './deps.js';
import { waitUntilReady } from './readiness.js';
import type { ResourceScope } from './resource-scope.js';

const MODEL_DIR = `${OPT_ML}/model`;

export interface ServingContainerInput {
  name: string;
  image: string;
  labels: Record<string, string>;
  hostname: string;
  env: string[];
  /** Host folder mounted read-only at /opt/ml/model. */
  modelDir?: string;
  /** Host folder mounted read-only at /opt/ml/models (a multi-model endpoint's models, extracted there on first use). */
  modelsDir?: string;
  /** The container's own port: 8080, or SAGEMAKER_BIND_TO_PORT. */
  port: number;
  /** An internal network to run on: no port is published, the container is reached at its address there. */
  network?: string;
  /** How long `GET /ping` may take to answer 200 (ContainerStartupHealthCheckTimeoutInSeconds). */
  startupTimeoutSeconds: number;
  onLine?: (line: string) => void;
  /** How the start is described in the log (`, SAGEMAKER_BIND_TO_PORT=12345`). */
  note?: string;
  /** Right after the start request went out: work that may overlap the engine starting the container. */
  onStarting?: () => void;
  /** Called between steps: throws to give up (a stop while starting). */
  checkpoint?: () => void;
  /** CPU, memory, /dev/shm and GPU limits (an instance type's). */
  resources?: ContainerInput['resources'];
  /** More ports on 127.0.0.1 (`--publish`, a debugger's). */
  publish?: PortPair[];
  /** Leave the container in the engine when the scope ends (stopped by `stop`, not removed). */
  keep?: boolean;
}

/** A serving container that answered `GET /ping` with 200. */
export interface ServingContainer {
  container: EngineContainer;
  run: ContainerRun;
  /** The published port on 127.0.0.1 (0 on an internal network). */
  hostPort: number;
  /** The fastest route to its server from this machine: its own address when reachable, else the published port. */
  upstream: { host: string; port: number };
  /** Settles when it exits. */
  exited: Promise<{ exitCode: number; tail: string[] }>;
  /** SIGTERM, the grace, SIGKILL. */
  stop(graceMs: number): Promise<StopOutcome>;
  /** SIGKILL now. */
  kill(): void;
}

/**
 * The container's own address, when this machine can reach it (a local engine on Linux): a proxy then
 * skips the engine's port-publishing relay (docker-proxy), one copy less per request. Elsewhere
 * (Docker Desktop, a remote engine) the published port is used.
 */
async function directUpstream(ip: string | undefined, port: number, deps: JobDeps): Promise<{ host: string; port: number } | undefined> {
  if (deps.docker.remote || !ip) return undefined;
  const answer = await pingOnce(`http://${ip}:${port}`, 250);
  return answer.status === 200 ? { host: ip, port } : undefined;
}

/**
 * Creates, starts and waits for a serving container; its removal is registered on `scope` as soon as
 * it exists, so a failure at any step (the start, readiness, a stop) leaves nothing behind. A forced
 * stop (`deps.force`) kills it at once.
 */
export async function startServingContainer(input: ServingContainerInput, deps: JobDeps, scope: ResourceScope): Promise<ServingContainer> {
  const container = await deps.docker.createContainer({
    name: input.name,
    image: input.image,
    ...resolveContainerCommand('serve'),
    env: input.env,
    labels: input.labels,
    hostname: input.hostname,
    // Whether /opt/ml/model is read-only on SageMaker is UNCONFIRMED (CONTRACT §4.1); read-only is
    // the safe reading, and it keeps the user's model folder untouched.
    mounts: [
      ...(input.modelDir ? [{ source: input.modelDir, target: MODEL_DIR, readOnly: true }] : []),
      // Read-only to the container, as on SageMaker (CONTRACT §7.3).
      ...(input.modelsDir ? [{ source: input.modelsDir, target: `${OPT_ML}/models`, readOnly: true }] : []),
    ],
    ...(input.resources ? { resources: input.resources } : {}),
    // An internal network publishes no ports: the container is reached at its address instead.
    ...(input.network ? { network: { name: input.network, aliases: [] } } : { publish: [input.port, ...(input.publish ?? [])] }),
  });
  // Kept: ended (a start that failed may leave it running), not removed.
  if (input.keep) {
    scope.defer(`container ${container.shortId}`, async () => {
      await container.kill('SIGKILL');
      deps.log.info(`Kept container ${container.shortId} (${input.name}): \`docker logs ${container.shortId}\`, \`docker start -ai ${container.shortId}\`; \`sm-local prune\` removes it.`);
    });
  } else scope.defer(`container ${container.shortId}`, () => container.remove());
  input.checkpoint?.();
  deps.log.info(`Starting container ${container.shortId} (${input.image}) with \`serve\`${input.note ?? ''}…`);
  const starting = container.start({ ...(input.onLine ? { onLine: input.onLine } : {}) });
  input.onStarting?.();
  const run = await starting;
  deps.log.debug(`started ${container.shortId}`);
  // A forced stop (the second Ctrl-C) skips the grace period.
  onAbort(deps.force, () => run.kill());
  const { hostPort, ip } = await container.addresses(input.network ? undefined : input.port);
  const published = input.network ? undefined : await deps.docker.reach(hostPort);
  const base = published ? `http://${published.host}:${published.port}` : `http://${ip}:${input.port}`;
  await waitUntilReady(base, run, { deps, containerId: container.id, port: input.port, windowSeconds: input.startupTimeoutSeconds });
  input.checkpoint?.();
  deps.log.debug(`GET /ping answered 200 on ${base}`);
  const upstream = published ? ((await directUpstream(ip, input.port, deps)) ?? published) : { host: ip!, port: input.port };
  // Marked as handled: a caller that never looks at `exited` must not get an unhandled rejection.
  const exited = run.exited.then((e) => ({ exitCode: e.exitCode, tail: e.tail }));
  exited.catch(() => {});
  return { container, run, hostPort, upstream, exited, stop: (graceMs) => run.stop(graceMs), kill: () => run.kill() };
}
