// The per-session series count and limit (otlp-series.ts): what a series is (as delta_to_cumulative keys it), read
// from protobuf and JSON alike, and the limiter's attack table.
import { describe, expect, it } from 'vitest';
import { jsonSeries, MalformedOtlp, protoSeries, seriesLimiter } from './otlp-series.ts';

// A minimal OTLP metrics encoder (field numbers: opentelemetry-proto metrics/v1).
const varint = (n: number) => {
  const out: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 128)) out.push((n % 128) | 0x80);
  out.push(n);
  return Buffer.from(out);
};
const ld = (field: number, b: Buffer | string) => {
  const v = typeof b === 'string' ? Buffer.from(b) : b;
  return Buffer.concat([varint(field * 8 + 2), varint(v.length), v]);
};
const kv = (k: string, v: string) => ld(1, Buffer.concat([ld(1, k), ld(2, ld(1, v))]));
type Attrs = Array<[string, string]>;
const attrs = (field: number, a: Attrs) => Buffer.concat(a.map(([k, v]) => ld(field, kv(k, v).subarray(2))));
/** data: 5 gauge / 7 sum (NumberDataPoint, attributes 7) */
const metric = (name: string, data: 5 | 7, points: Attrs[]) =>
  Buffer.concat([ld(1, name), ld(data, Buffer.concat(points.map((p) => ld(1, attrs(7, p)))))]);
const request = (resource: Attrs, metrics: Buffer[]) =>
  ld(1, Buffer.concat([ld(1, attrs(1, resource)), ld(2, Buffer.concat(metrics.map((m) => ld(2, m))))]));

const res: Attrs = [['service.name', 'claude-code']];

describe('protoSeries', () => {
  it('one key per data point; the same attributes in another order are the same series', () => {
    const keys = protoSeries(
      request(res, [
        metric('tokens', 7, [
          [
            ['type', 'input'],
            ['model', 'm'],
          ],
          [
            ['model', 'm'],
            ['type', 'input'],
          ],
          [['type', 'output']],
        ]),
      ]),
    );
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(2);
  });

  it('tells apart metric name, data type, resource and attributes', () => {
    const one = (r: Attrs, name: string, data: 5 | 7, a: Attrs) =>
      protoSeries(request(r, [metric(name, data, [a])]))[0];
    const base = one(res, 'tokens', 7, [['type', 'input']]);
    expect(one(res, 'tokens', 7, [['type', 'input']])).toBe(base);
    expect(one(res, 'cost', 7, [['type', 'input']])).not.toBe(base);
    expect(one(res, 'tokens', 5, [['type', 'input']])).not.toBe(base);
    expect(one([['service.name', 'x']], 'tokens', 7, [['type', 'input']])).not.toBe(base);
    expect(one(res, 'tokens', 7, [['type', 'output']])).not.toBe(base);
  });

  it('counts the points of every repeated resource-metrics, scope and data field (protobuf merges them)', () => {
    const body = Buffer.concat([
      request(res, [metric('a', 7, [[['i', '1']]])]),
      request(res, [metric('a', 7, [[['i', '2']]])]),
    ]);
    expect(new Set(protoSeries(body)).size).toBe(2);
  });

  it.each([
    ['a cut field', Buffer.from([0x0a, 0x10, 0x01])],
    ['a cut varint', Buffer.from([0x0a, 0xff])],
    ['a group (wire type 3)', Buffer.from([0x0b])],
  ])('refuses %s', (_, body) => {
    expect(() => protoSeries(body)).toThrow(MalformedOtlp);
  });
});

describe('cumulative sums keyed on their start time (the collector labels them cli.process_start)', () => {
  const fixed64 = (field: number, n: bigint) => {
    const b = Buffer.alloc(9);
    b[0] = field * 8 + 1;
    b.writeBigUInt64LE(n, 1);
    return b;
  };
  /** A Sum with one point of type=input started at `start`, cumulative (2) or delta (1). */
  const sum = (temporality: 1 | 2, start: bigint) =>
    Buffer.concat([
      ld(1, 'tokens'),
      ld(
        7,
        Buffer.concat([
          ld(1, Buffer.concat([attrs(7, [['type', 'input']]), fixed64(2, start)])),
          varint(2 * 8),
          varint(temporality),
        ]),
      ),
    ]);
  it('protobuf: two processes of a cumulative sum are two series; delta points of one series stay one', () => {
    const cumulative = [1n, 2n].flatMap((t) => protoSeries(request(res, [sum(2, t)])));
    expect(new Set(cumulative).size).toBe(2);
    const delta = [1n, 2n].flatMap((t) => protoSeries(request(res, [sum(1, t)])));
    expect(new Set(delta).size).toBe(1);
  });
  it('JSON: the same', () => {
    const doc = (temporality: unknown, start: string) =>
      Buffer.from(
        JSON.stringify({
          resourceMetrics: [
            {
              scopeMetrics: [
                {
                  metrics: [
                    {
                      name: 't',
                      sum: {
                        aggregationTemporality: temporality,
                        dataPoints: [{ startTimeUnixNano: start }],
                      },
                    },
                  ],
                },
              ],
            },
          ],
        }),
      );
    for (const c of [2, 'AGGREGATION_TEMPORALITY_CUMULATIVE'])
      expect(new Set([...jsonSeries(doc(c, '1')), ...jsonSeries(doc(c, '2'))]).size).toBe(2);
    expect(new Set([...jsonSeries(doc(1, '1')), ...jsonSeries(doc(1, '2'))]).size).toBe(1);
  });
});

describe('jsonSeries', () => {
  const point = (type: string) => ({
    attributes: [{ key: 'type', value: { stringValue: type } }],
    asInt: '1',
  });
  it('reads JSON names and proto names alike (the collector takes both)', () => {
    const camel = {
      resourceMetrics: [
        { scopeMetrics: [{ metrics: [{ name: 't', sum: { dataPoints: [point('a'), point('b')] } }] }] },
      ],
    };
    const snake = {
      resource_metrics: [
        { scope_metrics: [{ metrics: [{ name: 't', sum: { data_points: [point('a'), point('b')] } }] }] },
      ],
    };
    const a = jsonSeries(Buffer.from(JSON.stringify(camel)));
    expect(new Set(a).size).toBe(2);
    expect(jsonSeries(Buffer.from(JSON.stringify(snake)))).toEqual(a);
  });
  it('refuses a body that is not JSON', () => {
    expect(() => jsonSeries(Buffer.from('{"resourceMetrics":'))).toThrow(MalformedOtlp);
  });
});

describe('seriesLimiter', () => {
  const keys = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  it('attack table', () => {
    const l = seriesLimiter({ maxSeries: 100, windowMs: 60_000, maxSessions: 3 });
    // [what, session, keys, now, admitted]
    const table: Array<[string, string, string[], number, boolean]> = [
      ['a session within its limit', 'flood', keys('a', 100), 0, true],
      ['its known series again', 'flood', keys('a', 100), 1, true],
      ['one new series past the limit: refused whole', 'flood', [...keys('a', 10), 'new'], 2, false],
      ['a flood of unique series', 'flood', keys('u', 100_000), 3, false],
      ['its known series still pass', 'flood', keys('a', 50), 4, true],
      ['another session is not affected', 'polite', keys('p', 100), 5, true],
      ['the window over, the flooder starts afresh', 'flood', keys('b', 100), 60_001, true],
    ];
    for (const [what, session, k, now, ok] of table) expect(l.admit(session, k, now).ok, what).toBe(ok);
  });
  it('tracks at most maxSessions sessions (the oldest forgotten)', () => {
    const l = seriesLimiter({ maxSeries: 10, windowMs: 60_000, maxSessions: 3 });
    for (const s of ['s1', 's2', 's3', 's4', 's5']) l.admit(s, ['x'], 0);
    expect(l.sessions()).toBe(3);
  });
});
