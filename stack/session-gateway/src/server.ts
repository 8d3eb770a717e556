// The session gateway's HTTP server: routing and authentication. Routes:
//   GET  /health                                       up (and refusal counts, no identities)
//   HEAD anything outside /v1/                         Claude Code's preflight of its base URL: 200, no upstream call
//   POST [prefix]/v1/messages, .../count_tokens        the model proxy (model-proxy.ts), prefix forwarded unchanged
//   POST /v1/logs, /v1/metrics, /v1/traces             OTLP/HTTP ingest (otlp-http.ts)
// Every route but /health and the preflight needs a session credential (auth.ts). A refusal is a 401 in the
// Messages API's error shape, counted by kind, and logged in summary (first of a kind, then a count per minute).
// Every session shares this server: one client (a session's address) holds at most maxConnectionsPerClient
// connections, on this server and the OTLP/gRPC one together (guard()); a slow or idle client is cut off
// (headersTimeoutMs, requestTimeoutMs; GRPC_IDLE_TIMEOUT_MS). A model answer streams for as long as it takes: the
// timeouts bound receiving a request, never sending its answer.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { type ConnectionLimit, connectionLimit } from '@claude-code-telemetry/mcp-common/connection-limit';
import { type RepeatLog, repeatLog } from '@claude-code-telemetry/mcp-common/repeat-log';
import type { SessionIdentity } from '@claude-code-telemetry/mcp-common/session-credential';
import { authenticate, type RefusalKind } from './auth.ts';
import { apiError, modelProxy, type ProxyOptions } from './model-proxy.ts';
import { handleOtlpHttp } from './otlp-http.ts';

export interface GatewayOptions extends Omit<ProxyOptions, 'note'> {
  secret: string;
  revokedDir?: string;
  host?: string;
  port?: number;
  log?: (line: string) => void;
  /** Time to receive a request's headers, from its connection or the request before (slow-loris bound). */
  headersTimeoutMs?: number;
  /** Time to receive a whole request, body included (not its answer). */
  requestTimeoutMs?: number;
  /** Connections one remote address may hold open, HTTP and gRPC together (GATEWAY_MAX_CONNECTIONS_PER_CLIENT). */
  maxConnectionsPerClient?: number;
  /** Connections each of the gateway's servers holds at most, all clients together (GATEWAY_MAX_CONNECTIONS). */
  maxConnections?: number;
  logIntervalMs?: number;
}

/** The gateway's bounds on clients' connections, defaults of config.ts (and compose.yaml) and of tests. */
export const GATEWAY_CONNECTION_DEFAULTS = {
  /** Claude Code holds a few keep-alive connections (model, OTLP): far below. */
  perClient: 128,
  total: 4096,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 120_000,
};
/** An OTLP/gRPC connection with no traffic this long is closed (Claude Code exports every few seconds). */
export const GRPC_IDLE_TIMEOUT_MS = 120_000;

const MODEL_ROUTE = /^(?:\/[A-Za-z0-9._~-]+)*\/v1\/messages(?:\/count_tokens)?$/;
const OTLP_ROUTE = /^\/v1\/(?:logs|metrics|traces)$/;

export function createGateway(o: GatewayOptions) {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const bounded: RepeatLog = repeatLog(log, o.logIntervalMs ?? 60_000);
  const refused = new Map<RefusalKind, number>();
  const proxy = modelProxy({ ...o, note: (kind, line) => bounded.note(kind, line) });

  const identify = (req: IncomingMessage, res: ServerResponse, path: string): SessionIdentity | null => {
    const auth = authenticate(req.headers, {
      secret: o.secret,
      remoteAddress: req.socket.remoteAddress,
      ...(o.revokedDir ? { revokedDir: o.revokedDir } : {}),
    });
    if (auth.ok) return auth.identity;
    refused.set(auth.kind, (refused.get(auth.kind) ?? 0) + 1);
    bounded.note(
      `refused-${auth.kind}`,
      `session-gateway: refused ${req.method} ${path} from ${req.socket.remoteAddress ?? 'an unknown address'}: ${auth.message}`,
    );
    apiError(res, 401, 'authentication_error', `session gateway: ${auth.message}`);
    return null;
  };

  // Slow clients are looked for each second (Node's default: every 30 s, so a 10 s bound could take 40).
  const server: Server = createServer({ connectionsCheckingInterval: 1000 }, async (req, res) => {
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://gateway').pathname;
    } catch {
      apiError(res, 400, 'invalid_request_error', 'unreadable request path');
      return;
    }
    try {
      if (req.method === 'GET' && path === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' });
        // Nothing about other sessions: every session can reach this (the counts are in the gateway's log).
        res.end(JSON.stringify({ status: 'ok' }));
        return;
      }
      if (req.method === 'HEAD' && !path.startsWith('/v1/') && !path.includes('/v1/')) {
        res.writeHead(200).end();
        return;
      }
      if (req.method === 'POST' && MODEL_ROUTE.test(path)) {
        const who = identify(req, res, path);
        if (who) await proxy(req, res, who);
        return;
      }
      if (req.method === 'POST' && OTLP_ROUTE.test(path)) {
        const who = identify(req, res, path);
        if (who) await handleOtlpHttp(req, res, who);
        return;
      }
      apiError(
        res,
        404,
        'not_found_error',
        `session gateway: no route ${req.method} ${path} (POST [prefix]/v1/messages, POST /v1/logs|metrics|traces, GET /health)`,
      );
    } catch (err) {
      bounded.note(
        'internal',
        `session-gateway: ${req.method} ${path} failed: ${(err as Error).stack ?? err}`,
      );
      apiError(res, 500, 'api_error', 'session gateway: internal error');
    }
  });
  server.headersTimeout = o.headersTimeoutMs ?? GATEWAY_CONNECTION_DEFAULTS.headersTimeoutMs;
  server.requestTimeout = o.requestTimeoutMs ?? GATEWAY_CONNECTION_DEFAULTS.requestTimeoutMs;
  server.keepAliveTimeout = 65_000;
  const connections: ConnectionLimit = connectionLimit({
    perClient: o.maxConnectionsPerClient ?? GATEWAY_CONNECTION_DEFAULTS.perClient,
    total: o.maxConnections ?? GATEWAY_CONNECTION_DEFAULTS.total,
    settings: { perClient: 'GATEWAY_MAX_CONNECTIONS_PER_CLIENT', total: 'GATEWAY_MAX_CONNECTIONS' },
    service: 'session-gateway',
    log,
    logIntervalMs: o.logIntervalMs ?? 60_000,
  });
  connections.attach(server);

  return {
    server,
    refused,
    connections,
    /** The OTLP/gRPC server under the same bounds: its connections count with this one's; idle ones are closed. */
    guard(grpc: Http2Server, idleTimeoutMs = GRPC_IDLE_TIMEOUT_MS) {
      connections.attach(grpc);
      grpc.setTimeout(idleTimeoutMs);
    },
    async listen(): Promise<string> {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.port ?? 0, o.host ?? '127.0.0.1', () => resolve());
      });
      const a = server.address() as AddressInfo;
      return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
    },
    async close() {
      bounded.close();
      connections.close();
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
