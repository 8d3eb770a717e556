// Each model request the gateway saw, as an OTLP/HTTP JSON log record (event claude_code_telemetry.gateway_request,
// telemetry.source=observed) sent to the collector: the usage the API reported, next to what Claude Code says of
// itself. Off the proxy path: records wait in a bounded queue, go in batches, are retried a bounded number of times
// and are dropped (counted, logged in summary) when the collector stays away. The proxy never waits for this.
import { Agent, request } from 'undici';

export const EVENT_NAME = 'claude_code_telemetry.gateway_request';

export interface RequestEvent {
  time: number;
  user: string;
  sessionId: string;
  /** The session's project and git branch, from its credential (absent when it has none). */
  project?: string;
  branch?: string;
  path: string;
  model: string | null;
  status: number;
  attempt: number;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  costUsd: number;
  priceKnown: boolean;
  ttfbMs: number | null;
  durationMs: number;
  requestId: string | null;
  outcome: string;
}

type AnyValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean };
const value = (v: string | number | boolean): AnyValue =>
  typeof v === 'string'
    ? { stringValue: v }
    : typeof v === 'boolean'
      ? { boolValue: v }
      : Number.isInteger(v)
        ? { intValue: String(v) }
        : { doubleValue: v };

export function logRecord(e: RequestEvent) {
  const attrs: Record<string, string | number | boolean | null> = {
    'event.name': EVENT_NAME,
    'user.name': e.user,
    'session.id': e.sessionId,
    project: e.project ?? null,
    'git.branch': e.branch ?? null,
    'telemetry.source': 'observed',
    'http.route': e.path,
    'http.status_code': e.status,
    model: e.model,
    attempt: e.attempt,
    input_tokens: e.inputTokens,
    output_tokens: e.outputTokens,
    cache_read_tokens: e.cacheReadTokens,
    cache_creation_tokens: e.cacheCreationTokens,
    cost_usd: e.costUsd,
    'cost.price_known': e.priceKnown,
    ttfb_ms: e.ttfbMs,
    duration_ms: e.durationMs,
    request_id: e.requestId,
    outcome: e.outcome,
  };
  const nanos = `${BigInt(Math.round(e.time)) * 1_000_000n}`;
  return {
    timeUnixNano: nanos,
    observedTimeUnixNano: nanos,
    severityNumber: e.status >= 400 ? 13 : 9,
    severityText: e.status >= 400 ? 'WARN' : 'INFO',
    eventName: EVENT_NAME,
    body: { stringValue: EVENT_NAME },
    attributes: Object.entries(attrs)
      .filter(([, v]) => v !== null)
      .map(([key, v]) => ({ key, value: value(v as string | number | boolean) })),
  };
}

export function logsPayload(events: RequestEvent[]) {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'session-gateway' } }] },
        scopeLogs: [{ scope: { name: 'session-gateway' }, logRecords: events.map(logRecord) }],
      },
    ],
  };
}

export interface EventExporterOptions {
  endpoint: string;
  maxQueue?: number;
  batchSize?: number;
  flushMs?: number;
  attempts?: number;
  log?: (line: string) => void;
}

export function eventExporter(o: EventExporterOptions) {
  const maxQueue = o.maxQueue ?? 10_000;
  const batchSize = o.batchSize ?? 200;
  const flushMs = o.flushMs ?? 1000;
  const attempts = o.attempts ?? 5;
  const log = o.log ?? ((l) => process.stderr.write(`${l}\n`));
  const agent = new Agent({
    connections: 2,
    keepAliveTimeout: 30_000,
    headersTimeout: 10_000,
    bodyTimeout: 10_000,
  });
  const queue: RequestEvent[] = [];
  const stats = { sent: 0, dropped: 0, failedBatches: 0 };
  let sending: Promise<void> | null = null;
  let closed = false;
  let lastDropLog = 0;

  const post = async (batch: RequestEvent[]) => {
    for (let attempt = 1; attempt <= attempts; attempt++) {
      try {
        const r = await request(o.endpoint, {
          method: 'POST',
          dispatcher: agent,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(logsPayload(batch)),
        });
        await r.body.dump();
        if (r.statusCode < 300) {
          stats.sent += batch.length;
          return;
        }
        // 4xx other than 429: the collector will never take this batch.
        if (r.statusCode < 500 && r.statusCode !== 429) break;
      } catch {}
      if (attempt < attempts && !closed) await new Promise((r) => setTimeout(r, 200 * 2 ** attempt).unref());
    }
    stats.failedBatches++;
    stats.dropped += batch.length;
    log(
      `session-gateway: ${batch.length} usage event(s) not delivered to ${o.endpoint} after ${attempts} attempts`,
    );
  };

  const drain = async () => {
    while (queue.length) await post(queue.splice(0, batchSize));
  };
  const flush = () => {
    if (!sending && queue.length) sending = drain().finally(() => (sending = null));
    return sending ?? Promise.resolve();
  };
  const timer = setInterval(flush, flushMs);
  timer.unref();

  return {
    stats,
    emit(e: RequestEvent) {
      if (queue.length >= maxQueue) {
        stats.dropped++;
        if (Date.now() - lastDropLog > 60_000) {
          lastDropLog = Date.now();
          log(
            `session-gateway: usage event queue full (${maxQueue}): dropping (${stats.dropped} dropped so far)`,
          );
        }
        return;
      }
      queue.push(e);
      if (queue.length >= batchSize) void flush();
    },
    flush,
    async close() {
      clearInterval(timer);
      await flush();
      closed = true;
      await agent.close();
    },
  };
}

export type EventExporter = ReturnType<typeof eventExporter>;
