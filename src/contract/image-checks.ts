/**
 * Warnings about an image that will run locally but misbehave on SageMaker (CONTRACT §2.1, §11).
 * Data in, warnings out.
 */
export interface ImageFacts {
  entrypoint: readonly string[] | null;
  cmd: readonly string[] | null;
  user: string;
  os: string;
  architecture: string;
}

/** Graviton families (`ml.c7g`, `ml.m6gd`, `ml.g5g`, …) run arm64; every other family runs amd64. */
export function instanceArchitecture(instanceType: string): 'arm64' | 'amd64' {
  const family = instanceType.split('.')[1] ?? '';
  return /^[a-z]+\d+g[a-z]*$/.test(family) ? 'arm64' : 'amd64';
}

export function checkImage(image: ImageFacts, opts: { jobWord: 'train' | 'serve' | undefined; entrypointOverridden: boolean; instanceType?: string }): string[] {
  const warnings: string[] = [];
  const ep = image.entrypoint ?? [];
  if (!opts.entrypointOverridden && ep.length >= 2 && /(^|\/)(ba|da)?sh$/.test(ep[0] ?? '') && ep[1] === '-c') {
    warnings.push(
      `The image's ENTRYPOINT is in shell form (${JSON.stringify(ep)}): ${opts.jobWord ? `the "${opts.jobWord}" argument SageMaker appends is ignored, and ` : ''}SIGTERM goes to /bin/sh, not to your program. Use the exec form: ENTRYPOINT ["program", "arg"].`,
    );
  }
  const first = ep[0] ?? '';
  if (!opts.entrypointOverridden && /(^|\/)tini(-static)?$/.test(first) && !ep.includes('--')) {
    warnings.push('The image runs tini without "--": SageMaker\'s docs say tini gets confused by the appended argument. Use ENTRYPOINT ["tini", "--", "program"].');
  }
  const user = image.user.split(':')[0] ?? '';
  if (user !== '' && user !== 'root' && user !== '0') {
    warnings.push(`The image runs as user "${image.user}". SageMaker expects containers to run as root; /opt/ml may not be writable for other users.`);
  }
  if (image.os && image.os !== 'linux') warnings.push(`The image is built for ${image.os}; SageMaker runs linux images only.`);
  if (opts.instanceType && image.architecture) {
    const want = instanceArchitecture(opts.instanceType);
    if (image.architecture !== want) {
      warnings.push(`The image is built for ${image.architecture}, but ${opts.instanceType} instances run ${want}: on SageMaker it would fail with "exec format error".`);
    }
  }
  return warnings;
}
