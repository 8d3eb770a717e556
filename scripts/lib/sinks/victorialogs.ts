// The VictoriaLogs client: LogsQL queries over its HTTP API (https://docs.victoriametrics.com/victorialogs/querying/),
// which answers with one JSON object per line. Used by `stack:check`, the specs and the bench alike.
import { getText, type RequestOptions } from './http-json.ts';

/** One stored log entry: `_msg` (the OTLP body: Claude Code's event name), `_time`, `_stream`, and every field. */
export type LogEntry = Record<string, string>;

/** The entries matching a LogsQL query (newest first is not guaranteed: sort by `_time` if order matters). */
export async function vlQuery(
  base: string,
  query: string,
  o: RequestOptions & { limit?: number } = {},
): Promise<LogEntry[]> {
  const params = new URLSearchParams({ query, limit: String(o.limit ?? 10_000) });
  const text = await getText('VictoriaLogs', `${base}/select/logsql/query?${params}`, o);
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as LogEntry);
}

/** A LogsQL string literal. */
export const quoted = (value: string): string => JSON.stringify(value);

/** The LogsQL filter for one session's events. */
export const sessionFilter = (sessionId: string): string => `session.id:=${quoted(sessionId)}`;

/** The web UI, opened on a query over the last 24 hours (the UI reads both from its hash route). */
export function vlUiUrl(base: string, query: string): string {
  const params = new URLSearchParams({ query, 'g0.range_input': '24h', 'g0.relative_time': 'last_24_hours' });
  return `${base}/select/vmui/#/?${params}`;
}
