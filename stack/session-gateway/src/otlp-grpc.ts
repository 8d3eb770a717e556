// OTLP/gRPC ingest for sessions on 4317 (h2c, as Claude Code's exporter with OTEL_EXPORTER_OTLP_PROTOCOL=grpc
// speaks it): each Export call's credential (the `authorization` metadata, `Bearer <session credential>`) is
// verified here, then the call is proxied as it is, one HTTP/2 stream for one, to the collector's sessions gRPC
// port with the verified identity in x-cct-* metadata (identityHeaders; the collector stamps it: otlp-ingest.ts).
// The collector's answer, its grpc-status and grpc-message trailers included, goes back unchanged. Refusals:
//   UNAUTHENTICATED (16) no or a bad credential;  UNIMPLEMENTED (12) not an OTLP Export method;
//   RESOURCE_EXHAUSTED (8) a message over OTLP_MAX_BODY_BYTES, or metrics past the session's series limit;
//   INVALID_ARGUMENT (3) metrics the gateway cannot read;  UNAVAILABLE (14) the collector cannot be reached or does
//   not answer in time (the SDK retries it: nothing lost).
import {
  type ClientHttp2Session,
  connect,
  constants,
  createServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { verifySessionCredential } from '@claude-code-telemetry/mcp-common/session-credential';
import { inflate, readBounded, seriesOf, TooLarge } from './otlp-body.ts';
import { defaultIngest, type OtlpIngestWithHttp } from './otlp-http.ts';
import { type Identity, identityHeaders } from './otlp-ingest.ts';
import { MalformedOtlp } from './otlp-series.ts';

export const GRPC_STATUS = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  UNAVAILABLE: 14,
  UNAUTHENTICATED: 16,
} as const;

const METHODS: Record<string, string> = {
  '/opentelemetry.proto.collector.logs.v1.LogsService/Export': 'logs',
  '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export': 'metrics',
  '/opentelemetry.proto.collector.trace.v1.TraceService/Export': 'traces',
};
/** Request metadata passed to the collector; the credential is not (it stops here). */
const PASSED = ['content-type', 'te', 'grpc-encoding', 'grpc-accept-encoding', 'grpc-timeout', 'user-agent'];

export interface OtlpGrpcOptions {
  /** MCP_SESSION_SECRET: what the sessions' credentials are signed with. */
  secret: string;
  revokedDir?: string | undefined;
  /** Shares the HTTP path's series limiter and refusal counts (default: the process's ingest). */
  ingest?: OtlpIngestWithHttp;
  host?: string;
  /** Default 4317; 0 for any free port (tests). */
  port?: number;
  log?: (line: string) => void;
}

/** grpc-message as the gRPC spec says: printable ASCII as is, everything else (and %) percent-encoded in UTF-8. */
export const grpcMessage = (m: string) =>
  m.replace(/[^\x20-\x24\x26-\x7e]+/gu, (c) => encodeURIComponent(c).replace(/%(?![0-9A-F]{2})/g, '%25'));

/** Answers a call with its status alone (a gRPC "trailers-only" response). */
function trailersOnly(stream: ServerHttp2Stream, code: number, message: string): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond(
    {
      ':status': 200,
      'content-type': 'application/grpc',
      'grpc-status': String(code),
      'grpc-message': grpcMessage(`session gateway: ${message}`),
    },
    { endStream: true },
  );
}

/** The messages of a gRPC request body (5-byte prefix: compressed flag, big-endian length), decompressed. */
async function grpcMessages(body: Buffer, encoding: string | undefined, max: number): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (let p = 0; p < body.length; ) {
    if (p + 5 > body.length) throw new MalformedOtlp('gRPC: a message prefix is cut');
    const compressed = body[p] === 1;
    const len = body.readUInt32BE(p + 1);
    if (p + 5 + len > body.length) throw new MalformedOtlp('gRPC: a message is cut');
    const msg = body.subarray(p + 5, p + 5 + len);
    out.push(compressed ? await inflate(msg, encoding, max) : msg);
    p += 5 + len;
  }
  return out;
}

const responseHeaders = (h: IncomingHttpHeaders): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (!k.startsWith(':') || k === ':status') out[k] = v;
  return out;
};

export async function startOtlpGrpc(o: OtlpGrpcOptions) {
  const ingest = o.ingest ?? defaultIngest();
  const s = ingest.settings;
  const log = o.log ?? ingest.log;
  let upstream: ClientHttp2Session | undefined;
  const collector = (): ClientHttp2Session => {
    if (upstream && !upstream.closed && !upstream.destroyed) return upstream;
    const session = connect(s.OTLP_SESSIONS_GRPC);
    session.on('error', () => {});
    session.on('close', () => {
      if (upstream === session) upstream = undefined;
    });
    upstream = session;
    return session;
  };

  const handle = async (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => {});
    const path = String(headers[':path'] ?? '');
    const address = stream.session?.socket?.remoteAddress;
    const signal = METHODS[path];
    if (!signal) {
      ingest.refuse(
        'unsupported',
        `refused gRPC ${path} from ${address ?? 'an unknown address'}: not OTLP Export`,
      );
      return trailersOnly(stream, GRPC_STATUS.UNIMPLEMENTED, `${path} is not an OTLP Export method`);
    }
    const token = /^Bearer\s+(\S+)\s*$/i.exec(String(headers.authorization ?? ''))?.[1];
    const check = token
      ? verifySessionCredential(o.secret, token, { remoteAddress: address, revokedDir: o.revokedDir })
      : ({ ok: false, error: 'no session credential (authorization: Bearer <credential>)' } as const);
    if (!check.ok) {
      ingest.refuse(
        'unauthenticated',
        `refused gRPC ${path} from ${address ?? 'an unknown address'}: ${check.error}`,
      );
      return trailersOnly(stream, GRPC_STATUS.UNAUTHENTICATED, check.error);
    }
    const from = `gRPC ${signal} of session ${check.sessionId} (user ${check.user})`;
    let body: Buffer;
    try {
      body = await readBounded(stream, s.OTLP_MAX_BODY_BYTES + 5);
      if (signal === 'metrics') {
        const encoding = headers['grpc-encoding'] as string | undefined;
        const messages = await grpcMessages(body, encoding, s.OTLP_MAX_BODY_BYTES);
        const a = ingest.admitSeries(
          check.sessionId,
          messages.flatMap((m) => seriesOf(m, false)),
        );
        if (!a.ok) {
          ingest.refuse('series-limit', `refused ${from}: ${a.adding} new series past ${a.known}`);
          return trailersOnly(
            stream,
            GRPC_STATUS.RESOURCE_EXHAUSTED,
            `this session has sent ${a.known} distinct metric series; ${a.adding} more would pass its limit of ${s.OTLP_SESSION_MAX_SERIES} (OTLP_SESSION_MAX_SERIES)`,
          );
        }
      }
    } catch (err) {
      if (err instanceof TooLarge) {
        ingest.refuse('too-large', `refused ${from}: ${err.message}`);
        trailersOnly(stream, GRPC_STATUS.RESOURCE_EXHAUSTED, `${err.message} (OTLP_MAX_BODY_BYTES)`);
        stream.close(constants.NGHTTP2_NO_ERROR);
        return;
      }
      if (err instanceof MalformedOtlp) {
        ingest.refuse('malformed', `refused ${from}: ${err.message}`);
        return trailersOnly(stream, GRPC_STATUS.INVALID_ARGUMENT, err.message);
      }
      throw err;
    }
    const { ok: _, ...who } = check;
    proxy(stream, headers, path, body, who, from);
  };

  const proxy = (
    stream: ServerHttp2Stream,
    headers: IncomingHttpHeaders,
    path: string,
    body: Buffer,
    who: Identity,
    from: string,
  ) => {
    const unavailable = (why: string) => {
      ingest.refuse('collector-unavailable', `could not forward ${from}: ${why}`);
      trailersOnly(stream, GRPC_STATUS.UNAVAILABLE, 'the telemetry collector is unavailable: retry later');
    };
    const out: OutgoingHttpHeaders = { ':method': 'POST', ':path': path };
    for (const k of PASSED) if (headers[k] !== undefined) out[k] = headers[k];
    Object.assign(out, identityHeaders(who));
    let req: ReturnType<ClientHttp2Session['request']>;
    try {
      req = collector().request(out);
    } catch (err) {
      return unavailable((err as Error).message);
    }
    let trailers: OutgoingHttpHeaders | undefined;
    req.setTimeout(s.OTLP_FORWARD_TIMEOUT_MS, () => {
      req.close(constants.NGHTTP2_CANCEL);
      if (!stream.headersSent) unavailable(`no answer in ${s.OTLP_FORWARD_TIMEOUT_MS} ms`);
    });
    req.on('error', (err) => {
      if (!stream.headersSent) return unavailable(err.message);
      trailers ??= {
        'grpc-status': String(GRPC_STATUS.UNAVAILABLE),
        'grpc-message': 'collector stream failed',
      };
      if (!stream.writableEnded) stream.end();
    });
    req.on('response', (h) => {
      if (stream.destroyed) return;
      // No body: the status is in these headers (trailers-only) and the stream ends with them.
      if (h['grpc-status'] !== undefined) {
        stream.respond(responseHeaders(h), { endStream: true });
        return;
      }
      stream.respond(responseHeaders(h), { waitForTrailers: true });
      stream.on('wantTrailers', () =>
        stream.sendTrailers(
          trailers ?? {
            'grpc-status': String(GRPC_STATUS.UNAVAILABLE),
            'grpc-message': 'the collector ended the call without a status',
          },
        ),
      );
      req.on('data', (chunk: Buffer) => stream.write(chunk));
      req.on('trailers', (t) => {
        trailers = responseHeaders(t);
      });
      req.on('end', () => stream.end());
    });
    // The client gave up: so does the call to the collector.
    stream.on('close', () => {
      if (!req.closed) req.close(constants.NGHTTP2_CANCEL);
    });
    req.end(body);
  };

  const server = createServer();
  server.on('stream', (stream, headers) => {
    handle(stream, headers).catch((err: unknown) => {
      log(`session-gateway: gRPC ${String(headers[':path'])} failed: ${(err as Error).message}`);
      trailersOnly(stream, 13, 'internal error');
    });
  });
  server.on('sessionError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 4317, o.host ?? '0.0.0.0', () => resolve());
  });
  const a = server.address() as AddressInfo;
  log(`session-gateway: OTLP/gRPC at ${a.address}:${a.port}, forwarded to ${s.OTLP_SESSIONS_GRPC}`);
  return {
    port: a.port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        upstream?.close();
        server.close(() => resolve());
        // Open client sessions would hold close() for ever.
        setTimeout(resolve, 2000).unref();
      }),
  };
}
