// Recipe: nothing is lost when parts of the stack fail. These specs stop, restart and kill services, so they run on
// a stack of their own (the same compose files, started here and removed after), not the shared one.
//   - Jaeger restarted: its earlier traces are still there (Badger on a volume, not memory).
//   - Jaeger down while a session runs: the collector keeps the spans and delivers every one once Jaeger is back.
//   - Prometheus restarted: a session's totals from before are intact, and a session after it adds up right.
//   - The collector killed (SIGKILL) while it holds undelivered spans, then started again: its persistent queue
//     (file_storage) delivers them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { jaegerTraces } from '../scripts/lib/sinks/jaeger.ts';
import { promQuery } from '../scripts/lib/sinks/prometheus.ts';
import { waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import {
  type EphemeralStack,
  runSessionIn,
  startEphemeralStack,
} from '../scripts/lib/testing/ephemeral-stack.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { expectedFor } from './support/stack.ts';

let s: EphemeralStack;

beforeAll(async () => {
  s = await startEphemeralStack();
}, 300_000);
afterAll(async () => {
  await s?.down();
}, 120_000);

const docker = (args: string[]) => $({ quiet: true })`docker ${args}`;
const container = (service: string) => `${s.project}-${service}-1`;

/** A service's URL now: a restarted container gets a new random host port (still on 127.0.0.1). */
async function url(service: string, port: number): Promise<string> {
  const out = (await docker(['port', container(service), `${port}/tcp`])).stdout.trim().split('\n')[0] ?? '';
  const host = /^127\.0\.0\.1:(\d+)$/.exec(out)?.[1];
  if (!host) throw new Error(`${service}'s port ${port} is not published on 127.0.0.1: ${out}`);
  return `http://127.0.0.1:${host}`;
}
const jaegerUrl = () => url('jaeger', 16686);

/** A session's token totals in Prometheus, once they equal the script's. */
async function scriptTotalsInPrometheus(id: string): Promise<Record<string, number>> {
  const want = JSON.stringify(expectedFor('demo').tokens);
  return waitFor(
    `Prometheus's token totals of session ${id} never matched the script`,
    async () => {
      const base = await url('prometheus', 9090);
      const r = await promQuery(
        base,
        `sum by (type) (claude_code_token_usage_tokens_total{session_id="${id}"})`,
      );
      const got = Object.fromEntries(r.map((x) => [x.metric.type as string, Number(x.value[1])]));
      return JSON.stringify(got) === want ? got : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 1000 },
  );
}

async function healthy(service: string): Promise<void> {
  await waitFor(
    `${service} not healthy`,
    async () =>
      (
        await docker(['inspect', '--format', '{{.State.Health.Status}}', container(service)])
      ).stdout.trim() === 'healthy'
        ? true
        : undefined,
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}

async function running(service: string): Promise<boolean> {
  return (
    (await docker(['inspect', '--format', '{{.State.Running}}', container(service)])).stdout.trim() === 'true'
  );
}

/** The session's spans in the files, by span id: what Jaeger must end up holding. */
async function spanIdsInFiles(id: string): Promise<Set<string>> {
  const spans = await sessionRecords(s.telemetryDir, 'traces', id);
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
  const run = await runSessionIn(s, { script: 'demo', user }, undefined, { noDeps: true });
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

describe('faults: nothing is lost', () => {
  it('keeps earlier traces when Jaeger restarts', async () => {
    const id = await session('before-restart');
    await waitForSessionInSinks(id, s, 60_000);
    const before = await allSpansInJaeger(id, 30_000);
    await docker(['restart', container('jaeger')]);
    await healthy('jaeger');
    expect(await allSpansInJaeger(id, 30_000)).toBe(before);
  });

  it('delivers every span of a session that ran while Jaeger was down', async () => {
    await docker(['stop', container('jaeger')]);
    try {
      const id = await sessionWhileJaegerIsDown('jaeger-down');
      await docker(['start', container('jaeger')]);
      await healthy('jaeger');
      // The collector retries with backoff (at most 30 s apart).
      await allSpansInJaeger(id, 90_000);
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
});
