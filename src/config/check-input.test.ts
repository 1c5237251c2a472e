import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Problems } from '../contract/problems.js';
import { InvalidSpecError } from '../errors.js';
import { CHECK_CONFIG_FILE, parseSampleFlag, resolveCheckInput, type CheckFlags } from './check-input.js';
import { resolveConfig } from './resolve.js';

/** A project folder: data, a model and samples, and optionally sm-local.check.json. */
function project(file?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'sm-local-check-input-'));
  for (const d of ['data/train', 'data/bad', 'model', 'samples']) mkdirSync(join(dir, d), { recursive: true });
  writeFileSync(join(dir, 'samples', 'a.json'), '{"instances": [1]}');
  writeFileSync(join(dir, 'samples', 'b,c.csv'), '1,2\n');
  if (file !== undefined) writeFileSync(join(dir, CHECK_CONFIG_FILE), typeof file === 'string' ? file : JSON.stringify(file));
  return dir;
}

const resolveIn = (cwd: string, flags: CheckFlags) => resolveCheckInput(flags, resolveConfig({ env: {}, cwd }), { cwd, env: {} });
const problemsOf = async (p: Promise<unknown>) => {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(InvalidSpecError);
  return (err as InvalidSpecError).problems.map((x) => `${x.path}: ${x.message}`);
};

describe('resolveCheckInput', () => {
  it('turns flags into a check: paths from the current folder, samples read, switches kept', async () => {
    const cwd = project();
    const input = await resolveIn(cwd, {
      image: 'algo:dev',
      train: true,
      static: true,
      channel: ['train=data/train'],
      failChannel: ['train=data/bad'],
      hyperparameter: ['epochs=3', 'lr=0.1=x'],
      env: ['MODE=check'],
      model: 'model',
      sample: ['samples/a.json,content-type=application/json,expect-status=200', 'samples/b,c.csv,content-type=text/csv,accept=application/json,expect-status=415'],
      concurrency: 4,
      serveStopGrace: 5,
      instanceType: 'ml.c7g.large',
    });
    expect(input).toMatchObject({
      image: 'algo:dev',
      train: true,
      staticOnly: true,
      instanceType: 'ml.c7g.large',
      channels: [{ channelName: 'train', source: join(cwd, 'data/train') }],
      failChannels: [{ channelName: 'train', source: join(cwd, 'data/bad') }],
      hyperParameters: { epochs: '3', lr: '0.1=x' },
      environment: { MODE: 'check' },
      model: join(cwd, 'model'),
      concurrency: 4,
      serveStopGraceSeconds: 5,
    });
    expect(input.serve).toBeUndefined();
    expect(input.samples).toEqual([
      { name: 'a.json', body: Buffer.from('{"instances": [1]}'), contentType: 'application/json', expectStatus: 200 },
      { name: 'b,c.csv', body: Buffer.from('1,2\n'), contentType: 'text/csv', accept: 'application/json', expectStatus: 415 },
    ]);
  });

  it('reads sm-local.check.json with paths relative to it; flags win, channels merge by name, flag samples replace the file\'s', async () => {
    const cwd = project({
      image: 'from-file:1',
      train: true,
      channels: { train: 'data/train', validation: { path: 'data/train', contentType: 'text/csv', mode: 'File' } },
      failChannels: { train: 'data/bad' },
      hyperparameters: { epochs: '20', lr: '0.1' },
      samples: [{ file: 'samples/a.json', contentType: 'application/json' }],
      startupTimeoutSeconds: 60,
    });
    const fromFile = await resolveIn(cwd, {});
    expect(fromFile).toMatchObject({
      image: 'from-file:1',
      train: true,
      channels: [{ channelName: 'train', source: join(cwd, 'data/train') }, { channelName: 'validation', source: join(cwd, 'data/train'), contentType: 'text/csv', inputMode: 'File' }],
      failChannels: [{ channelName: 'train', source: join(cwd, 'data/bad') }],
      startupTimeoutSeconds: 60,
    });
    expect(fromFile.samples?.map((s) => s.name)).toEqual(['a.json']);

    // From another folder with --config; flags override the file.
    const elsewhere = mkdtempSync(join(tmpdir(), 'sm-local-check-cwd-'));
    mkdirSync(join(elsewhere, 'mine'));
    writeFileSync(join(elsewhere, 'x.csv'), '0\n');
    const overridden = await resolveIn(elsewhere, {
      config: join(cwd, CHECK_CONFIG_FILE),
      image: 'from-flag:2',
      train: false,
      channel: ['train=mine'],
      hyperparameter: ['epochs=2'],
      sample: ['x.csv,content-type=text/csv'],
    });
    expect(overridden).toMatchObject({ image: 'from-flag:2', train: false, hyperParameters: { epochs: '2', lr: '0.1' } });
    expect(overridden.channels?.map((c) => [c.channelName, c.source])).toEqual([
      ['train', join(elsewhere, 'mine')],
      ['validation', join(cwd, 'data/train')],
    ]);
    expect(overridden.samples?.map((s) => s.name)).toEqual(['x.csv']);
  });

  it('reports every problem in the file and the flags at once, naming where each is', async () => {
    const cwd = project({ imag: 'typo', channels: ['data'], hyperparameters: { epochs: 20 }, samples: [{ contentType: 'text/csv' }, { file: 'samples/a.json', expectStatus: 99 }], concurrency: -1, train: 'yes' });
    const file = join(cwd, CHECK_CONFIG_FILE);
    const problems = await problemsOf(resolveIn(cwd, { model: 'nope', hyperparameter: ['novalue'], trainStopGrace: 0 }));
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^${file}: imag: unknown key; known keys: image, train, serve, static,`)),
        `${file}: channels: must be an object of channel name → path (or {"path": …, "contentType": …, "mode": …}).`,
        `${file}: hyperparameters: must be an object of name → string value (hyperparameter values are strings, as in SageMaker).`,
        `${file}: samples[0]: must be an object with "file".`,
        `${file}: samples[1].expectStatus: must be an HTTP status code.`,
        `${file}: concurrency: must be a positive number.`,
        `${file}: train: must be true or false.`,
        '--hyperparameter #1: "novalue" is not NAME=VALUE.',
        '--train-stop-grace: must be a positive number (got 0).',
        `--model: ${join(cwd, 'nope')} does not exist.`,
        `image: no image given: pass IMAGE, or "image" in ${CHECK_CONFIG_FILE}.`,
      ]),
    );
  });

  it('says so when a sample file or an explicit --config is missing, or the file is not JSON', async () => {
    const cwd = project('{ not json');
    expect(await problemsOf(resolveIn(cwd, { image: 'x' }))).toEqual([expect.stringMatching(/sm-local\.check\.json: is not valid JSON: /)]);
    expect(await problemsOf(resolveIn(project(), { image: 'x', concurrency: 2.5 }))).toEqual(['--concurrency: must be a whole number.']);
    const clean = project();
    expect(await problemsOf(resolveIn(clean, { image: 'x', config: 'other.json', sample: ['samples/none.json'] }))).toEqual([
      `--config: ${join(clean, 'other.json')} does not exist or cannot be read.`,
      `--sample #1 (samples/none.json): ${join(clean, 'samples/none.json')} does not exist or cannot be read.`,
    ]);
  });
});

describe('parseSampleFlag', () => {
  const parse = (raw: string) => {
    const p = new Problems();
    return { draft: parseSampleFlag(raw, 0, p, '/work'), problems: p.problems.map((x) => x.message) };
  };

  it('keeps commas that belong to the file name, and takes options only after it', () => {
    expect(parse('in,put.csv,content-type=text/csv,expect-status=400').draft).toMatchObject({ file: '/work/in,put.csv', contentType: 'text/csv', expectStatus: 400 });
    expect(parse('content-type=x').draft).toMatchObject({ file: '/work/content-type=x' });
    expect(parse('prompt.txt,content-type=text/plain,stream').draft).toMatchObject({ file: '/work/prompt.txt', contentType: 'text/plain', stream: true });
  });

  it('rejects a status that is not an HTTP status, and a missing file', () => {
    expect(parse('a.json,expect-status=600').problems).toEqual(['expect-status "600" is not an HTTP status code.']);
    expect(parse('').problems).toEqual(['no file: give --sample FILE[,content-type=T][,expect-status=N].']);
  });

  it('reads the processing checks from flags and the file: inputs and outputs as `process` takes them, --process required for them', async () => {
    const cwd = project({ process: true, inputs: ['raw=data/train:/opt/ml/processing/raw'], processOutputs: ['out,upload=Continuous'], entrypoint: ['python3', '/opt/p.py'], processStopGraceSeconds: 5 });
    const input = await resolveIn(cwd, { image: 'proc:dev', failInput: ['raw=data/bad'], arg: ['--ratio', '0.2'] });
    expect(input.process).toBe(true);
    expect(input.processStopGraceSeconds).toBe(5);
    expect(input.processing).toEqual({
      inputs: [{ inputName: 'raw', source: join(cwd, 'data/train'), localPath: '/opt/ml/processing/raw' }],
      outputs: [{ outputName: 'out', s3UploadMode: 'Continuous' }],
      failInputs: [{ inputName: 'raw', source: join(cwd, 'data/bad') }],
      containerEntrypoint: ['python3', '/opt/p.py'],
      containerArguments: ['--ratio', '0.2'],
    });
    expect(await problemsOf(resolveIn(project(), { image: 'proc:dev', input: ['raw=data/train'] }))).toEqual([
      '--input/--process-output: processing inputs and outputs are given, but not --process: add --process to run the processing checks.',
    ]);
  });
});
