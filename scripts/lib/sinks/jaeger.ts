// The Jaeger client, over Jaeger v2's HTTP query API (the one its UI uses: /api/services, /api/traces,
// /api/traces/<id>). Used by `stack:check`, the specs, the bench and the export alike.
import { getJson, type RequestOptions } from './http-json.ts';

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
  processID: string;
}
export interface JaegerTrace {
  traceID: string;
  spans: JaegerSpan[];
  processes: Record<string, { serviceName: string }>;
}
type Data<T> = { data: T | null };

/**
 * Per Jaeger request: JAEGER_QUERY_TIMEOUT_MS when set (the scaled e2e project: 15 s, Jaeger over OpenSearch on a
 * busy machine, where a node's GC pause holds a search for seconds), else http-json's default; a caller's own
 * timeoutMs wins.
 */
const withTimeout = (o?: RequestOptions): RequestOptions | undefined => {
  const ms = Number(process.env.JAEGER_QUERY_TIMEOUT_MS);
  return ms > 0 ? { timeoutMs: ms, ...o } : o;
};

export async function jaegerServices(base: string, o?: RequestOptions): Promise<string[]> {
  return (await getJson<Data<string[]>>('Jaeger', `${base}/api/services`, withTimeout(o))).data ?? [];
}

export interface TraceQuery {
  service: string;
  tags?: Record<string, string>;
  /** Window in ms since the epoch; without it, `lookback` (default 24h) before now. */
  start?: number;
  end?: number;
  lookback?: string;
  limit?: number;
}

/** The traces of a service that hold a span matching the tags. */
export async function jaegerFindTraces(
  base: string,
  q: TraceQuery,
  o?: RequestOptions,
): Promise<JaegerTrace[]> {
  const params = new URLSearchParams({ service: q.service, limit: String(q.limit ?? 100) });
  if (q.tags) params.set('tags', JSON.stringify(q.tags));
  if (q.start !== undefined && q.end !== undefined) {
    params.set('start', String(q.start * 1000));
    params.set('end', String(q.end * 1000));
  } else params.set('lookback', q.lookback ?? '24h');
  return (
    (await getJson<Data<JaegerTrace[]>>('Jaeger', `${base}/api/traces?${params}`, withTimeout(o))).data ?? []
  );
}

/** Traces of a service whose spans carry session.id = sessionId (the last 24 hours). */
export const jaegerTraces = (base: string, service: string, sessionId: string, o?: RequestOptions) =>
  jaegerFindTraces(base, { service, tags: { 'session.id': sessionId } }, o);

/** One whole trace; an error naming a 404 when Jaeger does not hold it. */
export async function jaegerTrace(base: string, traceId: string, o?: RequestOptions): Promise<JaegerTrace[]> {
  return (
    (await getJson<Data<JaegerTrace[]>>('Jaeger', `${base}/api/traces/${traceId}`, withTimeout(o))).data ?? []
  );
}
