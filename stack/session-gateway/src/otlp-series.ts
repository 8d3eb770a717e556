// How many metric series one session may start: the collector turns delta sums cumulative for Prometheus and keeps
// a state per series for max_stale (30 min); one session sending unique delta series (6 million in 85 s) once had it
// OOM-killed 7 times, and every other session lost its data. So the gateway reads each metrics request's series
// (resource, scope, metric, data point attributes: what delta_to_cumulative keys its state on) and refuses a request
// that would take its session past `maxSeries` distinct series within `windowMs` (the collector's max_stale): 429,
// retried by the SDK, and the session's known series still pass. The collector's own limit (max_streams) is the
// bound for all sessions together.
// Only counted here: who the data belongs to is stamped by the collector on its own decoding of the request
// (stack/otel-collector/config.yaml, */sessions), so a request this reader misreads cannot carry a forged identity.
// Reading is conservative: attributes in another order, or a forged user or session id the collector will replace,
// count as other series (more, never fewer). Repeated message fields are read as protobuf merges them (all kept).
// A cumulative sum's start time is part of its series: the collector labels Claude Code's cumulative sums with it
// for Prometheus (cli.process_start, so each CLI process of a resumed session is its own series), so a session
// sending many start times would start as many Prometheus series; counted here, within the same limit.
// Field numbers: opentelemetry-proto collector/metrics/v1/metrics_service.proto and metrics/v1/metrics.proto.
import { createHash } from 'node:crypto';

/** A malformed request: the gateway refuses it (400) rather than forward what it could not count. */
export class MalformedOtlp extends Error {}

type Range = [start: number, end: number];

/** The fields of one protobuf message: [field number, wire type, value range]; varints as their range too. */
function fields(buf: Buffer, [start, end]: Range): Array<[number, number, Range]> {
  const out: Array<[number, number, Range]> = [];
  let p = start;
  const varint = (): number => {
    let v = 0;
    for (let shift = 0; shift < 64; shift += 7) {
      if (p >= end) throw new MalformedOtlp('OTLP protobuf: a varint runs past its message');
      const b = buf[p++] as number;
      if (shift < 49) v += (b & 0x7f) * 2 ** shift;
      if (!(b & 0x80)) return v;
    }
    throw new MalformedOtlp('OTLP protobuf: a varint over 10 bytes');
  };
  while (p < end) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    const from = p;
    if (wire === 0) varint();
    else if (wire === 1) p += 8;
    else if (wire === 5) p += 4;
    else if (wire === 2) {
      const len = varint();
      p += len;
      out.push([field, wire, [p - len, p]]);
      if (p > end) throw new MalformedOtlp('OTLP protobuf: a field runs past its message');
      continue;
    } else throw new MalformedOtlp(`OTLP protobuf: wire type ${wire} (groups are not OTLP)`);
    if (p > end) throw new MalformedOtlp('OTLP protobuf: a field runs past its message');
    out.push([field, wire, [from, p]]);
  }
  return out;
}

/** Metric data field -> the attributes field of its data points (Gauge 5, Sum 7, Histogram 9, ExpHistogram 10, Summary 11). */
const POINT_ATTRIBUTES: Record<number, number> = { 5: 7, 7: 7, 9: 9, 10: 1, 11: 7 };

const key = (parts: Array<string | Buffer>): string => {
  const h = createHash('sha256');
  for (const part of parts) {
    const b = typeof part === 'string' ? Buffer.from(part) : part;
    h.update(`${b.length}:`).update(b);
  }
  return h.digest('base64url').slice(0, 22);
};

const sortedJoin = (items: Buffer[]) => Buffer.concat(items.sort(Buffer.compare));

/** The series of an ExportMetricsServiceRequest in protobuf, as keys (one per data point, repeats included). */
export function protoSeries(buf: Buffer): string[] {
  const out: string[] = [];
  const sub = (r: Range, f: number) => fields(buf, r).filter(([n, w]) => n === f && w === 2);
  const raw = (r: Range) => buf.subarray(r[0], r[1]);
  for (const [, , rm] of sub([0, buf.length], 1)) {
    const resource = sortedJoin(sub(rm, 1).flatMap(([, , res]) => sub(res, 1).map(([, , kv]) => raw(kv))));
    for (const [, , sm] of sub(rm, 2)) {
      const scope = Buffer.concat(sub(sm, 1).map(([, , s]) => raw(s)));
      for (const [, , metric] of sub(sm, 2)) {
        const mf = fields(buf, metric);
        const name = Buffer.concat(mf.filter(([n, w]) => n === 1 && w === 2).map(([, , r]) => raw(r)));
        for (const [n, w, data] of mf) {
          const attrField = POINT_ATTRIBUTES[n];
          if (w !== 2 || attrField === undefined) continue;
          // Sum (7): aggregation_temporality (2, varint) CUMULATIVE (2) keys on the point's start time (2, fixed64).
          const cumulative =
            n === 7 && fields(buf, data).some(([f, fw, r]) => f === 2 && fw === 0 && buf[r[0]] === 2);
          for (const [, , point] of sub(data, 1)) {
            const attrs = sortedJoin(sub(point, attrField).map(([, , kv]) => raw(kv)));
            const start = cumulative
              ? Buffer.concat(
                  fields(buf, point)
                    .filter(([f, fw]) => f === 2 && fw === 1)
                    .map(([, , r]) => raw(r)),
                )
              : '';
            out.push(key([resource, scope, name, String(n), attrs, start]));
          }
        }
      }
    }
  }
  return out;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
/** A field under its JSON name or its proto name (the collector reads both). */
const pick = (o: Json, camel: string, snake: string): unknown => o[camel] ?? o[snake];
const attrList = (v: unknown) =>
  list(v)
    .map((kv) => JSON.stringify(kv))
    .sort()
    .join('\n');
const JSON_DATA: Array<[string, string]> = [
  ['gauge', 'gauge'],
  ['sum', 'sum'],
  ['histogram', 'histogram'],
  ['exponentialHistogram', 'exponential_histogram'],
  ['summary', 'summary'],
];

/** The series of an ExportMetricsServiceRequest in OTLP JSON, as keys. */
export function jsonSeries(body: Buffer): string[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new MalformedOtlp('OTLP JSON: the body is not JSON');
  }
  const out: string[] = [];
  for (const rm of list(pick(obj(doc), 'resourceMetrics', 'resource_metrics'))) {
    const resource = attrList(obj(obj(rm).resource).attributes);
    for (const sm of list(pick(obj(rm), 'scopeMetrics', 'scope_metrics'))) {
      const scope = JSON.stringify(obj(sm).scope ?? null);
      for (const m of list(obj(sm).metrics)) {
        const name = String(obj(m).name ?? '');
        for (const [camel, snake] of JSON_DATA) {
          const data = pick(obj(m), camel, snake);
          if (data === undefined) continue;
          const temporality = pick(obj(data), 'aggregationTemporality', 'aggregation_temporality');
          const cumulative =
            camel === 'sum' && [2, '2', 'AGGREGATION_TEMPORALITY_CUMULATIVE'].includes(temporality as string);
          for (const point of list(pick(obj(data), 'dataPoints', 'data_points'))) {
            const start = cumulative
              ? JSON.stringify(pick(obj(point), 'startTimeUnixNano', 'start_time_unix_nano') ?? null)
              : '';
            out.push(key([resource, scope, name, camel, attrList(obj(point).attributes), start]));
          }
        }
      }
    }
  }
  return out;
}

export interface SeriesLimits {
  /** Distinct series one session may send within a window. */
  maxSeries: number;
  /** The window: the collector's max_stale, how long it keeps a series' state. */
  windowMs: number;
  /** Sessions tracked at once; past it, the oldest window is forgotten. */
  maxSessions: number;
}

export type Admission = { ok: true; added: number } | { ok: false; known: number; adding: number };

/** Per-session distinct series within a window; a request that would pass the limit is refused whole. */
export function seriesLimiter(l: SeriesLimits) {
  const sessions = new Map<string, { start: number; series: Set<string> }>();
  return {
    admit(sessionId: string, keys: readonly string[], now = Date.now()): Admission {
      let s = sessions.get(sessionId);
      if (s && now - s.start >= l.windowMs) {
        sessions.delete(sessionId);
        s = undefined;
      }
      if (!s) {
        for (const [id, old] of sessions) {
          if (sessions.size < l.maxSessions && now - old.start < l.windowMs) break;
          sessions.delete(id);
        }
        s = { start: now, series: new Set() };
        sessions.set(sessionId, s);
      }
      const fresh = new Set(keys.filter((k) => !s.series.has(k)));
      if (s.series.size + fresh.size > l.maxSeries)
        return { ok: false, known: s.series.size, adding: fresh.size };
      for (const k of fresh) s.series.add(k);
      return { ok: true, added: fresh.size };
    },
    sessions: () => sessions.size,
  };
}
