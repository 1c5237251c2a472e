/**
 * After a job, what sm-local read back from a container's own volume must agree with what the engine
 * counts in it: an archive with no file in it, of a volume the engine counts bytes in, means the
 * engine's archive answer missed what the container wrote (seen with Podman before sm-local adapted
 * to its naming). Reported as an environment error, never as a job that succeeded with nothing.
 */
import type { ContainerEngine, EngineContainer, EngineInfo } from '../docker/engine.js';
import { EngineMismatchError } from '../errors.js';

export interface ReadBack {
  /** The host's name (`algo-1`). */
  host: string;
  container: EngineContainer;
  /** The folder read, a volume's mount point (`/opt/ml/model`, a processing output). */
  path: string;
  /** Files and links that came back. */
  files: number;
}

export async function verifyReadBack(docker: ContainerEngine, engine: EngineInfo, reads: readonly ReadBack[], what: string): Promise<void> {
  const empty = reads.filter((r) => r.files === 0);
  // Docker Engine reads volumes back whole (sm-local's integration suite runs on it); counting every
  // volume's size (`system df`) costs a short job about 0.4 s, so only other engines pay for it.
  if (!empty.length || engine.product === 'docker') return;
  const sizes = await docker.volumeSizes(engine.apiVersion);
  for (const r of empty) {
    const volume = await r.container.volumeAt(r.path);
    const size = volume ? sizes.get(volume) : undefined;
    if (size) {
      throw new EngineMismatchError(
        `${engine.endpoint} (${engine.serverVersion || 'unknown version'})`,
        `returned an archive of ${r.path} of ${r.host} with no files in it, but counts ${size} bytes in that volume (${volume}): ${what} the container wrote cannot be read back, so the job is not reported as a success.`,
      );
    }
  }
}
