// A bounded stream of OTLP/HTTP JSON trace requests with known span ids, sent as an OpenTelemetry SDK sends:
// each request is retried (same bytes) until the collector answers 2xx, so what was acknowledged is known exactly,
// and so is what may have been sent twice (a request with an unanswered or failed attempt before its 2xx).
// For the fault specs: kill or stop parts of the stack mid-stream, then count what reached each sink.
import { randomBytes } from 'node:crypto';

export interface StreamOptions {
  /** The collector's OTLP/HTTP base URL (http://127.0.0.1:PORT). */
  otlpHttp: () => string | Promise<string>;
  /** The session.id attribute every span carries (how the specs find them in the sinks). */
  session: string;
  requests: number;
  spansPerRequest: number;
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
  traceId: string;
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

/** Sends the stream; resolves when every request is acknowledged, throws when one fails for longer than allowed. */
export async function sendSpanStream(o: StreamOptions): Promise<StreamResult> {
  const started = Date.now();
  const traceId = hex(16);
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
    const body = request(o.session, traceId, ids, n);
    const first = Date.now();
    let uncertain = 0;
    for (let attempt = 1; ; attempt++) {
      let why: string;
      try {
        const res = await fetch(`${await o.otlpHttp()}/v1/traces`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(10_000),
        });
        await res.arrayBuffer();
        if (res.ok) {
          if (attempt > 1) {
            result.retriedRequests++;
            result.retriedSpans += ids.length;
          }
          if (uncertain) for (const id of ids) mayRepeat.set(id, uncertain);
          return;
        }
        why = `HTTP ${res.status}`;
      } catch (e) {
        why = (e as Error & { cause?: { code?: string } }).cause?.code ?? (e as Error).name;
      }
      failures[why] = (failures[why] ?? 0) + 1;
      if (why !== 'ECONNREFUSED') uncertain++;
      if (Date.now() - first > retryForMs)
        throw new Error(
          `request ${n + 1} of the span stream not accepted after ${retryForMs} ms (last: ${why})`,
        );
      await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 5)));
    }
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
    traceId,
    spanIds: batches.flat(),
    retriedRequests: result.retriedRequests,
    retriedSpans: result.retriedSpans,
    mayRepeat,
    failures,
    ms: Date.now() - started,
  };
}
