import type { Argv, CommandModule } from 'yargs';
import { withCommandContext, type CliIO, type GlobalArgs } from '../context.js';

interface PruneArgs extends GlobalArgs {
  all?: boolean;
  session?: string;
  'dry-run'?: boolean;
  json?: boolean;
}

export function pruneCommand(io: CliIO): CommandModule<GlobalArgs, PruneArgs> {
  return {
    command: 'prune',
    describe: 'Remove containers, networks and workspaces sm-local left behind (their owning process is gone)',
    builder: (y: Argv<GlobalArgs>) =>
      y
        .option('all', { type: 'boolean', describe: 'Also remove what running sm-local processes own' })
        .option('session', { type: 'string', describe: 'Only what runs labelled with this session created (SM_LOCAL_SESSION), whether or not they still run' })
        .option('dry-run', { type: 'boolean', describe: 'Only list what would be removed' })
        .option('json', { type: 'boolean', describe: 'Print the result as JSON' }) as unknown as Argv<PruneArgs>,
    handler: (argv) =>
      withCommandContext(argv, io, async (ctx) => {
        const [{ pruneResources }, { resolveJobDeps }] = await Promise.all([import('../../jobs/prune.js'), import('../../jobs/deps.js')]);
        const deps = resolveJobDeps(ctx.jobDeps());
        await deps.docker.ping();
        const result = await pruneResources({ docker: deps.docker, log: ctx.log, tmpRoot: deps.tmpRoot, all: argv.all ?? false, ...(argv.session ? { session: argv.session } : {}), dryRun: argv['dry-run'] ?? false });
        if (argv.json) return ctx.json(result);
        const verb = argv['dry-run'] ? 'would remove' : 'removed';
        const lines = [
          ...result.containers.map((c) => `${verb} container ${c}`),
          ...result.networks.map((n) => `${verb} network ${n}`),
          ...result.volumes.map((v) => `${verb} volume ${v}`),
          ...result.workspaces.map((w) => `${verb} workspace ${w}`),
        ];
        const total = result.containers.length + result.networks.length + result.volumes.length + result.workspaces.length;
        lines.push(
          `${total === 0 ? 'Nothing to prune' : `${total} item${total === 1 ? '' : 's'} ${verb}`}${result.skipped ? `; ${result.skipped} in use by running sm-local processes left alone (--all removes them)` : ''}${result.shared.length ? `; the shared job network ${result.shared.join(', ')} is kept for the next job (--all removes it)` : ''}.`,
        );
        ctx.result(lines.join('\n'));
      }),
  };
}
