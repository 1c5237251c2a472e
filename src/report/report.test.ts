import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { validateXML } from 'xmllint-wasm';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/paths.js';
import { CHECKS, checkResult, skipped, summarize, type CheckResult, type ConformanceReport } from '../contract/conformance.js';
import { checkLine, renderCheckTable } from './check-table.js';
import { renderJUnit, xmlText } from './junit.js';

function report(checks: CheckResult[]): ConformanceReport {
  return {
    schemaVersion: 1,
    image: 'my-algo:<dev>&"1"',
    imageId: `sha256:${'ab'.repeat(32)}`,
    instanceType: 'ml.m5.large',
    startedAt: '2026-11-25T10:00:00.123Z',
    durationMs: 12_345,
    pattern: { pattern: 'scratch', signals: ['no SageMaker toolkit or framework-image marks found'], advice: 'Written from scratch.' },
    ...summarize(checks),
    checks,
  };
}

const mixed = report([
  checkResult('image.entrypoint-form', 'fail', 'ENTRYPOINT ["/bin/sh","-c","python3 train.py"] is shell form'),
  checkResult('image.user', 'warn', 'USER app'),
  skipped('image.manifest', 'the engine (API 1.41) does not list manifests'),
  checkResult('train.exits-0', 'pass', 'Completed in 3.1 s', { durationMs: 3100 }),
  checkResult('serve.sample', 'fail', 'answered 500 (<html>\u0000 oops</html>), expected 200', { id: 'serve.sample-1', title: 'Sample a.json gets 200', durationMs: 12 }),
]);

const validateReport = (() => {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats.default(ajv);
  return ajv.compile(JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'check-report.schema.json'), 'utf8')));
})();

describe('renderCheckTable', () => {
  it('prints a row per check, the fix under failures and warnings, and the summary', () => {
    const out = renderCheckTable(mixed, { width: 100 });
    const lines = out.split('\n');
    expect(lines[0]).toBe('STATUS  CHECK                  OBSERVED');
    expect(lines[1]).toBe('FAIL    image.entrypoint-form  ENTRYPOINT is in exec form: ENTRYPOINT ["/bin/sh","-c","python3');
    expect(lines[2]).toBe('                               train.py"] is shell form');
    expect(lines[3]).toMatch(/^ {31}fix: Write ENTRYPOINT \["program", "arg"\] \(exec form\)\./);
    expect(out).toMatch(/^SKIP    image\.manifest         Pushes as a single-platform image manifest: the engine \(API 1\.41\)/m);
    expect(out).toMatch(/^PASS    train\.exits-0          Training exits 0 on the given data: Completed in 3\.1 s$/m);
    expect(lines.filter((l) => l.length > 100)).toEqual([]);
    expect(lines.at(-2)).toBe('my-algo:<dev>&"1" on ml.m5.large: 1 passed, 1 warning, 2 failed, 1 skipped in 12.3 s: FAIL');
  });

  it('colours only when asked', () => {
    expect(renderCheckTable(mixed, { color: false })).not.toMatch(/\u001b/);
    expect(renderCheckTable(mixed, { color: true })).toMatch(/\u001b\[31mFAIL {4}\u001b\[0m/);
    expect(checkLine(mixed.checks[1]!, false)).toBe('WARN  image.user: Runs as root');
  });
});

describe('renderJUnit', () => {
  it('validates against the JUnit schema CI systems read, with escaped text', async () => {
    const xml = renderJUnit(mixed, { hostname: 'ci-runner' });
    const result = await validateXML({ xml: [{ fileName: 'check.xml', contents: xml }], schema: [readFileSync(join(REPO_ROOT, 'test', 'support', 'junit.xsd'), 'utf8')] });
    expect(result.errors.map((e) => e.rawMessage)).toEqual([]);
    expect(xml).not.toMatch(/\u0000/);
    expect(xml).toContain('name="sm-local check my-algo:&lt;dev&gt;&amp;&quot;1&quot;: image"');
  });

  it('writes a suite per group with matching counts; failures fail, skips skip, warnings pass and say so', () => {
    const xml = renderJUnit(mixed, { hostname: 'ci-runner' });
    expect(xml).toContain('<testsuites name="sm-local check" tests="5" failures="2" errors="0" time="12.345">');
    expect(xml).toMatch(/<testsuite name="[^"]*: image" id="0" package="sm-local.check" tests="3" failures="1" errors="0" skipped="1" time="0.000" timestamp="2026-11-25T10:00:00" hostname="ci-runner">/);
    expect(xml).toMatch(/<testsuite name="[^"]*: train" id="1" [^>]*tests="1" failures="0" errors="0" skipped="0" time="3.100"/);
    expect(xml).toMatch(/<testsuite name="[^"]*: serve" id="2" [^>]*tests="1" failures="1"/);
    expect(xml).toMatch(/<testcase name="image.user: Runs as root" classname="sm-local.check.image" time="0.000">\n\s+<system-out>WARNING: USER app\nFix: /);
    expect(xml).toMatch(/<skipped message="the engine \(API 1.41\) does not list manifests"\/>/);
    expect(xml).toMatch(/<failure message="answered 500 \(&lt;html&gt;\uFFFD oops&lt;\/html&gt;\), expected 200" type="serve.sample-1">/);
  });

  it('escapes the five XML specials and replaces characters XML 1.0 cannot carry', () => {
    expect(xmlText('a<b>&"c"\u0001\u000B\tok\n')).toBe('a&lt;b&gt;&amp;&quot;c&quot;\uFFFD\uFFFD\tok\n');
  });
});

describe('docs/check-report.schema.json', () => {
  it('accepts a report as runConformanceCheck writes it', () => {
    expect(validateReport(JSON.parse(JSON.stringify(mixed))), JSON.stringify(validateReport.errors)).toBe(true);
  });

  it('rejects a fix on a passing check, a missing fix on a failure, and an unknown check id', () => {
    const bad = (change: (c: CheckResult) => CheckResult) => validateReport({ ...mixed, checks: [change({ ...mixed.checks[3]! })] });
    expect(bad((c) => ({ ...c, fix: 'x' }))).toBe(false);
    expect(bad((c) => ({ ...c, status: 'fail' }))).toBe(false);
    expect(bad((c) => ({ ...c, id: 'train.made-up' }))).toBe(false);
  });

  it('lists exactly the catalogue of checks', () => {
    const schema = JSON.parse(readFileSync(join(REPO_ROOT, 'docs', 'check-report.schema.json'), 'utf8')) as { $defs: { check: { properties: { id: { anyOf: [{ enum: string[] }] } } } } };
    expect(schema.$defs.check.properties.id.anyOf[0].enum).toEqual(Object.keys(CHECKS));
  });
});
