/**
 * Builds the base, fixture and example images when missing or out of date.
 * Usage: tsx scripts/ensure-images.ts [all|bases|fixtures|example]...
 */
import { DockerClient } from '../src/docker/client.js';
import { ensureBusyboxBase, ensureExample, ensureFixtures, ensureForeignArchFixture, ensurePythonBase } from './lib/images.js';

const say = (line: string) => process.stderr.write(`${line}\n`);
const wanted = new Set(process.argv.slice(2).length ? process.argv.slice(2) : ['all']);
const want = (name: string) => wanted.has('all') || wanted.has(name);

try {
  const docker = new DockerClient();
  await docker.ping();
  if (want('bases') || want('fixtures') || want('example')) {
    await ensureBusyboxBase(docker, say);
    await ensurePythonBase(docker, say);
  }
  if (want('fixtures')) {
    await ensureFixtures(docker, say);
    await ensureForeignArchFixture(docker, say);
  }
  if (want('example')) await ensureExample(docker, say);
  say('Images are up to date.');
} catch (err) {
  say(`error: ${err instanceof Error ? err.message : String(err)}`);
  const hint = (err as { hint?: string }).hint;
  if (hint) say(`hint: ${hint}`);
  process.exitCode = 1;
}
