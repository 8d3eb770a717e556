// Recipe: nothing is lost when parts of the stack fail. These specs stop, restart and kill services, so they run on
// a stack of their own (the same compose files, started here and removed after), not the shared one.
//   - Jaeger restarted: its earlier traces are still there (Badger on a volume, not memory).
//   - Jaeger stopped for 30 s while a session and a stream of spans run: the collector keeps the spans and delivers
//     every one once Jaeger is back.
//   - Prometheus restarted: a session's totals from before are intact, and a session after it adds up right.
//   - The collector killed (SIGKILL) while it holds undelivered spans, then started again: its persistent queue
//     (file_storage) delivers them.
//   - The collector killed mid-stream: every span it acknowledged, before and after, is in the files and in Jaeger;
//     the only duplicates are spans of requests the sender had to resend, and `pnpm export` keeps them once.
//   - The whole stack down and up (volumes kept): every sink still has the earlier session, and its export is
//     complete.
// The delivery guarantee these check is the README's "Delivery".
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { type Manifest, readArchive } from '../scripts/lib/export/archive/archive.ts';
import { filterSignal } from '../scripts/lib/export/phases/otlp-filter.ts';
import { repoRoot } from '../scripts/lib/repo-root.ts';
import { jaegerTrace } from '../scripts/lib/sinks/jaeger.ts';
import { waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import {
  type EphemeralStack,
  STACK_SERVICES,
  startEphemeralStack,
} from '../scripts/lib/testing/ephemeral-stack.ts';
import { encodeTraces } from '../scripts/lib/testing/otlp-proto.ts';
import { sendSpanStream } from '../scripts/lib/testing/otlp-stream.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { faultStack } from './support/fault-stack.ts';

let stack: EphemeralStack;

beforeAll(async () => {
  stack = await startEphemeralStack();
}, 300_000);
afterAll(async () => {
  await stack?.down();
}, 120_000);

const {
  docker,
  compose,
  container,
  healthy,
  running,
  jaegerUrl,
  otlpUrl,
  sinks,
  streamDelivered,
  scriptTotalsInPrometheus,
  allSpansInJaeger,
  session,
  sessionWhileJaegerIsDown,
} = faultStack(() => stack);

describe('faults: nothing is lost', () => {
  it('keeps earlier traces when Jaeger restarts', async () => {
    const id = await session('before-restart');
    await waitForSessionInSinks(id, await sinks(), 60_000);
    const before = await allSpansInJaeger(id, 30_000);
    await docker(['restart', container('jaeger')]);
    await healthy('jaeger');
    expect(await allSpansInJaeger(id, 30_000)).toBe(before);
  });

  it('delivers every span of a session and a span stream that ran while Jaeger was stopped for 30 s', async () => {
    const down = Date.now();
    await docker(['stop', container('jaeger')]);
    try {
      const [id, stream] = await Promise.all([
        sessionWhileJaegerIsDown('jaeger-down'),
        sendSpanStream({
          otlpHttp: otlpUrl,
          session: `stream-${randomUUID()}`,
          requests: 60,
          spansPerRequest: 50,
          pauseMs: 250,
        }),
      ]);
      // Jaeger stays down for 30 s in all, whatever the session's pace (the scenario, not a wait for data).
      await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - down))));
      expect(await running('jaeger'), 'jaeger still stopped').toBe(false);
      await docker(['start', container('jaeger')]);
      await healthy('jaeger');
      // The collector retries with backoff (at most 30 s apart).
      await allSpansInJaeger(id, 90_000);
      await streamDelivered(stream, 90_000);
    } finally {
      await docker(['start', container('jaeger')]);
    }
  });

  it('keeps session totals right when Prometheus restarts: before it and after it', async () => {
    const before = await session('before-prometheus-restart');
    await scriptTotalsInPrometheus(before);
    await docker(['restart', container('prometheus')]);
    await healthy('prometheus');
    await scriptTotalsInPrometheus(before);
    const after = await session('after-prometheus-restart');
    await scriptTotalsInPrometheus(after);
  });

  it('delivers what the collector held when it was killed (SIGKILL), from its persistent queue', async () => {
    await docker(['stop', container('jaeger')]);
    try {
      const id = await sessionWhileJaegerIsDown('collector-killed');
      // The spans wait in the collector's queue for Jaeger; the collector dies without a chance to flush anything.
      await docker(['kill', '--signal', 'KILL', container('otel-collector')]);
      await docker(['start', container('jaeger')]);
      await healthy('jaeger');
      await docker(['start', container('otel-collector')]);
      await healthy('otel-collector');
      await allSpansInJaeger(id, 90_000);
    } finally {
      await docker(['start', container('jaeger')]);
      await docker(['start', container('otel-collector')]);
    }
  });

  it('keeps every acknowledged span when the collector is killed mid-stream; only resent spans can repeat', async () => {
    const outage: Promise<void>[] = [];
    const stream = await sendSpanStream({
      otlpHttp: otlpUrl,
      session: `stream-${randomUUID()}`,
      requests: 150,
      spansPerRequest: 20,
      concurrency: 3,
      onAck: (n) => {
        if (n !== 50) return;
        outage.push(
          (async () => {
            await docker(['kill', '--signal', 'KILL', container('otel-collector')]);
            await docker(['start', container('otel-collector')]);
            await healthy('otel-collector');
          })(),
        );
      },
    });
    await Promise.all(outage);
    expect(outage, 'the collector was killed mid-stream').toHaveLength(1);
    expect(Object.keys(stream.failures).length, 'the sender saw the outage').toBeGreaterThan(0);
    await streamDelivered(stream, 90_000);
  });

  it('keeps every sink across the whole stack going down and up (volumes kept), and the export is complete', async () => {
    const id = await session('before-down-up');
    await waitForSessionInSinks(id, await sinks(), 60_000);
    const spans = await allSpansInJaeger(id, 30_000);
    const down = await compose(['stop', '--timeout', '30']);
    expect(down.exitCode, down.stderr).toBe(0);
    const down2 = await compose(['down', '--timeout', '30']);
    expect(down2.exitCode, down2.stderr).toBe(0);
    const up = await compose(['up', '--detach', '--wait', '--wait-timeout', '120', ...STACK_SERVICES]);
    if (up.exitCode !== 0) {
      const logs = await compose(['logs', '--no-color', '--tail', '80']);
      throw new Error(
        `stack not up again (exit ${up.exitCode}): ${up.stderr.slice(-2000)}\n${logs.stdout.slice(-6000)}`,
      );
    }
    expect(await allSpansInJaeger(id, 60_000)).toBe(spans);
    await scriptTotalsInPrometheus(id);
    const urls = await sinks();
    await waitForSessionInSinks(id, urls, 60_000);
    // `pnpm export` itself, as a user runs it after the restart.
    const out = mkdtempSync(join(tmpdir(), 'faults-export-'));
    const r = await $({
      nothrow: true,
      quiet: true,
    })`node ${join(repoRoot, 'scripts/export.ts')} --session ${id} --telemetry-dir ${stack.telemetryDir} --sessions-dir ${stack.sessionsDir} --prometheus ${urls.prometheus} --jaeger ${urls.jaeger} --out ${out}`;
    const archive = readdirSync(out).find((f) => f.endsWith('.tar.gz'));
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const files = await readArchive(join(out, archive as string));
    const manifest = JSON.parse(
      files.get(`${(archive as string).slice(0, -'.tar.gz'.length)}/manifest.json`)?.toString('utf8') ?? '{}',
    ) as Manifest;
    expect(manifest.missing, JSON.stringify(manifest.missing)).toEqual([]);
  });

  it('a resent request: twice in the files, once in Jaeger, once in the export', async () => {
    const session = `resent-${randomUUID()}`;
    const traceId = randomBytes(16).toString('hex');
    const spanIds = Array.from({ length: 5 }, () => randomBytes(8).toString('hex'));
    const body = encodeTraces(
      'resent',
      spanIds.map((spanId) => ({ traceId, spanId, name: 'resent', attributes: { 'session.id': session } })),
    );
    for (let i = 0; i < 2; i++) {
      const r = await fetch(`${await otlpUrl()}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-protobuf' },
        body,
      });
      expect(r.status, await r.text()).toBe(200);
    }
    const inFiles = await waitFor(
      'the resent request is not twice in the files',
      async () => {
        const r = await sessionRecords(stack.telemetryDir, 'traces', session);
        return r.length === 2 * spanIds.length ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500 },
    );
    expect(new Set(inFiles.map((r) => (r.item as { spanId: string }).spanId)).size).toBe(spanIds.length);
    await waitFor(
      'Jaeger does not show each span of the resent request exactly once',
      async () => {
        const got = (await jaegerTrace(await jaegerUrl(), traceId).catch(() => [])).flatMap((t) =>
          t.spans.map((x) => x.spanID),
        );
        return got.length === spanIds.length && new Set(got).size === spanIds.length ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    const view = await filterSignal(stack.telemetryDir, 'traces', new Set([session]), () => undefined);
    expect(view).toMatchObject({ recordsKept: spanIds.length, duplicateRequests: 1 });
  });
});
