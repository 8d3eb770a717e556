// What the export takes from the running backends: a session's traces from Jaeger (in the `{"data": [...]}` form
// of Jaeger's /api/traces, which the Jaeger UI loads back with "Search > Upload JSON"), and Prometheus
// `query_range` results for every Claude Code metric series of the session over its window. Errors name the
// backend, the request and the limit (sinks/http-json.ts), so the manifest can say what is missing and why. The
// requests themselves are the sink clients' (sinks/jaeger.ts, sinks/prometheus.ts).
import { type JaegerTrace, jaegerFindTraces, jaegerServices, jaegerTrace } from '../../sinks/jaeger.ts';
import { promQueryRange, promSeries, type RangeSeries } from '../../sinks/prometheus.ts';

export interface JaegerExport {
  data: JaegerTrace[];
}

/**
 * Every trace of the session: those whose ids the telemetry files hold, and those any service's spans tag with
 * the session id (Claude Code's and the MCP servers'), each fetched whole.
 */
export async function fetchJaegerTraces(
  base: string,
  sessionId: string,
  window: { start: number; end: number },
  traceIdsFromFiles: string[],
  timeoutMs = 10_000,
  abort?: AbortSignal,
): Promise<JaegerExport> {
  const o = { timeoutMs, signal: abort };
  const ids = new Set(traceIdsFromFiles);
  for (const service of await jaegerServices(base, o)) {
    const found = await jaegerFindTraces(
      base,
      {
        service,
        tags: { 'session.id': sessionId },
        start: window.start - 3_600_000,
        end: window.end + 3_600_000,
        limit: 1000,
      },
      o,
    );
    for (const t of found) ids.add(t.traceID);
  }
  const data: JaegerTrace[] = [];
  const absent: string[] = [];
  for (const id of [...ids].sort()) {
    try {
      data.push(...(await jaegerTrace(base, id, o)));
    } catch (err) {
      if (/answered 404/.test((err as Error).message)) absent.push(id);
      else throw err;
    }
  }
  if (absent.length)
    throw Object.assign(
      new Error(`Jaeger does not hold ${absent.length} of the session's ${ids.size} trace(s)`),
      {
        partial: { data } satisfies JaegerExport,
      },
    );
  return { data };
}

export interface PrometheusExport {
  window: { start: string; end: string; stepSeconds: number };
  /** query_range result per metric name, for the series with session_id = the session. */
  metrics: Record<string, { query: string; result: RangeSeries[] }>;
}

/** Prometheus allows 11,000 points per series; the step keeps every range well below. */
export function rangeStep(startMs: number, endMs: number, scrapeSeconds = 5): number {
  return Math.max(scrapeSeconds, Math.ceil((endMs - startMs) / 1000 / 10_000));
}

export async function fetchPrometheusRanges(
  base: string,
  sessionId: string,
  window: { start: number; end: number },
  timeoutMs = 10_000,
  abort?: AbortSignal,
): Promise<PrometheusExport> {
  // from before the session to after the last export interval and scrape that can hold its last values
  const start = Math.floor(window.start / 1000) - 30;
  const end = Math.ceil(window.end / 1000) + 60;
  const step = rangeStep(start * 1000, end * 1000);
  const selector = `{session_id=${JSON.stringify(sessionId)}}`;
  const o = { timeoutMs, signal: abort };
  const series = await promSeries(base, selector, start, end, o);
  const names = [...new Set(series.map((s) => s.__name__ as string))].filter(Boolean).sort();
  const metrics: PrometheusExport['metrics'] = {};
  for (const name of names) {
    const query = `{__name__=${JSON.stringify(name)},session_id=${JSON.stringify(sessionId)}}`;
    metrics[name] = { query, result: await promQueryRange(base, query, { start, end, step }, o) };
  }
  return {
    window: {
      start: new Date(start * 1000).toISOString(),
      end: new Date(end * 1000).toISOString(),
      stepSeconds: step,
    },
    metrics,
  };
}
