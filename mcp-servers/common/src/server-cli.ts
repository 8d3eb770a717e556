// What both servers' index.ts share: argv and environment into options, logging to stderr, the transport
// chosen, the process kept alive until a signal, telemetry flushed on the way out. Over stdio, a transport that
// fails (a message over the SDK's 10 MiB line limit, stdout gone) is logged and ends the process with status 1.
import { parseArgs } from 'node:util';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { validateToken } from './auth.ts';
import { MCP_CONNECTION_DEFAULTS, MCP_CONNECTION_SETTINGS, startHttpServer } from './http-server.ts';
import { type CallContext, type ToolMetrics, toolMetrics } from './instrument.ts';
import { createTelemetry, type Telemetry } from './telemetry.ts';
import { DEFAULT_TOOL_TIMEOUT_MS, TOOL_TIMEOUT_ENV } from './time-budget.ts';

export interface CommonArgs {
  transport: 'stdio' | 'http';
  host: string;
  port: number;
}

export const COMMON_HELP = `Transport:
  --transport stdio|http   stdio (default; for a local Claude Code) or Streamable HTTP (containers)
  --host ADDR              HTTP: address to bind (default 127.0.0.1; 0.0.0.0 in a container)
  --port N                 HTTP: port (default 8080)
Environment:
  MCP_AUTH_TOKEN           HTTP: bearer token clients must send (required, 32+ characters)
  MCP_SESSION_SECRET       HTTP: also accept per-session credentials signed with this (32+ characters); their
                           signed user and session id decide whose call it is
  MCP_ALLOWED_HOSTS        HTTP: Host names accepted (comma-separated; default localhost,127.0.0.1,::1)
  MCP_ALLOWED_ORIGINS      HTTP: browser Origins accepted (comma-separated; default none)
  ${MCP_CONNECTION_SETTINGS.perClient}  HTTP: connections one client address may hold (default ${MCP_CONNECTION_DEFAULTS.perClient})
  ${MCP_CONNECTION_SETTINGS.total}      HTTP: connections of all clients together (default ${MCP_CONNECTION_DEFAULTS.total})
  ${TOOL_TIMEOUT_ENV}      time budget of one tool call (default ${DEFAULT_TOOL_TIMEOUT_MS})
  CLAUDE_CODE_SESSION_ID   stdio: the Claude Code session id put on spans (HTTP takes it from a header)
  CLAUDE_CODE_ENABLE_TELEMETRY  stdio: 0 turns spans and metrics off for this session (HTTP: a header)
  OTEL_EXPORTER_OTLP_ENDPOINT  where spans and metrics go (OTLP/HTTP), e.g. http://otel-collector:4318`;

/** Splits argv into the common transport options and the server's own (returned untouched). */
export function parseCommonArgs(argv: string[]): { common: CommonArgs; rest: string[]; help: boolean } {
  const { values, tokens } = parseArgs({
    args: argv,
    strict: false,
    tokens: true,
    options: {
      transport: { type: 'string' },
      host: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const transport = (values.transport as string | undefined) ?? 'stdio';
  if (transport !== 'stdio' && transport !== 'http')
    throw new Error(`--transport must be stdio or http, not ${transport}`);
  const port = Number(values.port ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0-65535, not ${values.port}`);
  const own = new Set(['transport', 'host', 'port', 'help', 'h']);
  const rest: string[] = [];
  for (const t of tokens ?? []) {
    if (t.kind === 'option' && !own.has(t.name))
      rest.push(t.rawName, ...(t.value !== undefined ? [t.value] : []));
    if (t.kind === 'positional') rest.push(t.value);
  }
  return {
    common: { transport, host: (values.host as string | undefined) ?? '127.0.0.1', port },
    rest,
    help: Boolean(values.help),
  };
}

/** A positive integer from the environment, or the fallback; anything else is a startup error naming the variable. */
export function positiveIntEnv(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env[name] ?? fallback);
  if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} must be a positive integer, not ${env[name]}`);
  return v;
}

export function log(name: string): (line: string) => void {
  return (line) => process.stderr.write(`${new Date().toISOString()} ${name}: ${line}\n`);
}

const list = (s: string | undefined, fallback: string[]) =>
  s
    ? s
        .split(',')
        .map((x) => x.trim().toLowerCase())
        .filter(Boolean)
    : fallback;

/** Runs a server's main(); a startup error is one line on stderr and exit 1. */
export function runMain(name: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    log(name)(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}

export async function serve(o: {
  name: string;
  version: string;
  common: CommonArgs;
  createMcpServer: (
    ctx: CallContext,
    telemetry: Telemetry,
    metrics: ToolMetrics,
  ) => McpServer | Promise<McpServer>;
  env?: NodeJS.ProcessEnv;
}): Promise<void> {
  const env = o.env ?? process.env;
  const telemetry = createTelemetry({ serviceName: `mcp-${o.name}`, serviceVersion: o.version, env });
  const metrics = toolMetrics(telemetry);
  const create = (ctx: CallContext) => o.createMcpServer(ctx, telemetry, metrics);
  const say = log(o.name);
  const exit = async (status: number) => {
    // An unreachable collector must not keep a failing server alive: the flush gets 5 s.
    await Promise.race([
      telemetry.shutdown().catch(() => {}),
      new Promise((r) => setTimeout(r, 5000).unref()),
    ]);
    process.exit(status);
  };
  const stop = async (signal: string) => {
    say(`${signal}: flushing telemetry and exiting`);
    await exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));

  if (o.common.transport === 'stdio') {
    const server = await create({
      transport: 'stdio',
      sessionId: env.CLAUDE_CODE_SESSION_ID || undefined,
      telemetry: env.CLAUDE_CODE_ENABLE_TELEMETRY === undefined || env.CLAUDE_CODE_ENABLE_TELEMETRY === '1',
    });
    // The SDK reports a bad message through onerror and keeps going; an error it cannot go on from (a line over
    // its buffer limit) it reports, then closes the transport. We close it only by exiting, so a close is a failure.
    let lastError: string | undefined;
    server.server.onerror = (err) => {
      lastError = err.message;
      say(`stdio transport error: ${err.message}`);
    };
    server.server.onclose = () => {
      say(`stdio transport closed${lastError ? ` after: ${lastError}` : ''}; exiting with status 1`);
      void exit(1);
    };
    process.stdout.on('error', (err) => {
      say(`stdout failed (${err.message}): the client is gone; exiting with status 1`);
      void exit(1);
    });
    await server.connect(new StdioServerTransport());
    say(`serving MCP over stdio; telemetry: ${telemetry.destination}`);
    process.stdin.once('end', () => void stop('stdin closed'));
    return;
  }
  const running = await startHttpServer({
    name: o.name,
    version: o.version,
    host: o.common.host,
    port: o.common.port,
    token: validateToken(env.MCP_AUTH_TOKEN, 'MCP_AUTH_TOKEN'),
    sessionSecret: env.MCP_SESSION_SECRET
      ? validateToken(env.MCP_SESSION_SECRET, 'MCP_SESSION_SECRET')
      : undefined,
    revokedDir: env.SESSION_REVOKED_DIR || undefined,
    allowedHosts: list(env.MCP_ALLOWED_HOSTS, ['localhost', '127.0.0.1', '::1']),
    allowedOrigins: list(env.MCP_ALLOWED_ORIGINS, []),
    createMcpServer: create,
    log: say,
    maxConnectionsPerClient: positiveIntEnv(
      MCP_CONNECTION_SETTINGS.perClient,
      MCP_CONNECTION_DEFAULTS.perClient,
      env,
    ),
    maxConnections: positiveIntEnv(MCP_CONNECTION_SETTINGS.total, MCP_CONNECTION_DEFAULTS.total, env),
  });
  say(
    `serving MCP at ${running.url}/mcp (health: ${running.url}/health); telemetry: ${telemetry.destination}`,
  );
}
