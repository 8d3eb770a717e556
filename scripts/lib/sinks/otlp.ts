// OTLP JSON, as the collector's file exporter writes it (one export request per line): its types, and the one
// walker over its shape, resource -> scope -> item (span, log record, metric data point). `stack:check`, the
// specs and the export all read telemetry through this module; nothing else spells `resourceSpans`.
// Spec: https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding

export type Signal = 'traces' | 'metrics' | 'logs';
export const SIGNALS: readonly Signal[] = ['traces', 'metrics', 'logs'];

export interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
}
export interface KeyValue {
  key: string;
  value?: AnyValue;
}
export interface Resource {
  attributes?: KeyValue[];
}
export interface Scope {
  name?: string;
  version?: string;
}
export interface Span {
  traceId?: string;
  spanId?: string;
  parentSpanId?: string;
  name?: string;
  startTimeUnixNano?: string | number;
  endTimeUnixNano?: string | number;
  attributes?: KeyValue[];
  events?: { name?: string; attributes?: KeyValue[] }[];
  status?: { code?: number };
}
export interface LogRecord {
  timeUnixNano?: string | number;
  observedTimeUnixNano?: string | number;
  body?: AnyValue;
  attributes?: KeyValue[];
}
export interface DataPoint {
  timeUnixNano?: string | number;
  asDouble?: number | string;
  asInt?: string | number;
  attributes?: KeyValue[];
}
export const METRIC_KINDS = ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary'] as const;
export type MetricKind = (typeof METRIC_KINDS)[number];
export type Metric = { name?: string; unit?: string } & {
  [K in MetricKind]?: { dataPoints?: DataPoint[] };
};

/** One export request: a line of traces.jsonl, metrics.jsonl or logs.jsonl. */
export interface ExportRequest {
  resourceSpans?: { resource?: Resource; scopeSpans?: { scope?: Scope; spans?: Span[] }[] }[];
  resourceLogs?: { resource?: Resource; scopeLogs?: { scope?: Scope; logRecords?: LogRecord[] }[] }[];
  resourceMetrics?: { resource?: Resource; scopeMetrics?: { scope?: Scope; metrics?: Metric[] }[] }[];
}

/** The item of each signal, and where in a request it sits. */
export type Item = Span | LogRecord | DataPoint;
const LAYOUT = {
  traces: { resources: 'resourceSpans', scopes: 'scopeSpans', items: 'spans' },
  logs: { resources: 'resourceLogs', scopes: 'scopeLogs', items: 'logRecords' },
  metrics: { resources: 'resourceMetrics', scopes: 'scopeMetrics', items: 'metrics' },
} as const;

export interface Visit<T extends Item> {
  resource: Resource;
  scope: Scope;
  item: T;
  /** The metric a data point belongs to, and its kind (metrics only). */
  metric?: Metric;
  kind?: MetricKind;
}

/** The data of a metric: its first kind present (a metric has one). */
export function metricData(m: Metric): { kind: MetricKind; dataPoints: DataPoint[] } | null {
  for (const kind of METRIC_KINDS) {
    const data = m[kind];
    if (data) return { kind, dataPoints: data.dataPoints ?? [] };
  }
  return null;
}

type Loose = Record<string, unknown>;
const list = (v: unknown): Loose[] => (Array.isArray(v) ? (v as Loose[]) : []);

/** Every item of a request, with its resource and scope (and metric, for data points). */
export function* walk(signal: Signal, req: ExportRequest | Loose): Generator<Visit<Item>> {
  const l = LAYOUT[signal];
  for (const res of list((req as Loose)[l.resources])) {
    const resource = (res.resource ?? {}) as Resource;
    for (const sc of list(res[l.scopes])) {
      const scope = (sc.scope ?? {}) as Scope;
      for (const item of list(sc[l.items])) {
        if (signal !== 'metrics') {
          yield { resource, scope, item: item as Item };
          continue;
        }
        const metric = item as Metric;
        const data = metricData(metric);
        for (const point of data?.dataPoints ?? [])
          yield { resource, scope, item: point, metric, kind: data?.kind };
      }
    }
  }
}

export const spans = (req: ExportRequest | Loose) => walk('traces', req) as Generator<Visit<Span>>;
export const logRecords = (req: ExportRequest | Loose) => walk('logs', req) as Generator<Visit<LogRecord>>;
export const dataPoints = (req: ExportRequest | Loose) =>
  walk('metrics', req) as Generator<Visit<DataPoint> & { metric: Metric; kind: MetricKind }>;

/** A string attribute of an item (e.g. `session.id`). */
export const stringAttr = (item: { attributes?: KeyValue[] }, key: string): string | undefined =>
  item.attributes?.find((a) => a.key === key)?.value?.stringValue;

/**
 * The request with only the items `keep` accepts, each with its resource and scope (and metric); null when none is
 * left. The same walk as `walk`, rebuilding the shape instead of visiting it.
 */
export function pruneRequest(
  signal: Signal,
  req: ExportRequest | Loose,
  keep: (item: Item) => boolean,
): { req: ExportRequest; records: number } | null {
  const l = LAYOUT[signal];
  let records = 0;
  const kept = (items: unknown) => {
    const out = list(items).filter((i) => keep(i as Item));
    records += out.length;
    return out;
  };
  const resources = list((req as Loose)[l.resources]).flatMap((res) => {
    const scopes = list(res[l.scopes]).flatMap((sc) => {
      if (signal !== 'metrics') {
        const items = kept(sc[l.items]);
        return items.length ? [{ ...sc, [l.items]: items }] : [];
      }
      const metrics = list(sc[l.items]).flatMap((m) => {
        const data = metricData(m as Metric);
        if (!data) return [];
        const dataPoints = kept(data.dataPoints);
        return dataPoints.length ? [{ ...m, [data.kind]: { ...(m[data.kind] as Loose), dataPoints } }] : [];
      });
      return metrics.length ? [{ ...sc, [l.items]: metrics }] : [];
    });
    return scopes.length ? [{ ...res, [l.scopes]: scopes }] : [];
  });
  return resources.length ? { req: { [l.resources]: resources }, records } : null;
}

/** An attribute value as plain JSON. */
export type Value = string | number | boolean | null | Value[] | { [k: string]: Value };

/**
 * Nested values are read this deep; below, a placeholder says what was left out. Any OTLP sender can nest values
 * thousands of levels deep (the collector takes them: specs/hostile-telemetry.spec.ts), and a reader that followed
 * every level would overflow the stack. Claude Code's own values are flat.
 */
export const MAX_VALUE_DEPTH = 64;
const TOO_DEEP = `[nested deeper than ${MAX_VALUE_DEPTH} levels: not read]`;

export function plain(v: AnyValue | undefined, depth = 0): Value {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if ((v.arrayValue || v.kvlistValue) && depth >= MAX_VALUE_DEPTH) return TOO_DEEP;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map((x) => plain(x, depth + 1));
  if (v.kvlistValue) return attributes(v.kvlistValue.values, depth + 1);
  return null;
}

export function attributes(kvs: KeyValue[] | undefined, depth = 0): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const kv of kvs ?? []) out[kv.key] = plain(kv.value, depth);
  return out;
}

/** Nanoseconds since the epoch (a string in OTLP JSON) in milliseconds; NaN when absent. */
export const nanosToMs = (nanos: unknown): number =>
  nanos === undefined || nanos === null ? Number.NaN : Number(BigInt(String(nanos)) / 1_000_000n);

/** How each line of a signal's file starts (the file exporter's JSON: one export request per line). */
const LINE_START: Record<Signal, string> = {
  traces: '{"resourceSpans":',
  metrics: '{"resourceMetrics":',
  logs: '{"resourceLogs":',
};

/**
 * One line of a telemetry file as an export request. A write the disk cut short (full) leaves part of a request
 * that the next write continues on the same line: then the request that starts later on the line is recovered and
 * `cutShort` says that a partial one before it was lost. Undefined when nothing on the line parses.
 */
export function parseRequestLine(
  line: string,
  signal?: Signal,
): { req: ExportRequest; text: string; cutShort: boolean } | undefined {
  try {
    return { req: JSON.parse(line) as ExportRequest, text: line, cutShort: false };
  } catch {
    // a torn or glued line: look for a whole request after the partial one
  }
  const starts = signal ? [LINE_START[signal]] : Object.values(LINE_START);
  for (let at = line.indexOf('{"resource', 1); at > 0; at = line.indexOf('{"resource', at + 1)) {
    if (!starts.some((s) => line.startsWith(s, at))) continue;
    const text = line.slice(at);
    try {
      return { req: JSON.parse(text) as ExportRequest, text, cutShort: true };
    } catch {
      // not a whole request either: try the next start
    }
  }
  return undefined;
}

/**
 * One event as an OTLP/HTTP JSON logs request (the host's own events to the collector): string attributes on the
 * resource and on the record, the event's name as its body and `event.name`.
 */
export function eventRequest(o: {
  resource: Record<string, string>;
  scope: string;
  name: string;
  timeMs: number;
  severity: { number: number; text: string };
  attributes: Record<string, string>;
}): ExportRequest {
  const kvs = (m: Record<string, string>): KeyValue[] =>
    Object.entries(m).map(([key, value]) => ({ key, value: { stringValue: value } }));
  const nanos = `${BigInt(o.timeMs) * 1_000_000n}`;
  return {
    resourceLogs: [
      {
        resource: { attributes: kvs(o.resource) },
        scopeLogs: [
          {
            scope: { name: o.scope },
            logRecords: [
              {
                timeUnixNano: nanos,
                observedTimeUnixNano: nanos,
                severityNumber: o.severity.number,
                severityText: o.severity.text,
                body: { stringValue: o.name },
                attributes: kvs({ 'event.name': o.name, ...o.attributes }),
              },
            ],
          },
        ],
      },
    ],
  } as unknown as ExportRequest;
}
