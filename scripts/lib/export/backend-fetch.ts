// What the export takes from the running backends: a session's traces from Jaeger (in the `{"data": [...]}` form
// of Jaeger's /api/traces, which the Jaeger UI loads back with "Search > Upload JSON"), and Prometheus
// `query_range` results for every Claude Code metric series of the session over its window. Errors name the
// backend, the request and the limit, so the manifest can say what is missing and why.
import type { JaegerTrace } from '../sinks/sinks.ts';

async function getJson<T>(what: string, url: string, timeoutMs: number, abort?: AbortSignal): Promise<T> {
  let res: Response;
  try {
    const timeout = AbortSignal.timeout(timeoutMs);
    res = await fetch(url, { signal: abort ? AbortSignal.any([timeout, abort]) : timeout });
  } catch (err) {
    abort?.throwIfAborted();
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer within ${timeoutMs} ms`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    throw new Error(`${what} unreachable at ${new URL(url).origin} (${why})`);
  }
  if (!res.ok)
    throw new Error(`${what} answered ${res.status} ${res.statusText} to ${new URL(url).pathname}`);
  return (await res.json()) as T;
}

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
  const services =
    (await getJson<{ data: string[] | null }>('Jaeger', `${base}/api/services`, timeoutMs, abort)).data ?? [];
  const ids = new Set(traceIdsFromFiles);
  for (const service of services) {
    const params = new URLSearchParams({
      service,
      tags: JSON.stringify({ 'session.id': sessionId }),
      start: String((window.start - 3_600_000) * 1000),
      end: String((window.end + 3_600_000) * 1000),
      limit: '1000',
    });
    const found = await getJson<{ data: JaegerTrace[] | null }>(
      'Jaeger',
      `${base}/api/traces?${params}`,
      timeoutMs,
      abort,
    );
    for (const t of found.data ?? []) ids.add(t.traceID);
  }
  const data: JaegerTrace[] = [];
  const absent: string[] = [];
  for (const id of [...ids].sort()) {
    try {
      const t = await getJson<{ data: JaegerTrace[] | null }>(
        'Jaeger',
        `${base}/api/traces/${id}`,
        timeoutMs,
        abort,
      );
      data.push(...(t.data ?? []));
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
  metrics: Record<
    string,
    { query: string; result: { metric: Record<string, string>; values: [number, string][] }[] }
  >;
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
  const series = await getJson<{ status: string; data: Record<string, string>[] }>(
    'Prometheus',
    `${base}/api/v1/series?${new URLSearchParams({ 'match[]': selector, start: String(start), end: String(end) })}`,
    timeoutMs,
    abort,
  );
  const names = [...new Set(series.data.map((s) => s.__name__ as string))].filter(Boolean).sort();
  const metrics: PrometheusExport['metrics'] = {};
  for (const name of names) {
    const query = `{__name__=${JSON.stringify(name)},session_id=${JSON.stringify(sessionId)}}`;
    const r = await getJson<{
      status: string;
      error?: string;
      data: { result: PrometheusExport['metrics'][string]['result'] };
    }>(
      'Prometheus',
      `${base}/api/v1/query_range?${new URLSearchParams({ query, start: String(start), end: String(end), step: String(step) })}`,
      timeoutMs,
      abort,
    );
    if (r.status !== 'success') throw new Error(`Prometheus refused ${query}: ${r.error}`);
    metrics[name] = { query, result: r.data.result };
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
