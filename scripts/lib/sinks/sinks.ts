// Reading the three sinks for one session: Prometheus (PromQL over HTTP), Jaeger (HTTP API), and the rotated
// OTLP JSONL files (streamed line by line; a half-written last line is skipped, not an error). Used by
// `pnpm stack:check` and by the specs.
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export type Signal = 'traces' | 'metrics' | 'logs';

export async function promQuery(
  base: string,
  query: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await fetch(`${base}/api/v1/query?${new URLSearchParams({ query })}`, {
    signal: AbortSignal.timeout(5000),
  });
  const body = (await res.json()) as {
    status: string;
    error?: string;
    data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
  };
  if (body.status !== 'success') throw new Error(`Prometheus refused ${query}: ${body.error ?? res.status}`);
  return body.data?.result ?? [];
}

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

/** Traces of a service whose spans carry session.id = sessionId. */
export async function jaegerTraces(base: string, service: string, sessionId: string): Promise<JaegerTrace[]> {
  const params = new URLSearchParams({
    service,
    tags: JSON.stringify({ 'session.id': sessionId }),
    limit: '100',
    lookback: '24h',
  });
  const res = await fetch(`${base}/api/traces?${params}`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`Jaeger /api/traces answered ${res.status}`);
  return ((await res.json()) as { data: JaegerTrace[] | null }).data ?? [];
}

/** The current file and its rotated backups (lumberjack names them traces-<time>.jsonl), oldest first. */
export function signalFiles(dir: string, signal: Signal): string[] {
  if (!existsSync(dir)) return [];
  const backups = readdirSync(dir)
    .filter((f) => f.startsWith(`${signal}-`) && f.endsWith('.jsonl'))
    .sort();
  return [...backups, ...(existsSync(join(dir, `${signal}.jsonl`)) ? [`${signal}.jsonl`] : [])].map((f) =>
    join(dir, f),
  );
}

/** Yields each complete OTLP JSON export request of a file; a torn last line (still being written) is skipped. */
export async function* exportRequests(file: string): AsyncGenerator<Record<string, unknown>> {
  const lines = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (!line.trim()) continue;
    try {
      yield JSON.parse(line) as Record<string, unknown>;
    } catch {
      // torn line: the collector is mid-write (only ever the last line)
    }
  }
}

type Attr = { key: string; value: { stringValue?: string } };
type Item = { attributes?: Attr[]; name?: string; body?: { stringValue?: string } };

const attr = (item: Item, key: string) => item.attributes?.find((a) => a.key === key)?.value.stringValue;

/** The records (spans, metric data points, log records) of one session in one signal's files. */
export async function sessionRecords(dir: string, signal: Signal, sessionId: string) {
  const out: { name: string; item: Item }[] = [];
  for (const file of signalFiles(dir, signal)) {
    for await (const req of exportRequests(file)) {
      if (signal === 'traces') {
        for (const rs of (req.resourceSpans as { scopeSpans?: { spans?: Item[] }[] }[]) ?? []) {
          for (const ss of rs.scopeSpans ?? [])
            for (const s of ss.spans ?? [])
              if (attr(s, 'session.id') === sessionId) out.push({ name: s.name ?? '', item: s });
        }
      } else if (signal === 'logs') {
        for (const rl of (req.resourceLogs as { scopeLogs?: { logRecords?: Item[] }[] }[]) ?? []) {
          for (const sl of rl.scopeLogs ?? []) {
            for (const r of sl.logRecords ?? [])
              if (attr(r, 'session.id') === sessionId) out.push({ name: r.body?.stringValue ?? '', item: r });
          }
        }
      } else {
        type Metric = {
          name: string;
          sum?: { dataPoints?: Item[] };
          histogram?: { dataPoints?: Item[] };
          gauge?: { dataPoints?: Item[] };
        };
        for (const rm of (req.resourceMetrics as { scopeMetrics?: { metrics?: Metric[] }[] }[]) ?? []) {
          for (const sm of rm.scopeMetrics ?? []) {
            for (const m of sm.metrics ?? []) {
              for (const p of m.sum?.dataPoints ?? m.histogram?.dataPoints ?? m.gauge?.dataPoints ?? []) {
                if (attr(p, 'session.id') === sessionId) out.push({ name: m.name, item: p });
              }
            }
          }
        }
      }
    }
  }
  return out;
}

export function countBy<T>(items: T[], key: (t: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of items) out[key(i)] = (out[key(i)] ?? 0) + 1;
  return out;
}
