/**
 * Which engine answers, in the words its users know it by, whether sm-local's integration suite runs
 * against it, and what it cannot do for sm-local. Pure: from `EngineInfo` only.
 */
import type { EngineInfo } from './engine.js';

export type EngineName = 'Docker Engine' | 'Docker Desktop' | 'rootless Docker' | 'Podman' | 'rootless Podman' | 'an unknown engine';

export interface EngineProfile {
  name: EngineName;
  version: string;
  remote: boolean;
  /** sm-local's integration suite runs against this kind of engine (see README, Engines). */
  tested: boolean;
  /** Features that need the engine on this machine, with what to use instead; empty for a local engine. */
  needsLocal: string[];
  /** What to know about this engine before a job: its limits that matter to sm-local. */
  notes: string[];
}

/**
 * The engines the integration suite runs against: Docker Engine from 20.10 (Debian's docker.io) and
 * Podman 4 through its Docker-compatible socket (`npm test` starts one). Others may well work; they
 * get a warning, not silence.
 */
const TESTED: Record<string, (major: number, minor: number) => boolean> = {
  'Docker Engine': (major, minor) => major > 20 || (major === 20 && minor >= 10),
  Podman: (major) => major === 4,
};

function versionParts(version: string): [number, number] {
  const [major, minor] = version.split(/[.+-]/).map((p) => Number.parseInt(p, 10));
  return [Number.isFinite(major) ? major! : 0, Number.isFinite(minor) ? minor! : 0];
}

export function engineName(info: Pick<EngineInfo, 'product' | 'operatingSystem' | 'rootless'>): EngineName {
  if (info.product === 'podman') return info.rootless ? 'rootless Podman' : 'Podman';
  if (info.product === 'docker') {
    if (/docker desktop/i.test(info.operatingSystem)) return 'Docker Desktop';
    return info.rootless ? 'rootless Docker' : 'Docker Engine';
  }
  return 'an unknown engine';
}

export function engineProfile(info: EngineInfo): EngineProfile {
  const name = engineName(info);
  const [major, minor] = versionParts(info.serverVersion);
  const tested = TESTED[name]?.(major, minor) ?? false;
  const needsLocal = info.remote
    ? [
        'bind mounts (--transfer mount): jobs copy their data through the Engine API instead (--transfer copy, the default here)',
        'Pipe mode channels (they are named pipes in a folder this machine shares with the container): use File or FastFile',
        "check's network-isolation probe of the endpoint (it needs to reach the container's own address): it is skipped",
      ]
    : [];
  const notes: string[] = [];
  if (name === 'Podman' || name === 'rootless Podman') {
    notes.push('Podman copies files in and out of containers differently from Docker Engine: sm-local adapts, and after each job checks that no model or output came back empty from a volume Podman counts bytes in. GPUs (--gpus) need Docker Engine.');
  }
  if (name === 'rootless Docker' || name === 'rootless Podman') {
    notes.push('Rootless: files a container writes as root belong to your user on this machine; CPU and memory limits need cgroup v2 with delegation, or they are not enforced.');
  }
  if (name === 'Docker Desktop') notes.push("Docker Desktop runs containers in a VM: bind mounts of big channels are slower than copying, and the containers' own addresses are not reachable (the published port is used).");
  return { name, version: info.serverVersion, remote: info.remote, tested, needsLocal, notes };
}

/** The warning for an engine the suite does not run against, or undefined. */
export function untestedWarning(profile: EngineProfile): string | undefined {
  if (profile.tested) return undefined;
  const what = profile.remote ? `a remote ${profile.name}` : profile.name;
  return `sm-local is tested against Docker Engine 20.10+ and Podman 4 (locally and over ssh), not against ${what} ${profile.version}: jobs should work, but report anything that behaves differently from SageMaker.`;
}
