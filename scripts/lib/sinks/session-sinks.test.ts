// A session's events as stack:check reads them from the telemetry files (rotated and current): its own only,
// with their resource, so the gateway's observed usage can be told from a session's forgery (export/analysis/usage.ts).
import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { logsPayload } from '../../../stack/session-gateway/src/usage-event.ts';
import { sessionUsage, usageLine } from '../export/analysis/usage.ts';
import { writeTelemetry } from '../testing/fixture-telemetry.ts';
import { sessionEvents } from './session-sinks.ts';

const A = 'aaaaaaaa-1111-4111-8111-111111111111';
const B = 'bbbbbbbb-2222-4222-8222-222222222222';

const gatewayLine = (sessionId: string, n: number) =>
  JSON.stringify(
    logsPayload(
      Array.from({ length: n }, (_, i) => ({
        time: 1_795_468_742_000 + i,
        user: 'alice',
        sessionId,
        path: '/v1/messages',
        model: 'claude-opus-4-8',
        status: 200,
        attempt: 1,
        inputTokens: 123,
        outputTokens: 45,
        cacheReadTokens: 0,
        cacheCreationTokens: 0,
        costUsd: 0.00174,
        priceKnown: true,
        ttfbMs: 20,
        durationMs: 65,
        requestId: null,
        outcome: 'ok',
      })),
    ),
  );

describe('sessionEvents', () => {
  it("reads one session's events out of rotated and current files, the gateway's with them", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sinks-'));
    writeTelemetry(
      dir,
      [
        { id: A, variant: 'default' },
        { id: B, variant: 'default' },
      ],
      2,
    );
    appendFileSync(join(dir, 'logs.jsonl'), `${gatewayLine(A, 5)}\n${gatewayLine(B, 4)}\n`);
    const a = await sessionEvents(dir, A);
    expect(a.every((e) => e.session === A)).toBe(true);
    expect(a.filter((e) => e.service === 'session-gateway')).toHaveLength(5);
    expect(usageLine(sessionUsage(A, a))).toBe(
      'equal: observed 5 model call(s) (5 request(s)), 840 tokens, $0.0087; reported 5, 840 tokens, $0.0087',
    );
    expect(usageLine(sessionUsage(B, await sessionEvents(dir, B)))).toMatch(
      /^DIFFERENT: reported 5 model calls, observed 4; /,
    );
  });
});
