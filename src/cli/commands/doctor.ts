import type { Argv, CommandModule } from 'yargs';
import { EXIT } from '../../errors.js';
import { withCommandContext, type CliIO, type GlobalArgs } from '../context.js';

interface DoctorArgs extends GlobalArgs {
  json?: boolean;
}

const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;

export function doctorCommand(io: CliIO, setExitCode: (code: number) => void): CommandModule<GlobalArgs, DoctorArgs> {
  return {
    command: 'doctor',
    describe: 'Check the container engine (which one, tested or not, what it cannot do), free disk and the images sm-local builds',
    builder: (y: Argv<GlobalArgs>) => y.option('json', { type: 'boolean', describe: 'Print the report as JSON' }) as unknown as Argv<DoctorArgs>,
    handler: (argv) =>
      withCommandContext(argv, io, async (ctx) => {
        const [{ runDoctor }, { resolveJobDeps }] = await Promise.all([import('../../jobs/doctor.js'), import('../../jobs/deps.js')]);
        const deps = resolveJobDeps(ctx.jobDeps());
        const report = await runDoctor({ docker: deps.docker, tmpRoot: deps.tmpRoot, outputDir: ctx.config.outputDir });
        if (!report.engine.ok) setExitCode(EXIT.environment);
        if (argv.json) return ctx.json(report);

        const lines: string[] = [];
        const e = report.engine;
        if (e.ok && e.info) {
          const name = e.profile?.name ?? 'an unknown engine';
          lines.push(`engine     ok: ${name[0]!.toUpperCase()}${name.slice(1)} ${e.info.serverVersion} (API ${e.info.apiVersion}) at ${e.endpoint}${e.info.remote ? ' (remote)' : ''}${e.profile?.tested ? ', tested' : ''}`);
          lines.push(`platform   ${e.info.osType}/${e.info.architecture}, ${e.info.operatingSystem}, ${e.info.cpus} CPUs, ${gib(e.info.memTotalBytes)} memory, storage ${e.info.storageDriver}`);
          for (const n of e.profile?.notes ?? []) lines.push(`note       ${n}`);
          for (const f of e.profile?.needsLocal ?? []) lines.push(`needs local engine: ${f}`);
        } else {
          lines.push(`engine     NOT USABLE: ${e.error ?? 'no answer'} `);
          if (e.hint) lines.push(`           ${e.hint}`);
        }
        for (const d of report.disks) lines.push(`disk       ${d.freeBytes !== undefined ? gib(d.freeBytes) : 'unknown'} free for ${d.label} (${d.path})`);
        if (e.ok) {
          if (report.images.length === 0) lines.push('images     none built by sm-local yet (npm run demo or npm test builds them)');
          for (const i of report.images) lines.push(`image      ${i.role.padEnd(8)} ${i.tags.join(', ') || i.id.slice(7, 19)}`);
        }
        for (const w of report.warnings) lines.push(`warning    ${w}`);
        ctx.result(lines.join('\n'));
      }),
  };
}
