// Recipe: what must NOT reach the sinks, and what a failure looks like there.
//   - a session with telemetry off leaves none of Claude Code's own telemetry in any sink (checked once a later
//     session's data has arrived, so absence is proven by order, not by waiting a fixed time), while what the stack
//     observes of it (the gateway's model calls, the MCP servers' spans) is there all the same: a session cannot
//     erase its usage by switching its telemetry off;
//   - a scripted API failure (529) produces api_error events and error spans;
//   - a misconfigured telemetry environment is refused by the entrypoint before Claude Code starts.
import { beforeAll, describe, expect, it } from 'vitest';
import { jaegerTraces } from '../scripts/lib/sinks/jaeger.ts';
import { promQuery } from '../scripts/lib/sinks/prometheus.ts';
import { waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionTokens } from '../scripts/lib/sinks/session-totals.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { sessionFilter, vlQuery } from '../scripts/lib/sinks/victorialogs.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { expectedFor, runStackSession, type StackInfo, stack } from './support/stack.ts';

let e2eStack: StackInfo;
beforeAll(() => {
  e2eStack = stack();
});

describe('a session with telemetry disabled', () => {
  it("leaves none of Claude Code's telemetry in any sink, and the gateway's record of its calls all the same", async () => {
    const off = await runStackSession(e2eStack, { script: 'demo', noTelemetry: true });
    expect(off.exitCode, off.output.slice(-1500)).toBe(0);
    expect(off.metadata?.telemetry.enabled).toBe(false);
    // A later session with telemetry: once it is in every sink, anything the first one sent would be too.
    const control = await runStackSession(e2eStack, { script: 'demo' });
    expect(control.exitCode).toBe(0);
    await waitForSessionInSinks(control.plan.sessionId, {
      prometheus: e2eStack.prometheus,
      jaeger: e2eStack.jaeger,
      victorialogs: e2eStack.victorialogs,
      telemetryDir: e2eStack.telemetryDir,
    });
    const id = off.plan.sessionId;
    const claudeCode = (name: string) => name.startsWith('claude_code.');
    expect(await promQuery(e2eStack.prometheus, `{session_id="${id}", job="claude-code"}`)).toEqual([]);
    expect(await jaegerTraces(e2eStack.jaeger, 'claude-code', id)).toEqual([]);
    const events = await vlQuery(e2eStack.victorialogs, sessionFilter(id));
    expect(events.filter((e) => claudeCode(String(e._msg)))).toEqual([]);
    for (const signal of ['traces', 'metrics', 'logs'] as const) {
      const own = (await sessionRecords(e2eStack.telemetryDir, signal, id)).filter((r) => claudeCode(r.name));
      expect(own, signal).toEqual([]);
    }
    // What the stack observed of it stays: every model call, from the gateway.
    const calls = expectedFor('demo').modelCalls;
    const observed = await waitFor(
      `the gateway's ${calls} gateway_request events of session ${id} are not all in the files`,
      async () => {
        const l = (await sessionRecords(e2eStack.telemetryDir, 'logs', id)).filter(
          (r) => r.name === 'claude_code_telemetry.gateway_request',
        );
        return l.length === calls ? l : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(observed).toHaveLength(calls);
  });
});

describe('a scripted API failure (529 overloaded)', () => {
  it('produces an api_error event and an error llm_request span, and no tokens', async () => {
    const failed = await runStackSession(e2eStack, { script: 'api-error-529' });
    expect(failed.exitCode).not.toBe(0);
    expect(failed.metadata?.status).toBe('failed');
    const id = failed.plan.sessionId;
    const events = await waitFor(
      `no claude_code.api_error event for session ${id} in the files`,
      async () => {
        const logs = await sessionRecords(e2eStack.telemetryDir, 'logs', id);
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
      `no failed claude_code.llm_request span for session ${id} in Jaeger`,
      async () =>
        (await jaegerTraces(e2eStack.jaeger, 'claude-code', id))
          .flatMap((t) => t.spans)
          .find((x) => x.operationName === 'claude_code.llm_request'),
      { timeoutMs: 20_000 },
    );
    const tags = Object.fromEntries(span.tags.map((t) => [t.key, t.value]));
    expect(tags.error).toBe(true);
    expect(tags.success).toBe(false);
    expect(String(tags.status_code)).toBe('529');
    expect(await sessionTokens(e2eStack.prometheus, id)).toEqual({});
  });
});

describe('a misconfigured telemetry environment', () => {
  it('is refused by the entrypoint (exit 78) before Claude Code starts, naming the variable', async () => {
    const refused = await runStackSession(e2eStack, { script: 'demo' }, { OTEL_EXPORTER_OTLP_PROTOCOL: '' });
    expect(refused.exitCode).toBe(78);
    expect(refused.output).toContain(
      'OTEL_EXPORTER_OTLP_PROTOCOL is unset: Claude Code would export nothing, silently',
    );
    // The host records what it saw: the container ended with 78 before Claude Code ran (no transcript).
    expect(refused.metadata).toMatchObject({ status: 'failed', exitCode: 78, container: { exitCode: 78 } });
    expect(refused.metadata?.files.transcript).toBeUndefined();
  });
});
