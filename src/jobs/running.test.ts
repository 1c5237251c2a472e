import { describe, expect, it } from 'vitest';
import { age, psTable } from '../cli/commands/running.js';
import { MemoryEngine } from '../docker/memory-engine.js';
import { LABEL, ownerLabels } from '../docker/labels.js';
import { JobNotFoundError, UsageError } from '../errors.js';
import { findJob, groupJobs, listJobs, pickContainer } from './running.js';

const owner = { session: 's1', pid: 42, hostname: 'laptop' };

async function engineWith(containers: { name: string; jobType: string; jobName: string; role: string; extra?: Record<string, string>; exitAtMs?: number }[]) {
  const engine = new MemoryEngine({
    images: { img: {} },
    behaviour: (input) => ({ ...(input.name.includes('done') ? { exitAtMs: 0, exitCode: 1 } : {}), output: [{ line: `hello from ${input.name}` }, { line: `token ${input.env?.[0] ?? ''}` }], exec: (argv) => ({ stdout: argv.join(' '), exitCode: 0 }) }),
  });
  for (const c of containers) {
    const created = await engine.createContainer({ name: c.name, image: 'img', env: ['API_TOKEN=abcd1234'], labels: { ...ownerLabels(owner, c.jobType, c.jobName, c.extra), [LABEL.role]: c.role } });
    await created.start();
  }
  await new Promise((r) => setTimeout(r, 10));
  return engine;
}

describe('jobs on the engine (ps, logs, exec)', () => {
  it('groups containers into jobs, hosts in order, with an endpoint URL', async () => {
    const engine = await engineWith([
      { name: 'sm-local-training-j-algo-2-abc', jobType: 'training', jobName: 'j', role: 'algo-2' },
      { name: 'sm-local-training-j-algo-1-abc', jobType: 'training', jobName: 'j', role: 'algo-1' },
      { name: 'sm-local-serving-e-123456', jobType: 'serving', jobName: 'e', role: 'primary', extra: { [LABEL.proxyPort]: '8123' } },
    ]);
    const jobs = await listJobs(engine);
    const byName = Object.fromEntries(jobs.map((j) => [j.name, j]));
    expect(Object.values(byName).map((j) => [j.kind, j.name, j.status, j.containers.map((c) => c.role)]).sort()).toEqual([
      ['serving', 'e', 'running', ['primary']],
      ['training', 'j', 'running', ['algo-1', 'algo-2']],
    ]);
    expect(byName.e!.url).toBe('http://127.0.0.1:8123/endpoints/e/invocations');
    const table = psTable(jobs, Math.max(...jobs.map((j) => j.created)) + 65_000);
    expect(table[0]).toMatch(/^NAME\s+KIND\s+STATUS\s+HOSTS\s+AGE\s+URL$/);
    expect(table).toContainEqual(expect.stringMatching(/^j\s+training\s+running\s+algo-1,algo-2\s+1m$/));
    expect(table).toContainEqual(expect.stringMatching(/^e\s+endpoint\s+running\s+primary\s+1m\s+http:\/\/127\.0\.0\.1:8123\//));
  });

  it('lists jobs oldest first, by name when created at the same time', () => {
    const row = (name: string, created: number) => ({ kind: 'container' as const, id: name, name, state: 'running', created, labels: { ...ownerLabels(owner, 'training', name), [LABEL.role]: 'algo-1' } });
    expect(groupJobs([row('b', 5), row('c', 1), row('a', 5)]).map((j) => j.name)).toEqual(['c', 'a', 'b']);
  });

  it('finds a job by name, its hosts by role, and says what there is when a name is wrong', async () => {
    const engine = await engineWith([
      { name: 'a1', jobType: 'training', jobName: 'j', role: 'algo-1' },
      { name: 'a2', jobType: 'training', jobName: 'j', role: 'algo-2' },
      { name: 'v', jobType: 'serving', jobName: 'e', role: 'AllTraffic/2/primary' },
    ]);
    const job = await findJob(engine, 'j');
    expect(pickContainer(job).role).toBe('algo-1');
    expect(pickContainer(job, 'algo-2').name).toBe('a2');
    expect(pickContainer(await findJob(engine, 'e'), 'AllTraffic/2').name).toBe('v');
    expect(() => pickContainer(job, 'algo-3')).toThrow(/no container on host algo-3[^]*/);
    await expect(findJob(engine, 'nope')).rejects.toThrow(JobNotFoundError);
    await expect(findJob(engine, 'nope')).rejects.toThrow(/there are: (j, e|e, j)\)/);
  });

  it('asks which kind when a job and an endpoint share a name', async () => {
    const engine = await engineWith([
      { name: 't', jobType: 'training', jobName: 'x', role: 'algo-1' },
      { name: 's', jobType: 'serving', jobName: 'x', role: 'primary' },
    ]);
    await expect(findJob(engine, 'x')).rejects.toThrow(UsageError);
    expect((await findJob(engine, 'x', 'serving')).containers[0]!.name).toBe('s');
  });

  it('reads a container log, and runs a command in it with its exit code', async () => {
    const engine = await engineWith([{ name: 'a1', jobType: 'training', jobName: 'j', role: 'algo-1' }]);
    const id = (await findJob(engine, 'j')).containers[0]!.id;
    const lines: string[] = [];
    await engine.containerLogs(id, { onLine: (l) => lines.push(l) });
    expect(lines).toEqual(['hello from a1', 'token API_TOKEN=abcd1234']);
    expect(await engine.containerEnvironment(id)).toEqual({ API_TOKEN: 'abcd1234' });
    let out = '';
    const sink = { write: (c: string) => ((out += c), true) } as unknown as NodeJS.WritableStream;
    expect(await engine.exec(id, ['echo', 'hi'], { stdout: sink, stderr: sink })).toBe(0);
    expect(out).toBe('echo hi');
  });

  it('groups by session too: two runs of one name are two rows', () => {
    const row = (session: string, created: number) => ({ kind: 'container' as const, id: session, name: session, state: 'exited', created, labels: { ...ownerLabels({ ...owner, session }, 'training', 'j'), [LABEL.role]: 'algo-1' } });
    const jobs = groupJobs([row('old', 1), row('new', 2)]);
    expect(jobs.map((j) => [j.session, j.status])).toEqual([['old', 'exited'], ['new', 'exited']]);
  });

  it('says ages the short way', () => {
    expect([age(5_000), age(120_000), age(7_200_000), age(3 * 86_400_000)]).toEqual(['5s', '2m', '2h', '3d']);
  });
});
