#!/usr/bin/env node
// session-gateway: the one way a session reaches the model. Settings from the environment (config.ts).
import { existsSync } from 'node:fs';
import { Pool } from 'undici';
import { budgetFile, unlimited } from './budget-file.ts';
import { openBudgets } from './budgets.ts';
import { readConfig } from './config.ts';
import { createGateway } from './server.ts';
import { eventExporter } from './usage-event.ts';

const c = readConfig();
const log = (line: string) => process.stderr.write(`${line}\n`);
const upstream = new URL(c.GATEWAY_UPSTREAM_URL);
const budgets = openBudgets(
  c.GATEWAY_DB,
  c.GATEWAY_BUDGETS_FILE
    ? budgetFile(c.GATEWAY_BUDGETS_FILE, { checkEveryMs: c.GATEWAY_BUDGETS_CHECK_MS, onError: log })
    : unlimited,
  { retentionDays: c.GATEWAY_RETENTION_DAYS },
);
const events = eventExporter({ endpoint: c.GATEWAY_OTLP_ENDPOINT, log });
// Keep-alive connections to the API, as many as streams may be open at once.
const dispatcher = new Pool(upstream.origin, {
  connections: c.GATEWAY_MAX_STREAMS,
  keepAliveTimeout: 60_000,
  headersTimeout: c.GATEWAY_UPSTREAM_TIMEOUT_MS,
  bodyTimeout: c.GATEWAY_UPSTREAM_TIMEOUT_MS,
  connect: { timeout: 10_000 },
});
const gateway = createGateway({
  secret: c.MCP_SESSION_SECRET,
  ...(c.SESSION_REVOKED_DIR ? { revokedDir: c.SESSION_REVOKED_DIR } : {}),
  host: c.GATEWAY_HOST,
  port: c.GATEWAY_PORT,
  upstream,
  dispatcher,
  ...(c.apiKey ? { apiKey: c.apiKey } : {}),
  maxBodyBytes: c.GATEWAY_MAX_BODY_BYTES,
  maxStreams: c.GATEWAY_MAX_STREAMS,
  maxConnectionsPerClient: c.GATEWAY_MAX_CONNECTIONS_PER_CLIENT,
  maxConnections: c.GATEWAY_MAX_CONNECTIONS,
  budgets,
  events,
  log,
});
const url = await gateway.listen();
log(
  `session-gateway: at ${url}, model API ${upstream.origin}${c.apiKey ? ' (with a key)' : ' (no key)'}, budgets ${c.GATEWAY_BUDGETS_FILE ?? 'none'}, record ${c.GATEWAY_DB}`,
);
// OTLP/gRPC ingest on 4317, when its module is there (otlp-grpc.ts).
const grpcModule = new URL('./otlp-grpc.ts', import.meta.url);
const grpc = existsSync(grpcModule)
  ? await (await import(grpcModule.href)).startOtlpGrpc({
      secret: c.MCP_SESSION_SECRET,
      revokedDir: c.SESSION_REVOKED_DIR,
      log,
    })
  : null;
if (grpc) gateway.guard(grpc.server);
for (const sig of ['SIGINT', 'SIGTERM'] as const)
  process.once(sig, async () => {
    await Promise.race([
      Promise.all([gateway.close(), events.close(), grpc?.close?.()]),
      new Promise((r) => setTimeout(r, 5000).unref()),
    ]);
    budgets.close();
    await dispatcher.close();
    process.exit(0);
  });
