import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { DockerClient } from '../../src/docker/client.js';
import { ensureAllImages, REPO_ROOT } from '../../scripts/lib/images.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Empty when the engine answers; otherwise why integration tests cannot run. */
    dockerUnavailable: string;
  }
}

/**
 * Before the integration tests: the engine must answer (under CI=true a missing engine is a failure,
 * never a skip), the base/fixture/example images must exist (built from local files when missing),
 * and the CLI bundle the CLI tests spawn must be fresh.
 */
export default async function setup(project: TestProject): Promise<void> {
  const docker = new DockerClient();
  try {
    await docker.ping();
  } catch (err) {
    const why = `No Docker engine answers at ${docker.endpoint}: ${(err as Error).message}`;
    if (process.env.CI === 'true') throw new Error(`${why}. CI=true: integration tests must run against a real engine.`);
    process.stderr.write(`\n${why}\nIntegration tests are SKIPPED. Start Docker, or run \`npm test\`, which starts it.\n\n`);
    project.provide('dockerUnavailable', why);
    return;
  }
  await ensureAllImages(docker, (line) => process.stderr.write(`${line}\n`));
  execFileSync(process.execPath, [join(REPO_ROOT, 'scripts', 'bundle.mjs')], { cwd: REPO_ROOT, stdio: 'inherit' });
  project.provide('dockerUnavailable', '');
}
