// What the scaled topology's fault specs (specs/scaled/) do to and ask of the shared scaled stack, apart from the
// specs so they read as the faults and their guarantees: crashing a service by its PID (service-control.ts), the
// sinks where they are now (a restarted container with a published port gets a new one), a session and a span
// stream run together, and the checks: every span of a stream in the gateways' files (their union, and each
// gateway's own) and in Jaeger, a session whole in every sink.
// Every wait here is bounded by progress (`untilDone`): it goes on while what it counts still grows, and fails once
// nothing moved for a while, or at a hard ceiling, naming what it saw. A busy two-core machine is slow, not stuck.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { expect } from 'vitest';
import { jaegerTrace, jaegerTraces } from '../../scripts/lib/sinks/jaeger.ts';
import { type SinkEndpoints, waitForSessionInSinks } from '../../scripts/lib/sinks/session-sinks.ts';
import { sessionTokens } from '../../scripts/lib/sinks/session-totals.ts';
import { sessionRecords } from '../../scripts/lib/sinks/telemetry-files.ts';
import { runSessionIn } from '../../scripts/lib/testing/ephemeral-stack.ts';
import type { StreamResult } from '../../scripts/lib/testing/otlp-stream.ts';
import { serviceControl } from './service-control.ts';
import { expectedFor, type StackInfo } from './stack.ts';

/** Jaeger's query over OpenSearch answers slower than over Badger: one query may take this long. */
export const JAEGER_QUERY = { timeoutMs: 15_000 };
/** The gateway collectors (`otel-gateway-3` joins in profile `resize`). */
export const GATEWAYS = ['otel-gateway-1', 'otel-gateway-2', 'otel-gateway-3'];

export interface Progress<T> {
  /** The result, once there. */
  done?: T;
  /** A number that grows while things move (spans found, say). */
  progress: number;
  /** What was seen, for the failure message. */
  seen: string;
}

/**
 * Polls `probe` until it is done. Fails when its progress has not grown for `stallMs`, or after `maxMs` in all,
 * naming what it last saw (a probe that throws counts as no progress; its error is named).
 */
export async function untilDone<T>(
  what: string,
  probe: () => Promise<Progress<T>>,
  o: { stallMs: number; maxMs: number; intervalMs?: number },
): Promise<T> {
  const start = Date.now();
  let best = Number.NEGATIVE_INFINITY;
  let moved = start;
  let seen = 'nothing yet';
  let error = '';
  for (;;) {
    try {
      const p = await probe();
      if (p.done !== undefined) return p.done;
      seen = p.seen;
      error = '';
      if (p.progress > best) {
        best = p.progress;
        moved = Date.now();
      }
    } catch (err) {
      error = ` (last error: ${(err as Error).message.slice(0, 300)})`;
    }
    const now = Date.now();
    if (now - moved > o.stallMs)
      throw new Error(`${what}: no progress for ${o.stallMs} ms; last seen ${seen}${error}`);
    if (now - start > o.maxMs)
      throw new Error(`${what}: not done after ${o.maxMs} ms; last seen ${seen}${error}`);
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 1000));
  }
}

/** How often each id occurs. */
export function occurrences(ids: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const id of ids) m.set(id, (m.get(id) ?? 0) + 1);
  return m;
}

/** Extra copies in a count (each id's occurrences beyond the first, summed). */
export const extraCopies = (m: Map<string, number>): number => [...m.values()].reduce((a, n) => a + n - 1, 0);

/** What a stream's check found, for the spec to assert on and print. */
export interface StreamFigures {
  sent: number;
  /** Distinct span ids in the files (every gateway's) and in Jaeger. */
  inFiles: number;
  inJaeger: number;
  /** Extra copies in the files, in all and beyond what the sender resent (mayRepeat). */
  fileCopies: number;
  fileCopiesNotResent: number;
  /** Span ids with a copy in each gateway's files (a span routed to one gateway, then to another). */
  byGateway: Record<string, number>;
  /** Extra copies Jaeger answers (its query over OpenSearch). */
  jaegerCopies: number;
}

/** The scaled fault specs' helpers on the shared scaled stack. */
export function scaledStack(s: StackInfo) {
  const control = serviceControl(s);
  const jaegerUrl = () => control.url('jaeger', 16686);
  /** The agent's OTLP/HTTP port on the host, read again each time (the agent may have been restarted). */
  const otlpHttp = () => control.url('otel-collector', 4318);
  /** The sinks where they are now. */
  const sinks = async (): Promise<SinkEndpoints> => ({
    telemetryDir: s.telemetryDir,
    jaeger: await jaegerUrl(),
    prometheus: await control.url('prometheus', 9090),
    victorialogs: await control.url('victorialogs', 9428),
  });
  const gatewayDir = (gateway: string) => join(s.telemetryDir, gateway.replace(/^otel-/, ''));

  /** A stream's spans in the files: in all (every gateway's, by span id), and which gateway's files hold each. */
  async function streamInFiles(
    stream: StreamResult,
  ): Promise<{ all: Map<string, number>; byGateway: Record<string, Set<string>> }> {
    const ids = async (dir: string) =>
      (await sessionRecords(dir, 'traces', stream.session)).map((r) =>
        String((r.item as { spanId?: string }).spanId),
      );
    const all = occurrences(await ids(s.telemetryDir));
    const byGateway: Record<string, Set<string>> = {};
    for (const g of GATEWAYS) if (existsSync(gatewayDir(g))) byGateway[g] = new Set(await ids(gatewayDir(g)));
    return { all, byGateway };
  }

  /** A stream's spans in Jaeger, by span id (each of its traces asked for). */
  async function streamInJaeger(stream: StreamResult): Promise<Map<string, number>> {
    const base = await jaegerUrl();
    const ids: string[] = [];
    for (const traceId of stream.traceIds)
      for (const t of await jaegerTrace(base, traceId, JAEGER_QUERY))
        for (const sp of t.spans) ids.push(sp.spanID);
    return occurrences(ids);
  }

  /**
   * Waits (bounded by progress) until every span of the stream is in the files, then (only with `jaeger`) in Jaeger;
   * returns the figures. Asserts nothing about duplicates: each spec states its rule.
   */
  async function streamDelivered(
    stream: StreamResult,
    o: { jaeger: boolean; filesStallMs?: number; jaegerStallMs?: number },
  ): Promise<StreamFigures> {
    const want = stream.spanIds;
    const files = await untilDone(
      `the gateways' files do not hold all ${want.length} spans of stream ${stream.session}`,
      async () => {
        const f = await streamInFiles(stream);
        const have = want.filter((id) => f.all.has(id)).length;
        return {
          done: have === want.length ? f : undefined,
          progress: have,
          seen: `${have} of ${want.length}`,
        };
      },
      { stallMs: o.filesStallMs ?? 90_000, maxMs: 600_000 },
    );
    let jaeger = new Map<string, number>();
    if (o.jaeger)
      jaeger = await untilDone(
        `Jaeger does not hold all ${want.length} spans of stream ${stream.session}`,
        async () => {
          const m = await streamInJaeger(stream);
          const have = want.filter((id) => m.has(id)).length;
          return {
            done: have === want.length ? m : undefined,
            progress: have,
            seen: `${have} of ${want.length}`,
          };
        },
        { stallMs: o.jaegerStallMs ?? 120_000, maxMs: 600_000, intervalMs: 2000 },
      );
    const notResent = [...files.all].filter(([id, n]) => n - 1 > (stream.mayRepeat.get(id) ?? 0));
    return {
      sent: want.length,
      inFiles: want.filter((id) => files.all.has(id)).length,
      inJaeger: want.filter((id) => jaeger.has(id)).length,
      fileCopies: extraCopies(files.all),
      fileCopiesNotResent: notResent.reduce((a, [id, n]) => a + n - 1 - (stream.mayRepeat.get(id) ?? 0), 0),
      byGateway: Object.fromEntries(
        Object.entries(files.byGateway).map(([g, set]) => [g, want.filter((id) => set.has(id)).length]),
      ),
      jaegerCopies: extraCopies(jaeger),
    };
  }

  /** A scripted demo session that leaves stopped services as they are (compose run would start them). */
  async function session(user: string): Promise<{ id: string; exitCode: number | null; output: string }> {
    const run = await runSessionIn(s, { script: 'demo', user }, undefined, { noDeps: true });
    return { id: run.plan.sessionId, exitCode: run.exitCode, output: run.output };
  }

  /**
   * The session is whole: in every sink (waitForSessionInSinks: the files, Jaeger, Prometheus, VictoriaLogs with
   * every event the files hold), its token totals equal to the script's (compared as objects), and every span of
   * it that the files hold in Jaeger. Returns figures to print.
   */
  async function sessionWhole(id: string): Promise<{ spans: number; events: number; ms: number }> {
    const t0 = Date.now();
    const inSinks = await waitForSessionInSinks(id, await sinks(), 240_000);
    const want = expectedFor('demo').tokens;
    let tokens: Record<string, number> = {};
    await untilDone(
      `Prometheus's token totals of session ${id} never matched the script's ${JSON.stringify(want)}`,
      async () => {
        tokens = await sessionTokens((await sinks()).prometheus, id);
        const sum = Object.values(tokens).reduce((a, b) => a + b, 0);
        return {
          done: isDeepStrictEqual(tokens, want) ? true : undefined,
          progress: sum,
          seen: JSON.stringify(tokens),
        };
      },
      { stallMs: 60_000, maxMs: 240_000 },
    );
    const spans = new Set(
      (await sessionRecords(s.telemetryDir, 'traces', id)).map((r) =>
        String((r.item as { spanId?: string }).spanId),
      ),
    );
    expect(spans.size, `spans of session ${id} in the files`).toBeGreaterThan(10);
    await untilDone(
      `Jaeger does not hold all ${spans.size} spans the files hold of session ${id}`,
      async () => {
        const base = await jaegerUrl();
        const got = new Set<string>();
        for (const service of ['claude-code', 'mcp-file-ops', 'mcp-database'])
          for (const t of await jaegerTraces(base, service, id, JAEGER_QUERY))
            for (const sp of t.spans) got.add(sp.spanID);
        const have = [...spans].filter((x) => got.has(x)).length;
        return {
          done: have === spans.size ? true : undefined,
          progress: have,
          seen: `${have} of ${spans.size}`,
        };
      },
      { stallMs: 120_000, maxMs: 600_000, intervalMs: 2000 },
    );
    return { spans: spans.size, events: inSinks.events.length, ms: Date.now() - t0 };
  }

  return {
    control,
    crash: (service: string, timeoutMs?: number) => control.crash(service, timeoutMs),
    healthy: (service: string, timeoutMs?: number) => control.healthy(service, timeoutMs),
    compose: (args: string[]) => control.compose(args),
    jaegerUrl,
    otlpHttp,
    sinks,
    gatewayDir,
    streamInFiles,
    streamInJaeger,
    streamDelivered,
    session,
    sessionWhole,
  };
}

/** One line of a stream's figures, for the spec's output. */
export const streamLine = (name: string, stream: StreamResult, f: StreamFigures): string =>
  `${name}: stream of ${f.sent} spans (${stream.traceIds.length} traces) sent in ${(stream.ms / 1000).toFixed(1)} s; ` +
  `${stream.retriedRequests} request(s) resent (${stream.retriedSpans} spans; failed attempts ` +
  `${JSON.stringify(stream.failures)}); files: ${f.inFiles} distinct, ${f.fileCopies} extra copies ` +
  `(${f.fileCopiesNotResent} not resent by the sender), by gateway ${JSON.stringify(f.byGateway)}; ` +
  `Jaeger: ${f.inJaeger} distinct, ${f.jaegerCopies} extra copies`;
