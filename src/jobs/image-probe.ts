import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { ImageEvidence, JobWord } from '../contract/conformance.js';
import { PLATFORM_AREAS } from '../contract/paths.js';
import type { ContainerEngine, EngineContainer as ContainerHandle, EngineInfo, ImageInfo, PathStat } from '../docker/engine.js';
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

/** The image's Python package folders (site-packages, dist-packages). */
async function sitePackages(container: ContainerHandle): Promise<string[]> {
  const libs = [...PYTHON_LIBS.flatMap((lib) => PYTHON_VERSIONS.map((v) => `${lib}/python${v}`)), '/usr/lib/python3'];
  const present = (await Promise.all(libs.map(async (dir) => ((await container.statPath(dir))?.type === 'directory' ? dir : undefined)))).filter((d): d is string => d !== undefined);
  const dirs = present.flatMap((dir) => ['site-packages', 'dist-packages'].map((sub) => `${dir}/${sub}`));
  return (await Promise.all(dirs.map(async (d) => ((await container.statPath(d))?.type === 'directory' ? d : undefined)))).filter((d): d is string => d !== undefined);
}

/** Python site-packages of the image that hold a SageMaker toolkit. */
async function findToolkits(container: ContainerHandle, packages: readonly string[]): Promise<ImageEvidence['toolkits']> {
  const candidates = packages.flatMap((dir) => TOOLKITS.map((name) => ({ name, path: `${dir}/${name}` })));
  const found = await Promise.all(candidates.map(async (c) => ((await container.statPath(c.path))?.type === 'directory' ? c : undefined)));
  return found.filter((c): c is { name: string; path: string } => c !== undefined);
}

/** Model servers, by their programs on PATH (or Triton's own folder) and their Python packages. */
async function findModelServers(container: ContainerHandle, pathVar: string, sitePackages: readonly string[]): Promise<ImageEvidence['modelServers']> {
  const programs = [
    ['mms', 'multi-model-server'],
    ['mms', 'mxnet-model-server'],
    ['torchserve', 'torchserve'],
    ['triton', 'tritonserver'],
  ] as const;
  const dirs = [...pathVar.split(':').filter(Boolean), '/opt/tritonserver/bin'];
  const candidates = [
    ...programs.flatMap(([name, program]) => dirs.map((dir) => ({ name, path: posix.join(dir, program), type: 'file' as const }))),
    ...sitePackages.flatMap((dir) => [
      { name: 'mms' as const, path: `${dir}/mms`, type: 'directory' as const },
      { name: 'torchserve' as const, path: `${dir}/ts`, type: 'directory' as const },
    ]),
  ];
  const found = await Promise.all(candidates.map(async (c) => ((await resolveStat(container, c.path))?.stat.type === c.type ? { name: c.name, path: c.path } : undefined)));
  const seen = new Set<string>();
  return found.filter((c): c is { name: 'mms' | 'torchserve' | 'triton'; path: string } => c !== undefined && !seen.has(c.name) && Boolean(seen.add(c.name)));
}

/**
 * The files a container (started or not) has below a folder of /opt/ml: how many (up to 1000) and
 * the paths of the first three; undefined when the folder is not there.
 */
export async function filesUnder(container: ContainerHandle, folder: string): Promise<{ count: number; sample: string[] } | undefined> {
  if ((await container.statPath(folder))?.type !== 'directory') return undefined;
  const tar = await container.getArchive(folder);
  if (!tar) return undefined;
  const listed = await listTarFiles(tar, { max: 1000, sample: 3 });
  // The archive's entries start with the folder's own name (`code/train.py`).
  return { count: listed.count, sample: listed.sample.map((n) => posix.join(posix.dirname(folder), n)) };
}

async function hiddenFiles(container: ContainerHandle): Promise<ImageEvidence['hiddenFiles']> {
  const out: ImageEvidence['hiddenFiles'] = [];
  for (const area of PLATFORM_AREAS) {
    const files = await filesUnder(container, area);
    if (files) out.push({ area, ...files });
  }
  return out;
}

/**
 * What an image shows without running: its configuration, what `train`/`serve` resolve to on its
 * PATH, files it ships where SageMaker mounts its own folders, SageMaker toolkits in it, and its
 * manifests. Reads the image's filesystem through a container that is created and never started.
 */
export async function probeImage(
  docker: ContainerEngine,
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
    const packages = sitePackages(container);
    const [programs, toolkits, modelServers, hidden, baked, history, manifests] = await Promise.all([
      Promise.all(opts.words.map(async (w) => [w, await lookPath(container, w, pathVar)] as const)),
      packages.then((p) => findToolkits(container, p)),
      packages.then((p) => findModelServers(container, pathVar, p)),
      hiddenFiles(container),
      filesUnder(container, '/opt/ml/code').then((f) => f ?? { count: 0, sample: [] }),
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
      modelServers,
      bakedCode: baked,
      toolkitBuildSteps: history.filter((step) => TOOLKIT_STEP.test(step)).map((step) => step.replace(/\s+/g, ' ').trim().slice(0, 120)),
      manifests,
    };
  } finally {
    await container.remove();
  }
}
