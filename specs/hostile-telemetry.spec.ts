// Recipe: hostile or broken telemetry on the OTLP ports, HTTP and gRPC. Each request is refused with a clear 4xx or
// gRPC status that says why, or accepted and cut to the documented limits (README, "Limits": attribute values and
// string bodies at 256 KiB, 256 attributes per record), and the collector goes on serving: a session sent
// afterwards reaches every sink, and what it accepted before is still in the files. Nested maps named like the
// stamped identity (user, session, git, telemetry, "") forge nothing in Jaeger or VictoriaLogs. Over 300 lines: one
// promise (hostile input is refused or cut, never harmful), one stack, each request shape a case.
// A client flooding the collector is specs/flood.spec.ts (on a stack of its own).
import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { type JaegerSpan, jaegerTrace } from '../scripts/lib/sinks/jaeger.ts';
import { waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { vlQuery } from '../scripts/lib/sinks/victorialogs.ts';
import {
  type AnyValue,
  deepValue,
  encodeTraces,
  grpcExportTraces,
} from '../scripts/lib/testing/otlp-proto.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { runStackSession, stack } from './support/stack.ts';

/** The collector's request size limit (stack/otel-collector/config.yaml, max_request_body_size). */
const MAX_BODY = 16 * 1024 * 1024;
/** The documented per-record limits (stack/otel-collector/config.yaml, transform/limits). */
const MAX_VALUE = 256 * 1024;
const MAX_ATTRIBUTES = 256;
/** Jaeger's copy (transform/jaeger): what its Badger store can always index. */
const JAEGER_MAX_VALUE = 16 * 1024;
const JAEGER_MAX_ATTRIBUTES = 128;

const hex = (n: number) => randomBytes(n).toString('hex');

/** A span of a session of its own, with these attributes (session.id added). */
function hostileSpan(attributes: Record<string, AnyValue>) {
  const session = `hostile-${randomUUID()}`;
  return {
    session,
    span: {
      traceId: hex(16),
      spanId: hex(8),
      name: 'hostile',
      attributes: { ...attributes, 'session.id': session },
    },
  };
}

/** The attributes of the one span of `session` in the files, once it is there. */
async function spanAttributesInFiles(
  session: string,
): Promise<{ key: string; value: Record<string, unknown> }[]> {
  const rec = await waitFor(
    `the span of ${session} never reached the files`,
    async () => (await sessionRecords(stack().telemetryDir, 'traces', session))[0],
    { timeoutMs: 30_000, intervalMs: 500 },
  );
  return (rec.item as { attributes: { key: string; value: Record<string, unknown> }[] }).attributes;
}

/** The one span of a trace in Jaeger, once it is there: what was accepted is stored, not only written to the files. */
async function spanInJaeger(traceId: string): Promise<JaegerSpan> {
  return waitFor(
    `span of trace ${traceId} never reached Jaeger`,
    async () => (await jaegerTrace(stack().jaeger, traceId).catch(() => []))[0]?.spans[0],
    { timeoutMs: 30_000, intervalMs: 500 },
  );
}
const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;

async function post(path: string, body: Uint8Array | string, headers: Record<string, string>) {
  const res = await fetch(`${stack().otlpHttp}${path}`, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: res.status, text: await res.text() };
}

describe('hostile telemetry on the OTLP/HTTP port', () => {
  it('refuses invalid JSON with 400, saying why', async () => {
    const r = await post('/v1/traces', '{"resourceSpans": [ {', { 'content-type': 'application/json' });
    expect(r.status).toBe(400);
    expect(r.text.toLowerCase()).toMatch(/readobject|unmarshal|json|syntax|eof/);
  });

  it('refuses bytes that are not protobuf with 400', async () => {
    const junk = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256);
    const r = await post('/v1/logs', junk, { 'content-type': 'application/x-protobuf' });
    expect(r.status).toBe(400);
    expect(r.text.length).toBeGreaterThan(0);
  });

  it(`refuses a body over the explicit limit (${MAX_BODY} bytes), also when gzip hides its size`, async () => {
    const big = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"${'x'.repeat(MAX_BODY)}"}}]}]}]}`;
    const plain = await post('/v1/logs', big, { 'content-type': 'application/json' });
    expect(plain.status, plain.text.slice(0, 200)).toBeGreaterThanOrEqual(400);
    expect(plain.status).toBeLessThan(500);
    // 16 MiB of x compresses to a few KB: the limit applies to what it unpacks to.
    const zipped = await post('/v1/logs', gzipSync(big), {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(zipped.status, zipped.text.slice(0, 200)).toBeGreaterThanOrEqual(400);
    expect(zipped.status).toBeLessThan(500);
  });

  it('gRPC: refuses bytes that are not protobuf with a status that says so', async () => {
    const junk = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256));
    const r = await grpcExportTraces(stack().otlpGrpc, junk);
    expect(r.status, r.message).not.toBe(0);
    expect(r.status, r.message).toBeGreaterThan(0);
    expect(r.message.toLowerCase()).toMatch(/unmarshal|proto|parse|invalid/);
  });

  it(`gRPC: refuses a message over the explicit limit (${MAX_BODY} bytes) with RESOURCE_EXHAUSTED`, async () => {
    const { span } = hostileSpan({ big: 'y'.repeat(MAX_BODY + 1024) });
    const r = await grpcExportTraces(stack().otlpGrpc, encodeTraces('hostile', [span]));
    expect(r.status, r.message).toBe(8);
    expect(r.message.toLowerCase()).toMatch(/larger than max|too large|exceeds/);
  });

  it(`cuts a huge attribute value to ${MAX_VALUE} bytes (gRPC and HTTP), the session id kept`, async () => {
    const grpc = hostileSpan({ huge: 'g'.repeat(4 * MAX_VALUE) });
    expect((await grpcExportTraces(stack().otlpGrpc, encodeTraces('hostile', [grpc.span]))).status).toBe(0);
    const http = hostileSpan({ huge: 'h'.repeat(4 * MAX_VALUE) });
    const r = await post('/v1/traces', encodeTraces('hostile', [http.span]), {
      'content-type': 'application/x-protobuf',
    });
    expect(r.status, r.text).toBe(200);
    for (const { session, span } of [grpc, http]) {
      const attrs = await spanAttributesInFiles(session);
      const huge = attrs.find((a) => a.key === 'huge')?.value.stringValue as string;
      expect(huge.length).toBe(MAX_VALUE);
      expect(attrs.find((a) => a.key === 'session.id')?.value.stringValue).toBe(session);
      // Jaeger stores it, cut to what Badger can index (a 256 KiB tag once stopped its queue for good).
      const stored = await spanInJaeger(span.traceId);
      expect(String(tag(stored, 'huge')).length).toBe(JAEGER_MAX_VALUE);
      expect(tag(stored, 'session.id')).toBe(session);
    }
  });

  it(`keeps ${MAX_ATTRIBUTES} of thousands of attributes (gRPC and HTTP), the session id among them`, async () => {
    const many = () =>
      Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`attr-${i}`, `value-${i}`]));
    const grpc = hostileSpan(many());
    const r = await grpcExportTraces(stack().otlpGrpc, encodeTraces('hostile', [grpc.span]));
    expect(r.status, r.message).toBe(0);
    const http = hostileSpan(many());
    const h = await post('/v1/traces', encodeTraces('hostile', [http.span]), {
      'content-type': 'application/x-protobuf',
    });
    expect(h.status, h.text).toBe(200);
    for (const { session, span } of [grpc, http]) {
      const attrs = await spanAttributesInFiles(session);
      expect(attrs).toHaveLength(MAX_ATTRIBUTES);
      expect(attrs.map((a) => a.key)).toContain('session.id');
      const stored = await spanInJaeger(span.traceId);
      expect(stored.tags.filter((t) => t.key.startsWith('attr-')).length).toBe(JAEGER_MAX_ATTRIBUTES - 1);
      expect(tag(stored, 'session.id')).toBe(session);
    }
  });

  it('takes deeply nested values, 200 and 20,000 levels (gRPC and HTTP JSON), stored, and keeps serving', async () => {
    const grpc = hostileSpan({ deep: deepValue(200) });
    expect((await grpcExportTraces(stack().otlpGrpc, encodeTraces('hostile', [grpc.span]))).status).toBe(0);
    expect((await spanAttributesInFiles(grpc.session)).map((a) => a.key)).toContain('deep');
    // Jaeger gets nested values flattened into dotted keys (deep.k.k...), 8 levels at most: 5 levels are one key,
    // what is nested deeper is dropped (README, "Limits").
    const five = hostileSpan({ deep: deepValue(5) });
    expect((await grpcExportTraces(stack().otlpGrpc, encodeTraces('hostile', [five.span]))).status).toBe(0);
    expect(tag(await spanInJaeger(five.span.traceId), `deep${'.k'.repeat(5)}`)).toBe('bottom');
    const deep = await spanInJaeger(grpc.span.traceId);
    expect(tag(deep, 'session.id')).toBe(grpc.session);
    expect(deep.tags.filter((t) => t.key.startsWith('deep'))).toEqual([]);
    // Far deeper than any parser should follow. The README ("Limits") says it is taken: accepted, in the files (their
    // readers follow 64 levels and then write a placeholder) and in Jaeger.
    const abyss = hostileSpan({ deep: deepValue(20_000) });
    const r = await grpcExportTraces(stack().otlpGrpc, encodeTraces('hostile', [abyss.span]));
    expect(r.status, r.message).toBe(0);
    expect((await spanAttributesInFiles(abyss.session)).map((a) => a.key)).toContain('deep');
    expect(tag(await spanInJaeger(abyss.span.traceId), 'session.id')).toBe(abyss.session);
    // An event as deep, over HTTP JSON: it goes to the files and to VictoriaLogs, which flattens nested maps (the
    // session afterwards, in the next test, shows that VictoriaLogs still takes events).
    let json = '{"stringValue":"bottom"}';
    for (let i = 0; i < 20_000; i++) json = `{"kvlistValue":{"values":[{"key":"k","value":${json}}]}}`;
    const body = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"deep"},"attributes":[{"key":"session.id","value":{"stringValue":"${abyss.session}"}},{"key":"deep","value":${json}}]}]}]}]}`;
    const h = await post('/v1/logs', body, { 'content-type': 'application/json' });
    expect(h.status, h.text.slice(0, 300)).toBe(200);
    await waitFor(
      `the 20,000-level event of ${abyss.session} never reached the files`,
      async () => (await sessionRecords(stack().telemetryDir, 'logs', abyss.session))[0],
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    console.log(
      `hostile: 20000 levels deep: a span over gRPC: status ${r.status} (${r.message.slice(0, 120)}); an event over HTTP JSON: ${h.status} (${h.text.slice(0, 120)})`,
    );
  });

  it('nested maps forge no identity: user, session, git, telemetry and "" dropped from Jaeger and VictoriaLogs', async () => {
    // {"user": {"name": "mallory"}} is flattened to user.name by Jaeger's copy (transform/jaeger) and by VictoriaLogs
    // itself: a forged identity beside the stamped one. Both copies drop these top-level keys before anything
    // flattens (stack/otel-collector/config.yaml); the files keep what was sent.
    const FORGED = `mallory-${hex(4)}`;
    const session = `hostile-${randomUUID()}`;
    const mark = hex(8);
    const str = (value: string) => ({ stringValue: value });
    const map = (entries: Record<string, string>) => ({
      kvlistValue: { values: Object.entries(entries).map(([key, v]) => ({ key, value: str(v) })) },
    });
    const forged = [
      { key: 'user', value: map({ name: FORGED }) },
      { key: 'session', value: map({ id: FORGED }) },
      { key: 'git', value: map({ branch: FORGED }) },
      { key: 'telemetry', value: map({ source: FORGED }) },
      { key: '', value: map({ 'user.name': FORGED }) },
    ];
    const own = [
      { key: 'session.id', value: str(session) },
      { key: 'hostile.mark', value: str(mark) },
    ];
    const resource = { attributes: [{ key: 'service.name', value: str('hostile') }, ...forged] };
    const traceId = hex(16);
    const now = String(BigInt(Date.now()) * 1_000_000n);
    const spans = {
      resourceSpans: [
        {
          resource,
          scopeSpans: [
            {
              scope: { name: 'hostile' },
              spans: [
                {
                  traceId,
                  spanId: hex(8),
                  name: 'forged-identity',
                  kind: 1,
                  startTimeUnixNano: now,
                  endTimeUnixNano: now,
                  attributes: [...own, ...forged],
                  events: [{ name: 'forged', timeUnixNano: now, attributes: forged }],
                },
              ],
            },
          ],
        },
      ],
    };
    const logs = {
      resourceLogs: [
        {
          resource,
          scopeLogs: [
            {
              scope: { name: 'hostile' },
              logRecords: [
                { timeUnixNano: now, body: str('forged-identity'), attributes: [...own, ...forged] },
              ],
            },
          ],
        },
      ],
    };
    for (const [path, body] of [
      ['/v1/traces', spans],
      ['/v1/logs', logs],
    ] as const) {
      const r = await post(path, JSON.stringify(body), { 'content-type': 'application/json' });
      expect(r.status, `${path}: ${r.text.slice(0, 300)}`).toBe(200);
    }
    // The files keep what was sent: the nested maps, as maps.
    const inFiles = await spanAttributesInFiles(session);
    expect(inFiles.find((a) => a.key === 'user')?.value).toHaveProperty('kvlistValue');
    const event = await waitFor(
      `the event of ${session} never reached the files`,
      async () => (await sessionRecords(stack().telemetryDir, 'logs', session))[0],
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(JSON.stringify(event.item)).toContain(FORGED);
    // Jaeger: the span (its tags, its process's tags, its event's fields) carries the forged value nowhere.
    const span = await spanInJaeger(traceId);
    const trace = await jaegerTrace(stack().jaeger, traceId);
    expect(tag(span, 'session.id')).toBe(session);
    expect(
      JSON.stringify(trace).includes(FORGED),
      `Jaeger's copy holds ${FORGED}: ${JSON.stringify(trace).slice(0, 1500)}`,
    ).toBe(false);
    // VictoriaLogs: the event is there, and no field of it is the forged value.
    const rows = await waitFor(
      `the event of ${session} never reached VictoriaLogs`,
      async () => {
        const got = await vlQuery(stack().victorialogs, `hostile.mark:=${JSON.stringify(mark)}`);
        return got.length ? got : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    for (const row of rows)
      expect(
        Object.entries(row).filter(([, v]) => String(v).includes(FORGED)),
        'fields with the forged value',
      ).toEqual([]);
  });

  it('a resource whose nested maps and dotted keys flatten to one name is stored: VictoriaLogs stays up', async () => {
    // VictoriaLogs v1.52.1 exits on a request whose stream fields (the resource's attributes) repeat a name, and it
    // flattens nested maps itself: {"hostile": {"k": ..}} beside "hostile.k", or a map repeating a key, would be two
    // stream fields of one name, and the collector's retry would keep it down. The collector flattens VictoriaLogs'
    // copy first, one value per name (stack/otel-collector/config.yaml, transform/victorialogs).
    const mark = hex(8);
    const str = (value: string) => ({ stringValue: value });
    const kv = (pairs: [string, unknown][]) => ({
      kvlistValue: { values: pairs.map(([key, value]) => ({ key, value })) },
    });
    const attributes = [
      { key: 'service.name', value: str('hostile') },
      { key: 'hostile', value: kv([['k', str('nested')]]) },
      { key: 'hostile.k', value: str('dotted') },
      {
        key: 'twice',
        value: kv([
          ['k', str('1')],
          ['k', str('2')],
        ]),
      },
      { key: 'empty', value: kv([['', str('nested')]]) },
      { key: 'empty.', value: str('dotted') },
    ];
    const body = {
      resourceLogs: [
        {
          resource: { attributes },
          scopeLogs: [
            {
              logRecords: [
                {
                  timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                  body: str('colliding-stream-fields'),
                  attributes: [{ key: 'hostile.mark', value: str(mark) }],
                },
              ],
            },
          ],
        },
      ],
    };
    const r = await post('/v1/logs', JSON.stringify(body), { 'content-type': 'application/json' });
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    const rows = await waitFor(
      `the event ${mark} in VictoriaLogs (down? its logs would say "stream tags must be sorted")`,
      async () => {
        const got = await vlQuery(stack().victorialogs, `hostile.mark:=${JSON.stringify(mark)}`).catch(
          () => [],
        );
        return got.length ? got : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 500 },
    );
    // One value per flattened name: the last one sent.
    expect(rows[0]?.['hostile.k']).toBe('dotted');
    expect(rows[0]?.['twice.k']).toBe('2');
    expect(rows[0]?.['empty.']).toBe('dotted');
  });

  it('goes on serving: a session afterwards reaches every sink, and earlier data is still in the files', async () => {
    const e2eStack = stack();
    const before = (await sessionRecords(e2eStack.telemetryDir, 'logs', e2eStack.warmupSession)).length;
    expect(before).toBeGreaterThan(0);
    const run = await runStackSession(e2eStack, { script: 'demo', user: 'after-hostile' });
    expect(run.exitCode, run.output.slice(-1500)).toBe(0);
    await waitForSessionInSinks(run.plan.sessionId, e2eStack, 60_000);
    expect((await sessionRecords(e2eStack.telemetryDir, 'logs', e2eStack.warmupSession)).length).toBe(before);
  });
});
