import { hostname } from 'node:os';
import type { CheckResult, ConformanceReport } from '../contract/conformance.js';

/** XML 1.0 text: escaped, and without the control characters XML cannot carry. */
export function xmlText(s: string): string {
  return s
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const time = (ms: number | undefined) => ((ms ?? 0) / 1000).toFixed(3);

function testcase(c: CheckResult, group: string): string {
  const open = `    <testcase name="${xmlText(`${c.id}: ${c.title}`)}" classname="sm-local.check.${group}" time="${time(c.durationMs)}"`;
  const ref = `See CONTRACT ${c.ref}.`;
  switch (c.status) {
    case 'pass':
      return `${open}>\n      <system-out>${xmlText(c.observed)}</system-out>\n    </testcase>`;
    case 'warn':
      // CI systems have no "warning" outcome: a passing case that says so in its output.
      return `${open}>\n      <system-out>${xmlText(`WARNING: ${c.observed}\nFix: ${c.fix ?? ''}\n${ref}`)}</system-out>\n    </testcase>`;
    case 'skip':
      return `${open}>\n      <skipped message="${xmlText(c.observed)}"/>\n    </testcase>`;
    case 'fail':
      return `${open}>\n      <failure message="${xmlText(c.observed)}" type="${xmlText(c.id)}">${xmlText(`${c.observed}\nFix: ${c.fix ?? ''}\n${ref}`)}</failure>\n    </testcase>`;
  }
}

/**
 * The report as JUnit XML, the format CI systems (Jenkins, GitLab, GitHub Actions reporters, Azure
 * Pipelines) read: one testsuite per group of checks (image, train, process, serve), one testcase per check;
 * a failure is a `<failure>`, a skipped check `<skipped>`, a warning a passing case that says so.
 */
export function renderJUnit(report: ConformanceReport, opts: { hostname?: string } = {}): string {
  const host = xmlText(opts.hostname ?? hostname());
  const groups = ['image', 'train', 'process', 'serve'] as const;
  const suites = groups
    .map((g) => ({ group: g, checks: report.checks.filter((c) => c.group === g) }))
    .filter((s) => s.checks.length)
    .map(({ group, checks }, i) => {
      const count = (status: CheckResult['status']) => checks.filter((c) => c.status === status).length;
      const total = checks.reduce((ms, c) => ms + (c.durationMs ?? 0), 0);
      return [
        `  <testsuite name="sm-local check ${xmlText(report.image)}: ${group}" id="${i}" package="sm-local.check" tests="${checks.length}" failures="${count('fail')}" errors="0" skipped="${count('skip')}" time="${time(total)}" timestamp="${report.startedAt.replace(/(\.\d+)?Z$/, '')}" hostname="${host}">`,
        '    <properties>',
        `      <property name="image" value="${xmlText(report.image)}"/>`,
        `      <property name="imageId" value="${xmlText(report.imageId)}"/>`,
        `      <property name="instanceType" value="${xmlText(report.instanceType)}"/>`,
        `      <property name="pattern" value="${xmlText(report.pattern.pattern)}"/>`,
        '    </properties>',
        ...checks.map((c) => testcase(c, group)),
        // Empty, but present: the Ant-derived schemas some readers validate against require both.
        '    <system-out/>',
        '    <system-err/>',
        '  </testsuite>',
      ].join('\n');
    });
  const { summary } = report;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="sm-local check" tests="${report.checks.length}" failures="${summary.fail}" errors="0" time="${time(report.durationMs)}">`,
    ...suites,
    '</testsuites>',
    '',
  ].join('\n');
}
