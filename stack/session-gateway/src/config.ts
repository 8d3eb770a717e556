// The gateway's settings, from the environment, checked at start: a wrong value stops it with the variable's name
// and the rule, rather than serving with a surprise.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { GATEWAY_CONNECTION_DEFAULTS } from './server.ts';

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  MCP_SESSION_SECRET: z.string().min(16, 'the secret that signs session credentials: at least 16 characters'),
  SESSION_REVOKED_DIR: z.string().optional(),
  GATEWAY_HOST: z.string().default('0.0.0.0'),
  GATEWAY_PORT: int(0, 65535).default(8080),
  GATEWAY_UPSTREAM_URL: z.url().default('http://anthropic-replay:8080'),
  ANTHROPIC_API_KEY: z.string().optional(),
  ANTHROPIC_API_KEY_FILE: z.string().optional(),
  GATEWAY_OTLP_ENDPOINT: z.url().default('http://otel-collector:4318/v1/logs'),
  GATEWAY_BUDGETS_FILE: z.string().optional(),
  GATEWAY_BUDGETS_CHECK_MS: int(100, 3_600_000).default(2000),
  GATEWAY_DB: z.string().default('/data/gateway.sqlite'),
  GATEWAY_RETENTION_DAYS: int(1, 3650).default(90),
  GATEWAY_MAX_BODY_BYTES: int(1024, 256 * 1024 * 1024).default(32 * 1024 * 1024),
  GATEWAY_MAX_STREAMS: int(1, 10_000).default(256),
  GATEWAY_UPSTREAM_TIMEOUT_MS: int(1000, 3_600_000).default(600_000),
  GATEWAY_MAX_CONNECTIONS_PER_CLIENT: int(1, 100_000).default(GATEWAY_CONNECTION_DEFAULTS.perClient),
  GATEWAY_MAX_CONNECTIONS: int(1, 1_000_000).default(GATEWAY_CONNECTION_DEFAULTS.total),
});

export type GatewayConfig = z.infer<typeof envSchema> & { apiKey: string | undefined };

export function readConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const r = envSchema.safeParse(env);
  if (!r.success)
    throw new Error(
      `session-gateway: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  const c = r.data;
  let apiKey = c.ANTHROPIC_API_KEY?.trim() || undefined;
  if (!apiKey && c.ANTHROPIC_API_KEY_FILE) {
    try {
      apiKey = readFileSync(c.ANTHROPIC_API_KEY_FILE, 'utf8').trim() || undefined;
    } catch (err) {
      throw new Error(
        `session-gateway: ANTHROPIC_API_KEY_FILE ${c.ANTHROPIC_API_KEY_FILE} cannot be read: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
  }
  return { ...c, apiKey };
}
