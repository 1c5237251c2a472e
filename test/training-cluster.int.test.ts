import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fixtureTag } from '../scripts/lib/images.js';
import { containerLimits } from '../src/contract/instance-types.js';
import { probePort } from '../src/http/ports.js';
import { AlgorithmError, DockerError, InterruptedError, InvalidSpecError, runTrainingJob, type TrainingJobInput, type TrainingResult } from '../src/index.js';
import type { JobDeps } from '../src/jobs/deps.js';
import { describeOf, rejection, resultOf } from './support/jobs.js';
import { useProbeTarget } from './support/probe-target.js';
import { dockerUnavailable, useTestSession } from './support/session.js';
import { readTarGz, tarJson, tarNames } from './support/tarballs.js';

/** What each host of the lab fixture saw (fixtures/images/programs/lab.py), from /opt/ml/model/<host>.json. */
interface LabReport {
  host: string;
  resourceconfig: { current_host: string; current_group_name: string; current_instance_type: string; hosts: string[]; instance_groups: { instance_group_name: string; hosts: string[] }[] };
  inputdataconfig: Record<string, { TrainingInputMode: string; S3DistributionType: string; RecordWrapperType: string }>;
  files: Record<string, string[]>;
  writable: Record<string, boolean>;
  addresses: Record<string, string>;
  limits: { memory: string; cpu: string; shm: number; nvidia_visible_devices: string | null };
  met?: string[];
  sigterm?: boolean;
  probe?: string;
  listened?: string;
  pipes?: Record<string, { bytes: number; sha256: string; records?: string[] }[]>;
  resumed_from?: number;
  steps?: number;
}

const GiB = 1024 ** 3;
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const hostsOf = (n: number) => Array.from({ length: n }, (_, i) => `algo-${i + 1}`);

describe.skipIf(dockerUnavailable())('training fidelity on a real engine', () => {
  const s = useTestSession();
  let seq = 0;

  /** Runs the lab fixture; `name` makes the job name unique in this session. */
  function lab(name: string, input: Omit<TrainingJobInput, 'image'>, extra: Partial<JobDeps> = {}) {
    const { deps, lines, log } = s.deps(extra);
    const job = runTrainingJob({ image: fixtureTag('lab'), trainingJobName: `${name}-${++seq}-${s.session}`, outputDir: s.dir(), stopGraceSeconds: 10, ...input }, deps);
    return { job, lines, log };
  }

  async function reports(result: TrainingResult, hosts: string[]): Promise<Record<string, LabReport>> {
    const out: Record<string, LabReport> = {};
    for (const h of hosts) out[h] = await tarJson<LabReport>(result.modelArtifact!, `${h}.json`);
    return out;
  }

  describe('multi-host (CONTRACT §3.5)', () => {
    it("each host resolves its own name to its own eth0 address, and a peer that has finished still resolves, as on SageMaker", async () => {
      // algo-1 ends at once; algo-2 waits until it has, then looks it up (and itself).
      const code = [
        'import socket, time, json, fcntl, struct',
        's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)',
        'eth0 = socket.inet_ntoa(fcntl.ioctl(s.fileno(), 0x8915, struct.pack("256s", b"eth0"))[20:24])',
        'if me == "algo-2":',
        '    time.sleep(2)',
        'found = {"algo-1": socket.gethostbyname("algo-1"), "self": socket.gethostbyname(me), "eth0": eth0}',
        'open("/opt/ml/model/lookup-%s.json" % me, "w").write(json.dumps(found))',
      ].join('\n');
      const { job } = lab('finished-peer', { instanceCount: 2, environment: { LAB_PY: code } });
      const result = await job;
      expect(result.status).toBe('Completed');
      type Lookup = { 'algo-1': string; self: string; eth0: string };
      const first = await tarJson<Lookup>(result.modelArtifact!, 'lookup-algo-1.json');
      const lookup = await tarJson<Lookup>(result.modelArtifact!, 'lookup-algo-2.json');
      // algo-1 had exited two seconds before: algo-2 still finds it at the address it had.
      expect(lookup['algo-1']).toBe(first.eth0);
      expect(first.self).toBe(first.eth0);
      expect(lookup.self).toBe(lookup.eth0);
    });

    it('runs algo-1 … algo-3 on one network, each resolving the others and with its own resourceconfig.json, and merges their models', async () => {
      const { job, lines } = lab('cluster', { instanceCount: 3, instanceType: 'ml.m5.large', environment: { PEERS: '1' } });
      const result = await job;
      expect(result.status).toBe('Completed');
      expect(await tarNames(result.modelArtifact!)).toEqual(['algo-1.json', 'algo-2.json', 'algo-3.json']);
      expect(await tarNames(result.outputArtifact!)).toEqual(['algo-1.txt', 'algo-2.txt', 'algo-3.txt']);
      const r = await reports(result, hostsOf(3));
      for (const host of hostsOf(3)) {
        expect(r[host]!.resourceconfig).toEqual({
          current_host: host,
          current_instance_type: 'ml.m5.large',
          current_group_name: 'homogeneousCluster',
          hosts: ['algo-1', 'algo-2', 'algo-3'],
          instance_groups: [{ instance_group_name: 'homogeneousCluster', instance_type: 'ml.m5.large', hosts: ['algo-3', 'algo-2', 'algo-1'] }],
          network_interface_name: 'eth0',
        });
        // Every host resolves every host name, to the same three distinct addresses.
        expect(Object.keys(r[host]!.addresses).sort()).toEqual(hostsOf(3));
        expect(r[host]!.addresses).toEqual(r['algo-1']!.addresses);
      }
      expect(new Set(Object.values(r['algo-1']!.addresses)).size).toBe(3);
      // algo-2 and algo-3 reached algo-1 over TCP by name.
      expect(r['algo-1']!.met).toEqual(['algo-2', 'algo-3']);
      // Output is prefixed per host on screen and kept in one log per host.
      for (const host of hostsOf(3)) {
        expect(lines.filter((l) => l.source === host).map((l) => l.line)).toContain(`lab ${host}: done`);
        expect(readFileSync(join(result.jobDir, `${host}.log`), 'utf8')).toContain(`lab ${host}: done`);
      }
      expect(result.logFiles.map((f) => f.split('/').pop())).toEqual(['algo-1.log', 'algo-2.log', 'algo-3.log']);
    });

    it('fails the job with the first host that fails, with its FailureReason, and stops the others with SIGTERM', async () => {
      const { job } = lab('one-fails', { instanceCount: 3, environment: { PEERS: '1', FAIL_ON_HOST: 'algo-2' } });
      const err = await rejection(job, AlgorithmError);
      expect(err.failureReason).toBe('AlgorithmError: RuntimeError: algo-2 lost its shard, exit code: 5');
      const result = resultOf(err);
      expect(result.exitCode).toBe(5);
      expect(describeOf(result)).toMatchObject({
        TrainingJobStatus: 'Failed',
        FailureReason: err.failureReason,
        SmLocal: { FailedHost: 'algo-2', Hosts: [{ Host: 'algo-1', ExitCode: 0 }, { Host: 'algo-2', ExitCode: 5 }, { Host: 'algo-3', ExitCode: 0 }] },
      });
      // The others got SIGTERM (their handlers saved a report) and their models are still merged in.
      expect(await tarNames(result.modelArtifact!)).toEqual(['algo-1.json', 'algo-3.json']);
      const r = await reports(result, ['algo-1', 'algo-3']);
      expect(r['algo-1']!.sigterm).toBe(true);
      expect(r['algo-3']!.sigterm).toBe(true);
    });

    it('numbers hosts through instance groups and gives a channel only to the groups it names', async () => {
      const data = s.dir('groups');
      writeFileSync(join(data, 'w.csv'), 'w\n');
      const { job } = lab('groups', {
        instanceGroups: [
          { instanceGroupName: 'ps', instanceType: 'ml.c5.large', instanceCount: 1 },
          { instanceGroupName: 'workers', instanceType: 'ml.m5.large', instanceCount: 2 },
        ],
        channels: [
          { channelName: 'train', source: data, instanceGroupNames: ['workers'] },
          { channelName: 'all', source: data },
        ],
      });
      const result = await job;
      const r = await reports(result, hostsOf(3));
      expect(r['algo-1']!.resourceconfig).toMatchObject({ current_group_name: 'ps', current_instance_type: 'ml.c5.large' });
      expect(r['algo-2']!.resourceconfig).toMatchObject({ current_group_name: 'workers', current_instance_type: 'ml.m5.large' });
      expect(r['algo-3']!.resourceconfig.instance_groups).toEqual([
        { instance_group_name: 'ps', instance_type: 'ml.c5.large', hosts: ['algo-1'] },
        { instance_group_name: 'workers', instance_type: 'ml.m5.large', hosts: ['algo-3', 'algo-2'] },
      ]);
      expect(Object.keys(r['algo-1']!.inputdataconfig)).toEqual(['all']);
      expect(Object.keys(r['algo-2']!.inputdataconfig).sort()).toEqual(['all', 'train']);
      expect(r['algo-1']!.files).toEqual({ all: ['w.csv'] });
      expect(r['algo-3']!.files).toEqual({ all: ['w.csv'], train: ['w.csv'] });
    });
  });

  describe.each(['mount', 'copy'] as const)('File and FastFile channels, transfer=%s (CONTRACT §3.6)', (transfer) => {
    const data = s.dir('shards');
    const keys = ['a.csv', 'b.csv', 'c.csv', 'd.csv', 'e.csv', 'f.csv', 'sub/g.csv'];
    mkdirSync(join(data, 'sub'));
    for (const k of keys) writeFileSync(join(data, k), `${k}\n`);

    it('splits a ShardedByS3Key channel across the hosts, each object exactly once, and gives every host a FullyReplicated one whole', async () => {
      const { job } = lab(`shard-${transfer}`, {
        instanceCount: 3,
        transfer,
        channels: [
          { channelName: 'train', source: data, s3DataDistributionType: 'ShardedByS3Key' },
          { channelName: 'full', source: data },
        ],
      });
      const r = await reports(await job, hostsOf(3));
      const shards = hostsOf(3).map((h) => r[h]!.files.train!);
      expect(shards.flat().sort()).toEqual(keys);
      for (const shard of shards) expect(shard.length).toBeGreaterThan(0);
      for (const h of hostsOf(3)) {
        expect(r[h]!.files.full).toEqual(keys);
        expect(r[h]!.inputdataconfig.train!.S3DistributionType).toBe('ShardedByS3Key');
      }
    });

    it('gives a FastFile channel read-only, with all its files', async () => {
      const { job } = lab(`fastfile-${transfer}`, { transfer, channels: [{ channelName: 'stream', source: data, inputMode: 'FastFile' }] });
      const r = (await reports(await job, ['algo-1']))['algo-1']!;
      expect(r.inputdataconfig.stream!.TrainingInputMode).toBe('FastFile');
      expect(r.files.stream).toEqual(keys);
      expect(r.writable.stream).toBe(false);
    });
  });

  describe('Pipe mode (CONTRACT §3.6)', () => {
    const data = s.dir('pipe');
    const objects: Record<string, string> = { '1.txt': 'one', '2.txt': 'two two', '3.txt': 'three three three!' };
    for (const [k, v] of Object.entries(objects)) writeFileSync(join(data, `${k}.gz`), gzipSync(v));
    const plain = s.dir('pipe-plain');
    for (const [k, v] of Object.entries(objects)) writeFileSync(join(plain, k), v);
    const padded = (n: number) => 8 + n + ((4 - (n % 4)) % 4);

    it('feeds <channel>_0 and <channel>_1, one epoch each, RecordIO-wrapped and gunzipped, or as bytes in a seeded shuffle', async () => {
      const { job } = lab('pipe', {
        environment: { PIPE_EPOCHS: '2' },
        channels: [
          { channelName: 'train', source: data, inputMode: 'Pipe', recordWrapperType: 'RecordIO', compressionType: 'Gzip' },
          { channelName: 'raw', source: plain, inputMode: 'Pipe', shuffleSeed: 42 },
        ],
      });
      const r = (await reports(await job, ['algo-1']))['algo-1']!;
      expect(r.inputdataconfig.train).toMatchObject({ TrainingInputMode: 'Pipe', RecordWrapperType: 'RecordIO' });
      const payloads = Object.values(objects);
      for (const epoch of r.pipes!.train!) {
        // One record per object, in key order; the byte count includes headers and padding.
        expect(epoch.records).toEqual(payloads.map(sha256));
        expect(epoch.bytes).toBe(payloads.reduce((n, p) => n + padded(Buffer.byteLength(p)), 0));
      }
      expect(r.pipes!.raw).toHaveLength(2);
      for (const epoch of r.pipes!.raw!) expect(epoch.bytes).toBe(payloads.join('').length);
    });

    it('needs bind mounts: Pipe with --transfer copy is refused before anything starts', async () => {
      const { job } = lab('pipe-copy', { transfer: 'copy', channels: [{ channelName: 'train', source: plain, inputMode: 'Pipe' }] });
      const err = await rejection(job, InvalidSpecError);
      expect(err.problems.map((p) => p.message).join('\n')).toMatch(/Pipe mode .* needs bind mounts/);
    });
  });

  describe('checkpoints (CONTRACT §3.2)', () => {
    it('saves checkpoints while the job runs and when it is stopped, and a second run resumes from them', async () => {
      const ckpt = join(s.dir('ckpt'), 'run');
      const stop = new AbortController();
      const first = lab(
        'ckpt-1',
        { environment: { CHECKPOINT_STEPS: '1000' }, checkpoint: { source: ckpt }, checkpointSyncSeconds: 1 },
        { stop: stop.signal, onLine: (line) => (/: step 3$/.test(line) ? stop.abort() : undefined) },
      );
      const stopped = resultOf(await rejection(first.job, InterruptedError));
      expect(stopped.status).toBe('Stopped');
      const saved = Number(readFileSync(join(ckpt, 'step.txt'), 'utf8'));
      expect(saved).toBeGreaterThanOrEqual(3);
      expect(saved).toBeLessThan(1000);

      const second = await lab('ckpt-2', { environment: { CHECKPOINT_STEPS: String(saved + 2) }, checkpoint: { source: ckpt } }).job;
      const r = (await reports(second, ['algo-1']))['algo-1']!;
      expect(r.resumed_from).toBe(saved);
      expect(r.steps).toBe(saved + 2);
      expect(readFileSync(join(ckpt, 'step.txt'), 'utf8')).toBe(String(saved + 2));
      expect(describeOf(second)).toMatchObject({ CheckpointConfig: { LocalPath: '/opt/ml/checkpoints' } });
    });

    it('restores into and saves from CheckpointConfig.LocalPath', async () => {
      const ckpt = s.dir('ckpt-local');
      writeFileSync(join(ckpt, 'step.txt'), '5');
      const result = await lab('ckpt-path', { environment: { CHECKPOINT_STEPS: '6', CHECKPOINT_DIR: '/opt/ml/my-ckpt' }, checkpoint: { source: ckpt, localPath: '/opt/ml/my-ckpt' } }).job;
      expect((await reports(result, ['algo-1']))['algo-1']!.resumed_from).toBe(5);
      expect(readdirSync(ckpt)).toEqual(['step.txt']);
      expect(readFileSync(join(ckpt, 'step.txt'), 'utf8')).toBe('6');
    });
  });

  it('writes plain model and output folders with OutputDataConfig.CompressionType NONE', async () => {
    const result = await lab('none', { instanceCount: 2, outputCompression: 'NONE' }).job;
    expect(result.modelArtifact).toBe(join(result.jobDir, 'model'));
    expect(readdirSync(join(result.jobDir, 'model')).sort()).toEqual(['algo-1.json', 'algo-2.json']);
    expect(readdirSync(join(result.jobDir, 'output')).sort()).toEqual(['algo-1.txt', 'algo-2.txt']);
    expect(existsSync(join(result.jobDir, 'model.tar.gz'))).toBe(false);
    expect(describeOf(result)).toMatchObject({ ModelArtifacts: { S3ModelArtifacts: join(result.jobDir, 'model') }, OutputDataConfig: { CompressionType: 'NONE' } });
  });

  describe('metrics (CONTRACT §3.13)', () => {
    it('applies MetricDefinitions to the log: a series in metrics.json, FinalMetricDataList, and what matched nothing', async () => {
      const result = await lab('metrics', {
        environment: { CHECKPOINT_STEPS: '4' },
        metricDefinitions: [
          { Name: 'train:step', Regex: 'step (?P<n>[0-9]+)' },
          { Name: 'never', Regex: 'val_loss=([0-9.]+)' },
        ],
      }).job;
      expect(result.metrics.map((m) => [m.MetricName, m.Value])).toEqual([1, 2, 3, 4].map((v) => ['train:step', v]));
      expect(result.unmatchedMetrics).toEqual(['never']);
      const file = JSON.parse(readFileSync(join(result.jobDir, 'metrics.json'), 'utf8')) as { Series: { MetricName: string; Value: number }[] };
      expect(file.Series.map((p) => p.Value)).toEqual([1, 2, 3, 4]);
      expect(describeOf(result).FinalMetricDataList).toEqual([expect.objectContaining({ MetricName: 'train:step', Value: 4 })]);
    });

    it('refuses a regex that does not compile, before anything starts', async () => {
      const err = await rejection(lab('bad-metric', { metricDefinitions: [{ Name: 'loss', Regex: 'loss=([0-9.]+' }] }).job, InvalidSpecError);
      expect(err.problems[0]!.path).toBe('AlgorithmSpecification.MetricDefinitions[0].Regex');
    });
  });

  describe('instance resources (CONTRACT §3.13)', () => {
    /** What the container must see for `type`: the table's figures, capped to what this engine has. */
    async function expectedLimits(type: string) {
      const engine = await s.docker.info();
      return containerLimits(type, { cpus: engine.cpus, memoryBytes: engine.memTotalBytes })!;
    }

    it('limits CPU, memory and /dev/shm to the instance type, and hides GPUs on a CPU type', async () => {
      const r = (await reports(await lab('limits', { instanceType: 'ml.c5.large' }).job, ['algo-1']))['algo-1']!;
      const want = await expectedLimits('ml.c5.large');
      // On this project's 2-core, 24 GiB machine: 2 CPUs, 4 GiB, /dev/shm 2 GiB, as ml.c5.large has.
      expect(Number(r.limits.memory)).toBe(want.memoryBytes);
      const [quota, period] = r.limits.cpu.split(' ').map(Number);
      expect((quota! / period!) * 1e9).toBe(want.nanoCpus);
      expect(r.limits.shm).toBe(want.shmBytes);
      expect(r.limits.nvidia_visible_devices).toBe('void');
    });

    it('takes --shm-size over the instance default, and says when a GPU type gets no GPUs from this engine', async () => {
      const { job, log } = lab('shm', { instanceType: 'ml.g5.xlarge', shmSizeBytes: GiB });
      const result = await job;
      const r = (await reports(result, ['algo-1']))['algo-1']!;
      expect(r.limits.shm).toBe(GiB);
      const want = await expectedLimits('ml.g5.xlarge');
      if (want.memoryBytes) expect(Number(r.limits.memory)).toBe(want.memoryBytes);
      expect(result.notices.join('\n')).toMatch(/ml\.g5\.xlarge has 1 GPU, but the engine has no NVIDIA runtime/);
      expect(log.messages.map((m) => m.message).join('\n')).toMatch(/no NVIDIA runtime/);
    });

    it('says the engine cannot give GPUs when --gpus asks for them on an engine without GPU support', async (ctx) => {
      if ((await s.docker.info()).runtimes.includes('nvidia')) ctx.skip();
      const err = await rejection(lab('gpus', { gpus: 'all' }).job, DockerError);
      if ((await s.docker.info()).product === 'podman') {
        // Podman would start the container without GPUs: refused before it is created.
        expect(err.message).toMatch(/could not start .* with GPUs: Podman's Docker-compatible API ignores GPU requests/);
        expect(err.hint).toMatch(/Docker Engine with the NVIDIA Container Toolkit/);
      } else {
        expect(err.message).toMatch(/could not start .* with GPUs: could not select device driver "nvidia"/);
        expect(err.hint).toMatch(/install the NVIDIA Container Toolkit/);
      }
    });

    it('reports an out-of-memory kill as such, with the instance memory', async () => {
      const err = await rejection(lab('oom', { instanceType: 'ml.c5.large', environment: { ALLOCATE_MB: '6000' } }).job, AlgorithmError);
      expect(err.failureReason).toBe('OutOfMemoryError: Please use an instance type with more memory, or reduce the size of job data processed on an instance.');
      expect(err.hint).toMatch(/algo-1 ran out of memory: ml\.c5\.large has 4 GiB/);
      expect(describeOf(resultOf(err))).toMatchObject({ TrainingJobStatus: 'Failed', SmLocal: { OomKilled: true } });
    });
  });

  describe('network isolation', () => {
    const probe = useProbeTarget(s, 'probe');

    it('without it, the containers reach addresses outside the job', async () => {
      const r = (await reports(await lab('net-open', { environment: { PROBE: probe.target() } }).job, ['algo-1']))['algo-1']!;
      expect(r.probe).toBe('connected');
    });

    it('with it, they reach nothing outside the job, and the hosts still reach each other', async () => {
      const result = await lab('net-isolated', { instanceCount: 2, enableNetworkIsolation: true, environment: { PROBE: probe.target(), PEERS: '1' } }).job;
      const r = await reports(result, hostsOf(2));
      expect(r['algo-1']!.probe).toMatch(/^failed/);
      expect(r['algo-2']!.probe).toMatch(/^failed/);
      expect(r['algo-1']!.met).toEqual(['algo-2']);
      expect(describeOf(result)).toMatchObject({ EnableNetworkIsolation: true });
    });
  });

  it('publishes a port of algo-1 on 127.0.0.1 with --publish (a debugger escape hatch)', async () => {
    const hostPort = await probePort(0);
    // Once the container says it listens, one connection through the published port reaches it.
    let sent: Promise<void> | undefined;
    const { job } = lab(
      'publish',
      { environment: { LISTEN: '5678' }, publish: [{ hostPort, containerPort: 5678 }] },
      {
        onLine: (line) => {
          if (line !== 'lab algo-1: listening on 5678' || sent) return;
          sent = new Promise<void>((resolve, reject) => {
            const sock = connect(hostPort, '127.0.0.1', () => sock.end('hello from the host'));
            sock.on('error', reject);
            sock.on('close', () => resolve());
          });
        },
      },
    );
    const result = await job;
    await sent;
    expect((await reports(result, ['algo-1']))['algo-1']!.listened).toBe('hello from the host');
  });

  it('runs with a --platform the image is built for, and refuses another before anything starts', async () => {
    const arch = (await s.docker.inspectImage(fixtureTag('lab')))!.architecture;
    expect((await lab('platform', { platform: `linux/${arch}` }).job).status).toBe('Completed');
    const other = arch === 'arm64' ? 'amd64' : 'arm64';
    const out = s.dir();
    const err = await rejection(lab('platform-other', { platform: `linux/${other}`, outputDir: out }).job, InvalidSpecError);
    expect(err.problems[0]!.message).toBe(`${fixtureTag('lab')} is built for linux/${arch}, not linux/${other}; rebuild it with --platform linux/${other}, or drop --platform.`);
    expect(readdirSync(out)).toEqual([]);
  });

  describe('script mode, as the SageMaker Python SDK hands code to the training toolkit (CONTRACT §3.8)', () => {
    const src = s.dir('src');
    mkdirSync(join(src, 'lib'));
    writeFileSync(join(src, 'requirements.txt'), 'numpy==1.26.4\n');
    writeFileSync(join(src, 'lib', 'helper.py'), 'VALUE = "from the source dir"\n');
    writeFileSync(
      join(src, 'train.py'),
      [
        'import json, os, sys',
        'sys.path.insert(0, os.path.join(os.getcwd(), "lib"))',
        'import helper',
        'report = {"argv": sys.argv[1:], "cwd": os.getcwd(), "helper": helper.VALUE,',
        '          "env": {k: v for k, v in os.environ.items() if k.startswith("SM_")},',
        '          "code": sorted(os.listdir("/opt/ml/code"))}',
        'json.dump(report, open(os.path.join(os.environ["SM_MODEL_DIR"], "script.json"), "w"))',
        '',
      ].join('\n'),
    );

    it('packs the source dir and names it and the program in the hyperparameters, so the toolkit runs the script with them as arguments', async () => {
      const { deps, lines } = s.deps();
      const result = await runTrainingJob(
        {
          image: fixtureTag('toolkit'),
          trainingJobName: `script-${s.session}`,
          entryPoint: 'train.py',
          sourceDir: src,
          hyperParameters: { epochs: '3', lr: '0.1' },
          channels: [{ channelName: 'train', source: src }],
          outputDir: s.dir(),
        },
        deps,
      );
      const report = await tarJson<{ argv: string[]; cwd: string; helper: string; env: Record<string, string>; code: string[] }>(result.modelArtifact!, 'script.json');
      expect(report.argv).toEqual(['--epochs', '3', '--lr', '0.1']);
      expect(report.cwd).toBe('/opt/ml/code');
      expect(report.helper).toBe('from the source dir');
      expect(report.code).toEqual(['lib', 'requirements.txt', 'train.py']);
      expect(report.env).toMatchObject({ SM_USER_ENTRY_POINT: 'train.py', SM_MODULE_DIR: '/opt/ml/input/sm-local/sourcedir.tar.gz', SM_CHANNEL_TRAIN: '/opt/ml/input/data/train' });
      expect(lines.map((l) => l.line)).toContain('toolkit: would run pip install -r /opt/ml/code/requirements.txt');
      // The hyperparameters as the SDK sends them: JSON-encoded strings.
      expect(describeOf(result).HyperParameters).toEqual({
        epochs: '3',
        lr: '0.1',
        sagemaker_program: '"train.py"',
        sagemaker_submit_directory: '"/opt/ml/input/sm-local/sourcedir.tar.gz"',
        sagemaker_container_log_level: '20',
        sagemaker_job_name: `"script-${s.session}"`,
        sagemaker_region: '"us-east-1"',
      });
    });

    it('packs a lone entry point file when there is no source dir', async () => {
      const { deps } = s.deps();
      const result = await runTrainingJob({ image: fixtureTag('toolkit'), trainingJobName: `script-file-${s.session}`, entryPoint: join(src, 'train.py'), outputDir: s.dir() }, deps).catch(
        (err: { details?: TrainingResult }) => err.details!,
      );
      // train.py imports lib/helper.py, which is not shipped without --source-dir: the script fails to import it.
      expect(result.status).toBe('Failed');
      expect(readFileSync(result.logFile, 'utf8')).toMatch(/ModuleNotFoundError: No module named 'helper'/);
      expect(describeOf(result).HyperParameters).toMatchObject({ sagemaker_program: '"train.py"' });
      expect((await readTarGz(result.modelArtifact!)).length).toBe(0);
    });
  });
});
