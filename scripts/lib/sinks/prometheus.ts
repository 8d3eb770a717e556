// The Prometheus client: instant queries, series and ranges over its HTTP API
// (https://prometheus.io/docs/prometheus/latest/querying/api/). Used by `stack:check`, the specs, the bench and
// the export alike.
import { getJson, type RequestOptions } from './http-json.ts';

export interface InstantSample {
  metric: Record<string, string>;
  value: [number, string];
}
export interface RangeSeries {
  metric: Record<string, string>;
  values: [number, string][];
}
type Answer<T> = { status: string; error?: string; data: T };

async function api<T>(base: string, path: string, params: Record<string, string>, o?: RequestOptions) {
  const body = await getJson<Answer<T>>('Prometheus', `${base}${path}?${new URLSearchParams(params)}`, o);
  if (body.status !== 'success')
    throw new Error(`Prometheus refused ${JSON.stringify(params)}: ${body.error}`);
  return body.data;
}

/** An instant query: its samples (empty when nothing matches). */
export async function promQuery(base: string, query: string, o?: RequestOptions): Promise<InstantSample[]> {
  return (await api<{ result?: InstantSample[] }>(base, '/api/v1/query', { query }, o)).result ?? [];
}

/** The label sets of the series matching a selector between start and end (seconds). */
export function promSeries(
  base: string,
  match: string,
  start: number,
  end: number,
  o?: RequestOptions,
): Promise<Record<string, string>[]> {
  return api(base, '/api/v1/series', { 'match[]': match, start: String(start), end: String(end) }, o);
}

/** A range query (start, end in seconds; step in seconds). */
export async function promQueryRange(
  base: string,
  query: string,
  range: { start: number; end: number; step: number },
  o?: RequestOptions,
): Promise<RangeSeries[]> {
  const params = { query, start: String(range.start), end: String(range.end), step: String(range.step) };
  return (await api<{ result: RangeSeries[] }>(base, '/api/v1/query_range', params, o)).result;
}
