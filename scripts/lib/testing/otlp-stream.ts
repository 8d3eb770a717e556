// A bounded stream of OTLP/HTTP JSON trace requests with known span ids, sent as an OpenTelemetry SDK sends:
// each request is retried (same bytes) until the collector answers 2xx, so what was acknowledged is known exactly,
// and so is what may have been sent twice (a request with an unanswered or failed attempt before its 2xx).
// For the fault specs: kill or stop parts of the stack mid-stream, then count what reached each sink. And a delta
// counter stream (`sendDeltaCounters`): known increments per series and round, for totals that must add up exactly;
// and a log record stream (`sendLogStream`): events with known ids, over many sessions. Over 300 lines because the
// three senders share one retry loop and ARCHITECTURE.md rule 4 lets only this module build raw OTLP requests.
import { randomBytes } from 'node:crypto';

export interface StreamOptions {
  /** The collector's OTLP/HTTP base URL (http://127.0.0.1:PORT). */
  otlpHttp: () => string | Promise<string>;
  /** The session.id attribute every span carries (how the specs find them in the sinks). */
  session: string;
  requests: number;
  spansPerRequest: number;
  /**
   * Trace ids the requests take in turn (default 1): behind agents that route by trace id, several spread the
   * stream over every gateway.
   */
  traces?: number;
  /** Requests in flight at once (default 2). */
  concurrency?: number;
  /** Pause between a sender's requests (default 0). */
  pauseMs?: number;
  /** How long one request may keep failing before the stream gives up (default 120000 ms). */
  retryForMs?: number;
  /** Called after each acknowledged request (e.g. to kill the collector after the first N). */
  onAck?: (acked: number) => void | Promise<void>;
}

export interface StreamResult {
  session: string;
  /** The first of `traceIds`. */
  traceId: string;
  traceIds: string[];
  /** Every span id sent (hex), all acknowledged when the stream returns. */
  spanIds: string[];
  /** Requests that needed more than one attempt, and the spans in them: the only ones that may appear twice. */
  retriedRequests: number;
  retriedSpans: number;
  /**
   * Per resent span: how many of its request's failed attempts may have reached the collector (an answer other
   * than 2xx, a time-out or a reset; not a refused connection): the most extra copies of it any sink may hold.
   */
  mayRepeat: Map<string, number>;
  /** Attempts that failed: the collector's status (or the network error) and how often. */
  failures: Record<string, number>;
  ms: number;
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function request(session: string, traceId: string, spanIds: string[], n: number): string {
  const now = BigInt(Date.now()) * 1_000_000n;
  return JSON.stringify({
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'otlp-stream' } }] },
        scopeSpans: [
          {
            scope: { name: 'otlp-stream' },
            spans: spanIds.map((spanId, i) => ({
              traceId,
              spanId,
              name: `stream-${n}-${i}`,
              kind: 1,
              startTimeUnixNano: String(now),
              endTimeUnixNano: String(now + 1_000_000n),
              attributes: [{ key: 'session.id', value: { stringValue: session } }],
            })),
          },
        ],
      },
    ],
  });
}

/**
 * POSTs one OTLP/HTTP JSON request until the collector answers 2xx (same bytes each time, backing off up to 2 s),
 * counting failed attempts in `failures`; throws when it keeps failing for longer than `retryForMs`. `uncertain`:
 * the failed attempts that may have reached the collector (not a refused connection).
 */
async function postUntilAcked(
  base: () => string | Promise<string>,
  path: string,
  body: string,
  retryForMs: number,
  failures: Record<string, number>,
  n: number,
  /** How long one attempt waits for the answer. */
  answerMs = 10_000,
): Promise<{ attempts: number; uncertain: number }> {
  const first = Date.now();
  let uncertain = 0;
  for (let attempt = 1; ; attempt++) {
    let why: string;
    try {
      const res = await fetch(`${await base()}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(answerMs),
      });
      await res.arrayBuffer();
      if (res.ok) return { attempts: attempt, uncertain };
      why = `HTTP ${res.status}`;
    } catch (e) {
      why = (e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
    }
    failures[why] = (failures[why] ?? 0) + 1;
    if (why !== 'ECONNREFUSED') uncertain++;
    if (Date.now() - first > retryForMs)
      throw new Error(`request ${n + 1} to ${path} not accepted after ${retryForMs} ms (last: ${why})`);
    await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 5)));
  }
}

/** Sends the stream; resolves when every request is acknowledged, throws when one fails for longer than allowed. */
export async function sendSpanStream(o: StreamOptions): Promise<StreamResult> {
  const started = Date.now();
  const traceIds = Array.from({ length: Math.max(1, o.traces ?? 1) }, () => hex(16));
  const batches = Array.from({ length: o.requests }, () =>
    Array.from({ length: o.spansPerRequest }, () => hex(8)),
  );
  const failures: Record<string, number> = {};
  const result = { retriedRequests: 0, retriedSpans: 0, acked: 0 };
  const mayRepeat = new Map<string, number>();
  const retryForMs = o.retryForMs ?? 120_000;
  let next = 0;
  const sendOne = async (n: number) => {
    const ids = batches[n] as string[];
    const body = request(o.session, traceIds[n % traceIds.length] as string, ids, n);
    const { attempts, uncertain } = await postUntilAcked(
      o.otlpHttp,
      '/v1/traces',
      body,
      retryForMs,
      failures,
      n,
    );
    if (attempts > 1) {
      result.retriedRequests++;
      result.retriedSpans += ids.length;
    }
    if (uncertain) for (const id of ids) mayRepeat.set(id, uncertain);
  };
  const sender = async () => {
    for (let n = next++; n < o.requests; n = next++) {
      await sendOne(n);
      await o.onAck?.(++result.acked);
      if (o.pauseMs) await sleep(o.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 2 }, sender));
  return {
    session: o.session,
    traceId: traceIds[0] as string,
    traceIds,
    spanIds: batches.flat(),
    retriedRequests: result.retriedRequests,
    retriedSpans: result.retriedSpans,
    mayRepeat,
    failures,
    ms: Date.now() - started,
  };
}

export interface DeltaOptions {
  /** The collector's OTLP/HTTP base URL (read again for every attempt: a restarted agent gets a new port). */
  otlpHttp: () => string | Promise<string>;
  /** The session.id every data point carries (a label of each series in Prometheus). */
  session: string;
  /** Series (one data point each per round, told apart by the `series` attribute). */
  series: number;
  rounds: number;
  /** Called before each round (0-based) is sent: a fault between rounds. */
  beforeRound?: (round: number) => void | Promise<void>;
  /** How long one request may keep failing before the stream gives up (default 120000 ms). */
  retryForMs?: number;
}

export interface DeltaResult {
  session: string;
  /** The OTLP metric name (a monotonic sum with delta temporality). */
  metric: string;
  /** What was sent per series (its `series` attribute), summed over the rounds. */
  sent: Record<string, number>;
  total: number;
  /** The sum of the values in requests with a failed attempt that may have reached the collector: the most any
   *  total may exceed `total` by (a resent delta is a new increment to a collector that took the first attempt). */
  mayRepeat: number;
  failures: Record<string, number>;
  ms: number;
}

/** The delta counter's OTLP name (Prometheus: `scaled_delta_probe_total`). */
export const DELTA_METRIC = 'scaled.delta.probe';

/** One round's deltas: a value per series that differs by series and round, so a lost or doubled point shows. */
export const deltaValue = (series: number, round: number): number => 1 + ((series * 7 + round * 3) % 11);

/**
 * A delta counter of `series` series over `rounds` rounds, one request per round (each acknowledged before the
 * next: deltas of one series arrive in order), as Claude Code sends its counters by default (delta temporality).
 */
export async function sendDeltaCounters(o: DeltaOptions): Promise<DeltaResult> {
  const started = Date.now();
  const failures: Record<string, number> = {};
  const sent: Record<string, number> = {};
  let mayRepeat = 0;
  let start = BigInt(Date.now() - 1) * 1_000_000n;
  for (let round = 0; round < o.rounds; round++) {
    await o.beforeRound?.(round);
    const now = BigInt(Date.now()) * 1_000_000n;
    const end = now > start ? now : start + 1n;
    const points = Array.from({ length: o.series }, (_, i) => ({
      attributes: [
        { key: 'session.id', value: { stringValue: o.session } },
        { key: 'series', value: { stringValue: `s${i}` } },
      ],
      startTimeUnixNano: String(start),
      timeUnixNano: String(end),
      asInt: String(deltaValue(i, round)),
    }));
    const body = JSON.stringify({
      resourceMetrics: [
        {
          resource: { attributes: [{ key: 'service.name', value: { stringValue: 'delta-stream' } }] },
          scopeMetrics: [
            {
              scope: { name: 'delta-stream' },
              metrics: [
                {
                  name: DELTA_METRIC,
                  sum: { aggregationTemporality: 1, isMonotonic: true, dataPoints: points },
                },
              ],
            },
          ],
        },
      ],
    });
    const { uncertain } = await postUntilAcked(
      o.otlpHttp,
      '/v1/metrics',
      body,
      o.retryForMs ?? 120_000,
      failures,
      round,
      // A delta resent after an unanswered attempt is a second increment: wait long for the answer instead.
      60_000,
    );
    let roundTotal = 0;
    for (let i = 0; i < o.series; i++) {
      sent[`s${i}`] = (sent[`s${i}`] ?? 0) + deltaValue(i, round);
      roundTotal += deltaValue(i, round);
    }
    if (uncertain) mayRepeat += roundTotal * uncertain;
    start = end;
  }
  return {
    session: o.session,
    metric: DELTA_METRIC,
    sent,
    total: Object.values(sent).reduce((a, b) => a + b, 0),
    mayRepeat,
    failures,
    ms: Date.now() - started,
  };
}

export interface LogStreamOptions {
  /** The collector's OTLP/HTTP base URL (read again for every attempt). */
  otlpHttp: () => string | Promise<string>;
  /** A marker every record carries (`probe.run`): how a spec finds them all. */
  run: string;
  /** Sessions the requests take in turn (each request's records carry one `session.id`): spread over the nodes. */
  sessions: number;
  requests: number;
  recordsPerRequest: number;
  /** Requests in flight at once (default 2). */
  concurrency?: number;
  /** Pause between a sender's requests (default 0). */
  pauseMs?: number;
  retryForMs?: number;
  onAck?: (acked: number) => void | Promise<void>;
}

export interface LogStreamResult {
  run: string;
  /** Every record sent (all acknowledged), with when its request was first tried and when it was acknowledged. */
  records: { id: string; session: string; firstTry: number; acked: number }[];
  retriedRequests: number;
  failures: Record<string, number>;
  ms: number;
}

/** A bounded stream of OTLP/HTTP JSON log records (events) with known ids, retried as `sendSpanStream` retries. */
export async function sendLogStream(o: LogStreamOptions): Promise<LogStreamResult> {
  const started = Date.now();
  const sessions = Array.from({ length: Math.max(1, o.sessions) }, () => `${o.run}-${hex(6)}`);
  const failures: Record<string, number> = {};
  const records: LogStreamResult['records'] = [];
  let retriedRequests = 0;
  let acked = 0;
  let next = 0;
  const sendOne = async (n: number) => {
    const session = sessions[n % sessions.length] as string;
    const ids = Array.from({ length: o.recordsPerRequest }, () => hex(8));
    const now = String(BigInt(Date.now()) * 1_000_000n);
    const attr = (key: string, value: string) => ({ key, value: { stringValue: value } });
    const body = JSON.stringify({
      resourceLogs: [
        {
          resource: { attributes: [attr('service.name', 'log-stream')] },
          scopeLogs: [
            {
              scope: { name: 'log-stream' },
              logRecords: ids.map((id) => ({
                timeUnixNano: now,
                observedTimeUnixNano: now,
                severityNumber: 9,
                body: { stringValue: 'log-stream probe' },
                attributes: [
                  attr('session.id', session),
                  attr('event.name', 'log_stream_probe'),
                  attr('probe.run', o.run),
                  attr('probe.id', id),
                ],
              })),
            },
          ],
        },
      ],
    });
    const firstTry = Date.now();
    const { attempts } = await postUntilAcked(
      o.otlpHttp,
      '/v1/logs',
      body,
      o.retryForMs ?? 120_000,
      failures,
      n,
    );
    if (attempts > 1) retriedRequests++;
    const at = Date.now();
    for (const id of ids) records.push({ id, session, firstTry, acked: at });
  };
  const sender = async () => {
    for (let n = next++; n < o.requests; n = next++) {
      await sendOne(n);
      await o.onAck?.(++acked);
      if (o.pauseMs) await sleep(o.pauseMs);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 2 }, sender));
  return { run: o.run, records, retriedRequests, failures, ms: Date.now() - started };
}
