// Prints the plain closing line CI reads ("N passed, N failed, N skipped") from Vitest's JSON report, and
// fails when no test ran: a green run that executed nothing is not green. Above that line it names every failed
// test and file with the first lines of its error: CI keeps only the tail of a run's output, and a failure whose
// name scrolled away behind container logs cannot be fixed (stop 31 lost its run that way).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface AssertionResult {
  fullName?: string;
  title?: string;
  status?: string;
  failureMessages?: string[];
}
interface FileResult {
  name?: string;
  status?: string;
  message?: string;
  assertionResults?: AssertionResult[];
}
interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTests: number;
  testResults?: FileResult[];
}

/** At most this many lines of one error, each cut to this many characters. */
const ERROR_LINES = 6;
const LINE_CHARS = 240;

const excerpt = (text: string) =>
  text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(0, ERROR_LINES)
    .map((l) => `      ${l.length > LINE_CHARS ? `${l.slice(0, LINE_CHARS)}…` : l}`)
    .join('\n');

/** Each failed test (and each file that failed outside its tests: a hook, a setup) with its error's first lines. */
export function failures(report: Report, cwd = process.cwd()): string[] {
  const out: string[] = [];
  for (const file of report.testResults ?? []) {
    const name = file.name ? relative(cwd, file.name) : '(unnamed file)';
    const failed = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
    for (const a of failed)
      out.push(
        `  ✗ ${name} › ${a.fullName ?? a.title ?? '?'}\n${excerpt((a.failureMessages ?? []).join('\n'))}`,
      );
    if (file.status === 'failed' && failed.length === 0)
      out.push(`  ✗ ${name} (the file failed outside its tests)\n${excerpt(file.message ?? 'no message')}`);
  }
  return out;
}

const file = process.argv[2] ?? 'test-results/vitest.json';
let report: Report;
try {
  report = JSON.parse(readFileSync(file, 'utf8')) as Report;
} catch (err) {
  console.error(`test-summary: cannot read ${file}: ${(err as Error).message}`);
  process.exit(1);
}
const failed = failures(report);
if (failed.length) console.log(`--- what failed (${failed.length})\n${failed.join('\n')}`);
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
if (report.numPassedTests === 0) {
  console.error('test-summary: no test passed; a run that executes nothing is a failure');
  process.exit(1);
}
process.exit(report.numFailedTests === 0 && failed.length === 0 ? 0 : 1);
