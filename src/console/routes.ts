/**
 * The console's routes on the local SageMaker's port: `GET /` (the list), `GET /console/<kind>/<name>`
 * (a job's or endpoint's page), its `describe.json`, and the files of its job folder. Every page is
 * rendered from the API's own answers (the `call` and `logs` operations the control plane runs), so
 * the console shows what boto3 would get. Pages answer only requests addressed to this machine by
 * name or loopback address (a page of another site that rebinds its name to 127.0.0.1 gets 403).
 */
import { constants } from 'node:fs';
import { lstat, open, readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { compileMetrics, matchMetrics, type MetricPoint } from '../contract/metrics.js';
import type { MetricDefinition } from '../contract/training-spec.js';
import { CONSOLE_KINDS, endpointPage, indexPage, jobPage, notFoundPage, type ConsoleKind, type JobPageData } from './pages.js';

type Json = Record<string, unknown>;
type Answer = { ok: true; body: Json } | { ok: false; error: { message: string } };

/** What the console reads: the API's operations, and the job folders behind them. */
export interface ConsoleSource {
  /** A SageMaker operation (`DescribeTrainingJob`), answered as the API answers it. */
  call(operation: string, body: Json): Promise<Answer>;
  /** A CloudWatch Logs operation (`FilterLogEvents`). */
  logs(operation: string, body: Json): Answer;
  /** The job folder of a job: its files to download, its metrics.json. */
  jobFolder(kind: ConsoleKind, name: string): string | undefined;
}

/** How many resources of each kind the front page lists (the newest). */
const LIST_LIMIT = 100;

const LOOPBACK_HOST = /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/i;

function send(reply: FastifyReply, status: number, type: string, body: string | Buffer): FastifyReply {
  return reply.code(status).header('content-type', type).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff').send(body);
}

/** Every event of the group's streams under `prefix`, through FilterLogEvents' pages. */
function allEvents(source: ConsoleSource, group: string, prefix: string): { message: string; timestamp: number }[] {
  const events: { message: string; timestamp: number }[] = [];
  let token: string | undefined;
  do {
    const out = source.logs('FilterLogEvents', { logGroupName: group, logStreamNamePrefix: prefix, ...(token ? { nextToken: token } : {}) });
    if (!out.ok) break;
    events.push(...(out.body.events as { message: string; timestamp: number }[]));
    token = out.body.nextToken as string | undefined;
  } while (token);
  return events;
}

/** A training job's metric series: its MetricDefinitions applied to its log, as the service does; else its metrics.json. */
async function trainingMetrics(source: ConsoleSource, d: Json, folder: string | undefined): Promise<Pick<JobPageData, 'metricNames' | 'metrics'>> {
  const defs = ((d.AlgorithmSpecification as Json | undefined)?.MetricDefinitions ?? []) as MetricDefinition[];
  if (!defs.length) return {};
  const { metrics } = compileMetrics(defs);
  const name = String(d.TrainingJobName);
  const points: MetricPoint[] = allEvents(source, CONSOLE_KINDS['training-jobs'].logGroup, `${name}/`).flatMap((e) => matchMetrics(e.message, metrics, e.timestamp / 1000));
  if (!points.length && folder) {
    // A job of an earlier run of the server: its log is gone from memory, its series is in metrics.json.
    const saved = await readFile(join(folder, 'metrics.json'), 'utf8').then((t) => (JSON.parse(t) as { Series?: MetricPoint[] }).Series, () => undefined);
    if (Array.isArray(saved)) points.push(...saved);
  }
  return { metricNames: defs.map((m) => m.Name), metrics: points };
}

/** The regular files at the top of a job folder (links and folders are not offered). */
async function folderFiles(folder: string | undefined): Promise<{ name: string; bytes: number }[]> {
  if (!folder) return [];
  const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
  const files = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => ({ name: e.name, bytes: (await lstat(join(folder, e.name))).size })));
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

const isKind = (k: string): k is ConsoleKind => Object.hasOwn(CONSOLE_KINDS, k);

export function registerConsole(app: FastifyInstance, source: ConsoleSource, opts: { apiUrl: string }): void {
  // DNS rebinding: a page is only for a browser that asked this machine for it.
  const guard = (req: FastifyRequest, reply: FastifyReply): boolean => {
    if (LOOPBACK_HOST.test(req.headers.host ?? '')) return true;
    send(reply, 403, 'text/plain; charset=utf-8', 'The sm-local console answers requests to 127.0.0.1 or localhost only.\n');
    return false;
  };
  const describeOf = async (kind: string, name: string): Promise<Json | undefined> => {
    const k = isKind(kind) ? CONSOLE_KINDS[kind] : kind === 'endpoints' ? { describe: 'DescribeEndpoint', name: 'EndpointName' } : undefined;
    if (!k) return undefined;
    const out = await source.call(k.describe, { [k.name]: name });
    return out.ok ? out.body : undefined;
  };

  app.get('/', async (req, reply) => {
    if (!guard(req, reply)) return reply;
    const jobs = {} as Record<ConsoleKind, Json[]>;
    for (const kind of Object.keys(CONSOLE_KINDS) as ConsoleKind[]) {
      const k = CONSOLE_KINDS[kind];
      const listed = await source.call(k.list, { MaxResults: LIST_LIMIT, SortBy: 'CreationTime', SortOrder: 'Descending' });
      const names = listed.ok ? (listed.body[k.summaries] as Json[]).map((s) => String(s[k.name])) : [];
      jobs[kind] = (await Promise.all(names.map((n) => describeOf(kind, n)))).filter((d): d is Json => d !== undefined);
    }
    const listed = await source.call('ListEndpoints', { MaxResults: LIST_LIMIT, SortBy: 'CreationTime', SortOrder: 'Descending' });
    const endpoints = listed.ok ? (await Promise.all((listed.body.Endpoints as Json[]).map((e) => describeOf('endpoints', String(e.EndpointName))))).filter((d): d is Json => d !== undefined) : [];
    return send(reply, 200, 'text/html; charset=utf-8', indexPage({ jobs, endpoints, apiUrl: opts.apiUrl }));
  });
  app.get('/console', async (_req, reply) => reply.redirect('/'));

  app.get<{ Params: { kind: string; name: string } }>('/console/:kind/:name', async (req, reply) => {
    if (!guard(req, reply)) return reply;
    const { kind, name } = req.params;
    const d = await describeOf(kind, name);
    if (!d) return send(reply, 404, 'text/html; charset=utf-8', notFoundPage(`No ${kind.replace(/s$/, '').replace('-', ' ')} named "${name}".`));
    if (kind === 'endpoints') return send(reply, 200, 'text/html; charset=utf-8', endpointPage(d));
    const k = kind as ConsoleKind;
    const folder = source.jobFolder(k, name);
    const [files, metrics] = await Promise.all([folderFiles(folder), k === 'training-jobs' ? trainingMetrics(source, d, folder) : Promise.resolve({})]);
    return send(reply, 200, 'text/html; charset=utf-8', jobPage({ kind: k, describe: d, files, ...metrics }));
  });

  app.get<{ Params: { kind: string; name: string } }>('/console/:kind/:name/describe.json', async (req, reply) => {
    if (!guard(req, reply)) return reply;
    const d = await describeOf(req.params.kind, req.params.name);
    if (!d) return send(reply, 404, 'application/json', JSON.stringify({ message: `No ${req.params.kind} named ${req.params.name}.` }));
    return send(reply, 200, 'application/json; charset=utf-8', `${JSON.stringify(d, null, 2)}\n`);
  });

  app.get<{ Params: { kind: string; name: string; file: string } }>('/console/:kind/:name/files/:file', async (req, reply) => {
    if (!guard(req, reply)) return reply;
    const { kind, name, file } = req.params;
    const folder = isKind(kind) ? source.jobFolder(kind, name) : undefined;
    // Only a name the folder listing offers: no path, no link, nothing outside the folder.
    const listed = (await folderFiles(folder)).find((f) => f.name === file);
    if (!folder || !listed) return send(reply, 404, 'text/plain; charset=utf-8', `No file ${file} in the job folder of ${name}.\n`);
    const handle = await open(join(folder, listed.name), constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
    if (!handle) return send(reply, 404, 'text/plain; charset=utf-8', `No file ${file} in the job folder of ${name}.\n`);
    const type = file.endsWith('.json') ? 'application/json' : file.endsWith('.log') ? 'text/plain; charset=utf-8' : 'application/octet-stream';
    // A file still being written (a log) is sent as long as it was when opened.
    const size = (await handle.stat()).size;
    reply.header('content-disposition', `attachment; filename="${file.replace(/["\\\r\n]/g, '_')}"`).header('content-length', String(size));
    return send(reply, 200, type, size ? (handle.createReadStream({ start: 0, end: size - 1 }) as unknown as Buffer) : (await handle.close(), Buffer.alloc(0)));
  });
}
