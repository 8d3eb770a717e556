// What happened in a session, in numbers: tokens by type, cost, model calls and their latencies, API attempts and
// retries, tool calls by tool with success rate, subagents, workflows, hook executions, raw API bodies, duration;
// and the series and timeline the report draws. Built from the session's events (Claude Code's OTel log records,
// the complete account), with tool names, time-to-first-token and API attempts taken from its spans when the trace
// is there, and lines of code from its metric points; and `usage`: the session gateway's observed usage beside
// Claude Code's reported usage, with each difference named (usage.ts). Each newer kind of telemetry has its own module
// (api-attempts.ts, agents.ts, hooks.ts): a session without it sums up to zeros there.
import type { SessionMetadata } from '../../session/session-record.ts';
import type { EventRecord, PointRecord, SpanRecord } from '../../sinks/otlp-records.ts';
import { type Subagents, subagentsOf, subagentTimeline, type WorkflowRun, workflowsOf } from './agents.ts';
import { type ApiAttempts, apiAttempts, retryTimeline } from './api-attempts.ts';
import { type Hooks, hooksOf, hookTimeline } from './hooks.ts';
import { RAW_BODY_EVENTS, REDACTED } from './session-content.ts';
import { type Latency, latency, num, roundNoise, type TimelineEntry, truthy } from './summary-values.ts';
import { sessionUsage, type UsageComparison } from './usage.ts';

export { type Latency, latency, type TimelineEntry };

export interface ToolStats {
  calls: number;
  succeeded: number;
  failed: number;
  successRate: number | null;
  latency: Latency;
}

export interface SessionSummary {
  sessionId: string;
  start: string | null;
  end: string | null;
  durationMs: number | null;
  claudeCodeVersion: string | null;
  models: string[];
  prompts: number;
  tokens: { input: number; output: number; cacheRead: number; cacheCreation: number; total: number };
  costUsd: number;
  /** Calls answered (api_request events), and the attempts they and the failed ones took (api-attempts.ts). */
  modelCalls: ApiAttempts & {
    count: number;
    latency: Latency;
    timeToFirstToken: Latency;
    byModel: Record<string, { calls: number; costUsd: number; tokens: number }>;
  };
  toolCalls: ToolStats & { byTool: Record<string, ToolStats> };
  subagents: Subagents;
  workflows: WorkflowRun[];
  hooks: Hooks;
  /** Raw API body events (OTEL_LOG_RAW_API_BODIES=1), and how many of them the export redacted (redact.ts). */
  apiBodies: { requests: number; responses: number; redacted: number };
  linesOfCode: { added: number; removed: number };
  records: { events: number; spans: number; metricPoints: number };
  /** Model usage as the session gateway observed it and as Claude Code reported it, and how they differ. */
  usage: UsageComparison;
  wrapper: Pick<SessionMetadata, 'status' | 'mode' | 'exitCode' | 'script' | 'user'> | null;
}

/** Cumulative tokens (by type) and cost after each model call. */
export interface SeriesPoint {
  time: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  costUsd: number;
}

function toolStats(results: { ok: boolean; ms: number }[]): ToolStats {
  const succeeded = results.filter((r) => r.ok).length;
  return {
    calls: results.length,
    succeeded,
    failed: results.length - succeeded,
    successRate: results.length ? Math.round((succeeded / results.length) * 1000) / 1000 : null,
    latency: latency(results.map((r) => r.ms)),
  };
}

/** The tool's name: from the span of the same tool_use_id (MCP tools are `mcp_tool` in events by default). */
function toolNames(spans: SpanRecord[]): Map<string, string> {
  const names = new Map<string, string>();
  for (const s of spans)
    if (s.name === 'claude_code.tool' && s.attrs.tool_use_id)
      names.set(String(s.attrs.tool_use_id), String(s.attrs.tool_name ?? ''));
  return names;
}

export interface SessionTelemetry {
  sessionId: string;
  events: EventRecord[];
  spans: SpanRecord[];
  points: PointRecord[];
  metadata: SessionMetadata | null;
}

/** The session's own Claude Code spans (the MCP servers' spans carry its session id too). */
const claudeSpans = (t: SessionTelemetry) =>
  t.spans.filter((s) => s.session === t.sessionId && s.service === 'claude-code');

export function summarize(t: SessionTelemetry): SessionSummary {
  const events = t.events.filter((e) => e.session === t.sessionId && e.service === 'claude-code');
  const requests = events.filter((e) => e.name === 'api_request');
  const names = toolNames(t.spans);
  const toolResults = events
    .filter((e) => e.name === 'tool_result')
    .map((e) => ({
      name: names.get(String(e.attrs.tool_use_id)) || String(e.attrs.tool_name ?? 'unknown'),
      ok: truthy(e.attrs.success),
      ms: num(e.attrs.duration_ms),
    }));
  const byTool: Record<string, ToolStats> = {};
  for (const name of [...new Set(toolResults.map((r) => r.name))].sort())
    byTool[name] = toolStats(toolResults.filter((r) => r.name === name));
  const tokens = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0, total: 0 };
  const byModel: SessionSummary['modelCalls']['byModel'] = {};
  let cost = 0;
  for (const r of requests) {
    const t4 = [
      r.attrs.input_tokens,
      r.attrs.output_tokens,
      r.attrs.cache_read_tokens,
      r.attrs.cache_creation_tokens,
    ].map(num) as [number, number, number, number];
    tokens.input += t4[0];
    tokens.output += t4[1];
    tokens.cacheRead += t4[2];
    tokens.cacheCreation += t4[3];
    const c = num(r.attrs.cost_usd);
    cost += c;
    const model = String(r.attrs.model ?? 'unknown');
    const m = byModel[model] ?? { calls: 0, costUsd: 0, tokens: 0 };
    m.calls++;
    m.costUsd += c;
    m.tokens += t4.reduce((a, b) => a + b, 0);
    byModel[model] = m;
  }
  tokens.total = tokens.input + tokens.output + tokens.cacheRead + tokens.cacheCreation;
  for (const m of Object.values(byModel)) m.costUsd = roundNoise(m.costUsd);

  const lines = { added: 0, removed: 0 };
  // cumulative sums: the last value of each series (attribute set) is its total
  const lastBySeries = new Map<string, PointRecord>();
  for (const p of t.points.filter((p) => p.metric === 'claude_code.lines_of_code.count')) {
    const key = JSON.stringify(p.attrs);
    const prev = lastBySeries.get(key);
    if (!prev || p.time >= prev.time) lastBySeries.set(key, p);
  }
  for (const p of lastBySeries.values()) {
    if (p.attrs.type === 'added') lines.added += p.value;
    if (p.attrs.type === 'removed') lines.removed += p.value;
  }

  const times = [
    ...events.map((e) => e.time),
    ...t.spans.flatMap((s) => [s.start, s.end]),
    ...(t.metadata ? [Date.parse(t.metadata.startedAt), Date.parse(t.metadata.endedAt ?? '')] : []),
  ].filter((x) => Number.isFinite(x));
  const start = times.length ? Math.min(...times) : null;
  const end = times.length ? Math.max(...times) : null;
  const versions = events.map((e) => e.resource['service.version']).filter(Boolean);
  const m = t.metadata;
  return {
    sessionId: t.sessionId,
    start: start === null ? null : new Date(start).toISOString(),
    end: end === null ? null : new Date(end).toISOString(),
    durationMs: m?.durationMs ?? (start !== null && end !== null ? end - start : null),
    claudeCodeVersion: versions.length ? String(versions[0]) : (m?.claudeVersion ?? null),
    models: Object.keys(byModel).sort(),
    prompts: events.filter((e) => e.name === 'user_prompt').length,
    tokens,
    costUsd: roundNoise(cost),
    modelCalls: {
      count: requests.length,
      ...apiAttempts(events, claudeSpans(t)),
      latency: latency(requests.map((r) => num(r.attrs.duration_ms))),
      timeToFirstToken: latency(
        t.spans.filter((s) => s.name === 'claude_code.llm_request').map((s) => num(s.attrs.ttft_ms)),
      ),
      byModel,
    },
    toolCalls: { ...toolStats(toolResults), byTool },
    subagents: subagentsOf(events),
    workflows: workflowsOf(events),
    hooks: hooksOf(events),
    apiBodies: {
      requests: events.filter((e) => e.name === 'api_request_body').length,
      responses: events.filter((e) => e.name === 'api_response_body').length,
      redacted: events.filter((e) => RAW_BODY_EVENTS.includes(e.name) && e.attrs.body === REDACTED).length,
    },
    linesOfCode: lines,
    records: { events: t.events.length, spans: t.spans.length, metricPoints: t.points.length },
    usage: sessionUsage(t.sessionId, t.events),
    wrapper: m
      ? { status: m.status, mode: m.mode, exitCode: m.exitCode, script: m.script, user: m.user }
      : null,
  };
}

export function tokenSeries(t: SessionTelemetry): SeriesPoint[] {
  const acc: SeriesPoint = { time: 0, input: 0, output: 0, cacheRead: 0, cacheCreation: 0, costUsd: 0 };
  return t.events
    .filter((e) => e.session === t.sessionId && e.name === 'api_request')
    .sort((a, b) => a.time - b.time)
    .map((e) => {
      acc.input += num(e.attrs.input_tokens);
      acc.output += num(e.attrs.output_tokens);
      acc.cacheRead += num(e.attrs.cache_read_tokens);
      acc.cacheCreation += num(e.attrs.cache_creation_tokens);
      acc.costUsd = roundNoise(acc.costUsd + num(e.attrs.cost_usd));
      return { ...acc, time: e.time };
    });
}

export function timeline(t: SessionTelemetry): TimelineEntry[] {
  const names = toolNames(t.spans);
  const events = t.events.filter((x) => x.session === t.sessionId);
  const out: TimelineEntry[] = [
    ...retryTimeline(claudeSpans(t)),
    ...subagentTimeline(events),
    ...hookTimeline(events),
  ];
  for (const e of events) {
    const d = num(e.attrs.duration_ms);
    if (e.name === 'user_prompt')
      out.push({
        kind: 'prompt',
        name: 'prompt',
        start: e.time,
        end: e.time,
        ok: true,
        detail: `${num(e.attrs.prompt_length)} characters`,
      });
    else if (e.name === 'api_request')
      out.push({
        kind: 'model',
        name: String(e.attrs.model ?? 'model'),
        start: e.time - d,
        end: e.time,
        ok: true,
        detail: `${d} ms, ${num(e.attrs.input_tokens)} in / ${num(e.attrs.output_tokens)} out, $${num(e.attrs.cost_usd).toFixed(4)}`,
      });
    else if (e.name === 'api_error')
      out.push({
        kind: 'error',
        name: String(e.attrs.model ?? 'model'),
        start: e.time - d,
        end: e.time,
        ok: false,
        detail:
          `${String(e.attrs.status_code ?? '')} ${String(e.attrs.error ?? '')}`.trim() +
          (num(e.attrs.attempt) > 1
            ? `, on attempt ${num(e.attrs.attempt)} (the earlier ones failed too)`
            : ''),
      });
    else if (e.name === 'tool_result') {
      const name = names.get(String(e.attrs.tool_use_id)) || String(e.attrs.tool_name ?? 'tool');
      out.push({
        kind: 'tool',
        name,
        start: e.time - d,
        end: e.time,
        ok: truthy(e.attrs.success),
        detail: `${d} ms${truthy(e.attrs.success) ? '' : `, failed${e.attrs.error ? `: ${String(e.attrs.error)}` : ''}`}`,
      });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}
