import { describe, expect, it } from 'vitest';
import { fixtureTag } from '../scripts/lib/images.js';
import { runTrainingJob, type TrainingJobSpec } from '../src/index.js';
import { dockerUnavailable, useTestSession } from './support/session.js';
import { tarJson } from './support/tarballs.js';

/** CONTRACT §2.1: how the container is started, seen from the program's own argv. */
describe.skipIf(dockerUnavailable())('start rule: ENTRYPOINT, CMD, ContainerEntrypoint and ContainerArguments', () => {
  const s = useTestSession();

  async function argv(image: string, override: Pick<TrainingJobSpec, 'containerEntrypoint' | 'containerArguments'> = {}) {
    const { deps, log } = s.deps();
    const result = await runTrainingJob({ image, ...override, outputDir: s.dir() }, deps);
    const report = await tarJson<{ argv: string[] }>(result.modelArtifact!, 'report.json');
    return { argv: report.argv, warnings: log.messages.filter((m) => m.level === 'warn').map((m) => m.message), describe: result.describe };
  }

  const exec = fixtureTag('exec-entrypoint');

  it('exec-form ENTRYPOINT, no override: `train` replaces the image CMD and arrives as the last argument', async () => {
    const r = await argv(exec);
    expect(r.argv).toEqual(['/opt/program/report.py', 'train']);
    expect(r.warnings).toEqual([]);
    expect(r.describe.SmLocal).toMatchObject({ ContainerCommand: { cmd: ['train'] } });
  });

  it('ContainerArguments only: the image ENTRYPOINT runs with the arguments and no `train`', async () => {
    expect((await argv(exec, { containerArguments: ['--epochs', '3'] })).argv).toEqual(['/opt/program/report.py', '--epochs', '3']);
  });

  it('ContainerEntrypoint only: replaces ENTRYPOINT and drops the image CMD', async () => {
    expect((await argv(exec, { containerEntrypoint: ['python3', '/opt/program/report.py'] })).argv).toEqual(['/opt/program/report.py']);
  });

  it('both: the given entrypoint with the given arguments', async () => {
    const r = await argv(exec, { containerEntrypoint: ['python3', '-B', '/opt/program/report.py'], containerArguments: ['step', 'preprocess'] });
    expect(r.argv).toEqual(['/opt/program/report.py', 'step', 'preprocess']);
    expect(r.describe.AlgorithmSpecification).toMatchObject({ ContainerEntrypoint: ['python3', '-B', '/opt/program/report.py'], ContainerArguments: ['step', 'preprocess'] });
  });

  it('shell-form ENTRYPOINT: Docker ignores the `train` word, and sm-local warns about it', async () => {
    const r = await argv(fixtureTag('shell-entrypoint'));
    expect(r.argv).toEqual(['/opt/program/report.py']);
    expect(r.warnings).toEqual([expect.stringMatching(/shell form.*"train" argument SageMaker appends is ignored/)]);
  });
});
