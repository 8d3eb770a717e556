// What the fault specs (specs/faults.spec.ts) do to and ask of a stack of their own, apart from the spec so it
// reads as the faults and their checks: its services by name (service-control.ts), the sinks where they are now
// (a restarted container gets a new port), sessions that leave stopped services stopped, and the delivery checks
// (every span of a session or a span stream in the files and in Jaeger, duplicates only where the sender resent).
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import { filterSignal } from '../../scripts/lib/export/phases/otlp-filter.ts';
import { jaegerTrace, jaegerTraces } from '../../scripts/lib/sinks/jaeger.ts';
import { sessionTokens } from '../../scripts/lib/sinks/session-totals.ts';
import { sessionRecords } from '../../scripts/lib/sinks/telemetry-files.ts';
import { type EphemeralStack, runSessionIn } from '../../scripts/lib/testing/ephemeral-stack.ts';
import type { StreamResult } from '../../scripts/lib/testing/otlp-stream.ts';
import { waitFor } from '../../scripts/lib/wait-for.ts';
import { serviceControl } from './service-control.ts';
import { expectedFor } from './stack.ts';

/** The fault specs' helpers on the stack `get()` returns (started in their beforeAll). */
export function faultStack(get: () => EphemeralStack) {
  const control = () => serviceControl(get());
  const url = (service: string, port: number) => control().url(service, port);
  const running = (service: string) => control().running(service);
  const jaegerUrl = () => url('jaeger', 16686);
  const otlpUrl = () => url('otel-collector', 4318);
  /** The sinks where they are now (after restarts, with new ports). */
  const sinks = async () => ({
    ...get(),
    jaeger: await jaegerUrl(),
    prometheus: await url('prometheus', 9090),
    victorialogs: await url('victorialogs', 9428),
  });

  /** How often each span id occurs. */
  function occurrences(ids: string[]): Map<string, number> {
    const m = new Map<string, number>();
    for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
    return m;
  }

  /**
   * Checks a span stream in the files and in Jaeger: every span is there, and spans occur more than once only as
   * often as the sender resent them. Returns the duplicates found in each sink.
   */
  async function streamDelivered(
    stream: StreamResult,
    timeoutMs: number,
  ): Promise<{ files: number; jaeger: number }> {
    const want = stream.spanIds.length;
    const dups = (m: Map<string, number>) => [...m.values()].reduce((a, n) => a + n - 1, 0);
    const inFiles = await waitFor(
      `the files do not hold all ${want} spans of stream ${stream.session}`,
      async () => {
        const m = occurrences(
          (await sessionRecords(get().telemetryDir, 'traces', stream.session)).map((r) =>
            String((r.item as { spanId?: string }).spanId),
          ),
        );
        return stream.spanIds.every((id) => m.has(id)) ? m : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 1000 },
    );
    const inJaeger = await waitFor(
      `Jaeger does not hold all ${want} spans of stream ${stream.session}`,
      async () => {
        const m = occurrences(
          (await jaegerTrace(await jaegerUrl(), stream.traceId).catch(() => [])).flatMap((t) =>
            t.spans.map((x) => x.spanID),
          ),
        );
        return stream.spanIds.every((id) => m.has(id)) ? m : undefined;
      },
      { timeoutMs, intervalMs: 1000 },
    );
    expect(inFiles.size, 'distinct spans in the files').toBe(want);
    expect(inJaeger.size, 'distinct spans in Jaeger').toBe(want);
    const found = { files: dups(inFiles), jaeger: dups(inJaeger) };
    // Every extra copy in the files is of a span whose request was resent after an attempt that may have reached the
    // collector, and no more often than such attempts: the README's "Duplicates".
    const unexplained = [...inFiles].filter(([id, n]) => n - 1 > (stream.mayRepeat.get(id) ?? 0));
    expect(unexplained.slice(0, 5), 'copies in the files beyond what the sender resent').toEqual([]);
    // Jaeger keys spans by trace and span id: a resent span is stored once.
    expect(found.jaeger, 'duplicates in Jaeger').toBe(0);
    // The export's view: a resend is a byte-identical line, kept once.
    const view = await filterSignal(get().telemetryDir, 'traces', new Set([stream.session]), () => undefined);
    expect(view.recordsKept, 'spans `pnpm export` keeps').toBe(want);
    console.log(
      `faults: stream ${stream.session}: ${want} spans sent in ${(stream.ms / 1000).toFixed(1)} s; ` +
        `${stream.retriedRequests} request(s) resent (${stream.retriedSpans} spans; failed attempts ${JSON.stringify(stream.failures)}); ` +
        `duplicates: files ${found.files}, Jaeger ${found.jaeger}, export ${view.duplicateRequests} request(s) dropped`,
    );
    return found;
  }

  /** A session's token totals in Prometheus, once they equal the script's. */
  async function scriptTotalsInPrometheus(id: string): Promise<Record<string, number>> {
    const want = expectedFor('demo').tokens;
    return waitFor(
      `Prometheus's token totals of session ${id} never matched the script`,
      async () => {
        const base = await url('prometheus', 9090);
        const got = await sessionTokens(base, id);
        return isDeepStrictEqual(got, want) ? got : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
  }

  /** The session's spans in the files, by span id: what Jaeger must end up holding. */
  async function spanIdsInFiles(id: string): Promise<Set<string>> {
    const spans = await sessionRecords(get().telemetryDir, 'traces', id);
    return new Set(spans.map((r) => String((r.item as { spanId?: string }).spanId)));
  }

  /** Waits until Jaeger holds every span of the session that the files hold (Claude Code's and the MCP servers'). */
  async function allSpansInJaeger(id: string, timeoutMs: number): Promise<number> {
    const want = await spanIdsInFiles(id);
    expect(want.size, 'spans of the session in the files').toBeGreaterThan(10);
    return waitFor(
      `Jaeger does not hold all ${want.size} spans of session ${id}`,
      async () => {
        const base = await jaegerUrl();
        const got = new Set<string>();
        for (const service of ['claude-code', 'mcp-file-ops', 'mcp-database'])
          for (const t of await jaegerTraces(base, service, id)) for (const sp of t.spans) got.add(sp.spanID);
        // Jaeger's span ids are the OTLP ones (hex); the files' are too.
        return [...want].every((x) => got.has(x)) ? got.size : undefined;
      },
      { timeoutMs, intervalMs: 1000 },
    );
  }

  /** A session that leaves stopped services stopped (compose run would start them again). */
  async function session(user: string): Promise<string> {
    const run = await runSessionIn(get(), { script: 'demo', user }, undefined, { noDeps: true });
    expect(run.exitCode, run.output.slice(-1500)).toBe(0);
    return run.plan.sessionId;
  }

  /** A session run with Jaeger stopped: Jaeger is still stopped after it, and the files already hold its spans. */
  async function sessionWhileJaegerIsDown(user: string): Promise<string> {
    const id = await session(user);
    expect(await running('jaeger'), 'jaeger still stopped after the session').toBe(false);
    await waitFor('the session is not in the files', async () =>
      (await spanIdsInFiles(id)).size > 10 ? true : undefined,
    );
    return id;
  }

  return {
    docker: (args: string[]) => control().docker(args),
    compose: (args: string[]) => control().compose(args),
    container: (service: string) => control().container(service),
    healthy: (service: string) => control().healthy(service),
    running,
    url,
    jaegerUrl,
    otlpUrl,
    sinks,
    streamDelivered,
    scriptTotalsInPrometheus,
    spanIdsInFiles,
    allSpansInJaeger,
    session,
    sessionWhileJaegerIsDown,
  };
}
