// Recipe: hostile or broken telemetry on the OTLP/HTTP port. Each request is refused with a clear 4xx that says
// why, and the collector goes on serving: a session sent afterwards reaches every sink, and what it accepted before
// is still in the files. (More cases, and gRPC, are issue 12's.)
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { runStackSession, stack } from './support/stack.ts';

/** The collector's request size limit (stack/otel-collector/config.yaml, max_request_body_size). */
const MAX_BODY = 16 * 1024 * 1024;

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
