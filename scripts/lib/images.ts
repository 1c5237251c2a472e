/**
 * Builds every image the tests, the demo and the benchmarks need, from local files only (no registry
 * is reachable): a Debian base with Python from debootstrap, a tiny busybox base, the test fixtures
 * and the bundled example. Each image carries a hash of its inputs and is rebuilt only when they change.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { DockerClient } from '../../src/docker/client.js';
import { skeletonTar, streamToBuffer } from '../../src/workspace/archive.js';
import { REPO_ROOT } from './paths.js';
import { IMAGE_ROLE_LABEL } from '../../src/jobs/doctor.js';

export { REPO_ROOT } from './paths.js';
export const BASE_PYTHON = 'sm-local-base/python:bookworm';
export const BASE_BUSYBOX = 'sm-local-base/busybox:static';
export const EXAMPLE_IMAGE = 'sm-local-example/logistic-regression:latest';
/** The one-image pipeline example: the example image plus a preprocessing program (examples/one-image-pipeline). */
export const PIPELINE_IMAGE = 'sm-local-example/one-image-pipeline:latest';
export const FIXTURES_DIR = join(REPO_ROOT, 'fixtures', 'images');
export const INPUTS_LABEL = 'sm-local.inputs';

const DEBIAN_SUITE = 'bookworm';
const DEBIAN_MIRROR = 'http://deb.debian.org/debian';
const DEBOOTSTRAP_ARGS = ['--variant=minbase', '--include=python3', DEBIAN_SUITE];

export function fixtureTag(name: string): string {
  return `sm-local-fixture/${name}:test`;
}

type Say = (line: string) => void;

function run(cmd: string, args: string[], opts: { say?: Say } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) tail.push(line), tail.length > 20 && tail.shift();
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (err) => reject(new Error(`${cmd} could not start (${err.message}). Install it: apt-get install -y ${cmd === 'debootstrap' ? 'debootstrap' : cmd}`)));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${tail.join('\n')}`))));
    opts.say?.(`$ ${cmd} ${args.join(' ')}`);
  });
}

/** `tar -C dir -c .` piped into the Engine's image import: keeps device nodes, links and owners. */
async function importDirectory(docker: DockerClient, dir: string, tag: string, changes: string[]): Promise<void> {
  const tar = spawn('tar', ['-C', dir, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => tar.on('close', r));
  await docker.importImage(tar.stdout, tag, { changes });
  if ((await exited) !== 0) throw new Error(`tar of ${dir} failed`);
}

async function hashFiles(dir: string, extra: string[] = []): Promise<string> {
  const h = createHash('sha256');
  for (const e of extra) h.update(`${e}\n`);
  const walk = async (d: string): Promise<void> => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else {
        h.update(`${relative(dir, p)}\n`);
        h.update(await readFile(p));
      }
    }
  };
  await walk(dir);
  return h.digest('hex').slice(0, 16);
}

async function upToDate(docker: DockerClient, tag: string, inputs: string): Promise<boolean> {
  const info = await docker.inspectImage(tag);
  return info?.labels[INPUTS_LABEL] === inputs;
}

const labelChanges = (role: string, inputs: string) => [`LABEL ${IMAGE_ROLE_LABEL}=${role}`, `LABEL ${INPUTS_LABEL}=${inputs}`];

/** Debian bookworm (minbase) with python3, from debootstrap. Needs root and the debootstrap package. */
export async function ensurePythonBase(docker: DockerClient, say: Say = () => {}): Promise<boolean> {
  const inputs = createHash('sha256').update(['v1', ...DEBOOTSTRAP_ARGS, DEBIAN_MIRROR].join(' ')).digest('hex').slice(0, 16);
  if (await upToDate(docker, BASE_PYTHON, inputs)) return false;
  if (process.getuid?.() !== 0) throw new Error(`${BASE_PYTHON} is missing and debootstrap needs root. Run the test command as root, or load the image yourself.`);
  const dir = await mkdtemp(join(tmpdir(), 'sm-local-rootfs-'));
  try {
    say(`Building ${BASE_PYTHON} with debootstrap (about a minute)…`);
    await run('debootstrap', [...DEBOOTSTRAP_ARGS, dir, DEBIAN_MIRROR], { say });
    await rm(join(dir, 'var/cache/apt/archives'), { recursive: true, force: true });
    await rm(join(dir, 'var/lib/apt/lists'), { recursive: true, force: true });
    await importDirectory(docker, dir, BASE_PYTHON, [
      ...labelChanges('base', inputs),
      'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'ENV LANG=C.UTF-8',
      'CMD ["/bin/bash"]',
    ]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return true;
}

/** `FROM scratch` plus Debian's static busybox: a few MB, starts in milliseconds. */
export async function ensureBusyboxBase(docker: DockerClient, say: Say = () => {}): Promise<boolean> {
  const busybox = '/bin/busybox';
  const binary = await readFile(busybox).catch(() => {
    throw new Error('/bin/busybox is missing: apt-get install -y busybox-static');
  });
  const inputs = createHash('sha256').update('v1').update(binary).digest('hex').slice(0, 16);
  if (await upToDate(docker, BASE_BUSYBOX, inputs)) return false;
  const dir = await mkdtemp(join(tmpdir(), 'sm-local-busybox-'));
  try {
    say(`Building ${BASE_BUSYBOX}…`);
    await mkdir(join(dir, 'bin'));
    await mkdir(join(dir, 'tmp'));
    await chmod(join(dir, 'tmp'), 0o1777);
    await mkdir(join(dir, 'etc'));
    await writeFile(join(dir, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\n');
    await writeFile(join(dir, 'etc', 'group'), 'root:x:0:\n');
    await copyFile(busybox, join(dir, 'bin', 'busybox'));
    await chmod(join(dir, 'bin', 'busybox'), 0o755);
    const applets = await new Promise<string[]>((resolve, reject) => {
      const child = spawn(busybox, ['--list'], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.on('close', (code) => (code === 0 ? resolve(out.split('\n').filter(Boolean)) : reject(new Error('busybox --list failed'))));
    });
    for (const a of applets) if (a !== 'busybox') await symlink('busybox', join(dir, 'bin', a));
    await importDirectory(docker, dir, BASE_BUSYBOX, [...labelChanges('base', inputs), 'ENV PATH=/bin', 'CMD ["/bin/sh"]']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return true;
}

/** Builds `contextDir` (with `dockerfile`) into `tag` when its files or its base image changed. */
export async function ensureBuilt(docker: DockerClient, opts: { tag: string; contextDir: string; dockerfile?: string; role: string; base: string; say?: Say }): Promise<boolean> {
  const base = await docker.requireLocalImage(opts.base);
  const inputs = await hashFiles(opts.contextDir, [base.id, opts.dockerfile ?? 'Dockerfile']);
  if (await upToDate(docker, opts.tag, inputs)) return false;
  opts.say?.(`Building ${opts.tag}…`);
  await docker.buildImage(opts.contextDir, opts.tag, {
    labels: { [IMAGE_ROLE_LABEL]: opts.role, [INPUTS_LABEL]: inputs },
    ...(opts.dockerfile ? { dockerfile: opts.dockerfile } : {}),
  });
  return true;
}

/** Names of the fixture images: one `<name>.Dockerfile` each in fixtures/images. */
export async function fixtureNames(): Promise<string[]> {
  return (await readdir(FIXTURES_DIR)).filter((f) => f.endsWith('.Dockerfile')).map((f) => f.replace(/\.Dockerfile$/, '')).sort();
}

export async function ensureFixtures(docker: DockerClient, say: Say = () => {}): Promise<string[]> {
  const built: string[] = [];
  for (const name of await fixtureNames()) {
    if (await ensureBuilt(docker, { tag: fixtureTag(name), contextDir: FIXTURES_DIR, dockerfile: `${name}.Dockerfile`, role: 'fixture', base: BASE_PYTHON, say })) built.push(name);
  }
  return built;
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/**
 * `sm-local check`'s image built for the other architecture: a `docker save` archive written by
 * hand whose config says linux/arm64 (the one file in it is a shell script, which the static checks
 * never run), loaded into the engine. No Dockerfile can make one here (it would need an arm64 base,
 * and nothing can be pulled), and the classic image store ignores `import --platform`.
 */
export async function ensureForeignArchFixture(docker: DockerClient, say: Say = () => {}): Promise<boolean> {
  const tag = fixtureTag('check-arm64');
  const program = '#!/bin/sh\necho "check-arm64: $1"\n';
  const inputs = sha256(`v1\n${program}`).slice(0, 16);
  if (await upToDate(docker, tag, inputs)) return false;
  say(`Building ${tag}…`);
  const layer = await streamToBuffer(skeletonTar([{ path: 'opt/program/run', content: program, mode: 0o755 }]));
  const config = JSON.stringify({
    architecture: 'arm64',
    os: 'linux',
    created: '2026-01-01T00:00:00Z',
    config: { Entrypoint: ['/opt/program/run'], Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Labels: { [IMAGE_ROLE_LABEL]: 'fixture', [INPUTS_LABEL]: inputs } },
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha256(layer)}`] },
    history: [{ created: '2026-01-01T00:00:00Z', created_by: 'sm-local fixture: check-arm64' }],
  });
  const configName = `${sha256(config)}.json`;
  const archive = await streamToBuffer(
    skeletonTar([
      { path: 'layer/layer.tar', content: layer },
      { path: configName, content: config },
      { path: 'manifest.json', content: JSON.stringify([{ Config: configName, RepoTags: [tag], Layers: ['layer/layer.tar'] }]) },
    ]),
  );
  await docker.loadImage(Readable.from([archive]));
  return true;
}

export async function ensureExample(docker: DockerClient, say: Say = () => {}): Promise<boolean> {
  const built = await ensureBuilt(docker, { tag: EXAMPLE_IMAGE, contextDir: join(REPO_ROOT, 'examples', 'logistic-regression'), role: 'example', base: BASE_PYTHON, say });
  // Built on the example image, so it is rebuilt whenever that one is.
  const pipeline = await ensureBuilt(docker, { tag: PIPELINE_IMAGE, contextDir: join(REPO_ROOT, 'examples', 'one-image-pipeline'), role: 'example', base: EXAMPLE_IMAGE, say });
  return built || pipeline;
}

/** Everything, in dependency order. */
export async function ensureAllImages(docker: DockerClient, say: Say = () => {}): Promise<void> {
  await ensureBusyboxBase(docker, say);
  await ensurePythonBase(docker, say);
  await ensureFixtures(docker, say);
  await ensureForeignArchFixture(docker, say);
  await ensureExample(docker, say);
}

/**
 * Copies the project's images (base, fixture, example) from one engine into another (a Podman
 * socket, a second dockerd) with one save and one load, skipping those the target already has with
 * the same inputs. The target's names may carry a registry prefix (Podman: `localhost/`).
 */
export async function copyImages(from: DockerClient, to: DockerClient, say: Say = () => {}): Promise<void> {
  const wanted: string[] = [];
  for (const image of await from.listImages(IMAGE_ROLE_LABEL)) {
    for (const tag of image.tags) {
      if (tag === '<none>:<none>') continue;
      if (!(await upToDate(to, tag, image.labels[INPUTS_LABEL] ?? ''))) wanted.push(tag);
    }
  }
  if (!wanted.length) return;
  say(`copying ${wanted.length} image(s) to ${to.endpoint}…`);
  await to.loadImage(await from.saveImages(wanted));
}
