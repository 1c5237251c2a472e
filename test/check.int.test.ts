import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { validateXML } from 'xmllint-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureTag, REPO_ROOT } from '../scripts/lib/images.js';
import { resolveCheckInput, type CheckFlags } from '../src/config/check-input.js';
import { resolveConfig } from '../src/config/resolve.js';
import { runConformanceCheck, type ConformanceReport } from '../src/index.js';
import { LABEL } from '../src/docker/labels.js';
import { runCli } from './support/cli.js';
import { startOutsideHost, type OutsideHost } from './support/outside-host.js';
import { dockerUnavailable, useTestSession } from './support/session.js';

const CHECK = join(REPO_ROOT, 'fixtures', 'check');
type Flags = Omit<CheckFlags, 'image'>;

/** What a user acts on: every check that warned or failed, as "status id". */
const flagged = (r: ConformanceReport) => r.checks.filter((c) => c.status === 'warn' || c.status === 'fail').map((c) => `${c.status} ${c.id}`);
const observed = (r: ConformanceReport, id: string) => r.checks.find((c) => c.id === id)?.observed;
const row = (r: ConformanceReport, id: string) => r.checks.find((c) => c.id === id);
const trainRows = (r: ConformanceReport) => r.checks.filter((c) => c.group === 'train').map((c) => `${c.status} ${c.id}`);
const ALL_TRAIN_PASS = ['train.exits-0', 'train.model-written', 'train.model-archive', 'train.writes-outside', 'train.sigterm', 'train.failure-file'].map((id) => `pass ${id}`);
/** The fixture programs, used as a script-mode source folder. */
const PROGRAMS = join(REPO_ROOT, 'fixtures', 'images', 'programs');

const validateReport = (() => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'check-report.schema.json'), 'utf8')));
})();

async function validJUnit(xml: string): Promise<string[]> {
  const result = await validateXML({ xml: [{ fileName: 'check.xml', contents: xml }], schema: [readFileSync(join(REPO_ROOT, 'test', 'support', 'junit.xsd'), 'utf8')] });
  return result.errors.map((e) => e.rawMessage);
}

describe.skipIf(dockerUnavailable())('sm-local check on a real engine', () => {
  const s = useTestSession();

  /** The check as the CLI would resolve it from these flags, run through the API. */
  const check = async (fixture: string, flags: Flags = {}) => {
    const opts = { cwd: s.root, env: {} };
    const input = await resolveCheckInput({ image: fixtureTag(fixture), ...flags }, resolveConfig(opts), opts);
    const { deps } = s.deps();
    return runConformanceCheck(input, deps);
  };
  const staticOnly = (fixture: string, flags: Flags = {}) => check(fixture, { static: true, ...flags });
  const trainOnly = (fixture: string, flags: Flags = {}) =>
    check(fixture, { train: true, channel: [`train=${CHECK}/train`], failChannel: [`train=${CHECK}/bad`], trainStopGrace: 3, ...flags });
  const serveOnly = (fixture: string, flags: Flags = {}) =>
    check(fixture, { serve: true, model: `${CHECK}/model`, sample: [`${CHECK}/samples/instances.json,content-type=application/json`], startupTimeout: 10, serveStopGrace: 3, ...flags });

  describe('the image checks, without running it', () => {
    it('passes a well-made image written from scratch, and names its pattern', async () => {
      const r = await staticOnly('check-good');
      expect(flagged(r)).toEqual([]);
      expect(r.verdict).toBe('pass');
      expect(r.pattern.pattern).toBe('scratch');
      expect(r.checks.every((c) => c.group === 'image')).toBe(true);
    });

    it.each([
      // SageMaker runs a shell-form ENTRYPOINT: a warning, with what is lost.
      ['check-shell-form', ['warn image.entrypoint-form'], 'image.entrypoint-form', /is shell form/],
      ['check-tini', ['warn image.tini'], 'image.tini', /runs tini without "--"/],
      ['check-no-program', ['fail image.train-program', 'fail image.serve-program'], 'image.train-program', /no ENTRYPOINT, and no `train` on PATH/],
      ['check-cmd', ['warn image.cmd-replaced'], 'image.cmd-replaced', /never gets CMD \["--epochs","5","train"\]/],
      ['check-opt-ml', ['warn image.opt-ml-files'], 'image.opt-ml-files', /\/opt\/ml\/model: 1 file \(\/opt\/ml\/model\/pretrained.txt\)/],
      ['check-user', ['warn image.user'], 'image.user', /^USER 1000$/],
      ['check-toolkit-entrypoint', ['warn image.pattern'], 'image.pattern', /^toolkit \(sagemaker_training in \/usr\/local\/lib\/python3.11\/site-packages\/sagemaker_training\).*sets ENTRYPOINT \["\/usr\/local\/bin\/train"\]/s],
    ])('%s gets exactly %j, with the reason', async (fixture, expected, id, reason) => {
      const r = await staticOnly(fixture);
      expect(flagged(r)).toEqual(expected);
      expect(observed(r, id)).toMatch(reason);
      expect(r.verdict).toBe(expected.some((e) => e.startsWith('fail')) ? 'fail' : 'pass');
      for (const c of r.checks.filter((c) => c.status === 'fail' || c.status === 'warn')) expect(c.fix).toBeTruthy();
    });

    it('fails an arm64 image on ml.m5 and passes it on Graviton; fails an amd64 image on Graviton', async () => {
      const arm = await staticOnly('check-arm64');
      expect(flagged(arm)).toEqual(['fail image.architecture']);
      expect(observed(arm, 'image.architecture')).toBe('the image is linux/arm64, but ml.m5.large runs linux/amd64: it would fail with "exec format error"');
      expect(flagged(await staticOnly('check-arm64', { instanceType: 'ml.m7g.large' }))).toEqual([]);
      const amd = await staticOnly('check-good', { instanceType: 'ml.c7g.large' });
      expect(flagged(amd)).toEqual(['fail image.architecture']);
      expect(observed(amd, 'image.architecture')).toMatch(/linux\/amd64.*ml\.c7g\.large.*arm64/);
    });

    it('recognises an image with the training toolkit installed', async () => {
      const r = await staticOnly('check-toolkit', { train: true });
      expect(flagged(r)).toEqual([]);
      expect(r.pattern.pattern).toBe('toolkit');
      expect(r.pattern.signals).toEqual(['sagemaker_training in /usr/local/lib/python3.11/site-packages/sagemaker_training']);
    });
  });

  // Training checks spend most of their time waiting (epochs, grace periods) and judge only outcomes and
  // ratios of one run to another, so they run side by side; serving checks time /ping and stay in turn.
  describe.concurrent('training', () => {
    it('passes the toolkit image training its baked-in script, with no warnings, claiming only what it saw of SIGTERM', async () => {
      const r = await trainOnly('check-toolkit');
      expect(flagged(r)).toEqual([]);
      // 2 s of training, SIGTERM after 1 s: it simply finished, and the report says no more than that.
      expect(observed(r, 'train.sigterm')).toMatch(/^exited [\d.]+ s after SIGTERM \(exit code 0\), [\d.]+ s into a job that runs [\d.]+ s unstopped: it finished on its own, so SIGTERM handling was not seen/);
      expect(trainRows(r)).toEqual(ALL_TRAIN_PASS);
      expect(observed(r, 'train.failure-file')).toMatch(/ExecuteUserScriptError/);
    });

    it.each([
      ['check-train-exit-nonzero', 'fail train.exits-0', /^Failed with exit code 3: AlgorithmError: RuntimeError: the run did not converge/, {}],
      ['check-train-no-model', 'fail train.model-written', /\/opt\/ml\/model was empty when the job ended/, {}],
      ['check-train-model-link-out', 'fail train.model-archive', /symbolic link "latest-checkpoint" points outside the model folder/, {}],
      ['check-train-writes-outside', 'warn train.writes-outside', /^wrote \/opt\/ml\/results\/metrics\.json: lost when the job ends$/, {}],
      ['check-train-no-failure-file', 'fail train.failure-file', /exit code 2, but no \/opt\/ml\/output\/failure/, {}],
    ] as const)('%s gets exactly %s, with the reason', async (fixture, expected, reason, flags) => {
      const r = await trainOnly(fixture, flags);
      expect(flagged(r)).toEqual([expected]);
      expect(observed(r, expected.split(' ')[1]!)).toMatch(reason);
    });

    it('says the job stopped on SIGTERM when it ended well before an unstopped run does', async () => {
      const r = await trainOnly('check-good', { hyperparameter: ['epochs=60'] });
      expect(flagged(r)).toEqual([]);
      expect(observed(r, 'train.sigterm')).toMatch(/^exited [\d.]+ s after SIGTERM \(exit code 0\), [\d.]+ s into a job that runs [\d.]+ s unstopped: it stopped on SIGTERM$/);
    });

    // Training outlives the stop (6 s of training; SIGTERM after 1 s; a 2-s grace): SageMaker still ends
    // the job (Stopped), so each is a warning, with the cause and the fix for that image's pattern.
    const outlives = { hyperparameter: ['epochs=60'], trainStopGrace: 2 } as Flags;
    it('warns, not fails, when the training toolkit (PID 1, no handler) sits out the grace, and advises what works under the toolkit', async () => {
      const r = await trainOnly('check-toolkit', outlives);
      expect(flagged(r)).toEqual(['warn train.sigterm']);
      expect(r.verdict).toBe('pass');
      const c = row(r, 'train.sigterm')!;
      expect(c.observed).toMatch(
        /^still running 2 s after SIGTERM: killed with SIGKILL\. PID 1 is `\S*python3 \/usr\/local\/bin\/train`, the SageMaker training toolkit's `train`: it installs no SIGTERM handler \(so as PID 1 it ignores the signal\) and does not pass it to your script \(`\S*python3 train\.py --epochs 60`\)$/,
      );
      expect(c.fix).toMatch(/no chance to save a final model .* a handler in it does not help: save checkpoints to \/opt\/ml\/checkpoints as you go/);
      expect(c.fix).not.toMatch(/Use an exec-form ENTRYPOINT|ENTRYPOINT so/);
    });

    it('warns, naming the Python PID 1 without a handler, for a program run by an exec-form ENTRYPOINT', async () => {
      const r = await trainOnly('check-train-ignore-sigterm', outlives);
      expect(flagged(r)).toEqual(['warn train.sigterm']);
      const c = row(r, 'train.sigterm')!;
      expect(c.observed).toMatch(/^still running 2 s after SIGTERM: killed with SIGKILL\. PID 1 is `\S*python3 -u \/opt\/program\/check_train\.py`, which has no SIGTERM handler: as PID 1 a program gets no default action for SIGTERM, so the signal is ignored$/);
      expect(c.fix).toMatch(/Give `\/opt\/program\/check_train\.py` a SIGTERM handler that saves the model \(and a checkpoint\) and exits/);
    });

    it('tells a shell-script entrypoint to exec its program, not to use an exec-form ENTRYPOINT', async () => {
      const r = await trainOnly('check-script-no-exec', outlives);
      expect(flagged(r)).toEqual(['warn train.sigterm']);
      const c = row(r, 'train.sigterm')!;
      expect(c.observed).toMatch(/PID 1 is `\/bin\/sh \/usr\/local\/bin\/entrypoint\.sh train`, a shell script that started `\S*python3 -u \/opt\/program\/check_train\.py` without `exec`: the shell gets the SIGTERM and does not pass it on\.$/);
      expect(c.fix).toMatch(/In \/usr\/local\/bin\/entrypoint\.sh, start the program with `exec` \(`exec \S*python3 …`\)/);
      expect(c.fix).not.toMatch(/exec-form ENTRYPOINT/);
    });

    it('passes a toolkit image with no code baked in, checked in script mode', async () => {
      const r = await trainOnly('check-toolkit-script', { entryPoint: 'check_train.py', sourceDir: PROGRAMS });
      expect(flagged(r)).toEqual([]);
      expect(trainRows(r)).toEqual(ALL_TRAIN_PASS);
      expect(observed(r, 'image.baked-code')).toMatch(/^nothing baked into \/opt\/ml\/code: .*programs is unpacked there and runs$/);
      expect(r.pattern.advice).toMatch(/^Own base image with a SageMaker toolkit installed\. Training: the toolkit's `train` console script runs your script/);
    });

    it('warns that code baked into /opt/ml/code wins over --source-dir, in check and in train', async () => {
      const r = await staticOnly('check-toolkit', { train: true, entryPoint: 'check_train.py', sourceDir: PROGRAMS });
      expect(flagged(r)).toEqual(['warn image.baked-code']);
      expect(row(r, 'image.baked-code')).toMatchObject({
        observed: expect.stringMatching(/^the image ships 1 file in \/opt\/ml\/code \(\/opt\/ml\/code\/train\.py\) and sets SAGEMAKER_PROGRAM=train\.py: the toolkit does not unpack \S+programs over them, so the baked code runs/),
        fix: expect.stringMatching(/only when that folder is empty.* build the image without \/opt\/ml\/code/),
      });
      // train says so before the start; the job then fails as on SageMaker, where the baked code has no check_train.py.
      const trained = await runCli(['train', fixtureTag('check-toolkit'), '--source-dir', PROGRAMS, '--entry-point', 'check_train.py', '--channel', `train=${CHECK}/train`, '--output', s.dir('baked')], {
        env: { ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot, SM_LOCAL_SESSION: s.session },
        cwd: s.root,
      });
      expect(trained.code).toBe(1);
      expect(trained.stderr).toMatch(/--source-dir: the image ships 1 file in \/opt\/ml\/code \(\/opt\/ml\/code\/train\.py\) and sets SAGEMAKER_PROGRAM=train\.py: the toolkit does not unpack \S+programs over them/);
      expect(trained.stderr).toMatch(/can't open file '\/opt\/ml\/code\/check_train\.py'/);
    });

    it('passes training whose code makes Python write __pycache__', async () => {
      const r = await trainOnly('check-train-pycache');
      expect(flagged(r)).toEqual([]);
      expect(observed(r, 'train.writes-outside')).toMatch(/^nothing outside .*interpreter caches$/);
    });

    it('hints that hyperparameters arrive as strings when training fails on a type error', async () => {
      const r = await trainOnly('check-train-hp-string', { hyperparameter: ['epochs=5'] });
      expect(flagged(r)).toEqual(['fail train.exits-0']);
      expect(row(r, 'train.exits-0')).toMatchObject({
        observed: expect.stringMatching(/TypeError: %d format: a real number is required, not str/),
        fix: expect.stringMatching(/SageMaker passes every hyperparameter to the container as a string/),
      });
    });

    it('names the non-root USER when training fails for it', async () => {
      const r = await trainOnly('check-user');
      expect(flagged(r)).toEqual(expect.arrayContaining(['warn image.user', 'fail train.exits-0']));
      expect(observed(r, 'train.exits-0')).toMatch(/PermissionError.*the image runs as USER 1000: see image.user/);
    });
  });

  describe.concurrent('processing (--process)', () => {
    const processOnly = (fixture: string, flags: Flags = {}) =>
      check(fixture, { process: true, input: [`raw=${CHECK}/train`], processOutput: ['a', 'b'], failInput: [`raw=${CHECK}/process-bad`], processStopGrace: 2, ...flags });
    const processRows = (r: ConformanceReport) => r.checks.filter((c) => c.group === 'process').map((c) => `${c.status} ${c.id}`);

    it('passes a processing image that keeps the contract, with no training or serving checks', async () => {
      const r = await processOnly('check-process-good');
      expect(processRows(r)).toEqual(['process.exits-0', 'process.outputs-written', 'process.writes-outside', 'process.sigterm', 'process.exit-message'].map((id) => `pass ${id}`));
      expect(r.checks.filter((c) => c.group === 'train' || c.group === 'serve')).toEqual([]);
      expect(observed(r, 'process.sigterm')).toMatch(/it stopped on SIGTERM/);
      expect(observed(r, 'process.exit-message')).toMatch(/ExitMessage: row 1 is bad/);
      expect(r.verdict).toBe('pass');
      expect(validateReport(r), JSON.stringify(validateReport.errors)).toBe(true);
    });

    it('warns (never fails) for what SageMaker tolerates: an empty output, files written outside, SIGTERM ignored, no exit message', async () => {
      const r = await processOnly('check-process-bad');
      expect(flagged(r)).toEqual(['warn process.outputs-written', 'warn process.writes-outside', 'warn process.sigterm', 'warn process.exit-message']);
      expect(observed(r, 'process.outputs-written')).toBe('nothing was written to b (/opt/ml/processing/output/b)');
      expect(observed(r, 'process.writes-outside')).toMatch(/^wrote \/srv\/result\.csv/);
      expect(observed(r, 'process.sigterm')).toMatch(/still running 2 s after SIGTERM: killed with SIGKILL/);
      expect(row(r, 'process.sigterm')!.fix).toMatch(/StopProcessingJob/);
      expect(r.verdict).toBe('pass');
    });

    it('fails a processing run that exits non-zero, and judges its message from that run', async () => {
      const r = await check('check-process-good', { process: true, input: [`raw=${CHECK}/process-bad`], processOutput: ['a'], processStopGrace: 2 });
      expect(row(r, 'process.exits-0')).toMatchObject({ status: 'fail', observed: expect.stringMatching(/Failed with exit code 1: AlgorithmError: See job logs for more information; ExitMessage: row 1 is bad/) });
      expect(row(r, 'process.exit-message')!.status).toBe('pass');
      expect(r.verdict).toBe('fail');
    });
  });

  describe('serving', () => {
    let outside: OutsideHost;
    beforeAll(async () => {
      outside = await startOutsideHost();
    });
    afterAll(async () => outside?.close());

    // Start-up windows short where nothing will ever answer; two concurrent 2.5-s requests are enough to block /ping.
    it.each([
      ['check-serve-never-ready', 'fail serve.ready', 'serve.ready', /^GET \/ping answered 503 until the 4 s start-up window ended$/, { startupTimeout: 4 }],
      ['check-serve-wrong-address', 'fail serve.ready', 'serve.ready', /^nothing answered on port 8080 from outside the container \(\w+\): the server listens on 127\.0\.0\.1:8080, which only the container itself can reach$/, { startupTimeout: 4 }],
      ['check-serve-wrong-port', 'fail serve.ready', 'serve.ready', /^nothing listens on port 8080 \(\w+\); the container listens on 0\.0\.0\.0:5000$/, { startupTimeout: 4 }],
      ['check-serve-bind-ignored', 'fail serve.bind-to-port', 'serve.bind-to-port', /never answered on that port; without it, the server came up on 8080/, { startupTimeout: 4 }],
      ['check-serve-ping-blocked', 'fail serve.ping', 'serve.ping', /pings .* got no 200 within 2 s/, { concurrency: 2 }],
      ['check-serve-no-content-type', 'fail serve.sample-1', 'serve.sample-1', /^no Content-Type in the response/, {}],
      ['check-serve-huge', 'fail serve.sample-1', 'serve.sample-1', /response of 7340\d{3} bytes, over the 6 MiB \(6291456 bytes\) limit/, {}],
      ['check-serve-no-concurrency', 'fail serve.concurrency', 'serve.concurrency', /of 8 concurrent requests did not get 200: 503/, {}],
      ['check-serve-ignore-sigterm', 'warn serve.sigterm', 'serve.sigterm', /^still running 3 s after SIGTERM: killed with SIGKILL\. PID 1 is `\S*python3 -u \/opt\/program\/check_serve\.py`, which has no SIGTERM handler/, {}],
    ] as [string, string, string, RegExp, Flags][])('%s gets exactly %s, with the reason', async (fixture, expected, id, reason, flags) => {
      const r = await serveOnly(fixture, flags);
      expect(flagged(r)).toEqual([expected]);
      expect(observed(r, id)).toMatch(reason);
    });

    it('fixes a server on the wrong address or port by what its socket table shows', async () => {
      const address = await serveOnly('check-serve-wrong-address', { startupTimeout: 4 });
      expect(row(address, 'serve.ready')?.fix).toBe('Listen on 0.0.0.0:8080 (all addresses), not 127.0.0.1:8080: SageMaker connects to the container from outside.');
      const port = await serveOnly('check-serve-wrong-port', { startupTimeout: 4 });
      expect(row(port, 'serve.ready')?.fix).toBe('Listen on port 8080 on 0.0.0.0: SageMaker sends /ping and /invocations there and nowhere else.');
      for (const r of [address, port]) for (const c of r.checks.filter((c) => c.group === 'serve' && c.id !== 'serve.ready' && c.id !== 'serve.bind-to-port')) expect(c.observed).toBe('depends on serve.ready: the endpoint never became ready');
    });

    it('says the container exited, with its code and last lines, when it dies before it is ready', async () => {
      const r = await serveOnly('serve-crash');
      expect(flagged(r)).toEqual(['fail serve.ready']);
      expect(row(r, 'serve.ready')).toMatchObject({
        observed: 'the container exited with exit code 2 before GET /ping answered 200. Last output: serve: loading the model failed: /opt/ml/model/model.json is missing',
        fix: expect.stringMatching(/^The server must keep running: read the container output above/),
      });
      expect(row(r, 'serve.ready')?.fix).not.toMatch(/0\.0\.0\.0/);
    });

    it('warns, never fails, a server that answers 500 to garbage, with or without a --sample', async () => {
      for (const flags of [{}, { sample: [] }] as Flags[]) {
        const r = await serveOnly('check-serve-malformed-500', flags);
        expect(flagged(r)).toEqual(['warn serve.malformed']);
        expect(r.verdict).toBe('pass');
        expect(row(r, 'serve.malformed')).toMatchObject({
          observed: expect.stringMatching(/^a malformed application\/json body got 500 \(.*\); \/ping still 200\. Clients see ModelError \(424\) with OriginalStatusCode 500/),
          fix: expect.stringMatching(/^Validate input and answer bad requests with a 4xx/),
        });
      }
    });

    it('names a crash on the first request once, and skips what depends on a running server', async () => {
      const r = await serveOnly('check-serve-crash');
      expect(flagged(r)).toEqual(['fail serve.sample-1']);
      expect(row(r, 'serve.sample-1')).toMatchObject({
        observed: expect.stringMatching(/^the server exited with exit code 139 \(killed by SIGSEGV\) while answering instances\.json \(no answer \(\w+\)\)\. Last output: .*reading the request with a native library/),
        fix: expect.stringMatching(/^The serving process died on a request/),
      });
      for (const id of ['serve.concurrency', 'serve.ping', 'serve.malformed', 'serve.sigterm']) {
        expect(row(r, id), id).toMatchObject({ status: 'skip', observed: 'depends on a running server: the container exited with exit code 139 (killed by SIGSEGV) (see serve.sample-1)' });
      }
      expect(row(r, 'serve.no-network')).toMatchObject({ status: 'skip', observed: expect.stringMatching(/^depends on serve\.sample-1, which failed/) });
    });

    it('warns about an entrypoint that ends in tail -f /dev/null, naming the script, and says the image is multi-model', async () => {
      const r = await serveOnly('check-serve-tail');
      expect(flagged(r)).toEqual(['warn serve.sigterm']);
      const c = row(r, 'serve.sigterm')!;
      expect(c.observed).toMatch(
        /^still running 3 s after SIGTERM: killed with SIGKILL\. PID 1 is `\/bin\/bash \/usr\/local\/bin\/entrypoint\.sh serve`, a shell script that started `python3 -u \/opt\/program\/check_serve\.py` without `exec`: the shell gets the SIGTERM and does not pass it on\. The script ends in `tail -f \/dev\/null`, which keeps the container up and never exits on SIGTERM\.$/,
      );
      expect(c.fix).toMatch(/^On SageMaker, scale-in and endpoint updates send SIGTERM, wait 3 s, then SIGKILL.* In \/usr\/local\/bin\/entrypoint\.sh, start the program with `exec` \(`exec python3 …`\).*instead of running it in the background and ending in `tail -f \/dev\/null`/);
      expect(c.fix).not.toMatch(/exec-form ENTRYPOINT/);
      expect(r.pattern.signals).toContain('LABEL com.amazonaws.sagemaker.capabilities.multi-models=true (sm-local serves it single-model)');
    });

    it('check-serve-needs-network serves on a normal network but fails serve.no-network', async () => {
      const r = await serveOnly('check-serve-needs-network', { env: [`CHECK_OUTSIDE=${outside.target}`], startupTimeout: 4 });
      expect(flagged(r)).toEqual(['fail serve.no-network']);
      expect(observed(r, 'serve.ready')).toMatch(/answered 200/);
      expect(observed(r, 'serve.no-network')).toMatch(/GET \/ping/);
    });

    it('serves a well-made image as a non-root user too, warning only about the USER', async () => {
      const r = await serveOnly('check-user');
      expect(flagged(r)).toEqual(['warn image.user']);
    });

    it('skips the serving checks, saying why, when there is no model', async () => {
      const r = await check('check-good', { serve: true });
      const serving = r.checks.filter((c) => c.group === 'serve');
      expect(serving.length).toBeGreaterThan(0);
      for (const c of serving) {
        expect(c.status).toBe('skip');
        expect(c.observed).toMatch(/no model given: pass --model/);
      }
      expect(r.verdict).toBe('pass');
    });
  });

  describe('the CLI', () => {
    // The CLI labels what it creates with this file's session: the session's afterAll finds anything
    // it leaves, and nothing another process has on the same engine is counted.
    const env = { ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot, SM_LOCAL_SESSION: s.session };
    afterAll(async () => {
      const left = await s.docker.listManaged([`${LABEL.session}=${s.session}`]);
      expect(left.map((r) => `${r.kind} ${r.name}`), 'left behind by the CLI').toEqual([]);
    });

    it('trains then serves the trained model (sm-local.check.json), passes with no warnings, and writes valid JSON and JUnit', async () => {
      const junit = join(s.dir('junit'), 'check.xml');
      const r = await runCli(['check', '--json', '--junit', junit], { env, cwd: CHECK });
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as ConformanceReport;
      expect(validateReport(report), JSON.stringify(validateReport.errors)).toBe(true);
      expect(flagged(report)).toEqual([]);
      expect(report.verdict).toBe('pass');
      // Everything ran but the manifest check, which needs an engine that lists manifests.
      const skipped = report.checks.filter((c) => c.status === 'skip');
      const [major, minor] = (await s.docker.info()).apiVersion.split('.').map(Number);
      expect(skipped.map((c) => c.id)).toEqual(major! === 1 && minor! < 47 ? ['image.manifest'] : []);
      expect(report.checks.map((c) => c.id)).toEqual(expect.arrayContaining(['train.failure-file', 'serve.sample-1', 'serve.sample-2', 'serve.no-network']));
      expect(observed(report, 'serve.sample-2')).toMatch(/^415 application\/json/);
      expect(r.stderr).toMatch(/Serving the model\.tar\.gz the training run produced/);

      const xml = readFileSync(junit, 'utf8');
      expect(await validJUnit(xml)).toEqual([]);
      expect(xml.match(/<testcase /g)?.length).toBe(report.checks.length);
      expect(xml).toMatch(/<testsuites name="sm-local check" tests="\d+" failures="0" errors="0"/);
    });

    it('passes an image with only warnings, and with --strict prints the table, writes a JUnit failure and exits 1', async () => {
      const lenient = await runCli(['check', fixtureTag('check-shell-form'), '--static'], { env, cwd: s.root });
      expect(lenient.code, lenient.stderr).toBe(0);
      expect(lenient.stdout).toMatch(/^WARN +image\.entrypoint-form +ENTRYPOINT is in exec form: ENTRYPOINT \["\/bin\/sh","-c",/m);
      expect(lenient.stdout).toMatch(/: \d+ passed, 1 warning, 0 failed, \d+ skipped in [\d.]+ s: PASS$/m);

      const junit = join(s.dir('junit'), 'check.xml');
      const r = await runCli(['check', fixtureTag('check-shell-form'), '--static', '--strict', '--junit', junit], { env, cwd: s.root });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/^STATUS +CHECK +OBSERVED$/m);
      expect(r.stdout).toMatch(/^FAIL +image\.entrypoint-form +ENTRYPOINT is in exec form: ENTRYPOINT \["\/bin\/sh","-c",/m);
      expect(r.stdout).toMatch(/\(a warning, failed by\s+--strict\)/);
      expect(r.stdout).toMatch(/^ +fix: /m);
      expect(r.stdout).toMatch(/: \d+ passed, 0 warnings, 1 failed, \d+ skipped in [\d.]+ s: FAIL$/m);
      const xml = readFileSync(junit, 'utf8');
      expect(await validJUnit(xml)).toEqual([]);
      expect(xml).toMatch(/<failure message="ENTRYPOINT \[&quot;\/bin\/sh&quot;/);
    });

    it('keeps the training job folders of a failing check in the output folder, and none of a passing one', async () => {
      const output = s.dir('check-output');
      const failing = await runCli(['check', fixtureTag('check-train-no-model'), '--train', '--channel', `train=${CHECK}/train`, '--train-stop-grace', '3'], {
        env: { ...env, SM_LOCAL_OUTPUT: output },
        cwd: s.root,
      });
      expect(failing.code).toBe(1);
      const kept = /training job folders \(logs, describe\.json, artifacts\) are kept in (\S+)$/m.exec(failing.stderr)?.[1];
      expect(kept && dirname(kept)).toBe(output);
      const jobs = readdirSync(kept!).filter((n) => statSync(join(kept!, n)).isDirectory()).sort();
      expect(jobs.map((n) => n.replace(/^.*-check-[0-9a-f]{6}/, ''))).toEqual(['', '-sigterm']);
      for (const job of jobs) expect(existsSync(join(kept!, job, 'describe.json')), job).toBe(true);

      const passing = await runCli(['check', fixtureTag('check-good'), '--train', '--channel', `train=${CHECK}/train`], { env: { ...env, SM_LOCAL_OUTPUT: output }, cwd: s.root });
      expect(passing.code, passing.stderr).toBe(0);
      expect(readdirSync(output)).toEqual([basename(kept!)]);
    });

    it('never aborts on a failed check: a model link leaving the folder fails train.model-archive, serving is skipped, and the report is complete', async () => {
      const junit = join(s.dir('junit'), 'link.xml');
      const r = await runCli(
        ['check', fixtureTag('check-train-model-link-out'), '--channel', `train=${CHECK}/train`, '--sample', `${CHECK}/samples/instances.json,content-type=application/json`, '--train-stop-grace', '3', '--json', '--junit', junit],
        { env, cwd: s.root },
      );
      expect(r.code, r.stderr).toBe(1);
      const report = JSON.parse(r.stdout) as ConformanceReport;
      expect(validateReport(report), JSON.stringify(validateReport.errors)).toBe(true);
      expect(flagged(report)).toEqual(['fail train.model-archive']);
      const serving = report.checks.filter((c) => c.group === 'serve');
      expect(serving.length).toBeGreaterThan(0);
      for (const c of serving) expect(c).toMatchObject({ status: 'skip', observed: expect.stringMatching(/cannot be extracted into \/opt\/ml\/model \(see train\.model-archive\)/) });
      expect(await validJUnit(readFileSync(junit, 'utf8'))).toEqual([]);
    });

    it('refuses SAGEMAKER_MULTI_MODEL=true with the reason, before starting anything', async () => {
      for (const args of [
        ['check', fixtureTag('check-good'), '--serve', '--model', 'model', '--env', 'SAGEMAKER_MULTI_MODEL=true'],
        ['serve', fixtureTag('check-good'), '--model', 'model', '--env', 'SAGEMAKER_MULTI_MODEL=true', '--port', '0'],
      ]) {
        const r = await runCli(args, { env, cwd: CHECK });
        expect(r.code, args[0]).toBe(2);
        expect(r.stderr).toMatch(/SAGEMAKER_MULTI_MODEL=true asks the image for a multi-model endpoint .* but no model store was given/);
      }
    });

    it('refuses an empty channel folder as SageMaker refuses an S3 prefix with no objects', async () => {
      const empty = s.dir('empty-channel');
      for (const cmd of ['check', 'train']) {
        const r = await runCli([cmd, fixtureTag('check-good'), ...(cmd === 'check' ? ['--train'] : []), '--channel', `train=${empty}`], { env, cwd: s.root });
        expect(r.code, cmd).toBe(2);
        expect(r.stderr).toMatch(/No S3 objects found under \S*empty-channel-\w+ given in input data source: the folder holds no files/);
      }
    });

    it('rejects a sample file that does not exist, before starting anything', async () => {
      const r = await runCli(['check', fixtureTag('check-good'), '--serve', '--model', 'model', '--sample', 'samples/nope.json'], { env, cwd: CHECK });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--sample #1 \(samples\/nope\.json\).*samples\/nope\.json/);
    });
  });
});
