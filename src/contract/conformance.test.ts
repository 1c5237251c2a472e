import { describe, expect, it } from 'vitest';
import { checkWords, sigtermExitObservation } from '../jobs/check-runner.js';
import { CHECKS, checkResult, detectPattern, judgeImage, judgeManifest, skipped, summarize, writesOutside, type ImageEvidence } from './conformance.js';

const image = (over: Partial<ImageEvidence> = {}): ImageEvidence => ({
  entrypoint: ['python3', '/opt/program/main.py'],
  cmd: null,
  user: '',
  os: 'linux',
  architecture: 'amd64',
  env: { PATH: '/usr/local/bin:/usr/bin:/bin' },
  labels: {},
  programs: {},
  hiddenFiles: [],
  toolkits: [],
  modelServers: [],
  bakedCode: { count: 0, sample: [] },
  toolkitBuildSteps: [],
  manifests: { known: true, index: false, platforms: ['linux/amd64'], attestations: 0 },
  ...over,
});

/** The checks judgeImage did not pass, as "status id: observed". */
const flagged = (ev: ImageEvidence, opts: { words?: ('train' | 'serve')[]; instanceType?: string } = {}) =>
  judgeImage(ev, { words: opts.words ?? ['train', 'serve'], instanceType: opts.instanceType ?? 'ml.m5.large' })
    .filter((c) => c.status !== 'pass')
    .map((c) => `${c.status} ${c.id}: ${c.observed}`);

describe('judgeImage', () => {
  it('passes an exec-form ENTRYPOINT image built for the instance', () => {
    expect(flagged(image())).toEqual([]);
  });

  // SageMaker runs a shell-form ENTRYPOINT: the lost job word and SIGTERM are risks, not failures.
  it('warns about a shell-form ENTRYPOINT, whatever the shell', () => {
    for (const sh of ['/bin/sh', 'sh', '/bin/bash', '/usr/bin/dash']) {
      expect(flagged(image({ entrypoint: [sh, '-c', 'python3 train.py'] }))).toEqual([`warn image.entrypoint-form: ENTRYPOINT ${JSON.stringify([sh, '-c', 'python3 train.py'])} is shell form`]);
    }
    expect(flagged(image({ entrypoint: ['/bin/sh', '/opt/entry.sh'] }))).toEqual([]);
  });

  it('warns about tini without "--", not with it', () => {
    expect(flagged(image({ entrypoint: ['/usr/bin/tini', 'python3', 'main.py'] }))).toEqual(['warn image.tini: ENTRYPOINT ["/usr/bin/tini","python3","main.py"] runs tini without "--"']);
    expect(flagged(image({ entrypoint: ['tini', '--', 'python3', 'main.py'] }))).toEqual([]);
    expect(flagged(image({ entrypoint: ['/sbin/tini-static', '-g', '--', 'main'] }))).toEqual([]);
  });

  it('with no ENTRYPOINT, needs an executable `train`/`serve` on PATH, for the words in scope only', () => {
    const noEp = { entrypoint: null, programs: { train: { path: '/usr/local/bin/train', executable: true }, serve: null } };
    expect(flagged(image(noEp), { words: ['train'] })).toEqual([]);
    expect(flagged(image(noEp))).toEqual(['fail image.serve-program: no ENTRYPOINT, and no `serve` on PATH (/usr/local/bin:/usr/bin:/bin): Docker fails with "executable file not found"']);
    const notExec = judgeImage(image({ entrypoint: null, programs: { train: { path: '/opt/bin/train', executable: false } } }), { words: ['train'], instanceType: 'ml.m5.large' }).find((c) => c.id === 'image.train-program');
    expect(notExec).toMatchObject({ status: 'fail', observed: 'no ENTRYPOINT, and /opt/bin/train is not executable', fix: 'chmod +x /opt/bin/train in the Dockerfile (RUN chmod 755 /opt/bin/train).' });
  });

  it('warns about a CMD the job word replaces, but not about the word itself or a base image shell', () => {
    expect(flagged(image({ cmd: ['--epochs', '5'] }), { words: ['train'] })).toEqual([
      'warn image.cmd-replaced: ENTRYPOINT ["python3","/opt/program/main.py"] never gets CMD ["--epochs","5"]: SageMaker passes only "train"',
    ]);
    expect(flagged(image({ entrypoint: null, programs: { serve: { path: '/usr/bin/serve', executable: true } }, cmd: ['python3', 'app.py'] }), { words: ['serve'] })).toEqual([
      'warn image.cmd-replaced: CMD ["python3","app.py"] never runs: SageMaker replaces it with "serve"',
    ]);
    expect(flagged(image({ cmd: ['serve'] }), { words: ['serve'] })).toEqual([]);
    expect(flagged(image({ cmd: ['bash'] }))).toEqual([]);
    expect(flagged(image({ cmd: ['/bin/sh'] }))).toEqual([]);
  });

  it('fails an arm64 image on ml.m5 and an amd64 image on Graviton', () => {
    expect(flagged(image({ architecture: 'arm64' }), { instanceType: 'ml.m5.xlarge' })).toEqual([
      'fail image.architecture: the image is linux/arm64, but ml.m5.xlarge runs linux/amd64: it would fail with "exec format error"',
    ]);
    expect(flagged(image(), { instanceType: 'ml.c7g.large' })).toEqual([
      'fail image.architecture: the image is linux/amd64, but ml.c7g.large runs linux/arm64: it would fail with "exec format error"',
    ]);
    expect(flagged(image({ architecture: 'arm64' }), { instanceType: 'ml.m7g.large' })).toEqual([]);
    expect(flagged(image({ os: 'windows' }))).toEqual(['fail image.architecture: the image is built for windows; SageMaker runs linux images']);
  });

  it('warns about a non-root USER, by name or number, and not about root', () => {
    expect(flagged(image({ user: 'app' }))).toEqual(['warn image.user: USER app']);
    expect(flagged(image({ user: '1000:1000' }))).toEqual(['warn image.user: USER 1000:1000']);
    expect(flagged(image({ user: 'root' }))).toEqual([]);
    expect(flagged(image({ user: '0:0' }))).toEqual([]);
  });

  it('warns about files under the areas SageMaker mounts', () => {
    const hiddenFiles = [
      { area: '/opt/ml/model', count: 3, sample: ['/opt/ml/model/a.bin', '/opt/ml/model/b.bin'] },
      { area: '/opt/ml/input', count: 0, sample: [] },
    ];
    expect(flagged(image({ hiddenFiles }))).toEqual(['warn image.opt-ml-files: /opt/ml/model: 3 files (/opt/ml/model/a.bin, /opt/ml/model/b.bin, …)']);
  });

  it('warns when a training-toolkit image sets its own ENTRYPOINT for train', () => {
    const toolkit = { toolkits: [{ name: 'sagemaker_training', path: '/usr/lib/python3/site-packages/sagemaker_training' }] };
    const [warning] = flagged(image(toolkit), { words: ['train'] });
    expect(warning).toMatch(/^warn image\.pattern: toolkit \(sagemaker_training in .*\)\. Own base image .* This image sets ENTRYPOINT \["python3","\/opt\/program\/main.py"\], so `train` goes to it, not to the toolkit\.$/);
    expect(flagged(image({ ...toolkit, entrypoint: null, programs: { train: { path: '/usr/local/bin/train', executable: true } } }), { words: ['train'] })).toEqual([]);
    // An inference-toolkit image may well have its own ENTRYPOINT for serve.
    expect(flagged(image({ toolkits: [{ name: 'sagemaker_inference', path: '/x' }] }), { words: ['serve'] })).toEqual([]);
  });

  it('gives every failure and warning a fix, and nothing else one', () => {
    const results = judgeImage(image({ entrypoint: ['sh', '-c', 'x'], user: 'app', architecture: 'arm64' }), { words: ['train', 'serve'], instanceType: 'ml.m5.large' });
    for (const c of results) expect(Boolean(c.fix), c.id).toBe(c.status === 'fail' || c.status === 'warn');
  });
});

describe('judgeManifest', () => {
  it('skips, saying why, when the engine cannot list manifests', () => {
    expect(judgeManifest({ known: false, reason: 'API 1.41' })).toMatchObject({ status: 'skip', observed: 'API 1.41' });
  });

  it('fails a multi-platform index, and one with attestation manifests', () => {
    expect(judgeManifest({ known: true, index: true, platforms: ['linux/amd64', 'linux/arm64'], attestations: 0 }).observed).toBe(
      'the image is an index with 2 platforms (linux/amd64, linux/arm64); SageMaker pulls a single image manifest',
    );
    expect(judgeManifest({ known: true, index: true, platforms: ['linux/amd64'], attestations: 1 })).toMatchObject({
      status: 'fail',
      observed: 'the image is an index with 1 attestation manifest; SageMaker pulls a single image manifest',
    });
  });

  it('passes a single image manifest, and an index holding just one platform', () => {
    expect(judgeManifest({ known: true, index: false, platforms: ['linux/amd64'], attestations: 0 }).status).toBe('pass');
    expect(judgeManifest({ known: true, index: true, platforms: ['linux/amd64'], attestations: 0 }).status).toBe('pass');
  });
});

describe('detectPattern', () => {
  it('recognises an AWS framework image by its environment or labels', () => {
    expect(detectPattern(image({ env: { SAGEMAKER_TRAINING_MODULE: 'sagemaker_pytorch_container.training:main' } }))).toMatchObject({
      pattern: 'aws-framework',
      signals: ['ENV SAGEMAKER_TRAINING_MODULE=sagemaker_pytorch_container.training:main'],
    });
    expect(detectPattern(image({ labels: { dlc_major_version: '1' } })).pattern).toBe('aws-framework');
    expect(detectPattern(image({ labels: { dlc_major_version: '1' } })).advice).toMatch(/requirements\.txt/);
  });

  it('recognises a toolkit image by its packages, and by build steps only when no package was found', () => {
    const found = detectPattern(image({ toolkits: [{ name: 'sagemaker_inference', path: '/p' }], toolkitBuildSteps: ['pip install sagemaker-inference'] }));
    expect(found).toMatchObject({ pattern: 'toolkit', signals: ['sagemaker_inference in /p'] });
    expect(detectPattern(image({ toolkitBuildSteps: ['pip install sagemaker-training'] })).signals).toEqual(['build step: pip install sagemaker-training']);
  });

  it('calls everything else written from scratch', () => {
    expect(detectPattern(image()).pattern).toBe('scratch');
  });

  it('gives advice for the job words in scope, matching what is in the image', () => {
    const inference = image({ toolkits: [{ name: 'sagemaker_inference', path: '/p' }], modelServers: [{ name: 'mms', path: '/usr/local/bin/multi-model-server' }] });
    const serveOnly = detectPattern(inference, ['serve']);
    expect(serveOnly.pattern).toBe('toolkit');
    expect(serveOnly.advice).toMatch(/inference toolkit runs your handlers .* inside Multi Model Server/);
    expect(serveOnly.advice).not.toMatch(/`train`|Training/);
    const training = detectPattern(image({ toolkits: [{ name: 'sagemaker_training', path: '/p' }] }), ['train']);
    expect(training.advice).toMatch(/^Own base image with a SageMaker toolkit installed\. Training: the toolkit's `train` console script runs your script/);
    expect(detectPattern(image({ modelServers: [{ name: 'torchserve', path: '/usr/bin/torchserve' }] }), ['serve'])).toMatchObject({ pattern: 'model-server', signals: ['torchserve at /usr/bin/torchserve'] });
    expect(detectPattern(image({ modelServers: [{ name: 'triton', path: '/opt/tritonserver/bin/tritonserver' }] }), ['serve']).advice).toMatch(/Triton in SageMaker mode/);
    expect(detectPattern(image(), ['serve']).advice).toMatch(/`serve` program answers GET \/ping and POST \/invocations on 0\.0\.0\.0:8080 itself/);
    expect(detectPattern(image({ labels: { 'com.amazonaws.sagemaker.capabilities.multi-models': 'true' } }), ['serve']).signals).toEqual([
      'LABEL com.amazonaws.sagemaker.capabilities.multi-models=true (sm-local serves it single-model)',
    ]);
  });

  it('warns that baked-in /opt/ml/code wins over --source-dir in a training-toolkit image', () => {
    const baked = image({ entrypoint: null, programs: { train: { path: '/usr/local/bin/train', executable: true } }, toolkits: [{ name: 'sagemaker_training', path: '/p' }], bakedCode: { count: 1, sample: ['/opt/ml/code/train.py'] }, env: { SAGEMAKER_PROGRAM: 'train.py' } });
    const row = judgeImage(baked, { words: ['train'], instanceType: 'ml.m5.large', sourceDir: '/src' }).find((c) => c.id === 'image.baked-code');
    expect(row).toMatchObject({ status: 'warn', observed: expect.stringMatching(/^the image ships 1 file in \/opt\/ml\/code \(\/opt\/ml\/code\/train\.py\) and sets SAGEMAKER_PROGRAM=train\.py: the toolkit does not unpack \/src over them/) });
    expect(row?.fix).toMatch(/only when that folder is empty/);
    const clean = judgeImage({ ...baked, bakedCode: { count: 0, sample: [] } }, { words: ['train'], instanceType: 'ml.m5.large', sourceDir: '/src' });
    expect(clean.find((c) => c.id === 'image.baked-code')?.status).toBe('pass');
    expect(judgeImage(baked, { words: ['train'], instanceType: 'ml.m5.large' }).some((c) => c.id === 'image.baked-code')).toBe(false);
  });
});

describe('writesOutside', () => {
  const change = (path: string, kind: 'added' | 'changed' | 'deleted' = 'added') => ({ path, kind });

  it('ignores the platform areas, the folders the mounts create, scratch folders and /opt/ml/code', () => {
    expect(
      writesOutside([
        change('/opt', 'changed'),
        change('/opt/ml'),
        change('/opt/ml/model'),
        change('/opt/ml/input/config'),
        change('/opt/ml/checkpoints'),
        change('/opt/ml/code/__pycache__/x.pyc'),
        change('/tmp/scratch.bin'),
        change('/root/.cache/pip', 'changed'),
        change('/usr/lib/python3/site-packages/x/__pycache__'),
      ]),
    ).toEqual([]);
  });

  it('names the files written, not the folders that hold them', () => {
    expect(
      writesOutside([
        change('/opt', 'changed'),
        change('/opt/ml', 'changed'),
        change('/opt/ml/results'),
        change('/opt/ml/results/metrics.json'),
        change('/etc', 'changed'),
        change('/etc/hosts.allow', 'changed'),
        change('/var/log/app.log'),
        change('/usr/share/doc', 'deleted'),
      ]),
    ).toEqual(['/etc/hosts.allow', '/opt/ml/results/metrics.json', '/usr/share/doc (deleted)', '/var/log/app.log']);
  });

  it('ignores interpreter caches, and the folders that changed only because of them', () => {
    expect(
      writesOutside([
        change('/usr', 'changed'),
        change('/usr/local/lib/python3.11/site-packages/mylib', 'changed'),
        change('/usr/local/lib/python3.11/site-packages/mylib/__pycache__'),
        change('/usr/local/lib/python3.11/site-packages/mylib/__pycache__/util.cpython-311.pyc'),
        change('/opt/program', 'changed'),
        change('/opt/program/helper.pyc'),
        change('/root', 'changed'),
        change('/root/.cache/pip/http/x'),
        change('/root/.config/matplotlib/fontlist.json'),
        change('/opt/program/numba_cache'),
        change('/opt/program/numba_cache/f.nbi'),
        change('/var/cache/apt/x'),
        change('/opt/program/predictions.csv'),
      ]),
    ).toEqual(['/opt/program/predictions.csv']);
  });
});

describe('summarize and results', () => {
  it('fails the verdict on any failure; warnings and skips do not', () => {
    const pass = checkResult('image.user', 'pass', 'root');
    const warn = checkResult('image.user', 'warn', 'USER app');
    const skip = skipped('image.manifest', 'old engine');
    expect(summarize([pass, warn, skip])).toEqual({ summary: { pass: 1, warn: 1, fail: 0, skip: 1 }, verdict: 'pass' });
    expect(summarize([pass, checkResult('train.exits-0', 'fail', 'exit 1')]).verdict).toBe('fail');
    expect(warn.fix).toBe(CHECKS['image.user'].fix);
    expect(pass.fix).toBeUndefined();
    expect(skip.fix).toBeUndefined();
  });

  it('numbers sample checks under their own ids and titles', () => {
    const c = checkResult('serve.sample', 'pass', '200', { id: 'serve.sample-2', title: 'Sample b.json gets 200' });
    expect(c).toMatchObject({ id: 'serve.sample-2', group: 'serve', title: 'Sample b.json gets 200', ref: CHECKS['serve.sample'].ref });
  });
});

describe('checkWords', () => {
  it('runs both with no switches, one when one is asked for, the other when one is declined', () => {
    expect(checkWords({})).toEqual(['train', 'serve']);
    expect(checkWords({ train: true })).toEqual(['train']);
    expect(checkWords({ serve: true })).toEqual(['serve']);
    expect(checkWords({ train: true, serve: true })).toEqual(['train', 'serve']);
    expect(checkWords({ train: false })).toEqual(['serve']);
    expect(checkWords({ serve: false })).toEqual(['train']);
    expect(checkWords({ train: false, serve: false })).toEqual([]);
    // --process alone checks a processing job, which has no job word; with --train or --serve, those too.
    expect(checkWords({ process: true })).toEqual([]);
    expect(checkWords({ process: true, train: true })).toEqual(['train']);
  });
});

describe('sigtermExitObservation', () => {
  it('claims a SIGTERM stop only when the run ended well before an unstopped one', () => {
    expect(sigtermExitObservation(150, 0, 1100, 6000)).toBe('exited 0.1 s after SIGTERM (exit code 0), 1.3 s into a job that runs 6.0 s unstopped: it stopped on SIGTERM');
    expect(sigtermExitObservation(900, 0, 1100, 2000)).toMatch(/^exited 0\.9 s after SIGTERM \(exit code 0\), 2\.0 s into a job that runs 2\.0 s unstopped: it finished on its own, so SIGTERM handling was not seen/);
    expect(sigtermExitObservation(900, 0, 1100, undefined)).toMatch(/whether the signal ended it was not seen$/);
  });
});
