// Flat views of OTLP JSON export requests: events (log records), spans and metric points, each with its
// attributes as plain values, its time in milliseconds and its session. What summaries and reports are built from.
export type Value = string | number | boolean | null | Value[] | { [k: string]: Value };
type AnyValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
};
type KeyValue = { key: string; value?: AnyValue };
type Req = Record<string, unknown>;

export function plain(v: AnyValue | undefined): Value {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(plain);
  if (v.kvlistValue) return attributes(v.kvlistValue.values);
  return null;
}

export function attributes(list: KeyValue[] | undefined): Record<string, Value> {
  const out: Record<string, Value> = {};
  for (const kv of list ?? []) out[kv.key] = plain(kv.value);
  return out;
}

const ms = (nanos: unknown) =>
  nanos === undefined || nanos === null ? Number.NaN : Number(BigInt(String(nanos)) / 1_000_000n);

export interface EventRecord {
  /** The event's name without the `claude_code.` prefix (api_request, tool_result, ...). */
  name: string;
  time: number;
  session: string;
  service: string;
  attrs: Record<string, Value>;
  resource: Record<string, Value>;
}

export interface SpanRecord {
  name: string;
  service: string;
  serviceVersion: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  start: number;
  end: number;
  session: string;
  attrs: Record<string, Value>;
  events: { name: string; attrs: Record<string, Value> }[];
  statusCode: number;
}

export interface PointRecord {
  metric: string;
  unit: string;
  time: number;
  session: string;
  value: number;
  attrs: Record<string, Value>;
}

export function eventsOf(req: Req): EventRecord[] {
  const out: EventRecord[] = [];
  for (const rl of (req.resourceLogs as {
    resource?: { attributes?: KeyValue[] };
    scopeLogs?: unknown[];
  }[]) ?? []) {
    const resource = attributes(rl.resource?.attributes);
    for (const sl of (rl.scopeLogs as { logRecords?: Record<string, unknown>[] }[]) ?? []) {
      for (const r of sl.logRecords ?? []) {
        const attrs = attributes(r.attributes as KeyValue[]);
        const body = plain(r.body as AnyValue);
        const stamp = attrs['event.timestamp'];
        const time =
          typeof stamp === 'string' ? Date.parse(stamp) : ms(r.timeUnixNano ?? r.observedTimeUnixNano);
        out.push({
          name: String(attrs['event.name'] ?? body ?? '').replace(/^claude_code\./, ''),
          time,
          session: String(attrs['session.id'] ?? ''),
          service: String(resource['service.name'] ?? ''),
          attrs,
          resource,
        });
      }
    }
  }
  return out;
}

export function spansOf(req: Req): SpanRecord[] {
  const out: SpanRecord[] = [];
  for (const rs of (req.resourceSpans as {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: unknown[];
  }[]) ?? []) {
    const resource = attributes(rs.resource?.attributes);
    const service = String(resource['service.name'] ?? '');
    const serviceVersion = String(resource['service.version'] ?? '');
    for (const ss of (rs.scopeSpans as { spans?: Record<string, unknown>[] }[]) ?? []) {
      for (const s of ss.spans ?? []) {
        const attrs = attributes(s.attributes as KeyValue[]);
        out.push({
          name: String(s.name ?? ''),
          service,
          serviceVersion,
          traceId: String(s.traceId ?? ''),
          spanId: String(s.spanId ?? ''),
          parentSpanId: String(s.parentSpanId ?? ''),
          start: ms(s.startTimeUnixNano),
          end: ms(s.endTimeUnixNano),
          session: String(attrs['session.id'] ?? ''),
          attrs,
          events: ((s.events as { name?: string; attributes?: KeyValue[] }[]) ?? []).map((e) => ({
            name: String(e.name ?? ''),
            attrs: attributes(e.attributes),
          })),
          statusCode: Number((s.status as { code?: number } | undefined)?.code ?? 0),
        });
      }
    }
  }
  return out;
}

export function pointsOf(req: Req): PointRecord[] {
  const out: PointRecord[] = [];
  for (const rm of (req.resourceMetrics as { scopeMetrics?: unknown[] }[]) ?? []) {
    for (const sm of (rm.scopeMetrics as { metrics?: Record<string, unknown>[] }[]) ?? []) {
      for (const m of sm.metrics ?? []) {
        const data = (m.sum ?? m.gauge) as { dataPoints?: Record<string, unknown>[] } | undefined;
        for (const p of data?.dataPoints ?? []) {
          const attrs = attributes(p.attributes as KeyValue[]);
          out.push({
            metric: String(m.name ?? ''),
            unit: String(m.unit ?? ''),
            time: ms(p.timeUnixNano),
            session: String(attrs['session.id'] ?? ''),
            value: p.asDouble !== undefined ? Number(p.asDouble) : Number(p.asInt ?? 0),
            attrs,
          });
        }
      }
    }
  }
  return out;
}
