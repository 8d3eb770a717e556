// What one Claude Code session left in each sink, for `pnpm compat`: the metric, event and span names and their
// attribute keys (from the rotated files, the complete copy), which of them reached Prometheus, Jaeger and
// VictoriaLogs, and the session's totals as Prometheus shows them (session-totals.ts, over the retention). Reads
// each sink through its one client.
// A release may emit nothing at all (the point of the matrix): every wait here is bounded and ends in a report,
// never an error.

import { apiAttempts } from '../export/analysis/api-attempts.ts';
import { jaegerTraces } from '../sinks/jaeger.ts';
import { type EventRecord, eventsOf, pointsOf, type SpanRecord, spansOf } from '../sinks/otlp-records.ts';
import { promSeries } from '../sinks/prometheus.ts';
import type { SinkEndpoints } from '../sinks/session-sinks.ts';
import { SESSION_METRICS, sessionTokens, sessionTotal, sessionTotalsBy } from '../sinks/session-totals.ts';
import { exportRequests, type Signal, signalFiles } from '../sinks/telemetry-files.ts';
import { sessionFilter, vlQuery } from '../sinks/victorialogs.ts';
import { waitFor } from '../wait-for.ts';

/** Names and, for each, the attribute keys seen on any of its records (sorted). */
export type Inventory = Record<string, string[]>;

export interface SessionObservation {
  /** Everything here is Claude Code's own (service.name claude-code), not the MCP servers'. */
  /** From the files: metric name -> point attribute keys. */
  metrics: Inventory;
  /** From the files: event name (without `claude_code.`) -> attribute keys. */
  events: Inventory;
  /** From the files: span name -> attribute keys. */
  spans: Inventory;
  /** From the files: span event name -> attribute keys (e.g. gen_ai.request.attempt). */
  spanEvents: Inventory;
  /** Resource attribute keys (service.version, ...). */
  resource: string[];
  /** The span tree as `parent > child` name pairs (a root as `> name`), sorted. */
  spanTree: string[];
  /** service.version as the CLI reports it. */
  serviceVersion: string;
  /** Records per signal in the files. */
  fileRecords: Record<Signal, number>;
  /** What reached each backend: Prometheus metric names, Jaeger span names, VictoriaLogs event names. */
  backends: { prometheus: string[]; jaeger: string[]; victorialogs: string[] };
  /** What the session tried to reach through the egress proxy: `denied CONNECT host`, ... (distinct). */
  egress: string[];
  /** Records per backend (spans in Jaeger, events in VictoriaLogs), to compare with the files. */
  backendRecords: { jaeger: number; victorialogs: number };
  /** The session's totals in Prometheus (what a dashboard shows), and the cost the api_request events add up to. */
  totals: {
    tokens: Record<string, number>;
    cost: number | null;
    eventCost: number;
    linesAdded: number | null;
    linesRemoved: number | null;
    apiRequests: number;
    apiErrors: number;
  };
  /** Records per name in the files: events (without `claude_code.`) and span events. (Absent in matrices before 2026-12.) */
  counts?: { events: Record<string, number>; spanEvents: Record<string, number> };
  /** The model calls' attempts, retries included, from the llm_request spans (or the events without them). */
  attempts?: { attempts: number; retries: number; recovered: number; from: 'trace' | 'events' };
  /** hook_execution_complete events by their `hook_event` (SessionStart, PreToolUse, ...). */
  hookRuns?: Record<string, number>;
  /** The session's tokens in Prometheus by `query_source` (main, subagent, compact, ...), all types added. */
  tokensBySource?: Record<string, number>;
}

const sortedKeys = (set: Map<string, Set<string>>): Inventory =>
  Object.fromEntries(
    [...set.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, [...v].sort()]),
  );

function add(into: Map<string, Set<string>>, name: string, keys: Iterable<string>) {
  let s = into.get(name);
  if (!s) {
    s = new Set();
    into.set(name, s);
  }
  for (const k of keys) s.add(k);
}

/** Claude Code's own records (the MCP servers' spans and metrics carry the session id too, but are not its). */
export const CLAUDE_CODE_SERVICE = 'claude-code';

/** The session's records in the telemetry files, as inventories (pure over what the files hold). */
export async function readSessionFiles(
  telemetryDir: string,
  sessionId: string,
): Promise<
  Pick<
    SessionObservation,
    | 'metrics'
    | 'events'
    | 'spans'
    | 'spanEvents'
    | 'resource'
    | 'spanTree'
    | 'serviceVersion'
    | 'fileRecords'
    | 'counts'
    | 'attempts'
    | 'hookRuns'
  > & {
    eventCost: number;
    apiRequests: number;
    apiErrors: number;
  }
> {
  const metrics = new Map<string, Set<string>>();
  const events = new Map<string, Set<string>>();
  const spans = new Map<string, Set<string>>();
  const spanEvents = new Map<string, Set<string>>();
  const resource = new Set<string>();
  const fileRecords: Record<Signal, number> = { traces: 0, metrics: 0, logs: 0 };
  let serviceVersion = '';
  const spanNames = new Map<string, string>();
  const parents: [string, string][] = [];
  let eventCost = 0;
  let apiRequests = 0;
  let apiErrors = 0;
  const eventRecords: EventRecord[] = [];
  const spanRecords: SpanRecord[] = [];
  const counts = { events: {} as Record<string, number>, spanEvents: {} as Record<string, number> };
  const hookRuns: Record<string, number> = {};
  const count = (into: Record<string, number>, name: string) => {
    into[name] = (into[name] ?? 0) + 1;
  };
  for (const signal of ['traces', 'metrics', 'logs'] as const) {
    for (const file of signalFiles(telemetryDir, signal)) {
      for await (const req of exportRequests(file)) {
        if (signal === 'logs') {
          for (const e of eventsOf(req)) {
            if (e.session !== sessionId || e.service !== CLAUDE_CODE_SERVICE) continue;
            fileRecords.logs++;
            eventRecords.push(e);
            count(counts.events, e.name);
            if (e.name === 'hook_execution_complete') count(hookRuns, String(e.attrs.hook_event ?? '(none)'));
            add(events, e.name, Object.keys(e.attrs));
            for (const k of Object.keys(e.resource)) resource.add(k);
            serviceVersion ||= String(e.resource['service.version'] ?? '');
            if (e.name === 'api_request') {
              apiRequests++;
              eventCost += Number(e.attrs.cost_usd ?? 0);
            }
            if (e.name === 'api_error') apiErrors++;
          }
        } else if (signal === 'traces') {
          for (const s of spansOf(req)) {
            if (s.session !== sessionId || s.service !== CLAUDE_CODE_SERVICE) continue;
            fileRecords.traces++;
            spanRecords.push(s);
            add(spans, s.name, Object.keys(s.attrs));
            for (const ev of s.events) {
              add(spanEvents, ev.name, Object.keys(ev.attrs));
              count(counts.spanEvents, ev.name);
            }
            spanNames.set(s.spanId, s.name);
            parents.push([s.parentSpanId, s.name]);
            serviceVersion ||= s.serviceVersion;
          }
        } else {
          for (const p of pointsOf(req)) {
            if (p.session !== sessionId || p.service !== CLAUDE_CODE_SERVICE) continue;
            fileRecords.metrics++;
            add(metrics, p.metric, Object.keys(p.attrs));
          }
        }
      }
    }
  }
  const spanTree = [
    ...new Set(parents.map(([p, name]) => `${spanNames.get(p) ?? ''} > ${name}`.trimStart())),
  ];
  return {
    metrics: sortedKeys(metrics),
    spanTree: spanTree.sort(),
    events: sortedKeys(events),
    spans: sortedKeys(spans),
    spanEvents: sortedKeys(spanEvents),
    resource: [...resource].sort(),
    serviceVersion,
    fileRecords,
    counts,
    hookRuns,
    attempts: (() => {
      const a = apiAttempts(eventRecords, spanRecords);
      return { attempts: a.attempts, retries: a.retries, recovered: a.recoveredCalls, from: a.attemptsFrom };
    })(),
    eventCost,
    apiRequests,
    apiErrors,
  };
}

const total = (records: Record<Signal, number>) => records.traces + records.metrics + records.logs;

/**
 * Waits until the session's records in the files stop changing (or nothing came within `firstRecordMs`), then
 * until each backend holds as much as the files (bounded), and reports what every sink has.
 */
export async function observeSession(
  sessionId: string,
  e: SinkEndpoints,
  o: { firstRecordMs?: number; settleMs?: number; backendMs?: number } = {},
): Promise<SessionObservation> {
  const firstRecordMs = o.firstRecordMs ?? 20_000;
  const settleMs = o.settleMs ?? 4_000;
  // 1. The files: the flush at the CLI's exit, then the collector's file flush; stable for settleMs.
  let files = await readSessionFiles(e.telemetryDir, sessionId);
  const started = Date.now();
  let last = total(files.fileRecords);
  let stableSince = Date.now();
  for (;;) {
    await new Promise((r) => setTimeout(r, 500));
    files = await readSessionFiles(e.telemetryDir, sessionId);
    const n = total(files.fileRecords);
    if (n !== last) {
      last = n;
      stableSince = Date.now();
    }
    if (n > 0 && Date.now() - stableSince >= settleMs) break;
    if (n === 0 && Date.now() - started >= firstRecordMs) break;
    if (Date.now() - started >= firstRecordMs + 60_000) break;
  }
  // 2. The backends, until they hold what the files hold (or the bound).
  const backendMs = o.backendMs ?? 20_000;
  const sel = `{session_id="${sessionId}"}`;
  const now = Math.floor(Date.now() / 1000);
  const readBackends = async () => {
    const [series, traces, logs] = await Promise.all([
      promSeries(e.prometheus, sel, now - 3600, Math.floor(Date.now() / 1000) + 60),
      jaegerTraces(e.jaeger, 'claude-code', sessionId),
      vlQuery(e.victorialogs, sessionFilter(sessionId)),
    ]);
    const jaegerSpans = traces.flatMap((t) => t.spans);
    // Claude Code's own events; the egress proxy's (what the session tried to reach) are reported apart.
    const own = logs.filter((l) => l['service.name'] === CLAUDE_CODE_SERVICE);
    const egress = logs
      .filter((l) => l._msg === 'claude_code_telemetry.egress')
      .map((l) => `${l.decision} ${l.method} ${l.host}`);
    return {
      prometheus: [...new Set(series.map((s) => s.__name__ ?? ''))].filter(Boolean).sort(),
      jaeger: [...new Set(jaegerSpans.map((s) => s.operationName))].sort(),
      victorialogs: [...new Set(own.map((l) => String(l._msg ?? '').replace(/^claude_code\./, '')))].sort(),
      records: { jaeger: jaegerSpans.length, victorialogs: own.length },
      egress: [...new Set(egress)].sort(),
    };
  };
  const complete = (b: Awaited<ReturnType<typeof readBackends>>) =>
    b.records.jaeger >= files.fileRecords.traces &&
    b.records.victorialogs >= files.fileRecords.logs &&
    (files.fileRecords.metrics === 0 || b.prometheus.length > 0);
  let backends = await readBackends();
  if (!complete(backends)) {
    backends = await waitFor(
      'backends',
      async () => {
        const b = await readBackends();
        backends = b;
        return complete(b) ? b : undefined;
      },
      { timeoutMs: backendMs, intervalMs: 500 },
    ).catch(() => backends);
  }
  // 3. Totals as Prometheus shows them.
  const lines = await sessionTotalsBy(e.prometheus, SESSION_METRICS.linesOfCode, sessionId, 'type');
  const hasLines = Object.keys(lines).length > 0;
  return {
    metrics: files.metrics,
    events: files.events,
    spans: files.spans,
    spanEvents: files.spanEvents,
    resource: files.resource,
    spanTree: files.spanTree,
    serviceVersion: files.serviceVersion,
    fileRecords: files.fileRecords,
    counts: files.counts,
    hookRuns: files.hookRuns,
    attempts: files.attempts,
    tokensBySource: await sessionTotalsBy(e.prometheus, SESSION_METRICS.tokens, sessionId, 'query_source'),
    backends: {
      prometheus: backends.prometheus,
      jaeger: backends.jaeger,
      victorialogs: backends.victorialogs,
    },
    backendRecords: backends.records,
    egress: backends.egress,
    totals: {
      tokens: await sessionTokens(e.prometheus, sessionId),
      cost: (await sessionTotal(e.prometheus, SESSION_METRICS.cost, sessionId)) ?? null,
      eventCost: files.eventCost,
      linesAdded: hasLines ? (lines.added ?? 0) : null,
      linesRemoved: hasLines ? (lines.removed ?? 0) : null,
      apiRequests: files.apiRequests,
      apiErrors: files.apiErrors,
    },
  };
}
