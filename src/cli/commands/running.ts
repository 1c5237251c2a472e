/**
 * `sm-local ps`, `logs` and `exec`: what sm-local runs on this engine, the output of its containers,
 * and a command inside one of them, all through the Engine API (so DOCKER_HOST, ssh and Podman work
 * as for every other command).
 */
import type { Argv, CommandModule } from 'yargs';
import type { RunningJob } from '../../jobs/running.js';
import { withCommandContext, type CliIO, type GlobalArgs } from '../context.js';

const KINDS = ['training', 'processing', 'transform', 'serving', 'check'];

/** `3s`, `5m`, `2h`, `4d`: how long ago. */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** `ps`'s table: one row per job or endpoint. */
export function psTable(jobs: readonly RunningJob[], now: number): string[] {
  const rows = [
    ['NAME', 'KIND', 'STATUS', 'HOSTS', 'AGE', 'URL'],
    ...jobs.map((j) => [j.name, j.kind === 'serving' ? 'endpoint' : j.kind, j.status, j.containers.map((c) => c.role).join(','), age(now - j.created), j.url ?? '']),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ').trimEnd());
}

interface PsArgs extends GlobalArgs {
  json?: boolean;
}

export function psCommand(io: CliIO): CommandModule<GlobalArgs, PsArgs> {
  return {
    command: 'ps',
    describe: 'The jobs and endpoints sm-local runs on this engine (name, kind, status, hosts, age, URL)',
    builder: (y: Argv<GlobalArgs>) => y.option('json', { type: 'boolean', describe: 'One JSON array: each job with its containers' }) as unknown as Argv<PsArgs>,
    handler: (argv) =>
      withCommandContext(argv, io, async (ctx) => {
        const { listJobs } = await import('../../jobs/running.js');
        const jobs = await listJobs(ctx.jobDeps().docker!);
        if (argv.json) return ctx.json(jobs);
        if (!jobs.length) return ctx.log.info('sm-local runs nothing on this engine.');
        for (const line of psTable(jobs, Date.now())) ctx.result(line);
      }),
  };
}

interface LogsArgs extends GlobalArgs {
  name: string;
  follow?: boolean;
  host?: string;
  tail?: number;
  kind?: string;
}

export function logsCommand(io: CliIO): CommandModule<GlobalArgs, LogsArgs> {
  return {
    command: 'logs <name>',
    describe: 'The output of a job\'s or endpoint\'s containers (every host, prefixed, unless --host)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('name', { type: 'string', demandOption: true, describe: 'Job or endpoint name (sm-local ps lists them)' })
        .option('follow', { alias: 'f', type: 'boolean', describe: 'Keep printing until the containers exit (or Ctrl-C)' })
        .option('host', { type: 'string', describe: 'Only this host: algo-2, or an endpoint container\'s role (ps shows them)' })
        .option('tail', { type: 'number', describe: 'Only the last N lines of each container' })
        .option('kind', { type: 'string', choices: KINDS, describe: 'When a training job and an endpoint share the name' }) as unknown as Argv<LogsArgs>,
    handler: (argv) =>
      withCommandContext(argv, io, async (ctx) => {
        const { findJob, pickContainer } = await import('../../jobs/running.js');
        const docker = ctx.jobDeps().docker!;
        const job = await findJob(docker, argv.name, argv.kind);
        const containers = argv.host !== undefined ? [pickContainer(job, argv.host)] : job.containers;
        // What the containers print is masked as a job's output is: the values of their secret variables.
        for (const env of await Promise.all(containers.map((c) => docker.containerEnvironment(c.id).catch(() => ({}))))) ctx.masker.addEnvironment(env);
        const prefixed = containers.length > 1;
        await Promise.all(
          containers.map((c) =>
            docker.containerLogs(c.id, {
              ...(argv.follow ? { follow: true } : {}),
              ...(argv.tail !== undefined ? { tail: argv.tail } : {}),
              signal: ctx.stop,
              onLine: (line) => ctx.result(prefixed ? `[${c.role}] | ${ctx.masker.mask(line)}` : ctx.masker.mask(line)),
            }),
          ),
        );
      }),
  };
}

interface ExecArgs extends GlobalArgs {
  name: string;
  host?: string;
  kind?: string;
  interactive?: boolean;
  tty?: boolean;
  '--'?: (string | number)[];
}

export function execCommand(io: CliIO & { stdin?: NodeJS.ReadStream }, setExitCode: (code: number) => void): CommandModule<GlobalArgs, ExecArgs> {
  return {
    command: 'exec <name>',
    describe: 'Run a command inside a running job\'s or endpoint\'s container: sm-local exec NAME [--host algo-2] -- CMD [ARG…]',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .positional('name', { type: 'string', demandOption: true, describe: 'Job or endpoint name (sm-local ps lists them)' })
        .option('host', { type: 'string', describe: 'The host to run it on: algo-2, or an endpoint container\'s role (default: the first)' })
        .option('kind', { type: 'string', choices: KINDS, describe: 'When a training job and an endpoint share the name' })
        .option('interactive', { alias: 'i', type: 'boolean', describe: 'Keep stdin open and send it to the command' })
        .option('tty', { alias: 't', type: 'boolean', describe: 'Give the command a terminal (with -i for a shell: -it -- bash)' })
        .example('$0 exec my-job --host algo-2 -- cat /opt/ml/input/config/resourceconfig.json', '')
        .example('$0 exec my-endpoint -it -- bash', '') as unknown as Argv<ExecArgs>,
    handler: (argv) =>
      withCommandContext(argv, io, async (ctx) => {
        const { UsageError } = await import('../../errors.js');
        const cmd = (argv['--'] ?? []).map(String);
        if (!cmd.length) throw new UsageError('No command given.', 'Put it after --: sm-local exec NAME -- CMD [ARG…]');
        const { findJob, pickContainer } = await import('../../jobs/running.js');
        const docker = ctx.jobDeps().docker!;
        const job = await findJob(docker, argv.name, argv.kind);
        const container = pickContainer(job, argv.host);
        if (container.state !== 'running') throw new UsageError(`The ${container.role} container of ${job.name} is ${container.state}, not running: a command can only run in a running container.`, 'Run the job again (with --keep to look at the container after it ends: `docker start` it, or `docker cp` from it).');
        const stdin = argv.interactive ? (io.stdin ?? process.stdin) : undefined;
        const tty = Boolean(argv.tty);
        const raw = tty && stdin && 'setRawMode' in stdin && stdin.isTTY;
        if (raw) (stdin as NodeJS.ReadStream).setRawMode(true);
        try {
          const out = io.stdout as NodeJS.WriteStream;
          const code = await docker.exec(container.id, cmd, {
            ...(stdin ? { stdin } : {}),
            tty,
            stdout: io.stdout,
            stderr: io.stderr,
            ...(tty && out.rows ? { size: { rows: out.rows, columns: out.columns } } : {}),
          });
          setExitCode(code);
        } finally {
          if (raw) (stdin as NodeJS.ReadStream).setRawMode(false);
          stdin?.pause();
        }
      }),
  };
}
