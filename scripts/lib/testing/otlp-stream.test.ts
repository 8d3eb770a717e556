// The senders of otlp-stream.ts against a local HTTP server that refuses some first attempts: what they report as
// sent and resent is exactly what the server took.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deltaValue, sendDeltaCounters, sendLogStream, sendSpanStream } from './otlp-stream.ts';

interface Taken {
  path: string;
  body: Record<string, unknown>;
}

let server: Server;
let base = '';
const taken: Taken[] = [];
let seen = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      // Every third request is refused once (503): the sender must resend it, and may repeat it.
      if (++seen % 3 === 0) {
        res.writeHead(503).end();
        return;
      }
      taken.push({ path: req.url ?? '', body: JSON.parse(body) });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

interface Item {
  spanId?: string;
  traceId?: string;
  attributes: { key: string; value: { stringValue: string } }[];
  sum?: { aggregationTemporality: number; dataPoints: (Item & { asInt: string })[] };
}

/** The items under a request's nesting (resourceSpans, scopeSpans, spans, say). */
const walk = (body: unknown, ...path: string[]): Item[] =>
  path.reduce<unknown[]>(
    (items, key) => items.flatMap((x) => (x as Record<string, unknown[]>)[key] ?? []),
    [body],
  ) as Item[];

describe('otlp-stream senders', () => {
  it('a span stream over several traces: every span taken, resends counted', async () => {
    taken.length = 0;
    const r = await sendSpanStream({
      otlpHttp: () => base,
      session: 'sess',
      requests: 9,
      spansPerRequest: 4,
      traces: 3,
    });
    const spans = taken
      .filter((t) => t.path === '/v1/traces')
      .flatMap((t) => walk(t.body, 'resourceSpans', 'scopeSpans', 'spans'));
    expect(new Set(spans.map((s) => s.spanId))).toEqual(new Set(r.spanIds));
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set(r.traceIds));
    expect(r.traceIds).toHaveLength(3);
    expect(r.retriedRequests).toBeGreaterThan(0);
    expect(r.failures['HTTP 503']).toBeGreaterThanOrEqual(r.retriedRequests);
  });

  it('a log stream: every record taken once, over the sessions asked for', async () => {
    taken.length = 0;
    const r = await sendLogStream({
      otlpHttp: () => base,
      run: 'run1',
      sessions: 4,
      requests: 8,
      recordsPerRequest: 5,
    });
    const records = taken.flatMap((t) => walk(t.body, 'resourceLogs', 'scopeLogs', 'logRecords'));
    const attr = (rec: Item, k: string) => rec.attributes.find((a) => a.key === k)?.value.stringValue;
    expect(records.map((x) => attr(x, 'probe.id')).sort()).toEqual(r.records.map((x) => x.id).sort());
    expect(new Set(records.map((x) => attr(x, 'session.id'))).size).toBe(4);
    expect(records.every((x) => attr(x, 'probe.run') === 'run1')).toBe(true);
    for (const x of r.records) expect(x.acked).toBeGreaterThanOrEqual(x.firstTry);
  });

  it('a delta counter: the increments taken add up to what it says it sent', async () => {
    taken.length = 0;
    const rounds: number[] = [];
    const r = await sendDeltaCounters({
      otlpHttp: () => base,
      session: 'd',
      series: 5,
      rounds: 4,
      beforeRound: (n) => {
        rounds.push(n);
      },
    });
    expect(rounds).toEqual([0, 1, 2, 3]);
    const sums: Record<string, number> = {};
    for (const t of taken)
      for (const m of walk(t.body, 'resourceMetrics', 'scopeMetrics', 'metrics')) {
        expect(m.sum?.aggregationTemporality).toBe(1);
        for (const p of m.sum?.dataPoints ?? []) {
          const series = p.attributes.find((a) => a.key === 'series')?.value.stringValue as string;
          sums[series] = (sums[series] ?? 0) + Number(p.asInt);
        }
      }
    expect(sums).toEqual(r.sent);
    expect(r.total).toBe(Object.values(r.sent).reduce((a, b) => a + b, 0));
    expect(r.sent.s0).toBe([0, 1, 2, 3].reduce((a, n) => a + deltaValue(0, n), 0));
    // A 503 is an answer: the attempt was taken by nobody, but the sender cannot know, so it may repeat.
    expect(r.mayRepeat).toBeGreaterThan(0);
  });
});
