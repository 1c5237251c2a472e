import type { CheckResult, ConformanceReport } from '../contract/conformance.js';

const LABEL: Record<CheckResult['status'], string> = { pass: 'PASS', warn: 'WARN', fail: 'FAIL', skip: 'SKIP' };
const STATUS_WIDTH = 8;
const COLOR: Record<CheckResult['status'], string> = { pass: '32', warn: '33', fail: '31', skip: '90' };

/** Splits text into lines of at most `width` characters, at spaces where it can. */
function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(' ')) {
      if (line && line.length + 1 + word.length > width) {
        out.push(line);
        line = '';
      }
      let w = word;
      while (w.length > width) {
        out.push(w.slice(0, width));
        w = w.slice(width);
      }
      line = line ? `${line} ${w}` : w;
    }
    out.push(line);
  }
  return out;
}

/** One status line, for progress while the checks run. */
export function checkLine(c: CheckResult, color: boolean): string {
  const label = color ? `\u001b[${COLOR[c.status]}m${LABEL[c.status]}\u001b[0m` : LABEL[c.status];
  return `${label}  ${c.id}: ${c.title}`;
}

/**
 * The report as a table: one row per check (status, check, what was observed), the fix under each
 * failure and warning, then the pattern and the summary.
 */
export function renderCheckTable(report: ConformanceReport, opts: { width?: number; color?: boolean } = {}): string {
  const width = Math.max(80, opts.width ?? 120);
  const idWidth = Math.min(28, Math.max(5, ...report.checks.map((c) => c.id.length)));
  const indent = STATUS_WIDTH + idWidth + 2;
  const textWidth = width - indent;
  const lines: string[] = [`${'STATUS'.padEnd(STATUS_WIDTH)}${'CHECK'.padEnd(idWidth + 2)}OBSERVED`];
  for (const c of report.checks) {
    const label = LABEL[c.status].padEnd(STATUS_WIDTH);
    const status = opts.color ? `\u001b[${COLOR[c.status]}m${label}\u001b[0m` : label;
    const observed = wrap(`${c.title}: ${c.observed}`, textWidth);
    lines.push(`${status}${c.id.padEnd(idWidth + 2)}${observed[0]}`);
    for (const more of observed.slice(1)) lines.push(`${' '.repeat(indent)}${more}`);
    // The fix hangs under its label: "fix: " and then the text, wrapped in the space left.
    if (c.fix) for (const [i, fix] of wrap(c.fix, textWidth - 5).entries()) lines.push(`${' '.repeat(indent)}${i ? '     ' : 'fix: '}${fix}`);
  }
  const s = report.summary;
  lines.push(
    '',
    ...wrap(`Pattern: ${report.pattern.pattern}. ${report.pattern.advice}`, width),
    '',
    `${report.image} on ${report.instanceType}: ${s.pass} passed, ${s.warn} warning${s.warn === 1 ? '' : 's'}, ${s.fail} failed, ${s.skip} skipped in ${(report.durationMs / 1000).toFixed(1)} s: ${report.verdict === 'pass' ? 'PASS' : 'FAIL'}`,
  );
  return `${lines.join('\n')}\n`;
}
