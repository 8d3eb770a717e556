// Waits until one session's telemetry is in every sink, and reports what each holds; fails naming the sink
// that lacks it and how long it waited. Used by `pnpm stack:check` and the e2e warm-up. Reads each sink through
// its one client: prometheus.ts (a session's totals: session-totals.ts), jaeger.ts, victorialogs.ts,
// telemetry-files.ts; and a session's events in the files as flat records (with their resource: whose they
// are), for the usage stack:check compares.

import { waitFor } from '../wait-for.ts';
import { type JaegerTrace, jaegerTraces } from './jaeger.ts';
import { type EventRecord, eventsOf } from './otlp-records.ts';
import { SESSION_METRICS, sessionTokens, sessionTotal } from './session-totals.ts';
import { exportRequests, type Signal, sessionRecords, signalFiles } from './telemetry-files.ts';
import { type LogEntry, sessionFilter, vlQuery } from './victorialogs.ts';

export interface SinkEndpoints {
  prometheus: string;
  jaeger: string;
  victorialogs: string;
  telemetryDir: string;
}

export interface SessionInSinks {
  tokens: Record<string, number>;
  cost: number;
  traces: JaegerTrace[];
  mcpSpans: number;
  files: Record<Signal, { name: string }[]>;
  /** The session's events in VictoriaLogs (as many as in the files once it has them all). */
  events: LogEntry[];
}

export async function waitForSessionInSinks(
  session: string,
  e: SinkEndpoints,
  timeoutMs = 30_000,
): Promise<SessionInSinks> {
  const opts = { timeoutMs, intervalMs: 250 };
  const [tokens, traces, files] = await Promise.all([
    waitFor(
      `no ${SESSION_METRICS.tokens} and ${SESSION_METRICS.sessions} for session ${session} in Prometheus`,
      async () => {
        const [tokens, count] = await Promise.all([
          sessionTokens(e.prometheus, session),
          sessionTotal(e.prometheus, SESSION_METRICS.sessions, session),
        ]);
        return Object.keys(tokens).length && count !== undefined ? tokens : undefined;
      },
      opts,
    ),
    waitFor(
      `no claude-code trace with an interaction span for session ${session} in Jaeger`,
      async () => {
        const t = await jaegerTraces(e.jaeger, 'claude-code', session);
        return t.some((x) => x.spans.some((s) => s.operationName === 'claude_code.interaction'))
          ? t
          : undefined;
      },
      opts,
    ),
    waitFor(
      `not every telemetry file in ${e.telemetryDir} holds session ${session}`,
      async () => {
        const [traces, metrics, logs] = await Promise.all(
          (['traces', 'metrics', 'logs'] as const).map((s) => sessionRecords(e.telemetryDir, s, session)),
        );
        return traces?.length && metrics?.length && logs?.length ? { traces, metrics, logs } : undefined;
      },
      opts,
    ),
  ]);
  // Every event the files hold must be in VictoriaLogs too (it gets them from the same collector pipeline).
  const events = await waitFor(
    `not all ${files.logs.length} events of session ${session} in VictoriaLogs`,
    async () => {
      const got = await vlQuery(e.victorialogs, sessionFilter(session));
      return got.length >= files.logs.length ? got : undefined;
    },
    opts,
  );
  const cost = (await sessionTotal(e.prometheus, SESSION_METRICS.cost, session)) ?? 0;
  // Asked in a bounded wait like the rest: one slow answer (a store node's GC pause) is asked again, not a failure.
  const mcp = await waitFor(
    `Jaeger's answer for the MCP servers' traces of session ${session}`,
    async () => [
      ...(await jaegerTraces(e.jaeger, 'mcp-file-ops', session)),
      ...(await jaegerTraces(e.jaeger, 'mcp-database', session)),
    ],
    opts,
  );
  return { tokens, cost, traces, mcpSpans: mcp.flatMap((t) => t.spans).length, files, events };
}

/** One session's events in the telemetry files (current and rotated), Claude Code's and the stack's alike. */
export async function sessionEvents(telemetryDir: string, sessionId: string): Promise<EventRecord[]> {
  const out: EventRecord[] = [];
  for (const file of signalFiles(telemetryDir, 'logs'))
    for await (const req of exportRequests(file))
      for (const e of eventsOf(req)) if (e.session === sessionId) out.push(e);
  return out;
}

export function describeSessionInSinks(
  s: SessionInSinks,
): Record<'prometheus' | 'jaeger' | 'files' | 'victorialogs', string> {
  const ops = countBy(
    s.traces.flatMap((t) => t.spans),
    (x) => x.operationName,
  );
  const events = countBy(s.files.logs, (r) => r.name.replace(/^claude_code\./, ''));
  return {
    prometheus: `tokens ${Object.entries(s.tokens)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}; cost $${s.cost.toFixed(4)}`,
    jaeger: `${s.traces.length} trace(s): ${Object.entries(ops)
      .map(([k, v]) => `${k} x${v}`)
      .join(', ')}; MCP server spans: ${s.mcpSpans}`,
    victorialogs: `${s.events.length} events (${Object.entries(
      countBy(s.events, (e) => (e._msg ?? '').replace(/^claude_code\./, '')),
    )
      .map(([k, v]) => `${k} x${v}`)
      .join(', ')})`,
    files: `${s.files.traces.length} spans, ${s.files.metrics.length} metric points, ${s.files.logs.length} events (${Object.entries(
      events,
    )
      .map(([k, v]) => `${k} x${v}`)
      .join(', ')})`,
  };
}

export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}
