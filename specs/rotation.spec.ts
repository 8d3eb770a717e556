// Recipe: the rotated telemetry files lose nothing. A bounded load of OTLP log records, each with a unique
// sequence number, is sent to the collector (127.0.0.1, mapped port) until the logs file has rotated several
// times under the test's small rotation size (1 MB, 8 backups: specs/compose.e2e.yaml); then every record must be
// found exactly once across the current and rotated files, and the number of files must stay within the bound.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../scripts/lib/repo-root.ts';
import { exportRequests, signalFiles } from '../scripts/lib/sinks/telemetry-files.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { stack } from './support/stack.ts';

const override = parse(readFileSync(join(repoRoot, 'specs/compose.e2e.yaml'), 'utf8')) as {
  services: { 'otel-collector': { environment: Record<string, number> } };
};
const maxBackups = override.services['otel-collector'].environment.TELEMETRY_ROTATION_MAX_BACKUPS as number;
const REQUESTS = 100; // bounded: 100 requests of 100 records (~3.5 MB), 4 at a time, within 60 s
const PER_REQUEST = 100;

function logsRequest(run: string, first: number) {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'rotation-spec' } }] },
        scopeLogs: [
          {
            scope: { name: 'rotation-spec' },
            logRecords: Array.from({ length: PER_REQUEST }, (_, i) => ({
              timeUnixNano: String(Date.now() * 1e6),
              body: { stringValue: `load record ${first + i} ${'x'.repeat(200)}` },
              attributes: [
                { key: 'load.run', value: { stringValue: run } },
                { key: 'load.seq', value: { intValue: String(first + i) } },
              ],
            })),
          },
        ],
      },
    ],
  };
}

/** How many times each sequence number of `run` appears across all the logs files. */
async function seen(dir: string, run: string): Promise<Map<number, number>> {
  type Attr = { key: string; value: { stringValue?: string; intValue?: string } };
  type Rec = { attributes?: Attr[] };
  const counts = new Map<number, number>();
  for (const file of signalFiles(dir, 'logs')) {
    for await (const req of exportRequests(file)) {
      for (const rl of (req.resourceLogs as { scopeLogs?: { logRecords?: Rec[] }[] }[]) ?? []) {
        for (const sl of rl.scopeLogs ?? []) {
          for (const r of sl.logRecords ?? []) {
            if (r.attributes?.find((a) => a.key === 'load.run')?.value.stringValue !== run) continue;
            const seq = Number(r.attributes?.find((a) => a.key === 'load.seq')?.value.intValue);
            counts.set(seq, (counts.get(seq) ?? 0) + 1);
          }
        }
      }
    }
  }
  return counts;
}

describe('rotation of the telemetry files', () => {
  it('rotates under load, keeps the file count within the bound, and holds every record exactly once', async () => {
    const e2eStack = stack();
    const run = randomBytes(6).toString('hex');
    const before = signalFiles(e2eStack.telemetryDir, 'logs').length;
    const deadline = Date.now() + 60_000;
    let next = 0;
    const worker = async () => {
      while (next < REQUESTS && Date.now() < deadline) {
        const i = next++;
        const res = await fetch(`${e2eStack.otlpHttp}/v1/logs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(logsRequest(run, i * PER_REQUEST)),
          signal: AbortSignal.timeout(10_000),
        });
        expect(res.status, `request ${i}`).toBe(200);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    expect(next, 'the load did not finish within 60000 ms').toBe(REQUESTS);

    const total = REQUESTS * PER_REQUEST;
    const counts = await waitFor(
      `not all ${total} records of run ${run} reached the logs files`,
      async () => {
        const c = await seen(e2eStack.telemetryDir, run);
        return c.size === total ? c : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    const files = signalFiles(e2eStack.telemetryDir, 'logs');
    expect(files.length - before, 'the logs file should have rotated at least twice').toBeGreaterThanOrEqual(
      2,
    );
    expect(files.length).toBeLessThanOrEqual(maxBackups + 1);
    const duplicated = [...counts].filter(([, n]) => n !== 1);
    expect(duplicated, 'records found more than once').toEqual([]);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i));
  });
});
