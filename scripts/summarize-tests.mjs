// Reads vitest's JSON reports and prints the final line `N passed, N failed`.
// A file that failed outside its tests (e.g. an afterAll that found leftovers), a report that is
// missing, or a setup problem each count as one failure: nothing that went wrong is left out.
import { readFileSync } from 'node:fs';

const [, , ...args] = process.argv;
let passed = 0;
let failed = 0;
const problems = [];
for (const arg of args) {
  if (arg.startsWith('problem=')) {
    const text = arg.slice('problem='.length);
    if (text) {
      failed += 1;
      problems.push(text);
    }
    continue;
  }
  const [file, code] = arg.split(':');
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    failed += 1;
    problems.push(`${file}: no test report (vitest exited ${code})`);
    continue;
  }
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  for (const suite of report.testResults ?? []) {
    const testFailed = (suite.assertionResults ?? []).some((t) => t.status === 'failed');
    if (suite.status === 'failed' && !testFailed) {
      failed += 1;
      problems.push(`${suite.name}: ${(suite.message ?? 'failed outside its tests').split('\n')[0]}`);
    }
  }
  if (code !== '0' && (report.numFailedTests ?? 0) === 0 && !(report.testResults ?? []).some((s) => s.status === 'failed')) {
    failed += 1;
    problems.push(`${file}: vitest exited ${code} without a failed test`);
  }
}
for (const p of problems) console.log(`problem: ${p}`);
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
