// Flat views of OTLP JSON export requests: events (log records), spans and metric points, each with its
// attributes as plain values, its time in milliseconds and its session. What summaries and reports are built from;
// built on the one OTLP walker (otlp.ts).
import {
  attributes,
  dataPoints,
  type ExportRequest,
  logRecords,
  nanosToMs as ms,
  plain,
  spans,
  type Value,
} from './otlp.ts';

export type { Value };

type Req = ExportRequest | Record<string, unknown>;

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
  /** The resource's service.name (claude-code, mcp-file-ops, ...). */
  service: string;
  unit: string;
  time: number;
  session: string;
  value: number;
  attrs: Record<string, Value>;
}

export function eventsOf(req: Req): EventRecord[] {
  const out: EventRecord[] = [];
  for (const { resource: res, item: r } of logRecords(req)) {
    const resource = attributes(res.attributes);
    const attrs = attributes(r.attributes);
    const body = plain(r.body);
    const stamp = attrs['event.timestamp'];
    const time = typeof stamp === 'string' ? Date.parse(stamp) : ms(r.timeUnixNano ?? r.observedTimeUnixNano);
    out.push({
      name: String(attrs['event.name'] ?? body ?? '').replace(/^claude_code\./, ''),
      time,
      session: String(attrs['session.id'] ?? ''),
      service: String(resource['service.name'] ?? ''),
      attrs,
      resource,
    });
  }
  return out;
}

export function spansOf(req: Req): SpanRecord[] {
  const out: SpanRecord[] = [];
  for (const { resource: res, item: s } of spans(req)) {
    const resource = attributes(res.attributes);
    const attrs = attributes(s.attributes);
    out.push({
      name: String(s.name ?? ''),
      service: String(resource['service.name'] ?? ''),
      serviceVersion: String(resource['service.version'] ?? ''),
      traceId: String(s.traceId ?? ''),
      spanId: String(s.spanId ?? ''),
      parentSpanId: String(s.parentSpanId ?? ''),
      start: ms(s.startTimeUnixNano),
      end: ms(s.endTimeUnixNano),
      session: String(attrs['session.id'] ?? ''),
      attrs,
      events: (s.events ?? []).map((e) => ({ name: String(e.name ?? ''), attrs: attributes(e.attributes) })),
      statusCode: Number(s.status?.code ?? 0),
    });
  }
  return out;
}

/** Points of sums and gauges (the kinds with one value per point). */
export function pointsOf(req: Req): PointRecord[] {
  const out: PointRecord[] = [];
  for (const { resource: res, metric: m, kind, item: p } of dataPoints(req)) {
    if (kind !== 'sum' && kind !== 'gauge') continue;
    const attrs = attributes(p.attributes);
    out.push({
      metric: String(m.name ?? ''),
      service: String(attributes(res.attributes)['service.name'] ?? ''),
      unit: String(m.unit ?? ''),
      time: ms(p.timeUnixNano),
      session: String(attrs['session.id'] ?? ''),
      value: p.asDouble !== undefined ? Number(p.asDouble) : Number(p.asInt ?? 0),
      attrs,
    });
  }
  return out;
}
