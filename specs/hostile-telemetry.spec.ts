// Recipe: hostile or broken telemetry on the OTLP ports, HTTP and gRPC. Each request is refused with a clear 4xx or
// gRPC status that says why, or accepted and cut to the documented limits (README, "Limits": attribute values and
// string bodies at 256 KiB, 256 attributes per record), and the collector goes on serving: a session sent
// afterwards reaches every sink, and what it accepted before is still in the files.
// A client flooding the collector is specs/flood.spec.ts (on a stack of its own).
import { randomBytes, randomUUID } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
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
    for (const { session } of [grpc, http]) {
      const attrs = await spanAttributesInFiles(session);
      const huge = attrs.find((a) => a.key === 'huge')?.value.stringValue as string;
      expect(huge.length).toBe(MAX_VALUE);
      expect(attrs.find((a) => a.key === 'session.id')?.value.stringValue).toBe(session);
    }
  });

  it(`keeps ${MAX_ATTRIBUTES} of thousands of attributes, the session id among them`, async () => {
    const many = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`attr-${i}`, `value-${i}`]));
    const { session, span } = hostileSpan(many);
    const r = await grpcExportTraces(stack().otlpGrpc, encodeTraces('hostile', [span]));
    expect(r.status, r.message).toBe(0);
    const attrs = await spanAttributesInFiles(session);
    expect(attrs).toHaveLength(MAX_ATTRIBUTES);
    expect(attrs.map((a) => a.key)).toContain('session.id');
  });

  it('takes deeply nested values (gRPC) or refuses them with a 4xx (HTTP JSON), and keeps serving', async () => {
    const grpc = hostileSpan({ deep: deepValue(200) });
    expect((await grpcExportTraces(stack().otlpGrpc, encodeTraces('hostile', [grpc.span]))).status).toBe(0);
    expect((await spanAttributesInFiles(grpc.session)).map((a) => a.key)).toContain('deep');
    // Far deeper than any parser should follow: refused or taken, never a 5xx or a hang.
    const abyss = hostileSpan({ deep: deepValue(20_000) });
    const r = await grpcExportTraces(stack().otlpGrpc, encodeTraces('hostile', [abyss.span]));
    expect(r.status, r.message).toBeGreaterThanOrEqual(0);
    // An event as deep, over HTTP JSON: it goes to the files and to VictoriaLogs, which flattens nested maps (the
    // session afterwards, in the next test, shows that VictoriaLogs still takes events).
    let json = '{"stringValue":"bottom"}';
    for (let i = 0; i < 20_000; i++) json = `{"kvlistValue":{"values":[{"key":"k","value":${json}}]}}`;
    const body = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"deep"},"attributes":[{"key":"session.id","value":{"stringValue":"${abyss.session}"}},{"key":"deep","value":${json}}]}]}]}]}`;
    const h = await post('/v1/logs', body, { 'content-type': 'application/json' });
    expect(h.status, h.text.slice(0, 300)).toBeLessThan(500);
    console.log(
      `hostile: 20000 levels deep: a span over gRPC: status ${r.status} (${r.message.slice(0, 120)}); an event over HTTP JSON: ${h.status} (${h.text.slice(0, 120)})`,
    );
  });

  it('goes on serving: a session afterwards reaches every sink, and earlier data is still in the files', async () => {
    const s = stack();
    const before = (await sessionRecords(s.telemetryDir, 'logs', s.warmupSession)).length;
    expect(before).toBeGreaterThan(0);
    const run = await runStackSession(s, { script: 'demo', user: 'after-hostile' });
    expect(run.exitCode, run.output.slice(-1500)).toBe(0);
    await waitForSessionInSinks(run.plan.sessionId, s, 60_000);
    expect((await sessionRecords(s.telemetryDir, 'logs', s.warmupSession)).length).toBe(before);
  });
});
