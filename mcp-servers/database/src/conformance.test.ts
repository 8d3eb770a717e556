// The official MCP conformance suite against the database server (see common/test/conformance-suite.ts), and the
// reading of its summary that decides a pass.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  conformanceFailure,
  conformanceSummary,
  describeConformance,
} from '@claude-code-telemetry/mcp-common/test/conformance-suite';
import { spawnHttpServer } from '@claude-code-telemetry/mcp-common/test/testing';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
const token = 'd'.repeat(40);
describeConformance(
  'database',
  () =>
    spawnHttpServer(
      entry,
      ['--db', join(mkdtempSync(join(tmpdir(), 'conformance-')), 'demo.sqlite')],
      { MCP_AUTH_TOKEN: token },
      60_000,
    ),
  token,
);

describe("the conformance suite's summary", () => {
  const out = (summary: string, checks = '') => `Checks:\n${checks}\n\nTest Results:\n${summary}\n`;

  it('passes only with at least one passed check and none failed', () => {
    expect(conformanceFailure(conformanceSummary(out('Passed: 3/3, 0 failed, 0 warnings')))).toBeUndefined();
    expect(conformanceFailure(conformanceSummary(out('Passed: 0/0, 0 failed, 0 warnings')))).toBe(
      'no check passed (0/0): the scenario ran nothing',
    );
    expect(conformanceFailure(conformanceSummary(out('Passed: 2/3, 1 failed, 0 warnings')))).toBe(
      '1 check(s) failed (2/3 passed)',
    );
    expect(conformanceFailure(conformanceSummary('no summary'))).toBe(
      'no summary line (Passed: n/m, ...) in the output',
    );
  });

  it('reads the warnings and their checks, colours removed', () => {
    const checks = [
      '\x1b[90m2026-01-01T00:00:00.000Z\x1b[0m [ping         ] \x1b[32mSUCCESS\x1b[0m Server responds to ping',
      '\x1b[90m2026-01-01T00:00:00.000Z\x1b[0m [slow-response] \x1b[33mWARNING\x1b[0m Response took long',
    ].join('\n');
    const summary = conformanceSummary(out('Passed: 1/1, 0 failed, 1 warnings', checks));
    expect(summary).toMatchObject({ passed: 1, total: 1, failed: 0, warnings: 1 });
    expect(summary?.warningLines).toEqual([
      '2026-01-01T00:00:00.000Z [slow-response] WARNING Response took long',
    ]);
    expect(conformanceFailure(summary)).toBeUndefined();
  });
});
