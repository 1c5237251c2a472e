import type { ContainerEngine } from '../docker/engine.js';
import { LABEL } from '../docker/labels.js';
import { EndpointNotFoundError } from '../errors.js';

/** A running endpoint found through its container's labels. */
export interface RunningEndpoint {
  name: string;
  proxyPort: number;
  containerId: string;
}

/** The sm-local endpoints whose containers are running, optionally only the one named `name`. */
export async function listEndpoints(docker: ContainerEngine, name?: string): Promise<RunningEndpoint[]> {
  const found = await docker.listContainers([`${LABEL.jobType}=serving`, ...(name ? [`${LABEL.jobName}=${name}`] : [])]);
  return found
    .filter((r) => r.state === 'running' && r.labels[LABEL.proxyPort])
    .map((r) => ({ name: r.labels[LABEL.jobName] ?? '', proxyPort: Number(r.labels[LABEL.proxyPort]), containerId: r.id }));
}

/** The proxy port of the running endpoint `name`, or EndpointNotFoundError. */
export async function findEndpoint(docker: ContainerEngine, name: string): Promise<RunningEndpoint> {
  const [endpoint] = await listEndpoints(docker, name);
  if (!endpoint) throw new EndpointNotFoundError(name);
  return endpoint;
}
