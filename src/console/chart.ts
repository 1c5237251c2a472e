/**
 * A metric's time series as SageMaker's console draws one: value over time, one line per metric,
 * each value a point. Rendered on the server as SVG (no chart library in the browser).
 */
import { html, type Html } from './html.js';

export interface ChartPoint {
  /** Seconds since the epoch. */
  t: number;
  value: number;
}

const W = 560;
const H = 220;
const M = { left: 64, right: 16, top: 28, bottom: 34 };
/** Points drawn at most; a longer series is sampled evenly (its last point always kept). */
const MAX_POINTS = 400;

/** 1, 2 or 5 times a power of ten: tick steps a reader can add up. */
export function niceStep(range: number, ticks: number): number {
  const raw = range / Math.max(1, ticks);
  if (!(raw > 0) || !Number.isFinite(raw)) return 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

/** A value as a tick label: short, without float noise. */
export function formatValue(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3) return v.toExponential(2);
  return String(Number(v.toPrecision(4)));
}

/** Elapsed seconds as `45s`, `3m10s`, `1h05m`. */
export function formatElapsed(s: number): string {
  const r = Math.round(s);
  if (r < 60) return `${r}s`;
  if (r < 3600) return `${Math.floor(r / 60)}m${r % 60 ? String(r % 60).padStart(2, '0') + 's' : ''}`;
  return `${Math.floor(r / 3600)}h${String(Math.floor((r % 3600) / 60)).padStart(2, '0')}m`;
}

function sample(points: readonly ChartPoint[]): ChartPoint[] {
  if (points.length <= MAX_POINTS) return [...points];
  const step = points.length / MAX_POINTS;
  const out = Array.from({ length: MAX_POINTS - 1 }, (_, i) => points[Math.floor(i * step)]!);
  out.push(points.at(-1)!);
  return out;
}

/**
 * One metric's chart: x is the time since `start` (the job's start; the first point when absent),
 * y the value, with ticks on both axes and the last value in the title.
 */
export function metricChart(name: string, series: readonly ChartPoint[], start?: number): Html {
  const points = sample(series);
  const t0 = start ?? points[0]?.t ?? 0;
  const xs = points.map((p) => p.t - t0);
  const ys = points.map((p) => p.value);
  const xMax = Math.max(1, ...xs);
  let [yMin, yMax] = [Math.min(...ys), Math.max(...ys)];
  if (!points.length) [yMin, yMax] = [0, 1];
  if (yMin === yMax) [yMin, yMax] = [yMin - (Math.abs(yMin) || 1) / 2, yMax + (Math.abs(yMax) || 1) / 2];
  const yStep = niceStep(yMax - yMin, 4);
  const [y0, y1] = [Math.floor(yMin / yStep) * yStep, Math.ceil(yMax / yStep) * yStep];
  const xStep = niceStep(xMax, 5);
  const px = (x: number) => M.left + (x / xMax) * (W - M.left - M.right);
  const py = (y: number) => H - M.bottom - ((y - y0) / (y1 - y0)) * (H - M.top - M.bottom);
  const yTicks: number[] = [];
  for (let y = y0; y <= y1 + yStep / 2; y += yStep) yTicks.push(Number(y.toPrecision(12)));
  const xTicks: number[] = [];
  for (let x = 0; x <= xMax * 1.0001; x += xStep) xTicks.push(x);
  const path = points.map((_, i) => `${px(xs[i]!).toFixed(1)},${py(ys[i]!).toFixed(1)}`).join(' ');
  const last = points.at(-1);
  return html`<figure class="chart" data-metric="${name}" data-points="${series.length}">
<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${name} over time">
<text class="title" x="${M.left}" y="18">${name}${last ? ` (last ${formatValue(last.value)}, ${series.length} values)` : ' (no values yet)'}</text>
${yTicks.map((y) => html`<line class="grid" x1="${M.left}" x2="${W - M.right}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}"/><text class="tick" x="${M.left - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${formatValue(y)}</text>`)}
${xTicks.map((x) => html`<text class="tick" x="${px(x).toFixed(1)}" y="${H - M.bottom + 16}" text-anchor="middle">${xStep < 1 ? `${Number(x.toFixed(2))}s` : formatElapsed(x)}</text>`)}
<line class="axis" x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}"/>
<line class="axis" x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}"/>
${points.length > 1 ? html`<polyline class="series" points="${path}"/>` : ''}
${points.map((_, i) => html`<circle class="point" cx="${px(xs[i]!).toFixed(1)}" cy="${py(ys[i]!).toFixed(1)}" r="2.5"><title>${formatElapsed(xs[i]!)}: ${ys[i]}</title></circle>`)}
<text class="tick" x="${(M.left + W - M.right) / 2}" y="${H - 4}" text-anchor="middle">time since the job started</text>
</svg></figure>`;
}
