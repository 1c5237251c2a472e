import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { fixtureTag } from '../scripts/lib/images.js';
import { LABEL } from '../src/docker/labels.js';
import { ModelArchiveError, startEndpoint, StorageError } from '../src/index.js';
import { runCli } from './support/cli.js';
import { dockerUnavailable, useTestSession } from './support/session.js';
import { mountSmallDisk } from './support/small-disk.js';
import { readTarGz } from './support/tarballs.js';

type Entry = { name: string; type?: 'directory' | 'symlink' | 'link'; body?: string; linkname?: string };

async function modelTarGz(path: string, entries: Entry[]): Promise<string> {
  const pack = tarStream.pack();
  for (const e of entries) {
    if (e.type) pack.entry({ name: e.name, type: e.type, ...(e.linkname ? { linkname: e.linkname } : {}) });
    else pack.entry({ name: e.name }, e.body ?? '');
  }
  pack.finalize();
  await pipeline(pack, createGzip(), createWriteStream(path));
  return path;
}

/** Every path under `dir` (not following links). */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? [p, ...walk(p)] : [p];
  });
}

describe.skipIf(dockerUnavailable())('hostile input cannot reach outside its workspace, nor leak a secret', () => {
  const s = useTestSession();

  it('refuses a model archive whose chain of symbolic links climbs out (and a hard link through it), naming the entry; nothing lands outside', async () => {
    // Each link alone looks harmless; d/l1 -> .., d/l1/l2 -> .., … climb one folder each: from
    // <root>/deep/workspaces/<endpoint>/model, d/l1/…/l5 is <root> itself.
    const host = s.dir('host');
    writeFileSync(join(host, 'host-secret.txt'), 'not for containers');
    const chain: Entry[] = [{ name: 'd/', type: 'directory' }];
    let at = 'd';
    for (let i = 1; i <= 5; i++) chain.push({ name: (at = `${at}/l${i}`), type: 'symlink', linkname: '..' });
    const tmpRoot = join(s.root, 'deep', 'workspaces');
    mkdirSync(tmpRoot, { recursive: true });
    const { deps } = s.deps({ tmpRoot });
    for (const [name, last] of [
      ['pwned.tar.gz', { name: `${at}/PWNED.txt`, body: 'pwned' }],
      ['hardlink.tar.gz', { name: 'leak.txt', type: 'link', linkname: `${at}/${basename(host)}/host-secret.txt` }],
    ] as const) {
      const archive = await modelTarGz(join(s.dir('archive'), name), [{ name: 'model.json', body: '{}' }, ...chain, last]);
      const err = await startEndpoint({ image: fixtureTag('serve-good'), model: archive, port: 0, endpointName: `chain-${s.session}` }, deps).then(
        async (endpoint) => {
          await endpoint.stop();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(ModelArchiveError);
      expect(err).toMatchObject({ exitCode: 2, message: expect.stringContaining('the entry "d/l1/l2" would be written through the symbolic link "d/l1"; refusing to extract it.') });
      expect(walk(s.root).filter((p) => /PWNED|leak\.txt|\/l\d$/.test(p)), name).toEqual([]);
      expect(readdirSync(tmpRoot), 'workspace removed').toEqual([]);
    }
  });

  it('never packs a file from outside the --source-dir into the container: a link that leads out is refused before anything starts', async () => {
    const host = s.dir('host');
    writeFileSync(join(host, 'credentials'), '[default]\naws_secret_access_key = not-for-containers\n');
    const src = s.dir('src');
    writeFileSync(join(src, 'train.py'), 'print("training")\n');
    symlinkSync(join(host, 'credentials'), join(src, 'credentials'));
    const name = `source-link-${s.session}`;
    const r = await runCli(['train', fixtureTag('toolkit'), '--job-name', name, '--source-dir', src, '--entry-point', 'train.py', '--output', s.dir()], {
      env: { ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot },
      cwd: s.root,
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`source dir (--source-dir): "credentials" is a symbolic link to ${join(host, 'credentials')}, outside ${src}: sm-local never packs files from outside the folder.`);
    expect(r.stderr).not.toMatch(/Created container/);
    expect(await s.docker.listManaged([`${LABEL.jobName}=${name}`])).toEqual([]);
  });

  it('masks secret-looking environment values in describe.json, --json and the logs (0600, in a 0700 job folder); the container gets the real values', async () => {
    const out = s.dir('cli-output');
    const name = `secrets-${s.session}`;
    const secret = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';
    const token = 'tok-5fb2c1d0e9';
    const r = await runCli(
      [
        'train', fixtureTag('lab'), '--job-name', name, '--output', out, '--json',
        '--env', `AWS_SECRET_ACCESS_KEY=${secret}`, '--env', `MY_TOKEN=${token}`, '--env', 'PLAIN=visible',
        '--env', `LAB_PY=print("token is " + os.environ["MY_TOKEN"]); json.dump(dict(os.environ), open("/opt/ml/model/env.json", "w"))`,
      ],
      { env: { ...process.env, NO_COLOR: '1', SM_LOCAL_TMPDIR: s.tmpRoot }, cwd: s.root },
    );
    expect(r.code, r.stderr).toBe(0);
    const masked = { AWS_SECRET_ACCESS_KEY: '****', MY_TOKEN: '****', PLAIN: 'visible' };
    expect((JSON.parse(r.stdout) as { Environment: Record<string, string> }).Environment).toMatchObject(masked);
    const jobDir = join(out, name);
    expect(JSON.parse(readFileSync(join(jobDir, 'describe.json'), 'utf8')).Environment).toMatchObject(masked);
    expect(readFileSync(join(jobDir, 'algo-1.log'), 'utf8')).toContain('token is ****');
    for (const file of walk(jobDir)) {
      if (file.endsWith('.gz')) continue;
      expect(readFileSync(file, 'utf8'), file).not.toContain(secret);
      expect(readFileSync(file, 'utf8'), file).not.toContain(token);
    }
    expect(r.stdout + r.stderr).not.toContain(token);
    expect(statSync(jobDir).mode & 0o777).toBe(0o700);
    for (const file of ['describe.json', 'algo-1.log']) expect(statSync(join(jobDir, file)).mode & 0o777, file).toBe(0o600);
    const seen = JSON.parse((await readTarGz(join(jobDir, 'model.tar.gz'))).find((e) => e.name === 'env.json')!.body) as Record<string, string>;
    expect(seen).toMatchObject({ AWS_SECRET_ACCESS_KEY: secret, MY_TOKEN: token, PLAIN: 'visible' });
    expect(await s.docker.listManaged([`${LABEL.jobName}=${name}`])).toEqual([]);
  });

  describe('a gzip bomb', () => {
    const disks: { close(): Promise<void> }[] = [];
    afterAll(async () => {
      for (const d of disks) await d.close();
    });

    it('stops with exit 3 naming the folder when the disk would fill up, and removes what it wrote', async () => {
      const disk = await mountSmallDisk(32);
      disks.push(disk);
      // 256 MiB of zeros in one entry: a few hundred KiB compressed.
      const bomb = join(s.dir('bomb'), 'model.tar.gz');
      const pack = tarStream.pack();
      const zeros = Buffer.alloc(1024 * 1024);
      const body = pack.entry({ name: 'weights.bin', size: 256 * zeros.length });
      const writing = pipeline(pack, createGzip(), createWriteStream(bomb));
      await pipeline(Readable.from((function* () { for (let i = 0; i < 256; i++) yield zeros; })()), body);
      pack.finalize();
      await writing;
      expect(statSync(bomb).size).toBeLessThan(2 * 1024 * 1024);

      const tmpRoot = join(disk.path, 'workspaces');
      const { deps } = s.deps({ tmpRoot });
      const err = await startEndpoint({ image: fixtureTag('serve-good'), model: bomb, port: 0, endpointName: `bomb-${s.session}` }, deps).then(
        async (endpoint) => {
          await endpoint.stop();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(StorageError);
      expect(err).toMatchObject({ code: 'E_STORAGE', exitCode: 3, problem: 'full' });
      expect((err as Error).message).toMatch(new RegExp(`^Cannot write ${tmpRoot}/bomb-${s.session}-[0-9a-f]{6}/model: not enough free space for the model archive `));
      expect(readdirSync(tmpRoot)).toEqual([]);
      expect(existsSync(join(disk.path, 'workspaces'))).toBe(true);
    });
  });
});
