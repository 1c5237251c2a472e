/**
 * The console's pages, rendered from what the API answers (Describe*, List*, the logs) and nothing
 * else: the list of jobs and endpoints, a job's page (status and its transitions, FailureReason,
 * metric charts, artifacts, logs), an endpoint's page (status, variants, an invoke form, logs).
 * Pure: data in, HTML out. The small script at the end makes a page live: it follows the logs
 * through the Logs API and swaps in the parts marked `data-live` while the resource changes.
 */
import { formatElapsed, metricChart, type ChartPoint } from './chart.js';
import { Html, html, trusted } from './html.js';
import { CONSOLE_CSS, CONSOLE_SCRIPT } from './assets.js';

type Json = Record<string, unknown>;

/** The job kinds, as the console names them in its paths, and where the API keeps their members. */
export const CONSOLE_KINDS = {
  'training-jobs': { title: 'Training job', plural: 'Training jobs', name: 'TrainingJobName', status: 'TrainingJobStatus', describe: 'DescribeTrainingJob', list: 'ListTrainingJobs', summaries: 'TrainingJobSummaries', logGroup: '/aws/sagemaker/TrainingJobs', end: 'TrainingEndTime', start: 'TrainingStartTime' },
  'processing-jobs': { title: 'Processing job', plural: 'Processing jobs', name: 'ProcessingJobName', status: 'ProcessingJobStatus', describe: 'DescribeProcessingJob', list: 'ListProcessingJobs', summaries: 'ProcessingJobSummaries', logGroup: '/aws/sagemaker/ProcessingJobs', end: 'ProcessingEndTime', start: 'ProcessingStartTime' },
  'transform-jobs': { title: 'Transform job', plural: 'Transform jobs', name: 'TransformJobName', status: 'TransformJobStatus', describe: 'DescribeTransformJob', list: 'ListTransformJobs', summaries: 'TransformJobSummaries', logGroup: '/aws/sagemaker/TransformJobs', end: 'TransformEndTime', start: 'TransformStartTime' },
} as const;
export type ConsoleKind = keyof typeof CONSOLE_KINDS;

const TERMINAL = new Set(['Completed', 'Failed', 'Stopped', 'InService', 'OutOfService']);

/** An API timestamp (epoch seconds) as the reader's clock would show it, to the second. */
export function when(t: unknown): string {
  if (typeof t !== 'number') return '';
  return new Date(t * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

function duration(from: unknown, to: unknown): string {
  return typeof from === 'number' && typeof to === 'number' ? formatElapsed(Math.max(0, to - from)) : '';
}

function badge(status: unknown): Html {
  const s = String(status ?? '');
  return html`<span class="badge ${s.toLowerCase()}" data-status="${s}">${s}</span>`;
}

function layout(title: string, body: Html, live: { status?: string; logGroup?: string; logPrefix?: string; hosts?: number } = {}): string {
  const attrs = html`${live.status !== undefined ? html` data-status="${live.status}" data-terminal="${TERMINAL.has(live.status) ? 'yes' : 'no'}"` : ''}${live.logGroup ? html` data-log-group="${live.logGroup}"` : ''}${live.logPrefix !== undefined ? html` data-log-prefix="${live.logPrefix}"` : ''}${live.hosts !== undefined ? html` data-hosts="${live.hosts}"` : ''}`;
  return `<!doctype html>\n${html`<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>${title} · sm-local</title><style>${trusted(CONSOLE_CSS)}</style></head>
<body${attrs}><header><a class="home" href="/">sm-local</a> <span class="sub">a local SageMaker</span></header><main>${body}</main><script>${trusted(CONSOLE_SCRIPT)}</script></body></html>`.text}`;
}

function table(head: string[], rows: Html[][], empty: string): Html {
  if (!rows.length) return html`<p class="empty">${empty}</p>`;
  return html`<table><thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table>`;
}

/** The front page: every kind of job, then the endpoints, newest first, as Describe* says them. */
export function indexPage(data: { jobs: Record<ConsoleKind, Json[]>; endpoints: Json[]; apiUrl: string }): string {
  const sections = (Object.keys(CONSOLE_KINDS) as ConsoleKind[]).map((kind) => {
    const k = CONSOLE_KINDS[kind];
    const rows = data.jobs[kind].map((d) => {
      const name = String(d[k.name]);
      return [
        html`<a href="/console/${kind}/${encodeURIComponent(name)}">${name}</a>`,
        badge(d[k.status]),
        html`${kind === 'training-jobs' ? d.SecondaryStatus : ''}`,
        html`${when(d.CreationTime)}`,
        html`${duration(d[k.start] ?? d.CreationTime, d[k.end])}`,
      ];
    });
    return html`<section><h2>${k.plural} <span class="count">${data.jobs[kind].length}</span></h2>${table(['Name', 'Status', kind === 'training-jobs' ? 'Secondary status' : '', 'Created', 'Duration'], rows, 'None yet.')}</section>`;
  });
  const endpoints = data.endpoints.map((d) => {
    const name = String(d.EndpointName);
    return [html`<a href="/console/endpoints/${encodeURIComponent(name)}">${name}</a>`, badge(d.EndpointStatus), html`${d.EndpointConfigName}`, html`${when(d.CreationTime)}`];
  });
  const body = html`<h1>Jobs and endpoints</h1><p class="sub">What <code>${data.apiUrl}</code> answers to boto3, the AWS CLI and the SDKs.</p>
<div data-live="index">${sections}<section><h2>Endpoints <span class="count">${data.endpoints.length}</span></h2>${table(['Name', 'Status', 'Endpoint config', 'Created'], endpoints, 'None yet.')}</section></div>`;
  const busy = [...Object.values(data.jobs).flat().map((d) => String(d.TrainingJobStatus ?? d.ProcessingJobStatus ?? d.TransformJobStatus)), ...data.endpoints.map((d) => String(d.EndpointStatus))].some((s) => !TERMINAL.has(s));
  return layout('Jobs and endpoints', body, { status: busy ? 'InProgress' : 'Completed' });
}

function keyValues(entries: [string, unknown][]): Html {
  const shown = entries.filter(([, v]) => v !== undefined && v !== '' && v !== null);
  // Html goes in as markup; other objects as their JSON.
  return html`<dl>${shown.map(([k, v]) => html`<dt>${k}</dt><dd>${typeof v === 'object' && !(v instanceof Html) ? JSON.stringify(v) : v}</dd>`)}</dl>`;
}

/** A metric series per name, from the points the log gave (or metrics.json). */
export function seriesByMetric(points: readonly { MetricName: string; Value: number; Timestamp: number }[]): Map<string, ChartPoint[]> {
  const out = new Map<string, ChartPoint[]>();
  for (const p of points) {
    let s = out.get(p.MetricName);
    if (!s) out.set(p.MetricName, (s = []));
    s.push({ t: p.Timestamp, value: p.Value });
  }
  return out;
}

export interface JobPageData {
  kind: ConsoleKind;
  describe: Json;
  /** The metric definitions' names, in order, and every value the log gave (training jobs). */
  metricNames?: string[];
  metrics?: { MetricName: string; Value: number; Timestamp: number }[];
  /** Files in the job folder, to download. */
  files: { name: string; bytes: number }[];
}

/** Where a processing job's outputs and a transform job's results went (S3 URIs). */
function outputUris(d: Json): string | undefined {
  const outputs = ((d.ProcessingOutputConfig as Json | undefined)?.Outputs ?? []) as Json[];
  const uris = [...outputs.map((o) => (o.S3Output as Json | undefined)?.S3Uri), (d.TransformOutput as Json | undefined)?.S3OutputPath].filter((u): u is string => typeof u === 'string');
  return uris.length ? uris.join(', ') : undefined;
}

function failure(d: Json): Html {
  return d.FailureReason ? html`<div class="failure" role="alert"><strong>FailureReason</strong><pre>${d.FailureReason}</pre></div>` : html``;
}

function bytes(n: number): string {
  return n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

function filesSection(base: string, files: JobPageData['files']): Html {
  return html`<section><h2>Artifacts</h2>${files.length
    ? html`<ul class="files">${files.map((f) => html`<li><a href="${base}/files/${encodeURIComponent(f.name)}" download>${f.name}</a> <span class="sub">${bytes(f.bytes)}</span></li>`)}</ul>`
    : html`<p class="empty">Nothing in the job folder yet.</p>`}</section>`;
}

function logsSection(): Html {
  return html`<section><h2>Logs <span class="sub" id="log-state"></span></h2><pre class="logs" id="logs" aria-live="polite"></pre><noscript>The logs need JavaScript; they are also in the job folder.</noscript></section>`;
}

/** A training, processing or transform job. */
export function jobPage(data: JobPageData): string {
  const k = CONSOLE_KINDS[data.kind];
  const d = data.describe;
  const name = String(d[k.name]);
  const base = `/console/${data.kind}/${encodeURIComponent(name)}`;
  const status = String(d[k.status] ?? '');
  const transitions = Array.isArray(d.SecondaryStatusTransitions) ? (d.SecondaryStatusTransitions as Json[]) : [];
  const series = seriesByMetric(data.metrics ?? []);
  const start = typeof d[k.start] === 'number' ? (d[k.start] as number) : typeof d.CreationTime === 'number' ? (d.CreationTime as number) : undefined;
  const charts = (data.metricNames ?? []).map((m) => metricChart(m, series.get(m) ?? [], start));
  const algo = (d.AlgorithmSpecification ?? d.AppSpecification ?? {}) as Json;
  const resources = (d.ResourceConfig ?? (d.ProcessingResources as Json | undefined)?.ClusterConfig ?? d.TransformResources ?? {}) as Json;
  const body = html`<p class="crumbs"><a href="/">Jobs and endpoints</a> › ${k.plural}</p>
<h1>${name}</h1>
<div data-live="summary">
<p class="status">${badge(status)} ${data.kind === 'training-jobs' ? html`<span class="secondary">${d.SecondaryStatus}</span>` : ''} <span class="sub">${d.SecondaryStatusTransitions && transitions.length ? transitions.at(-1)!.StatusMessage : ''}</span></p>
${failure(d)}
${keyValues([
  ['Created', when(d.CreationTime)],
  ['Started', when(d[k.start])],
  ['Ended', when(d[k.end])],
  ['Image', algo.TrainingImage ?? algo.ImageUri ?? (d.ModelName ? `model ${d.ModelName}` : undefined)],
  ['Instances', resources.InstanceType ? `${resources.InstanceCount ?? 1} × ${resources.InstanceType}` : undefined],
  ['Model artifacts', (d.ModelArtifacts as Json | undefined)?.S3ModelArtifacts],
  ['Outputs', outputUris(d)],
  ['Exit message', d.ExitMessage],
])}
${transitions.length ? html`<section><h2>Status transitions</h2>${table(['Status', 'Started', 'Ended', 'Message'], transitions.map((t) => [html`${t.Status}`, html`${when(t.StartTime)}`, html`${when(t.EndTime)}`, html`${t.StatusMessage}`]), '')}</section>` : ''}
${charts.length ? html`<section><h2>Metrics</h2><div class="charts">${charts}</div>${Array.isArray(d.FinalMetricDataList) && d.FinalMetricDataList.length ? html`<p class="sub">FinalMetricDataList: ${(d.FinalMetricDataList as Json[]).map((m) => `${m.MetricName} = ${m.Value}`).join(', ')}</p>` : ''}</section>` : ''}
${filesSection(base, data.files)}
</div>
${d.HyperParameters && Object.keys(d.HyperParameters).length ? html`<section><h2>Hyperparameters</h2>${keyValues(Object.entries(d.HyperParameters as Json))}</section>` : ''}
<p><a href="${base}/describe.json">describe.json</a> <span class="sub">(${k.describe}, as the API answers it)</span></p>
${logsSection()}`;
  const hosts = Array.isArray(resources.InstanceGroups) ? (resources.InstanceGroups as Json[]).reduce((n, g) => n + Number(g.InstanceCount ?? 0), 0) : Number(resources.InstanceCount ?? 1);
  return layout(`${k.title} ${name}`, body, { status, logGroup: k.logGroup, logPrefix: `${name}/`, hosts });
}

/** An endpoint: status and variants, a form that invokes it, and its containers' logs. */
export function endpointPage(d: Json): string {
  const name = String(d.EndpointName);
  const status = String(d.EndpointStatus ?? '');
  const variants = Array.isArray(d.ProductionVariants) ? (d.ProductionVariants as Json[]) : [];
  const body = html`<p class="crumbs"><a href="/">Jobs and endpoints</a> › Endpoints</p>
<h1>${name}</h1>
<div data-live="summary">
<p class="status">${badge(status)}</p>
${failure(d)}
${keyValues([
  ['Created', when(d.CreationTime)],
  ['Last modified', when(d.LastModifiedTime)],
  ['Endpoint config', d.EndpointConfigName],
  ['InvokeEndpoint URL', html`<code>/endpoints/${name}/invocations</code>`],
])}
${variants.length ? html`<section><h2>Production variants</h2>${table(['Variant', 'Weight', 'Instances', 'Images'], variants.map((v) => [html`${v.VariantName}`, html`${v.CurrentWeight}`, html`${v.CurrentInstanceCount}`, html`${((v.DeployedImages as Json[] | undefined) ?? []).map((i) => i.SpecifiedImage).join(', ')}`]), '')}</section>` : ''}
</div>
<section><h2>Invoke</h2>
<form id="invoke" data-endpoint="${name}">
<label>Content-Type <input name="contentType" value="application/json"></label>
<label>Accept <input name="accept" placeholder="(the container's default)"></label>
<label>Target variant <select name="variant"><option value="">(by weight)</option>${variants.map((v) => html`<option>${v.VariantName}</option>`)}</select></label>
<label>Custom attributes <input name="customAttributes"></label>
<label class="wide">Body <textarea name="body" rows="6">{"instances": [[1.0, 2.0]]}</textarea></label>
<button type="submit">Send</button>
</form>
<div id="response" hidden><h3>Response <span id="response-status"></span></h3><pre id="response-headers"></pre><pre id="response-body"></pre></div>
</section>
<p><a href="/console/endpoints/${encodeURIComponent(name)}/describe.json">describe.json</a> <span class="sub">(DescribeEndpoint, as the API answers it)</span></p>
${logsSection()}`;
  return layout(`Endpoint ${name}`, body, { status, logGroup: `/aws/sagemaker/Endpoints/${name}`, logPrefix: '' });
}

/** A resource that is not there: the page says so, with the way back. */
export function notFoundPage(what: string): string {
  return layout('Not found', html`<p class="crumbs"><a href="/">Jobs and endpoints</a></p><h1>Not found</h1><p>${what}</p>`);
}
