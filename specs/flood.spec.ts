// Recipe: one client floods the collector (16 senders, as fast as it answers, for 15 s at most) while another sends
// its usual small requests. On a stack of its own, so the flood slows no other spec, with the production rotation
// (100 MB files, 20 kept): the specs' 1 MB x 8 would rotate the polite client's spans out of the files, as any
// rotation drops the oldest files beyond its bound.
//   - the polite client's every request is acknowledged (retried as an SDK does when refused) and all its spans are
//     in the files and in Jaeger;
//   - the collector's memory stays under its memory limiter's bound (80 % of OTELCOL_MEMORY_LIMIT), it is not
//     killed or restarted, and it still serves afterwards.
// And from inside a session's network, through the session gateway: one session sends unique delta series as fast
// as it is answered (what once had the collector OOM-killed 7 times) while another sends its usual metrics and
// events (the flood bounded in time and requests, the polite retries in time, the script's container killed when
// the spec ends): the flooder is refused past its series limit (429), the other session's every point and event is
// in the files, Prometheus and VictoriaLogs, and the collector is neither killed nor restarted.
// And one session opening 20 connections past its cap to the session gateway and mcp-file-ops, and holding them: the
// extra ones are refused, another session is still served meanwhile, and once they are let go the session gets in
// again and both services are healthy, never restarted.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jaegerTrace } from '../scripts/lib/sinks/jaeger.ts';
import { promQuery } from '../scripts/lib/sinks/prometheus.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { sessionFilter, vlQuery } from '../scripts/lib/sinks/victorialogs.ts';
import { readEnvFile } from '../scripts/lib/stack/env-file.ts';
import { envFiles } from '../scripts/lib/stack/stack-files.ts';
import { containerPid, peakRss } from '../scripts/lib/testing/bench-collector.ts';
import {
  type EphemeralStack,
  NO_OVERRIDE,
  startEphemeralStack,
} from '../scripts/lib/testing/ephemeral-stack.ts';
import { encodeTraces, grpcExportTraces } from '../scripts/lib/testing/otlp-proto.ts';
import { sendSpanStream } from '../scripts/lib/testing/otlp-stream.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { connectionHolder, serviceRss, serviceSetting } from './support/connection-holder.ts';
import { type ServiceControl, serviceControl } from './support/service-control.ts';
import { sessionNetwork } from './support/session-network.ts';

const FLOOD_SENDERS = 16;
/** Of the flooders, these send over gRPC (the rest over HTTP). */
const GRPC_FLOODERS = 4;
const FLOOD_MS = 15_000;
const FLOOD_MAX_REQUESTS = 4000;
const SPANS_PER_FLOOD_REQUEST = 500;
/** The gateway flood: 4 senders of unique delta series, while the polite session sends, and within these bounds. */
const GATEWAY_FLOOD_MS = 20_000;
const GATEWAY_FLOOD_MAX_REQUESTS = 2000;
const GATEWAY_FLOOD_POINTS = 1000;
/** The polite session's exports (a metric point and an event each), and the time all its retries may take. */
const POLITE_EXPORTS = 10;
const POLITE_RETRY_MS = 30_000;
/** How long Jaeger may take to write the flood's backlog, and how long its queue may be empty with spans missing. */
const JAEGER_DRAIN_MS = 480_000;
const JAEGER_EMPTY_QUEUE_MS = 60_000;

/** `512m` -> bytes. */
function bytesOf(limit: string): number {
  const m = /^(\d+)([kmg])?$/i.exec(limit.trim());
  if (!m) throw new Error(`OTELCOL_MEMORY_LIMIT=${limit}: not a size like 512m`);
  return Number(m[1]) * 1024 ** ({ k: 1, m: 2, g: 3 }[(m[2] ?? '').toLowerCase() as 'k'] ?? 0);
}

describe('a client flooding the collector', () => {
  let stack: EphemeralStack;
  let c: ServiceControl;
  beforeAll(async () => {
    stack = await startEphemeralStack({ override: NO_OVERRIDE });
    c = serviceControl(stack);
  }, 300_000);
  afterAll(async () => {
    await stack?.down();
  }, 120_000);

  it('does not keep others out, and the collector stays under its memory bound', async () => {
    const limit = bytesOf(readEnvFile(envFiles.versions).OTELCOL_MEMORY_LIMIT ?? '');
    const bound = 0.8 * limit;
    const pid = await containerPid(c.container('otel-collector'));
    const statuses: Record<string, number> = {};
    const flood = randomUUID();
    const body = encodeTraces(
      'flood',
      Array.from({ length: SPANS_PER_FLOOD_REQUEST }, (_, i) => ({
        traceId: randomBytes(16).toString('hex'),
        spanId: randomBytes(8).toString('hex'),
        name: `flood-${i}`,
        attributes: { 'session.id': flood, payload: 'f'.repeat(400) },
      })),
    );
    const until = Date.now() + FLOOD_MS;
    let sent = 0;
    const flooder = async (grpc: boolean) => {
      while (Date.now() < until && sent < FLOOD_MAX_REQUESTS) {
        sent++;
        if (grpc) {
          const a = await grpcExportTraces(stack.otlpGrpc, body);
          statuses[`grpc ${a.status}`] = (statuses[`grpc ${a.status}`] ?? 0) + 1;
          continue;
        }
        const r = await fetch(`${stack.otlpHttp}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-protobuf' },
          body,
          signal: AbortSignal.timeout(30_000),
        }).catch((e: Error) => ({ status: e.name, arrayBuffer: async () => undefined }));
        await r.arrayBuffer();
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      }
    };
    const [polite] = await Promise.all([
      sendSpanStream({
        otlpHttp: () => stack.otlpHttp,
        session: `polite-${randomUUID()}`,
        requests: 20,
        spansPerRequest: 5,
        concurrency: 1,
        pauseMs: 500,
        retryForMs: 60_000,
      }),
      ...Array.from({ length: FLOOD_SENDERS }, (_, i) => flooder(i < GRPC_FLOODERS)),
    ]);
    const peak = peakRss(pid) ?? Number.NaN;
    console.log(
      `flood: ${sent} requests of ${(body.length / 1024).toFixed(0)} KiB in ${FLOOD_MS / 1000} s at most, answers ${JSON.stringify(statuses)}; ` +
        `polite client: ${polite.spanIds.length} spans, ${polite.retriedRequests} request(s) retried ${JSON.stringify(polite.failures)}; ` +
        `collector peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (memory limiter bound ${(bound / 2 ** 20).toFixed(0)} MiB, container limit ${(limit / 2 ** 20).toFixed(0)} MiB)`,
    );
    expect(sent, 'the flood ran').toBeGreaterThan(FLOOD_SENDERS);
    // Every answer is an acceptance or a refusal that tells the sender to retry later (the memory limiter, a full
    // queue): never a server error, a time-out or a dropped connection.
    const retryLater = ['200', '429', '503', 'grpc 0', 'grpc 8', 'grpc 14'];
    expect(Object.keys(statuses).filter((k) => !retryLater.includes(k))).toEqual([]);
    expect(statuses['grpc 0'] ?? 0, 'gRPC flooders were answered').toBeGreaterThan(0);
    expect(peak, 'the collector peak RSS').toBeLessThan(bound);
    expect(
      await c
        .docker([
          'inspect',
          '--format',
          '{{.State.OOMKilled}} {{.RestartCount}}',
          c.container('otel-collector'),
        ])
        .then((r) => r.stdout.trim()),
    ).toBe('false 0');
    // Every span of the polite client, in the files and in Jaeger.
    await waitFor(
      `the files do not hold all ${polite.spanIds.length} spans of the polite client`,
      async () => {
        const got = new Set(
          (await sessionRecords(stack.telemetryDir, 'traces', polite.session)).map(
            (r) => (r.item as { spanId: string }).spanId,
          ),
        );
        return polite.spanIds.every((id) => got.has(id)) ? true : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    // Jaeger's copy goes through the collector's queue for Jaeger, behind the flood's spans: on a busy machine
    // Jaeger (Badger, one process) takes minutes to write them all. So the wait is bounded by progress, not a fixed
    // time: it lasts while the queue for Jaeger still holds requests (the collector's own
    // otelcol_exporter_queue_size, scraped by Prometheus), up to JAEGER_DRAIN_MS; a queue empty for
    // JAEGER_EMPTY_QUEUE_MS with polite spans still missing is a loss, and fails at once.
    const missing = async () => {
      const got = new Set(
        (await jaegerTrace(stack.jaeger, polite.traceId).catch(() => [])).flatMap((t) =>
          t.spans.map((x) => x.spanID),
        ),
      );
      return polite.spanIds.filter((id) => !got.has(id)).length;
    };
    const jaegerQueue = async () => {
      const [sample] = await promQuery(
        stack.prometheus,
        'sum(otelcol_exporter_queue_size{exporter="otlp_grpc/jaeger"})',
      ).catch(() => []);
      return sample ? Number(sample.value[1]) : Number.NaN;
    };
    const drainStart = Date.now();
    let emptySince: number | null = null;
    let lastLog = drainStart;
    for (;;) {
      const left = await missing();
      if (left === 0) break;
      const queued = await jaegerQueue();
      const now = Date.now();
      if (queued === 0) emptySince ??= now;
      else emptySince = null;
      const took = `${((now - drainStart) / 1000).toFixed(0)} s`;
      if (now - lastLog >= 30_000) {
        console.log(
          `flood: waiting for Jaeger: ${left} polite span(s) not there yet, ${queued} request(s) queued for Jaeger, ${took}`,
        );
        lastLog = now;
      }
      if (emptySince !== null && now - emptySince > JAEGER_EMPTY_QUEUE_MS)
        throw new Error(
          `Jaeger lacks ${left} of the polite client's ${polite.spanIds.length} spans while the collector's queue for Jaeger has been empty for ${JAEGER_EMPTY_QUEUE_MS} ms (${took} after the flood)`,
        );
      if (now - drainStart > JAEGER_DRAIN_MS)
        throw new Error(
          `Jaeger lacks ${left} of the polite client's ${polite.spanIds.length} spans after ${JAEGER_DRAIN_MS} ms (${queued} request(s) still queued for Jaeger)`,
        );
      await new Promise((r) => setTimeout(r, 2000));
    }
    console.log(
      `flood: Jaeger holds every polite span ${((Date.now() - drainStart) / 1000).toFixed(0)} s after the flood`,
    );
    // 720 s: the flood, the files' wait, Jaeger's drain (JAEGER_DRAIN_MS) and the steps before them.
  }, 720_000);

  it("one session's unique delta series cost another session nothing", async () => {
    const net = await sessionNetwork(stack);
    const flood = randomUUID();
    const polite = randomUUID();
    try {
      // The flood runs while the polite session sends (and at most GATEWAY_FLOOD_MS, GATEWAY_FLOOD_MAX_REQUESTS):
      // long enough to be refused past the limit many times over, bounded so that it leaves nothing behind. The
      // polite session retries a refusal as an SDK does, within POLITE_RETRY_MS for all its exports together.
      const script = `
        const FLOOD_MS = ${GATEWAY_FLOOD_MS};
        const FLOOD_MAX_REQUESTS = ${GATEWAY_FLOOD_MAX_REQUESTS};
        const flood = ${JSON.stringify({ session: flood, auth: `Bearer ${net.credential('mallory', flood)}` })};
        const polite = ${JSON.stringify({ session: polite, auth: `Bearer ${net.credential('carol', polite)}` })};
        const attr = (key, v) => ({ key, value: { stringValue: String(v) } });
        const now = () => String(Date.now() * 1e6);
        const metrics = (session, name, temporality, points) => ({ resourceMetrics: [{ resource: { attributes: [attr('service.name', 'flood-spec')] },
          scopeMetrics: [{ metrics: [{ name, sum: { aggregationTemporality: temporality, isMonotonic: true,
            dataPoints: points.map((p) => ({ attributes: [attr('session.id', session), ...p.attrs], asInt: String(p.value), startTimeUnixNano: p.start, timeUnixNano: now() })) } }] }] }] });
        const send = (who, path, body) => fetch('http://session-gateway:8080' + path, { method: 'POST',
          headers: { 'content-type': 'application/json', authorization: who.auth }, body: JSON.stringify(body), signal: AbortSignal.timeout(10000) })
          .then(async (r) => { await r.arrayBuffer(); return String(r.status); }, (e) => e.name + (e.cause?.code ? ' ' + e.cause.code : ''));
        const statuses = {};
        let n = 0;
        let politeDone = false;
        const until = Date.now() + FLOOD_MS;
        const flooder = async () => {
          while (Date.now() < until && n < FLOOD_MAX_REQUESTS && !(politeDone && statuses['429'] > 0)) {
            const k = n++;
            const points = Array.from({ length: ${GATEWAY_FLOOD_POINTS} }, (_, i) => ({ attrs: [attr('unique', k * ${GATEWAY_FLOOD_POINTS} + i)], value: 1, start: now() }));
            const st = await send(flood, '/v1/metrics', metrics(flood.session, 'flood.unique', 1, points));
            statuses[st] = (statuses[st] ?? 0) + 1;
          }
        };
        // As an SDK does: a refusal that says retry later is retried (all exports within one time budget).
        const politeStatuses = {};
        const retryUntil = Date.now() + ${POLITE_RETRY_MS};
        let slowestMs = 0;
        const retried = async (path, body) => {
          const t0 = Date.now();
          for (;;) {
            const st = await send(polite, path, body);
            politeStatuses[st] = (politeStatuses[st] ?? 0) + 1;
            if (st === '200') { slowestMs = Math.max(slowestMs, Date.now() - t0); return true; }
            if (Date.now() > retryUntil) return false;
            await new Promise((r) => setTimeout(r, 1000));
          }
        };
        const start = now();
        const politeSender = async () => {
          let ok = 0;
          for (let i = 1; i <= ${POLITE_EXPORTS}; i++) {
            if (await retried('/v1/metrics', metrics(polite.session, 'polite.count', 2, [{ attrs: [], value: i, start }]))) ok++;
            if (await retried('/v1/logs', { resourceLogs: [{ resource: { attributes: [attr('service.name', 'flood-spec')] }, scopeLogs: [{ logRecords: [{ timeUnixNano: now(),
              body: { stringValue: 'polite.event' }, attributes: [attr('session.id', polite.session), attr('event.index', i)] }] }] }] })) ok++;
            await new Promise((r) => setTimeout(r, 500));
          }
          politeDone = true;
          return ok;
        };
        const t0 = Date.now();
        const [politeOk] = await Promise.all([politeSender(), ...Array.from({ length: 4 }, flooder)]);
        console.log(JSON.stringify({ statuses, floodRequests: n, politeOk, politeStatuses, slowestMs, ms: Date.now() - t0 }));`;
      const out = (await net.run(script, 60_000)) as {
        statuses: Record<string, number>;
        floodRequests: number;
        politeOk: number;
        politeStatuses: Record<string, number>;
        slowestMs: number;
      };
      console.log(`gateway flood: ${JSON.stringify(out)}`);
      expect(out.statuses['429'] ?? 0, 'the flooder was refused past its series limit').toBeGreaterThan(0);
      // Only acceptances and refusals past the limit: anything else (a network error, a time-out, a 5xx) is a
      // flood that reached further than the gateway's limiter, or a gateway the script could not reach.
      expect(Object.keys(out.statuses).filter((k) => k !== '200' && k !== '429')).toEqual([]);
      expect(out.politeOk, 'every polite export acknowledged').toBe(2 * POLITE_EXPORTS);
      // Nothing at all: not one of its requests was refused or timed out on the way (the retries are only there
      // so that, should one be, the rest of the spec still says what became of its data).
      expect(out.politeStatuses, 'the polite session was answered 200 every time').toEqual({
        '200': 2 * POLITE_EXPORTS,
      });
      await waitFor(
        `the files do not hold the polite session's ${POLITE_EXPORTS} points and events`,
        async () => {
          const points = await sessionRecords(stack.telemetryDir, 'metrics', polite);
          const events = await sessionRecords(stack.telemetryDir, 'logs', polite);
          return points.length >= POLITE_EXPORTS && events.length >= POLITE_EXPORTS ? true : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 1000 },
      );
      await waitFor(
        `VictoriaLogs does not hold the polite session's ${POLITE_EXPORTS} events`,
        async () =>
          (await vlQuery(stack.victorialogs, sessionFilter(polite))).length === POLITE_EXPORTS
            ? true
            : undefined,
        { timeoutMs: 30_000, intervalMs: 1000 },
      );
      await waitFor(
        `Prometheus does not hold the polite session's counter at ${POLITE_EXPORTS}`,
        async () =>
          (await promQuery(stack.prometheus, `max(last_over_time({session_id="${polite}"}[1h]))`))[0]
            ?.value[1] === String(POLITE_EXPORTS)
            ? true
            : undefined,
        { timeoutMs: 30_000, intervalMs: 1000 },
      );
      expect(
        await c
          .docker([
            'inspect',
            '--format',
            '{{.State.OOMKilled}} {{.RestartCount}}',
            c.container('otel-collector'),
          ])
          .then((r) => r.stdout.trim()),
      ).toBe('false 0');
    } finally {
      await net.remove();
    }
  }, 150_000);

  it("one session's connections past its cap are refused; another session is served meanwhile", async () => {
    const caps: Record<string, number> = {
      'session-gateway': Number(
        await serviceSetting(stack, 'session-gateway', 'GATEWAY_MAX_CONNECTIONS_PER_CLIENT'),
      ),
      'mcp-file-ops': Number(await serviceSetting(stack, 'mcp-file-ops', 'MCP_MAX_CONNECTIONS_PER_CLIENT')),
    };
    const services = Object.keys(caps);
    const rss = async () =>
      Object.fromEntries(
        await Promise.all(
          services.map(async (s) => [s, ((await serviceRss(stack, s)) ?? Number.NaN) / 2 ** 20]),
        ),
      );
    const hostile = await sessionNetwork(stack);
    const polite = await sessionNetwork(stack);
    const leave = [await hostile.join('mcp-file-ops'), await polite.join('mcp-file-ops')];
    const holder = connectionHolder(stack, hostile, services);
    try {
      const before = await rss();
      for (const s of services) {
        const opened = (await holder.step(`open ${s} ${(caps[s] ?? 0) + 20}`)) as {
          outcomes: Record<string, number>;
        };
        expect(opened.outcomes, `${s}: the first ${caps[s]} served, the 20 past the cap refused`).toEqual({
          served: caps[s],
          refused: 20,
        });
      }
      const atCap = await rss();
      // The other session, while the connections are held: a telemetry export through the gateway, MCP's health.
      const auth = `Bearer ${polite.credential('carol', randomUUID())}`;
      const control = (await polite.run(`
        const attr = (key, v) => ({ key, value: { stringValue: String(v) } });
        const logs = { resourceLogs: [{ resource: { attributes: [attr('service.name', 'flood-spec')] }, scopeLogs: [{ logRecords: [{
          timeUnixNano: String(Date.now() * 1e6), body: { stringValue: 'polite.event' } }] }] }] };
        const status = (p) => p.then(async (r) => { await r.arrayBuffer(); return r.status; }, (e) => e.name + ' ' + (e.cause?.code ?? ''));
        console.log(JSON.stringify({
          gateway: await status(fetch('http://session-gateway:8080/v1/logs', { method: 'POST', body: JSON.stringify(logs),
            headers: { 'content-type': 'application/json', authorization: ${JSON.stringify(auth)} }, signal: AbortSignal.timeout(10000) })),
          mcp: await status(fetch('http://mcp-file-ops:8080/health', { signal: AbortSignal.timeout(10000) })),
        }));`)) as Record<string, unknown>;
      expect(control, 'the other session served while the cap is held').toEqual({ gateway: 200, mcp: 200 });
      // Still at the cap after that: one more is refused, and every held connection is still open.
      expect(await holder.step('extra')).toEqual({
        outcomes: { 'session-gateway': 'refused', 'mcp-file-ops': 'refused' },
        held: caps,
      });
      // Let go: the session gets in again.
      expect(await holder.step('release')).toEqual({
        outcomes: { 'session-gateway': 'served', 'mcp-file-ops': 'served' },
        held: { 'session-gateway': 0, 'mcp-file-ops': 0 },
      });
      for (const s of services) {
        await c.healthy(s);
        expect(await c.started(s), `${s} not restarted`).toMatch(/ restarts=0$/);
        expect(await c.logs(s)).toContain(`refused a connection from`);
      }
      const after = await rss();
      console.log(
        `connection cap: ${JSON.stringify(caps)} per client, 20 past it refused at each; resident memory (MiB) before ${JSON.stringify(before)}, at the cap ${JSON.stringify(atCap)}, after ${JSON.stringify(after)}`,
      );
    } finally {
      await holder.remove();
      for (const f of leave) await f();
      await hostile.remove();
      await polite.remove();
    }
  }, 180_000);
});
