// Recipe: what must NOT reach the sinks, and what a failure looks like there.
//   - a session with telemetry off leaves nothing in any sink (checked once a later session's data has arrived,
//     so absence is proven by order, not by waiting a fixed time);
//   - a scripted API failure (529) produces api_error events and error spans;
//   - a misconfigured telemetry environment is refused by the entrypoint before Claude Code starts.
import { beforeAll, describe, expect, it } from 'vitest';
import { jaegerTraces } from '../scripts/lib/sinks/jaeger.ts';
import { promQuery } from '../scripts/lib/sinks/prometheus.ts';
import { waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { sessionFilter, vlQuery } from '../scripts/lib/sinks/victorialogs.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { runStackSession, type StackInfo, stack } from './support/stack.ts';

let s: StackInfo;
beforeAll(() => {
  s = stack();
});

describe('a session with telemetry disabled', () => {
  it('leaves nothing in Prometheus, Jaeger, VictoriaLogs or the files', async () => {
    const off = await runStackSession(s, { script: 'demo', noTelemetry: true });
    expect(off.exitCode, off.output.slice(-1500)).toBe(0);
    expect(off.metadata?.telemetry.enabled).toBe(false);
    // A later session with telemetry: once it is in every sink, anything the first one sent would be too.
    const control = await runStackSession(s, { script: 'demo' });
    expect(control.exitCode).toBe(0);
    await waitForSessionInSinks(control.plan.sessionId, {
      prometheus: s.prometheus,
      jaeger: s.jaeger,
      victorialogs: s.victorialogs,
      telemetryDir: s.telemetryDir,
    });
    const id = off.plan.sessionId;
    expect(await promQuery(s.prometheus, `{session_id="${id}"}`)).toEqual([]);
    expect(await jaegerTraces(s.jaeger, 'claude-code', id)).toEqual([]);
    expect(await vlQuery(s.victorialogs, sessionFilter(id))).toEqual([]);
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      expect(await sessionRecords(s.telemetryDir, signal, id), signal).toEqual([]);
    }
  });
});

describe('a scripted API failure (529 overloaded)', () => {
  it('produces an api_error event and an error llm_request span, and no tokens', async () => {
    const failed = await runStackSession(s, { script: 'api-error-529' });
    expect(failed.exitCode).not.toBe(0);
    expect(failed.metadata?.status).toBe('failed');
    const id = failed.plan.sessionId;
    const events = await waitFor(
      `no claude_code.api_error event for session ${id} in the files after 20000 ms`,
      async () => {
        const logs = await sessionRecords(s.telemetryDir, 'logs', id);
        return logs.some((l) => l.name === 'claude_code.api_error') ? logs : undefined;
      },
      { timeoutMs: 20_000 },
    );
    const apiError = events.find((l) => l.name === 'claude_code.api_error')?.item;
    const status = apiError?.attributes?.find((a) => a.key === 'status_code')?.value as
      | Record<string, unknown>
      | undefined;
    expect(String(Object.values(status ?? {})[0])).toBe('529');
    const span = await waitFor(
      `no failed claude_code.llm_request span for session ${id} in Jaeger after 20000 ms`,
      async () =>
        (await jaegerTraces(s.jaeger, 'claude-code', id))
          .flatMap((t) => t.spans)
          .find((x) => x.operationName === 'claude_code.llm_request'),
      { timeoutMs: 20_000 },
    );
    const tags = Object.fromEntries(span.tags.map((t) => [t.key, t.value]));
    expect(tags.error).toBe(true);
    expect(tags.success).toBe(false);
    expect(String(tags.status_code)).toBe('529');
    expect(await promQuery(s.prometheus, `claude_code_token_usage_tokens_total{session_id="${id}"}`)).toEqual(
      [],
    );
  });
});

describe('a misconfigured telemetry environment', () => {
  it('is refused by the entrypoint (exit 78) before Claude Code starts, naming the variable', async () => {
    const refused = await runStackSession(s, { script: 'demo' }, { OTEL_EXPORTER_OTLP_PROTOCOL: '' });
    expect(refused.exitCode).toBe(78);
    expect(refused.output).toContain(
      'OTEL_EXPORTER_OTLP_PROTOCOL is unset: Claude Code would export nothing, silently',
    );
    // The host records what it saw: the container ended with 78 before Claude Code ran (no transcript).
    expect(refused.metadata).toMatchObject({ status: 'failed', exitCode: 78, container: { exitCode: 78 } });
    expect(refused.metadata?.files.transcript).toBeUndefined();
  });
});
