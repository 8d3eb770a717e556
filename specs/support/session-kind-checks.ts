// What a session kind's session left in the sinks, and how that differs from its expectation (session-kinds.ts):
// Prometheus totals (session-totals.ts, the one meaning of a session's totals) and, from the collector's files,
// its events, spans, retry attempts, compactions and the subagent's share. The specs of the session kinds share it.
import type { KindExpectation } from '../../scripts/lib/compat/session-kinds.ts';
import { attributes, type Span, stringAttr } from '../../scripts/lib/sinks/otlp.ts';
import { promQuery } from '../../scripts/lib/sinks/prometheus.ts';
import { countBy } from '../../scripts/lib/sinks/session-sinks.ts';
import {
  SESSION_METRICS,
  type SessionTotals,
  sessionTotalQuery,
  sessionTotals,
} from '../../scripts/lib/sinks/session-totals.ts';
import { sessionRecords } from '../../scripts/lib/sinks/telemetry-files.ts';
import { waitFor } from '../../scripts/lib/wait-for.ts';

export interface KindObservation {
  totals: SessionTotals;
  /** The session's events and spans in the collector's files, by name. */
  events: Record<string, number>;
  spans: Record<string, number>;
  /** The attempt attribute of each llm_request span above 1 (a call answered after retries). */
  attempts: number[];
  /** Tokens by type with query_source=subagent, and the agent.name values on them (Prometheus). */
  subagentTokens: Record<string, number>;
  agentNames: string[];
  /** hook_execution_complete events by their hook_event attribute. */
  hookRuns: Record<string, number>;
}

export interface Sinks {
  prometheus: string;
  telemetryDir: string;
}

/** One look at the session in Prometheus and the files. */
export async function observeKind(s: Sinks, sessionId: string): Promise<KindObservation> {
  const [totals, logs, traces, sub] = await Promise.all([
    sessionTotals(s.prometheus, sessionId),
    sessionRecords(s.telemetryDir, 'logs', sessionId),
    sessionRecords(s.telemetryDir, 'traces', sessionId),
    promQuery(
      s.prometheus,
      sessionTotalQuery(SESSION_METRICS.tokens, sessionId, {
        by: ['type', 'agent_name'],
        where: { query_source: 'subagent' },
      }),
    ),
  ]);
  const subagentTokens: Record<string, number> = {};
  for (const r of sub) {
    const type = String(r.metric.type);
    subagentTokens[type] = (subagentTokens[type] ?? 0) + Number(r.value[1]);
  }
  const attempts = traces
    .filter((t) => t.name === 'claude_code.llm_request')
    .map((t) => Number(attributes((t.item as Span).attributes).attempt ?? 1))
    .filter((a) => a > 1);
  return {
    totals,
    events: countBy(logs, (r) => r.name),
    spans: countBy(traces, (r) => r.name),
    attempts,
    subagentTokens,
    agentNames: [...new Set(sub.map((r) => String(r.metric.agent_name ?? '')))].sort(),
    hookRuns: countBy(
      logs.filter((r) => r.name.endsWith('hook_execution_complete')),
      (r) => String(stringAttr(r.item, 'hook_event')),
    ),
  };
}

const count = (m: Record<string, number>, name: string) => m[name] ?? 0;
/** Claude Code names its compaction event claude_code.compaction (any name ending so is counted). */
const compactions = (events: Record<string, number>) =>
  Object.entries(events)
    .filter(([name]) => name.endsWith('compaction'))
    .reduce((n, [, c]) => n + c, 0);

/** How the observation differs from the expectation: one line per difference, [] when it is exact. */
export function kindProblems(e: KindExpectation, o: KindObservation): string[] {
  const problems: string[] = [];
  const same = (what: string, want: unknown, got: unknown) => {
    if (JSON.stringify(want) !== JSON.stringify(got))
      problems.push(`${what}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
  };
  const tokens = Object.fromEntries(Object.keys(e.tokens).map((k) => [k, o.totals.tokens[k] ?? 0]));
  // A session that got no answer has no token series at all: 0 of each type.
  same('tokens in Prometheus', e.tokens, tokens);
  same('lines added in Prometheus', e.linesAdded, o.totals.linesAdded);
  same('lines removed in Prometheus', e.linesRemoved, o.totals.linesRemoved);
  same('claude_code.api_request events', e.modelCalls, count(o.events, 'claude_code.api_request'));
  same(
    'claude_code.llm_request spans',
    e.modelCalls + e.apiErrors,
    count(o.spans, 'claude_code.llm_request'),
  );
  same('claude_code.api_error events', e.apiErrors, count(o.events, 'claude_code.api_error'));
  same('compaction events', e.compactions, compactions(o.events));
  same('retried calls (llm_request attempt > 1)', e.attempts, o.attempts);
  if (e.subagent.modelCalls) {
    same('subagent tokens (query_source=subagent)', e.subagent.tokens, {
      ...Object.fromEntries(Object.keys(e.subagent.tokens).map((k) => [k, 0])),
      ...o.subagentTokens,
    });
    if (!o.agentNames.length || o.agentNames.includes(''))
      problems.push(`subagent token points without agent.name: ${JSON.stringify(o.agentNames)}`);
  } else same('subagent tokens (query_source=subagent)', {}, o.subagentTokens);
  if (e.hookRuns) same('hook runs (hook_execution_complete by hook_event)', e.hookRuns, o.hookRuns);
  return problems;
}

/**
 * Waits (bounded) until the session's telemetry matches its expectation, and returns what was last seen with its
 * differences: [] when exact, else the lines that name what is missing or extra once `timeoutMs` has passed.
 */
export async function awaitKind(
  s: Sinks,
  sessionId: string,
  e: KindExpectation,
  timeoutMs = 60_000,
): Promise<{ observation: KindObservation; problems: string[] }> {
  let last: { observation: KindObservation; problems: string[] } | undefined;
  try {
    return await waitFor(
      () => `session ${sessionId} in the sinks: ${last?.problems.join('; ') ?? 'not read'}`,
      async () => {
        const observation = await observeKind(s, sessionId);
        last = { observation, problems: kindProblems(e, observation) };
        return last.problems.length ? undefined : last;
      },
      { timeoutMs, intervalMs: 1000 },
    );
  } catch (err) {
    if (last) return last;
    throw err;
  }
}
