import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { ImageEvidence, JobWord } from '../contract/conformance.js';
import { PLATFORM_AREAS } from '../contract/paths.js';
import type { DockerClient, EngineInfo, ImageInfo } from '../docker/client.js';
import type { ContainerHandle, PathStat } from '../docker/container.js';
import { ownerLabels, resourceName, type Owner } from '../docker/labels.js';
import { listTarFiles } from '../workspace/archive.js';

/** Docker's PATH when an image sets none. */
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const TOOLKITS = ['sagemaker_training', 'sagemaker_inference', 'sagemaker_containers'];
const PYTHON_LIBS = ['/usr/local/lib', '/usr/lib', '/opt/conda/lib'];
const PYTHON_VERSIONS = ['3.6', '3.7', '3.8', '3.9', '3.10', '3.11', '3.12', '3.13'];
const TOOLKIT_STEP = /sagemaker[-_](training|inference|containers)/i;

/** Follows symlinks (up to a few hops) to what they finally name. */
async function resolveStat(container: ContainerHandle, path: string): Promise<{ path: string; stat: PathStat } | undefined> {
  let current = path;
  for (let hop = 0; hop < 8; hop++) {
    const stat = await container.statPath(current);
    if (!stat) return undefined;
    if (stat.type !== 'symlink' || !stat.linkTarget) return { path: current, stat };
    current = posix.resolve(posix.dirname(current), stat.linkTarget);
  }
  return undefined;
}

/** The first executable file named `word` on PATH, as `exec` would find it. */
async function lookPath(container: ContainerHandle, word: JobWord, pathVar: string): Promise<ImageEvidence['programs'][JobWord]> {
  let notExecutable: { path: string; executable: boolean } | undefined;
  for (const dir of pathVar.split(':').filter(Boolean)) {
    const candidate = posix.join(dir, word);
    const found = await resolveStat(container, candidate);
    if (!found || found.stat.type !== 'file') continue;
    if (found.stat.mode & 0o111) return { path: candidate, executable: true };
    notExecutable ??= { path: candidate, executable: false };
  }
  return notExecutable ?? null;
}

/** Python site-packages of the image that hold a SageMaker toolkit. */
async function findToolkits(container: ContainerHandle): Promise<ImageEvidence['toolkits']> {
  const libs = [...PYTHON_LIBS.flatMap((lib) => PYTHON_VERSIONS.map((v) => `${lib}/python${v}`)), '/usr/lib/python3'];
  const present = (await Promise.all(libs.map(async (dir) => ((await container.statPath(dir))?.type === 'directory' ? dir : undefined)))).filter((d): d is string => d !== undefined);
  const candidates = present.flatMap((dir) => ['site-packages', 'dist-packages'].flatMap((sub) => TOOLKITS.map((name) => ({ name, path: `${dir}/${sub}/${name}` }))));
  const found = await Promise.all(candidates.map(async (c) => ((await container.statPath(c.path))?.type === 'directory' ? c : undefined)));
  return found.filter((c): c is { name: string; path: string } => c !== undefined);
}

async function hiddenFiles(container: ContainerHandle): Promise<ImageEvidence['hiddenFiles']> {
  const out: ImageEvidence['hiddenFiles'] = [];
  for (const area of PLATFORM_AREAS) {
    if ((await container.statPath(area))?.type !== 'directory') continue;
    const tar = await container.getArchive(area);
    if (!tar) continue;
    const listed = await listTarFiles(tar, { max: 1000, sample: 3 });
    out.push({ area, count: listed.count, sample: listed.sample.map((n) => `/opt/ml/${n}`) });
  }
  return out;
}

/**
 * What an image shows without running: its configuration, what `train`/`serve` resolve to on its
 * PATH, files it ships where SageMaker mounts its own folders, SageMaker toolkits in it, and its
 * manifests. Reads the image's filesystem through a container that is created and never started.
 */
export async function probeImage(
  docker: DockerClient,
  image: ImageInfo,
  ref: string,
  engine: EngineInfo,
  opts: { owner: Owner; words: readonly JobWord[] },
): Promise<ImageEvidence> {
  const container = await docker.createContainer({
    name: resourceName('check', ref, `probe-${randomBytes(3).toString('hex')}`),
    image: ref,
    // Never started: any command will do, and images without one still get a container.
    entrypoint: ['/sm-local-probe'],
    cmd: [],
    env: [],
    labels: ownerLabels(opts.owner, 'check', ref),
  });
  try {
    const pathVar = image.env.PATH ?? DEFAULT_PATH;
    const [programs, toolkits, hidden, history, manifests] = await Promise.all([
      Promise.all(opts.words.map(async (w) => [w, await lookPath(container, w, pathVar)] as const)),
      findToolkits(container),
      hiddenFiles(container),
      docker.imageHistory(ref),
      docker.imageManifests(ref, engine.apiVersion),
    ]);
    return {
      entrypoint: image.entrypoint,
      cmd: image.cmd,
      user: image.user,
      os: image.os,
      architecture: image.architecture,
      env: image.env,
      labels: image.labels,
      programs: Object.fromEntries(programs),
      hiddenFiles: hidden,
      toolkits,
      toolkitBuildSteps: history.filter((step) => TOOLKIT_STEP.test(step)).map((step) => step.replace(/\s+/g, ' ').trim().slice(0, 120)),
      manifests,
    };
  } finally {
    await container.remove();
  }
}
