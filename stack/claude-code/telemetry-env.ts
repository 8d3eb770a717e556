// Checks the telemetry environment of a Claude Code session before it starts. Claude Code ignores a broken
// telemetry setup silently (with OTEL_EXPORTER_OTLP_PROTOCOL unset it exports nothing), so the container
// entrypoint refuses to start a session whose telemetry would be lost, and says which variable to fix. The
// protocols are the session record's list (session-record.ts), the one the host plans sessions with.
import { OTLP_PROTOCOLS } from '../../scripts/lib/session/session-record.ts';

/** The OpenTelemetry SDK's temporality preferences (unset means delta in Claude Code). */
export const TEMPORALITIES = ['cumulative', 'delta', 'lowmemory'] as const;
/**
 * The most OTEL_RESOURCE_ATTRIBUTES entries a session may set. Reports (anthropics/claude-code#71447) had Claude
 * Code drop exports past about a dozen entries; on the pinned 2.1.332 13 entries export on every signal
 * (specs/telemetry-config.spec.ts), and the OpenTelemetry JS SDK's own attribute count limit is 128 (an attribute
 * past it is dropped, the export is not). 64 leaves room under that for what the SDK and the gateway add.
 */
export const MAX_RESOURCE_ATTRIBUTES = 64;

export interface TelemetryCheck {
  enabled: boolean;
  problems: string[];
  warnings: string[];
}

const has = (value: string | undefined, item: string) =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .includes(item);

export function parseResourceAttributes(value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (value ?? '').split(',').filter((p) => p.trim())) {
    const at = pair.indexOf('=');
    if (at > 0) out[pair.slice(0, at).trim()] = pair.slice(at + 1).trim();
  }
  return out;
}

export function checkTelemetryEnv(env: Record<string, string | undefined>): TelemetryCheck {
  const problems: string[] = [];
  const warnings: string[] = [];
  if (env.CLAUDE_CODE_ENABLE_TELEMETRY !== '1') {
    return {
      enabled: false,
      problems,
      warnings: [
        'telemetry is off (CLAUDE_CODE_ENABLE_TELEMETRY is not 1): this session leaves no telemetry',
      ],
    };
  }
  const protocol = env.OTEL_EXPORTER_OTLP_PROTOCOL;
  if (!protocol) {
    problems.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL is unset: Claude Code would export nothing, silently. Set one of ${OTLP_PROTOCOLS.join(', ')}`,
    );
  } else if (!(OTLP_PROTOCOLS as readonly string[]).includes(protocol)) {
    problems.push(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not one of ${OTLP_PROTOCOLS.join(', ')}`);
  }
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  let url: URL | undefined;
  try {
    url = endpoint ? new URL(endpoint) : undefined;
  } catch {
    // reported below
  }
  if (!url || !/^https?:$/.test(url.protocol)) {
    problems.push(
      `OTEL_EXPORTER_OTLP_ENDPOINT=${endpoint ?? '(unset)'} is not an http(s) URL of the collector`,
    );
  } else if (protocol === 'grpc' && url.port === '4318') {
    warnings.push(
      "OTEL_EXPORTER_OTLP_PROTOCOL=grpc with port 4318, which is the collector's OTLP/HTTP port (gRPC is 4317)",
    );
  } else if (protocol?.startsWith('http/') && url.port === '4317') {
    warnings.push(
      `OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} with port 4317, which is the collector's OTLP/gRPC port (HTTP is 4318)`,
    );
  }
  for (const [name, signal] of [
    ['OTEL_METRICS_EXPORTER', 'metrics'],
    ['OTEL_LOGS_EXPORTER', 'events'],
  ] as const) {
    if (!has(env[name], 'otlp'))
      problems.push(`${name}=${env[name] ?? '(unset)'}: ${signal} would not be exported (set otlp)`);
  }
  if (has(env.OTEL_TRACES_EXPORTER, 'otlp')) {
    if (env.CLAUDE_CODE_ENHANCED_TELEMETRY_BETA !== '1') {
      problems.push(
        'OTEL_TRACES_EXPORTER=otlp needs CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1: without it Claude Code emits no spans',
      );
    }
  } else {
    problems.push(
      `OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER ?? '(unset)'}: spans would not be exported (set otlp)`,
    );
  }
  // Delta (Claude Code's default) and cumulative both work: the collector turns deltas cumulative for Prometheus.
  const temporality = env.OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE;
  if (temporality && !TEMPORALITIES.includes(temporality.toLowerCase() as (typeof TEMPORALITIES)[number])) {
    problems.push(
      `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=${temporality}: not a temporality (${TEMPORALITIES.join(', ')})`,
    );
  }
  const attrs = Object.keys(parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES));
  if (attrs.length > MAX_RESOURCE_ATTRIBUTES) {
    problems.push(
      `OTEL_RESOURCE_ATTRIBUTES has ${attrs.length} entries (max ${MAX_RESOURCE_ATTRIBUTES}): the OpenTelemetry SDK keeps 128 attributes at most, with its own and the gateway's`,
    );
  }
  return { enabled: true, problems, warnings };
}
