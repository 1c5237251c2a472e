import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import tarStream from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { BASE_BUSYBOX, fixtureTag } from '../scripts/lib/images.js';
import { LABEL } from '../src/docker/labels.js';
import { runTrainingJob } from '../src/index.js';
import { runCli } from './support/cli.js';
import { startEngineProxy, type EngineProxy } from './support/engine-proxy.js';
import { describeOf } from './support/jobs.js';
import { dockerUnavailable, useTestSession } from './support/session.js';
import { mountSmallDisk, type SmallDisk } from './support/small-disk.js';
import { tarNames } from './support/tarballs.js';

/** Python for the lab fixture's LAB_PY: statements joined into one line. */
const py = (...lines: string[]) => lines.join('; ');

describe.skipIf(dockerUnavailable())('a job\'s work is never lost', () => {
  const s = useTestSession();
  const owned: { close(): Promise<void> }[] = [];
  afterAll(async () => {
    for (const o of owned) await o.close();
  });
  const smallDisk = async (mib: number): Promise<SmallDisk> => {
    const d = await mountSmallDisk(mib);
    owned.push(d);
    return d;
  };
  const cliEnv = (extra: NodeJS.ProcessEnv = {}) => ({ ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot, ...extra });
  let n = 0;
  const jobName = (what: string) => `${what}-${s.session}-${++n}`;
  const leftovers = async (name: string) => (await s.docker.listManaged([`${LABEL.jobName}=${name}`])).map((r) => `${r.kind} ${r.name}`);

  it('keeps absolute links in /opt/ml/model (CompressionType NONE) and in /opt/ml/checkpoints as links, with the rest of both folders', async () => {
    const ckpt = join(s.dir('ckpt'), 'ckpt');
    const { deps, log } = s.deps();
    const result = await runTrainingJob(
      {
        image: fixtureTag('lab'),
        outputDir: s.dir(),
        outputCompression: 'NONE',
        checkpoint: { source: ckpt },
        checkpointSyncSeconds: 1,
        environment: {
          LAB_PY: py(
            'os.makedirs("/opt/ml/model/m1")',
            'open("/opt/ml/model/m1/weights.bin", "w").write("w1")',
            'os.symlink("/opt/ml/model/m1", "/opt/ml/model/latest")',
            'os.symlink("/etc", "/opt/ml/model/etc")',
            'open("/opt/ml/checkpoints/step-3.pt", "w").write("s3")',
            'os.symlink("/opt/ml/checkpoints/step-3.pt", "/opt/ml/checkpoints/latest.pt")',
            // Long enough for periodic saves, which must not fail on the links either.
            'time.sleep(3)',
          ),
        },
      },
      deps,
    );
    expect(result.status).toBe('Completed');
    const model = result.modelArtifact!;
    expect(readdirSync(model).sort()).toEqual(['algo-1.json', 'etc', 'latest', 'm1']);
    expect(readlinkSync(join(model, 'latest'))).toBe('/opt/ml/model/m1');
    expect(readlinkSync(join(model, 'etc'))).toBe('/etc');
    expect(readFileSync(join(model, 'm1', 'weights.bin'), 'utf8')).toBe('w1');
    expect(readlinkSync(join(ckpt, 'latest.pt'))).toBe('/opt/ml/checkpoints/step-3.pt');
    expect(readFileSync(join(ckpt, 'step-3.pt'), 'utf8')).toBe('s3');
    expect(log.messages.filter((m) => m.level === 'warn')).toEqual([]);
  });

  // The collected folders start empty and stamped (workspace/folder-stamp.ts): an untouched one is not
  // read back, so every way of putting something there must still be seen.
  it('whatever a container leaves in /opt/ml/model and /opt/ml/output/data comes back, however it got there; a folder written and emptied comes back empty', async () => {
    const sh = async (script: string, hosts = 1) => {
      const { deps } = s.deps();
      const result = await runTrainingJob(
        { image: BASE_BUSYBOX, outputDir: s.dir(), instanceCount: hosts, containerEntrypoint: ['sh', '-c', script] },
        deps,
      );
      expect(result.status).toBe('Completed');
      return { model: await tarNames(result.modelArtifact!), output: await tarNames(join(result.jobDir, 'output.tar.gz')) };
    };
    expect(
      await sh(
        [
          'mkdir -p /opt/ml/model/a/b && echo w > /opt/ml/model/a/b/w',
          'echo t > /opt/ml/output/data/.part && mv /opt/ml/output/data/.part /opt/ml/output/data/final',
        ].join(' && '),
      ),
    ).toEqual({ model: ['a/', 'a/b/', 'a/b/w'], output: ['final'] });
    // Only the second host writes: its folder is read, the first host's is not, and the model holds the one file.
    expect(await sh('if grep -q \'current_host"[^,]*algo-2\' /opt/ml/input/config/resourceconfig.json; then echo x > /opt/ml/model/x; fi', 2)).toEqual({ model: ['x'], output: [] });
    expect(await sh('echo w > /opt/ml/model/w && rm /opt/ml/model/w && mkdir /opt/ml/output/data/d && rmdir /opt/ml/output/data/d')).toEqual({ model: [], output: [] });
    expect(await sh('true')).toEqual({ model: [], output: [] });
  });

  it('a full output disk while packing: exit 3 naming the path, describe.json written, nothing left on the engine or the disk', async () => {
    const disk = await smallDisk(16);
    const name = jobName('full');
    const r = await runCli(
      ['train', fixtureTag('lab'), '--job-name', name, '--output', disk.path, '--env', `LAB_PY=${py('open("/opt/ml/model/big.bin", "wb").write(os.urandom(40 * 1024 * 1024))')}`],
      { env: cliEnv(), cwd: s.root },
    );
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`error: Cannot write ${disk.path}/${name}/model\\.tar\\.gz: (not enough free space|the disk is full)`));
    expect(r.stderr).not.toMatch(/internal error|at .*\.mjs:\d+/);
    const jobDir = join(disk.path, name);
    // No partial model.tar.gz; the log and the job record are kept (output.tar.gz too, when it fit).
    expect(readdirSync(jobDir)).not.toContain('model.tar.gz');
    expect(readdirSync(jobDir)).toEqual(expect.arrayContaining(['algo-1.log', 'describe.json']));
    expect(JSON.parse(readFileSync(join(jobDir, 'describe.json'), 'utf8'))).toMatchObject({ TrainingJobStatus: 'Failed', FailureReason: expect.stringMatching(/Cannot write/) });
    expect(await leftovers(name)).toEqual([]);
  });

  it('an output folder that turns read-only, or vanishes, under a running job: exit 3 naming the path, never an internal error', async () => {
    for (const how of ['read-only', 'vanished'] as const) {
      const disk = await smallDisk(16);
      const name = jobName(how);
      // The container waits for the test's go-ahead (a file in a channel folder it sees through a bind mount).
      const ctl = s.dir('ctl');
      // A channel needs an object, as an S3 prefix does: SageMaker refuses an empty one.
      writeFileSync(join(ctl, 'waiting'), '');
      const r = await runCli(
        [
          'train', fixtureTag('lab'), '--job-name', name, '--output', disk.path, '--channel', `ctl=${ctl}`,
          '--env', `LAB_PY=${py('print("waiting for the go-ahead", flush=True)', 'exec("while not os.path.exists(\\"/opt/ml/input/data/ctl/go\\"): time.sleep(0.05)")')}`,
        ],
        {
          env: cliEnv(),
          cwd: s.root,
          onStderr: (line) => {
            if (!line.endsWith('waiting for the go-ahead')) return;
            void (async () => {
              if (how === 'read-only') await disk.readOnly();
              else rmSync(join(disk.path, name), { recursive: true, force: true });
              writeFileSync(join(ctl, 'go'), '');
            })();
          },
        },
      );
      expect(r.code, `${how}: ${r.stderr}`).toBe(3);
      expect(r.stderr, how).toMatch(new RegExp(`error: Cannot write ${disk.path}/${name}/[a-z0-9.-]+: (the file system is read-only|the folder does not exist \\(any more\\))\\.`));
      expect(r.stderr, how).not.toMatch(/internal error/);
      expect(await leftovers(name), how).toEqual([]);
    }
  });

  describe('an engine whose archive of /opt/ml/model comes back empty (as Podman\'s Docker-compatible API did)', () => {
    let proxy: EngineProxy;
    it('fails the job with an environment error naming the engine, instead of a Completed job with an empty model.tar.gz', async () => {
      proxy = await startEngineProxy([
        // The engine says it is Podman: on Docker Engine, whose archives of volumes the suite checks, the cross-check is skipped.
        {
          match: (c) => c.method === 'GET' && c.path === '/version',
          replace: (_call, upstream, res) => {
            res.writeHead(upstream.status, { 'content-type': 'application/json' });
            res.end(JSON.stringify({ Version: '4.3.1', ApiVersion: '1.41', MinAPIVersion: '1.24', Os: 'linux', Arch: 'amd64', Components: [{ Name: 'Podman Engine', Version: '4.3.1' }] }));
          },
        },
        {
          match: (c) => c.method === 'GET' && /^\/containers\/[^/]+\/archive$/.test(c.path) && c.query.get('path') === '/opt/ml/model',
          replace: (_call, upstream, res) => {
            const pack = tarStream.pack();
            pack.entry({ name: 'model', type: 'directory', mode: 0o755 });
            pack.finalize();
            res.writeHead(upstream.status, { 'content-type': 'application/x-tar', ...(upstream.headers['x-docker-container-path-stat'] ? { 'x-docker-container-path-stat': upstream.headers['x-docker-container-path-stat'] } : {}) });
            pack.pipe(res);
          },
        },
      ]);
      owned.push(proxy);
      const name = jobName('empty-archive');
      const out = s.dir();
      const r = await runCli(['train', fixtureTag('lab'), '--job-name', name, '--output', out], { env: cliEnv({ DOCKER_HOST: proxy.dockerHost }), cwd: s.root });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toMatch(
        new RegExp(`error: The engine at ${proxy.dockerHost} \\([^)]+\\) returned an archive of /opt/ml/model of algo-1 with no files in it, but counts \\d+ bytes in that volume`),
      );
      expect(describeOf({ describeFile: join(out, name, 'describe.json') } as never)).toMatchObject({ TrainingJobStatus: 'Failed' });
      expect(await leftovers(name)).toEqual([]);
    });

    it('while a model that really is empty still completes, as on SageMaker', async () => {
      const out = s.dir();
      const { deps } = s.deps({ docker: proxy.docker });
      const result = await runTrainingJob({ image: fixtureTag('lab'), outputDir: out, environment: { LAB_PY: 'os.remove("/opt/ml/model/%s.json" % me)' } }, deps);
      expect(result.status).toBe('Completed');
      expect(await tarNames(result.modelArtifact!)).toEqual([]);
      expect(existsSync(join(out, result.trainingJobName, 'describe.json'))).toBe(true);
    });
  });

  it('an output folder that cannot be created (a read-only disk): exit 3 naming it, before any container starts', async () => {
    const disk = await smallDisk(1);
    await disk.readOnly();
    const name = jobName('ro-parent');
    const r = await runCli(['train', fixtureTag('lab'), '--job-name', name, '--output', join(disk.path, 'jobs')], { env: cliEnv(), cwd: s.root });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(new RegExp(`error: Cannot write ${disk.path}/jobs: the file system is read-only\\.`));
    expect(await leftovers(name)).toEqual([]);
  });
});
