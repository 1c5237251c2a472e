import { readFile, stat, statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ContainerEngine, EngineInfo } from '../docker/engine.js';
import { engineProfile, untestedWarning, type EngineProfile } from '../docker/engine-profile.js';
import { isSmLocalError } from '../errors.js';

/** Label on images sm-local's own tooling builds (base images, test fixtures, examples). */
export const IMAGE_ROLE_LABEL = 'sm-local.role';

export interface DiskCheck {
  label: string;
  path: string;
  freeBytes?: number;
}

export interface DoctorReport {
  engine: { ok: boolean; endpoint: string; info?: EngineInfo; profile?: EngineProfile; error?: string; hint?: string };
  disks: DiskCheck[];
  images: { tags: string[]; role: string; id: string; sizeBytes: number }[];
  warnings: string[];
}

const LOW_DISK_BYTES = 2 * 1024 ** 3;

/** Free space of the file system holding `path`, or of its nearest existing parent. */
async function freeBytes(path: string): Promise<{ path: string; free?: number }> {
  let p = path;
  for (;;) {
    try {
      const s = await statfs(p);
      return { path: p, free: Number(s.bavail) * Number(s.bsize) };
    } catch {
      const parent = dirname(p);
      if (parent === p) return { path };
      p = parent;
    }
  }
}

/** Docker Engine's socket is here and bridged traffic goes through iptables (where Docker sets FORWARD to DROP). */
async function dockerFiltersBridges(): Promise<boolean> {
  const socket = await stat('/var/run/docker.sock').then((s) => s.isSocket(), () => false);
  const netfilter = await readFile('/proc/sys/net/bridge/bridge-nf-call-iptables', 'utf8').then((t) => t.trim() === '1', () => false);
  return socket && netfilter;
}

/** Is the engine usable, what is it, how much disk is there, which sm-local images exist. */
export async function runDoctor(opts: { docker: ContainerEngine; tmpRoot: string; outputDir: string }): Promise<DoctorReport> {
  const { docker } = opts;
  const report: DoctorReport = { engine: { ok: false, endpoint: docker.endpoint }, disks: [], images: [], warnings: [] };
  try {
    await docker.ping();
    report.engine.info = await docker.info();
    report.engine.profile = engineProfile(report.engine.info);
    report.engine.ok = true;
  } catch (err) {
    report.engine.error = err instanceof Error ? err.message : String(err);
    if (isSmLocalError(err) && err.hint) report.engine.hint = err.hint;
  }

  const places: [string, string][] = [
    ['workspaces', opts.tmpRoot],
    ['job output', opts.outputDir],
  ];
  const info = report.engine.info;
  if (info && !info.remote && info.rootDir) places.unshift(['Docker data', info.rootDir]);
  for (const [label, path] of places) {
    const { path: measured, free } = await freeBytes(path);
    report.disks.push({ label, path: measured, ...(free !== undefined ? { freeBytes: free } : {}) });
    if (free !== undefined && free < LOW_DISK_BYTES) report.warnings.push(`Only ${(free / 1024 ** 3).toFixed(1)} GiB free for ${label} (${measured}).`);
  }

  if (report.engine.ok) {
    const images = await docker.listImages(IMAGE_ROLE_LABEL);
    report.images = images.map((i) => ({ tags: i.tags, role: i.labels[IMAGE_ROLE_LABEL] ?? '', id: i.id, sizeBytes: i.size }));
    if (report.engine.profile?.name.includes('Podman') && !info?.remote && (await dockerFiltersBridges())) {
      report.warnings.push(
        "Docker Engine also runs on this machine: its FORWARD policy DROP, with bridge netfilter on, also drops traffic between containers on Podman's internal networks, so a network-isolated multi-host job would wait for its peers forever. Allow it: iptables -I FORWARD -i podman+ -o podman+ -j ACCEPT",
      );
    }
    const untested = report.engine.profile && untestedWarning(report.engine.profile);
    if (untested) report.warnings.push(untested);
    if (info?.remote) report.warnings.push(`The engine at ${info.endpoint} is remote: sm-local copies data through the Engine API (--transfer copy).`);
    if (info && info.osType !== 'linux') report.warnings.push(`The engine runs ${info.osType} containers; SageMaker runs linux containers.`);
  }
  return report;
}
