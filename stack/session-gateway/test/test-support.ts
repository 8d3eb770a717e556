// For the gateway's tests and `pnpm bench gateway`: a gateway on 127.0.0.1 in front of a real upstream (the scripted
// API, or a hand-written HTTP server), with a real OTLP receiver collecting its events and a record in a temporary
// folder. No mocks: every piece is the code the stack runs, over real sockets.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintSessionCredential } from '@claude-code-telemetry/mcp-common/session-credential';
import { Pool } from 'undici';
import { type Budgets, budgetFile, unlimited } from '../src/budget-file.ts';
import { openBudgets } from '../src/budgets.ts';
import { createGateway } from '../src/server.ts';
import { eventExporter } from '../src/usage-event.ts';

export const SECRET = 'gateway-test-secret-0123456789abcdef';

export function credential(
  o: { user?: string; session?: string; ttlMs?: number; network?: string; secret?: string } = {},
) {
  return mintSessionCredential(o.secret ?? SECRET, {
    user: o.user ?? 'alice',
    sessionId: o.session ?? 'session-1',
    expiresAt: Date.now() + (o.ttlMs ?? 600_000),
    ...(o.network ? { network: o.network } : {}),
  });
}

export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export const closeServer = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

/** An HTTP upstream written by the test. */
export async function upstreamServer(handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const server = createServer(handler);
  const url = await listen(server);
  return { server, url, close: () => closeServer(server) };
}

/** A real OTLP/HTTP receiver: keeps every JSON payload posted to it. */
export async function otlpReceiver() {
  const payloads: unknown[] = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    payloads.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  const url = await listen(server);
  return { payloads, url: `${url}/v1/logs`, close: () => closeServer(server) };
}

export interface TestGatewayOptions {
  upstream: string;
  budgets?: Budgets;
  dir?: string;
  apiKey?: string;
  maxBodyBytes?: number;
  maxStreams?: number;
  revokedDir?: string;
  now?: () => number;
  otlpEndpoint?: string;
  log?: (line: string) => void;
  maxConnectionsPerClient?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export async function startGateway(o: TestGatewayOptions) {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'gateway-'));
  const budgetsPath = join(dir, 'budgets.json');
  if (o.budgets) writeFileSync(budgetsPath, JSON.stringify(o.budgets));
  const store = openBudgets(
    join(dir, 'gateway.sqlite'),
    o.budgets ? budgetFile(budgetsPath, { checkEveryMs: 0, ...(o.now ? { now: o.now } : {}) }) : unlimited,
    o.now ? { now: o.now } : {},
  );
  const events = eventExporter({
    endpoint: o.otlpEndpoint ?? 'http://127.0.0.1:9/v1/logs',
    flushMs: 50,
    attempts: 1,
    log: () => {},
  });
  const upstream = new URL(o.upstream);
  const dispatcher = new Pool(upstream.origin, { connections: 64, keepAliveTimeout: 10_000 });
  const gateway = createGateway({
    secret: SECRET,
    ...(o.revokedDir ? { revokedDir: o.revokedDir } : {}),
    upstream,
    dispatcher,
    ...(o.apiKey ? { apiKey: o.apiKey } : {}),
    maxBodyBytes: o.maxBodyBytes ?? 32 * 1024 * 1024,
    maxStreams: o.maxStreams ?? 256,
    budgets: store,
    events,
    log: o.log ?? (() => {}),
    ...(o.maxConnectionsPerClient ? { maxConnectionsPerClient: o.maxConnectionsPerClient } : {}),
    ...(o.headersTimeoutMs ? { headersTimeoutMs: o.headersTimeoutMs } : {}),
    ...(o.requestTimeoutMs ? { requestTimeoutMs: o.requestTimeoutMs } : {}),
  });
  const url = await gateway.listen();
  return {
    url,
    dir,
    budgetsPath,
    store,
    events,
    gateway,
    async close() {
      await gateway.close();
      await events.close();
      await dispatcher.close();
      store.close();
    },
  };
}
