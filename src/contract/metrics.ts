import type { MetricDefinition } from './training-spec.js';

/** A metric definition whose regex compiled. */
export interface CompiledMetric {
  name: string;
  regex: RegExp;
}

/** One value of a metric, as DescribeTrainingJob's FinalMetricDataList and the time series hold them. */
export interface MetricPoint {
  MetricName: string;
  Value: number;
  Timestamp: number;
}

/**
 * Compiles MetricDefinitions (CONTRACT §3.13). Python-style named groups `(?P<name>…)` are accepted,
 * as regexes written for SageMaker often use them; a regex that still does not compile is a problem.
 */
export function compileMetrics(defs: readonly MetricDefinition[]): { metrics: CompiledMetric[]; problems: { path: string; message: string }[] } {
  const metrics: CompiledMetric[] = [];
  const problems: { path: string; message: string }[] = [];
  defs.forEach((d, i) => {
    try {
      metrics.push({ name: d.Name, regex: new RegExp(d.Regex.replace(/\(\?P</g, '(?<')) });
    } catch (err) {
      problems.push({ path: `AlgorithmSpecification.MetricDefinitions[${i}].Regex`, message: `${JSON.stringify(d.Regex)} is not a valid regular expression: ${(err as Error).message}` });
    }
  });
  return { metrics, problems };
}

/**
 * The values a log line gives: the first capture group of each matching regex (the whole match when
 * it has none), kept when it parses as a number. Group choice and non-numeric handling are UNCONFIRMED;
 * this follows the contract's recommendation.
 */
export function matchMetrics(line: string, metrics: readonly CompiledMetric[], timestamp: number): MetricPoint[] {
  const points: MetricPoint[] = [];
  for (const m of metrics) {
    const found = m.regex.exec(line);
    if (!found) continue;
    const text = (found.length > 1 ? found[1] : found[0])?.trim();
    const value = text === undefined || text === '' ? Number.NaN : Number(text);
    if (Number.isFinite(value)) points.push({ MetricName: m.name, Value: value, Timestamp: timestamp });
  }
  return points;
}

/** The last value of each metric, in definition order (DescribeTrainingJob.FinalMetricDataList, ≤ 40). */
export function finalMetrics(series: readonly MetricPoint[], metrics: readonly CompiledMetric[]): MetricPoint[] {
  const last = new Map<string, MetricPoint>();
  for (const p of series) last.set(p.MetricName, p);
  return metrics.map((m) => last.get(m.name)).filter((p): p is MetricPoint => p !== undefined).slice(0, 40);
}
