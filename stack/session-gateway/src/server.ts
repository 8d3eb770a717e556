// The session gateway's HTTP server: routing and authentication. Routes:
//   GET  /health                                       up (and refusal counts, no identities)
//   HEAD anything outside /v1/                         Claude Code's preflight of its base URL: 200, no upstream call
//   POST [prefix]/v1/messages, .../count_tokens        the model proxy (model-proxy.ts), prefix forwarded unchanged
//   POST /v1/logs, /v1/metrics, /v1/traces             OTLP/HTTP ingest (otlp-http.ts)
// Every route but /health and the preflight needs a session credential (auth.ts). A refusal is a 401 in the
// Messages API's error shape, counted by kind, and logged in summary (first of a kind, then a count per minute).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  /** Time to receive a request's headers (slow-loris bound). */
  headersTimeoutMs?: number;
  /** Time to receive a whole request, body included. */
  requestTimeoutMs?: number;
  logIntervalMs?: number;
}

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

  const server: Server = createServer(async (req, res) => {
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
  server.headersTimeout = o.headersTimeoutMs ?? 30_000;
  server.requestTimeout = o.requestTimeoutMs ?? 300_000;
  server.keepAliveTimeout = 65_000;

  return {
    server,
    refused,
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
      server.closeIdleConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
