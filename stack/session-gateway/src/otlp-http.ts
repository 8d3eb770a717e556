// OTLP/HTTP ingest for sessions: POST /v1/logs, /v1/metrics, /v1/traces (http/protobuf and http/json), called by
// the router (server.ts) once it verified the session credential. The body is forwarded unchanged to the
// collector's sessions receiver with the verified identity in x-cct-user / x-cct-session, which the collector
// stamps on every resource and record (why there: otlp-ingest.ts). Answers, as an OTLP SDK understands them:
//   the collector's own answer (status, body, Retry-After), passed through;
//   413 over OTLP_MAX_BODY_BYTES (compressed, or decompressed for metrics); 415 another content type or encoding;
//   400 metrics the gateway cannot read; 429 + Retry-After past the session's series limit (otlp-series.ts);
//   503 + Retry-After when the collector cannot be reached or does not answer in time: the SDK retries, nothing lost.
// Errors carry a google.rpc.Status in the request's own content type (OTLP/HTTP spec, "Failures").
import { type IncomingMessage, request, type ServerResponse } from 'node:http';
import { inflate, readBounded, seriesOf, TooLarge } from './otlp-body.ts';
import {
  createIngest,
  type Identity,
  type IngestOptions,
  identityHeaders,
  type OtlpIngest,
} from './otlp-ingest.ts';
import { MalformedOtlp } from './otlp-series.ts';

export type { Identity };

const SIGNAL = /^\/v1\/(logs|metrics|traces)$/;
const MAX_ANSWER = 1024 * 1024;

/** A google.rpc.Status { code (1), message (2) } in protobuf, or its JSON. */
export function statusBody(json: boolean, code: number, message: string): Buffer {
  if (json) return Buffer.from(JSON.stringify({ code, message }));
  const m = Buffer.from(message);
  const len: number[] = [];
  for (let n = m.length; ; n >>>= 7) {
    if (n < 0x80) {
      len.push(n);
      break;
    }
    len.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from([0x08, code, 0x12, ...len]), m]);
}

/** The grpc code each refusal carries in its Status (as the collector's OTLP/HTTP receiver does). */
const CODE = { 400: 3, 401: 16, 413: 8, 415: 3, 429: 8, 503: 14 } as const;

export function otlpHttpHandler(ingest: OtlpIngest) {
  const s = ingest.settings;
  return async function handleOtlpHttp(
    req: IncomingMessage,
    res: ServerResponse,
    who: Identity,
  ): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const type = String(req.headers['content-type'] ?? '')
      .split(';')[0]
      ?.trim()
      .toLowerCase();
    const json = type === 'application/json';
    const from = `${req.method} ${path} of session ${who.sessionId} (user ${who.user})`;
    const fail = (status: keyof typeof CODE, message: string, headers: Record<string, string> = {}) => {
      if (res.headersSent) return;
      res.writeHead(status, {
        'content-type': json ? 'application/json' : 'application/x-protobuf',
        ...headers,
      });
      res.end(statusBody(json, CODE[status], `session gateway: ${message}`));
    };
    const signal = SIGNAL.exec(path)?.[1];
    if (req.method !== 'POST' || !signal) {
      ingest.refuse('unsupported', `refused ${from}: not an OTLP export`);
      return fail(415, `${req.method} ${path} is not OTLP: POST /v1/logs, /v1/metrics or /v1/traces`);
    }
    if (!json && type !== 'application/x-protobuf') {
      ingest.refuse('unsupported', `refused ${from}: content type ${type || 'none'}`);
      return fail(415, `content type ${type || 'none'}: send application/x-protobuf or application/json`);
    }
    const encoding = req.headers['content-encoding'];
    const declared = Number(req.headers['content-length'] ?? 0);
    let body: Buffer;
    try {
      if (declared > s.OTLP_MAX_BODY_BYTES) throw new TooLarge(`request body of ${declared} bytes`);
      body = await readBounded(req, s.OTLP_MAX_BODY_BYTES);
      if (signal === 'metrics') {
        const series = seriesOf(await inflate(body, encoding, s.OTLP_MAX_BODY_BYTES), json);
        const a = ingest.admitSeries(who.sessionId, series);
        if (!a.ok) {
          ingest.refuse('series-limit', `refused ${from}: ${a.adding} new series past ${a.known}`);
          return fail(
            429,
            `this session has sent ${a.known} distinct metric series in the last ${s.OTLP_SESSION_SERIES_WINDOW_MS / 60_000} minutes; ${a.adding} more would pass its limit of ${s.OTLP_SESSION_MAX_SERIES} (OTLP_SESSION_MAX_SERIES)`,
            { 'retry-after': String(s.OTLP_RETRY_AFTER_S) },
          );
        }
      } else if (encoding !== undefined && !/^\s*(identity|gzip)\s*$/i.test(encoding)) {
        throw new MalformedOtlp(`content encoding ${encoding} is not supported (identity or gzip)`);
      }
    } catch (err) {
      if (err instanceof TooLarge) {
        ingest.refuse('too-large', `refused ${from}: ${err.message}`);
        // The rest of the body is not read: the connection ends once the answer is out.
        res.once('finish', () => req.destroy());
        return fail(413, `${err.message}, over the limit of ${s.OTLP_MAX_BODY_BYTES} (OTLP_MAX_BODY_BYTES)`, {
          connection: 'close',
        });
      }
      if (err instanceof MalformedOtlp) {
        ingest.refuse('malformed', `refused ${from}: ${err.message}`);
        return fail(/encoding/.test(err.message) ? 415 : 400, err.message);
      }
      throw err;
    }
    const answer = await forward(s.OTLP_SESSIONS_HTTP + path, s.OTLP_FORWARD_TIMEOUT_MS, body, {
      'content-type': type as string,
      ...(encoding ? { 'content-encoding': encoding } : {}),
      ...identityHeaders(who),
    }).catch((err: Error) => err);
    if (answer instanceof Error) {
      ingest.refuse('collector-unavailable', `could not forward ${from}: ${answer.message}`);
      return fail(503, 'the telemetry collector is unavailable: retry later', {
        'retry-after': String(s.OTLP_RETRY_AFTER_S),
      });
    }
    res.writeHead(answer.status, {
      'content-type':
        answer.headers['content-type'] ?? (json ? 'application/json' : 'application/x-protobuf'),
      ...(answer.headers['retry-after'] ? { 'retry-after': String(answer.headers['retry-after']) } : {}),
    });
    res.end(answer.body);
  };
}

interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** POSTs `body` to the collector; an Error when it cannot be reached or does not answer within `timeoutMs`. */
function forward(
  url: string,
  timeoutMs: number,
  body: Buffer,
  headers: Record<string, string>,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const r = request(
      url,
      { method: 'POST', headers: { ...headers, 'content-length': String(body.length) }, timeout: timeoutMs },
      (res) => {
        readBounded(res, MAX_ANSWER).then(
          (b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }),
          reject,
        );
      },
    );
    r.on('timeout', () => r.destroy(new Error(`no answer from the collector in ${timeoutMs} ms`)));
    r.on('error', reject);
    r.end(body);
  });
}

/** A complete ingest (settings from `env`): its handler, and what otlp-grpc.ts shares with it (the limiter). */
export function createOtlpIngest(o: IngestOptions = {}) {
  const ingest = createIngest(o);
  return { ...ingest, handleOtlpHttp: otlpHttpHandler(ingest) };
}
export type OtlpIngestWithHttp = ReturnType<typeof createOtlpIngest>;

let shared: OtlpIngestWithHttp | undefined;
/**
 * The process's ingest, for a router that calls handleOtlpHttp(req, res, identity) directly (server.ts) and a
 * startOtlpGrpc without one: both then share one series limiter. Created on first use, from process.env.
 */
export function defaultIngest(): OtlpIngestWithHttp {
  shared ??= createOtlpIngest();
  return shared;
}

/** The router's entry point: the default ingest's handler (see createOtlpIngest for one of its own). */
export const handleOtlpHttp = (req: IncomingMessage, res: ServerResponse, who: Identity): Promise<void> =>
  defaultIngest().handleOtlpHttp(req, res, who);
