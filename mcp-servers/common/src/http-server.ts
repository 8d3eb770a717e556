// Streamable HTTP for an MCP server (stateless: one MCP server instance per request, so each call knows the
// Claude Code session it belongs to from its headers). Routes:
//   GET  /health  liveness for compose healthchecks (no auth, no data)
//   POST /mcp     MCP over Streamable HTTP: Host/Origin check (DNS rebinding), then bearer token
// Logs go to stderr only; refused requests are logged in summary (repeat-log.ts), so a flood of bad tokens cannot
// flood the log. A call's telemetry does not depend on anything the client sends. The server is shared by every
// session: one client (a remote address) holds at most maxConnectionsPerClient connections (connection-limit.ts),
// and a slow client is cut off (SLOW_CLIENT_BOUNDS).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { checkBearer } from './auth.ts';
import { type ConnectionLimit, connectionLimit } from './connection-limit.ts';
import { checkHostAndOrigin } from './host-check.ts';
import type { CallContext } from './instrument.ts';
import { repeatLog } from './repeat-log.ts';
import { CREDENTIAL_SESSION_ID, isSessionCredential, verifySessionCredential } from './session-credential.ts';

/** The header Claude Code's MCP config sets from the session's environment (see stack/claude-code/). */
export const SESSION_HEADER = 'x-claude-code-session-id';
const MAX_BODY_BYTES = 4 * 1024 * 1024;
/**
 * Slow clients: a request's headers within 10 s of its connection (or of the request before), the whole request
 * within 60 s (tool calls are small; the answer's time is the tool's budget, not bounded here), checked each second;
 * an idle keep-alive connection is closed after Node's 5 s.
 */
export const SLOW_CLIENT_BOUNDS = {
  headersTimeout: 10_000,
  requestTimeout: 60_000,
  connectionsCheckingInterval: 1000,
};

export interface HttpServerOptions {
  name: string;
  version: string;
  host: string;
  port: number;
  token: string;
  /**
   * The secret session credentials are signed with (MCP_SESSION_SECRET). With it, a session's own credential is
   * accepted too, and its signed user and session id say whose call it is; the headers then decide nothing.
   */
  sessionSecret?: string;
  /** Revoked sessions (SESSION_REVOKED_DIR): the host names each ended session here; its credential is refused. */
  revokedDir?: string;
  allowedHosts: string[];
  allowedOrigins: string[];
  createMcpServer: (ctx: CallContext) => McpServer | Promise<McpServer>;
  log: (line: string) => void;
  /** Refused requests: the first of each kind (auth, host) is logged, the rest counted per interval (default 60 s). */
  refusalLogIntervalMs?: number;
  /** Connections one remote address may hold open at once (MCP_MAX_CONNECTIONS_PER_CLIENT). */
  maxConnectionsPerClient?: number;
  /** Connections the server holds at most, all clients together (MCP_MAX_CONNECTIONS). */
  maxConnections?: number;
}

/** The MCP servers' connection bounds: Claude Code holds one or two keep-alive connections per MCP server. */
export const MCP_CONNECTION_DEFAULTS = { perClient: 64, total: 2048 };
export const MCP_CONNECTION_SETTINGS = {
  perClient: 'MCP_MAX_CONNECTIONS_PER_CLIENT',
  total: 'MCP_MAX_CONNECTIONS',
};

export interface RunningHttpServer {
  url: string;
  server: Server;
  connections: ConnectionLimit;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function jsonRpcError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
) {
  sendJson(res, status, { jsonrpc: '2.0', error: { code: -32000, message }, id: null }, headers);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw Object.assign(new Error(`request body over ${MAX_BODY_BYTES} bytes`), { status: 413 });
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw Object.assign(new Error('request body is not valid JSON'), { status: 400 });
  }
}

export async function startHttpServer(o: HttpServerOptions): Promise<RunningHttpServer> {
  const refusals = repeatLog(o.log, o.refusalLogIntervalMs);
  const server = createServer(SLOW_CLIENT_BOUNDS, async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health' && req.method === 'GET') {
      sendJson(res, 200, { status: 'ok', name: o.name, version: o.version });
      return;
    }
    if (path !== '/mcp') {
      sendJson(res, 404, {
        error: `no route ${req.method} ${path}: MCP is served at POST /mcp, liveness at GET /health`,
      });
      return;
    }
    const host = checkHostAndOrigin(req.headers.host, req.headers.origin, o.allowedHosts, o.allowedOrigins);
    const from = req.socket.remoteAddress ?? 'unknown address';
    if (!host.ok) {
      refusals.note('host', `refused ${req.method} /mcp from ${from}: ${host.error}`);
      jsonRpcError(res, host.status, host.error);
      return;
    }
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';
    let identity: { user: string; sessionId: string } | undefined;
    if (o.sessionSecret && isSessionCredential(bearer)) {
      const check = verifySessionCredential(o.sessionSecret, bearer, {
        remoteAddress: req.socket.remoteAddress,
        revokedDir: o.revokedDir,
      });
      if (!check.ok) {
        refusals.note('auth', `refused ${req.method} /mcp from ${from}: ${check.error}`);
        jsonRpcError(res, 401, check.error, { 'www-authenticate': 'Bearer' });
        return;
      }
      identity = { user: check.user, sessionId: check.sessionId };
    } else {
      const auth = checkBearer(req.headers.authorization, o.token);
      if (!auth.ok) {
        refusals.note('auth', `refused ${req.method} /mcp from ${from}: ${auth.error}`);
        jsonRpcError(res, auth.status, auth.error, { 'www-authenticate': 'Bearer' });
        return;
      }
    }
    if (req.method !== 'POST') {
      jsonRpcError(res, 405, `${req.method} /mcp is not supported: this server is stateless, use POST`, {
        allow: 'POST',
      });
      return;
    }
    let body: unknown;
    try {
      body = await readBody(req);
    } catch (err) {
      jsonRpcError(res, (err as { status?: number }).status ?? 400, (err as Error).message);
      return;
    }
    const header = req.headers[SESSION_HEADER];
    const fromHeader = typeof header === 'string' && CREDENTIAL_SESSION_ID.test(header) ? header : undefined;
    if (header !== undefined && !fromHeader) o.log(`ignored malformed ${SESSION_HEADER} header`);
    // A session credential's signed id wins over the header.
    const sessionId = identity?.sessionId ?? fromHeader;
    // Every call over HTTP leaves its span and metrics: the server's telemetry is the stack's record of what a
    // session did with it, so nothing the client sends can turn it off (an `X-Claude-Code-Telemetry: 0` header once
    // did, issue 23).
    let mcp: McpServer;
    try {
      mcp = await o.createMcpServer({ transport: 'http', sessionId, user: identity?.user });
    } catch (err) {
      // e.g. a user with no workspace: the client's problem, said plainly
      jsonRpcError(res, 403, (err as Error).message);
      return;
    }
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    res.on('close', () => {
      void transport.close();
      void mcp.close();
    });
    try {
      await mcp.connect(transport);
      await transport.handleRequest(req, res, body);
    } catch (err) {
      o.log(`error handling /mcp: ${(err as Error).message}`);
      if (!res.headersSent) jsonRpcError(res, 500, 'internal server error');
    }
  });
  const connections = connectionLimit({
    perClient: o.maxConnectionsPerClient ?? MCP_CONNECTION_DEFAULTS.perClient,
    total: o.maxConnections ?? MCP_CONNECTION_DEFAULTS.total,
    settings: MCP_CONNECTION_SETTINGS,
    log: o.log,
    ...(o.refusalLogIntervalMs ? { logIntervalMs: o.refusalLogIntervalMs } : {}),
  });
  connections.attach(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shownHost}:${addr.port}`,
    server,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        refusals.close();
        connections.close();
        server.close(() => resolve());
      }),
  };
}
