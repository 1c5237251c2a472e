/**
 * Copies the project's images from the default engine (DOCKER_HOST, else the local socket) into
 * another one. Usage: tsx scripts/copy-images.ts unix:///path/podman.sock | tcp://127.0.0.1:PORT
 */
import Docker from 'dockerode';
import { DockerClient } from '../src/docker/client.js';
import { copyImages } from './lib/images.js';

const target = process.argv[2];
if (!target) {
  process.stderr.write('usage: tsx scripts/copy-images.ts ENGINE_URL\n');
  process.exit(2);
}
const url = new URL(target);
const to = new DockerClient(url.protocol === 'unix:' ? new Docker({ socketPath: url.pathname }) : new Docker({ host: url.hostname, port: Number(url.port), protocol: 'http' }));
try {
  await copyImages(new DockerClient(), to, (line) => process.stderr.write(`${line}\n`));
} catch (err) {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
