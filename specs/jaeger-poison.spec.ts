// Recipe: a span Jaeger's store refuses for good does not hold Jaeger's queue for good. Badger refuses a tag over
// 65,000 bytes, and Jaeger answers that "Unavailable", as when it is down; the collector cuts Jaeger's copy to what
// Badger takes (transform/jaeger), and what still gets through (here a long string in a list nested in lists, which
// the cuts do not reach) is retried for JAEGER_RETRY_FOR and then dropped from Jaeger's copy, logged and counted.
// On a stack of its own with JAEGER_RETRY_FOR=40s (1h by default):
//   - the span is accepted and is in the files, whole;
//   - the collector logs Badger's refusal, then drops the batch from Jaeger's copy and counts it;
//   - spans sent afterwards reach Jaeger: the queue flows.
// README: "Delivery" and "Limits".
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jaegerTrace } from '../scripts/lib/sinks/jaeger.ts';
import { promQuery } from '../scripts/lib/sinks/prometheus.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { type EphemeralStack, startEphemeralStack } from '../scripts/lib/testing/ephemeral-stack.ts';
import { type AnyValue, encodeTraces, grpcExportTraces } from '../scripts/lib/testing/otlp-proto.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { type ServiceControl, serviceControl } from './support/service-control.ts';

const RETRY_FOR_S = 40; // at least max_interval (30 s): the collector refuses a shorter one
const hex = (n: number) => randomBytes(n).toString('hex');

function span(attributes: Record<string, AnyValue>) {
  const session = `poison-${randomUUID()}`;
  return {
    session,
    span: {
      traceId: hex(16),
      spanId: hex(8),
      name: 'poison',
      attributes: { ...attributes, 'session.id': session },
    },
  };
}

describe("a span Jaeger's store refuses", () => {
  let stack: EphemeralStack;
  let c: ServiceControl;
  beforeAll(async () => {
    stack = await startEphemeralStack({ env: { JAEGER_RETRY_FOR: `${RETRY_FOR_S}s` } });
    c = serviceControl(stack);
  }, 300_000);
  afterAll(async () => {
    await stack?.down();
  }, 120_000);

  it('is retried for JAEGER_RETRY_FOR, then dropped from Jaeger (logged, counted), and later spans arrive', async () => {
    // 12 lists deep: flatten stops at 8 levels, and a list inside a list adds no dot to the key, so the list is
    // left whole; Jaeger stores it as JSON, one tag of over 100 KB.
    let nested: AnyValue = ['p'.repeat(100_000)];
    for (let i = 0; i < 11; i++) nested = [nested];
    const poison = span({ nested });
    const sent = Date.now();
    const r = await grpcExportTraces(stack.otlpGrpc, encodeTraces('poison', [poison.span]));
    expect(r.status, r.message).toBe(0);
    // In the files, whole (the general limits do not cut nested values).
    await waitFor(
      `the poison span of ${poison.session} never reached the files`,
      async () => (await sessionRecords(stack.telemetryDir, 'traces', poison.session))[0],
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    // Badger refuses it; after JAEGER_RETRY_FOR the collector drops the batch from Jaeger's copy and says so.
    const log = await waitFor(
      `the collector never dropped the refused batch (JAEGER_RETRY_FOR=${RETRY_FOR_S}s)`,
      async () => {
        const text = await c.logs('otel-collector');
        return /exceeded 65000 limit/.test(text) && /Dropping data/i.test(text) ? text : undefined;
      },
      { timeoutMs: (RETRY_FOR_S + 90) * 1000, intervalMs: 2000 },
    );
    const dropped = log.split('\n').find((l) => /Dropping data/i.test(l)) ?? '';
    expect(dropped).toMatch(/otlp_grpc\/jaeger/);
    console.log(
      `jaeger-poison: dropped from Jaeger's copy ${((Date.now() - sent) / 1000).toFixed(0)} s after it was sent: ${dropped.slice(0, 200)}`,
    );
    // Counted in the collector's own metrics (Prometheus scrapes it every 15 s).
    await waitFor(
      'the collector never counted the dropped span (otelcol_exporter_send_failed_spans, otlp_grpc/jaeger)',
      async () => {
        const r = await promQuery(
          stack.prometheus,
          'sum({__name__=~"otelcol_exporter_send_failed_spans(_total)?", exporter="otlp_grpc/jaeger"})',
        );
        return Number(r[0]?.value[1] ?? 0) >= 1 ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 2000 },
    );
    // The queue flows: a span sent now reaches Jaeger.
    const later = span({ note: 'after the poison' });
    expect((await grpcExportTraces(stack.otlpGrpc, encodeTraces('poison', [later.span]))).status).toBe(0);
    await waitFor(
      `a span sent after the refused one never reached Jaeger`,
      async () =>
        (await jaegerTrace(await c.url('jaeger', 16686), later.span.traceId).catch(() => []))[0]
          ? true
          : undefined,
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(await jaegerTrace(await c.url('jaeger', 16686), poison.span.traceId).catch(() => [])).toEqual([]);
  });
});
