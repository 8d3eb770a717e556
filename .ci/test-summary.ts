// Prints the plain closing line CI reads ("N passed, N failed, N skipped") from Vitest's JSON report, and
// fails when no test ran: a green run that executed nothing is not green.
import { readFileSync } from 'node:fs';

interface Report {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTests: number;
}

const file = process.argv[2] ?? 'test-results/vitest.json';
let report: Report;
try {
  report = JSON.parse(readFileSync(file, 'utf8')) as Report;
} catch (err) {
  console.error(`test-summary: cannot read ${file}: ${(err as Error).message}`);
  process.exit(1);
}
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
if (report.numPassedTests === 0) {
  console.error('test-summary: no test passed; a run that executes nothing is a failure');
  process.exit(1);
}
process.exit(report.numFailedTests === 0 ? 0 : 1);
