// A session's totals in Prometheus, with one meaning everywhere (stack:check, the specs, compat, the bench): each
// series' last value over the retention, summed. Not an instant query of the counter: Prometheus looks back only
// 5 minutes for an instant value, so a session that ended earlier would seem to have no tokens at all.
import type { RequestOptions } from './http-json.ts';
import { promQuery } from './prometheus.ts';

/** How far back a session's metrics are looked for: Prometheus's default retention (PROMETHEUS_RETENTION). */
export const PROMETHEUS_LOOKBACK = '30d';

/** Claude Code's counters a session's totals are read from (as the OTLP push names them in Prometheus). */
export const SESSION_METRICS = {
  tokens: 'claude_code_token_usage_tokens_total',
  cost: 'claude_code_cost_usage_USD_total',
  sessions: 'claude_code_session_count_total',
  linesOfCode: 'claude_code_lines_of_code_count_total',
} as const;

/** A PromQL string literal (a session id is a UUID, but nothing a caller passes may end the selector). */
const literal = (value: string) => JSON.stringify(value);

/**
 * The PromQL for a session's total of a counter, over the retention: `sum [by (labels)] (last_over_time(...))`.
 * `where` adds label matchers (e.g. `{ type: 'added' }`).
 */
export function sessionTotalQuery(
  metric: string,
  sessionId: string,
  o: { by?: string[]; where?: Record<string, string> } = {},
): string {
  const matchers = [['session_id', sessionId], ...Object.entries(o.where ?? {})]
    .map(([k, v]) => `${k}=${literal(v as string)}`)
    .join(', ');
  const by = o.by?.length ? ` by (${o.by.join(', ')})` : '';
  return `sum${by} (last_over_time(${metric}{${matchers}}[${PROMETHEUS_LOOKBACK}]))`;
}

/** A session's total of one counter; undefined when Prometheus has no series of it for the session. */
export async function sessionTotal(
  prometheus: string,
  metric: string,
  sessionId: string,
  where?: Record<string, string>,
  o?: RequestOptions,
): Promise<number | undefined> {
  const r = await promQuery(prometheus, sessionTotalQuery(metric, sessionId, { where }), o);
  return r.length ? Number(r[0]?.value[1]) : undefined;
}

/** A session's total of one counter by one label's values ({} when Prometheus has none). */
export async function sessionTotalsBy(
  prometheus: string,
  metric: string,
  sessionId: string,
  label: string,
  o?: RequestOptions,
): Promise<Record<string, number>> {
  const r = await promQuery(prometheus, sessionTotalQuery(metric, sessionId, { by: [label] }), o);
  return Object.fromEntries(r.map((x) => [String(x.metric[label]), Number(x.value[1])]));
}

/** A session's tokens by type (input, output, cacheRead, cacheCreation); {} when Prometheus has none. */
export const sessionTokens = (prometheus: string, sessionId: string, o?: RequestOptions) =>
  sessionTotalsBy(prometheus, SESSION_METRICS.tokens, sessionId, 'type', o);

export interface SessionTotals {
  tokens: Record<string, number>;
  /** In US dollars; each of these is 0 when Prometheus has no series of it. */
  cost: number;
  sessions: number;
  linesAdded: number;
  linesRemoved: number;
}

/** What Prometheus holds of a session: its tokens by type, cost, session count and lines of code changed. */
export async function sessionTotals(
  prometheus: string,
  sessionId: string,
  o?: RequestOptions,
): Promise<SessionTotals> {
  const total = async (metric: string, where?: Record<string, string>) =>
    (await sessionTotal(prometheus, metric, sessionId, where, o)) ?? 0;
  const [tokens, cost, sessions, linesAdded, linesRemoved] = await Promise.all([
    sessionTokens(prometheus, sessionId, o),
    total(SESSION_METRICS.cost),
    total(SESSION_METRICS.sessions),
    total(SESSION_METRICS.linesOfCode, { type: 'added' }),
    total(SESSION_METRICS.linesOfCode, { type: 'removed' }),
  ]);
  return { tokens, cost, sessions, linesAdded, linesRemoved };
}
