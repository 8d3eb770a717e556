import { describe, expect, it } from 'vitest';
import { checkTelemetryEnv, MAX_RESOURCE_ATTRIBUTES, parseResourceAttributes } from './telemetry-env.ts';

/** What stack/compose.yaml sets for the claude-code service. */
const good = {
  CLAUDE_CODE_ENABLE_TELEMETRY: '1',
  CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: '1',
  OTEL_METRICS_EXPORTER: 'otlp',
  OTEL_LOGS_EXPORTER: 'otlp',
  OTEL_TRACES_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
  OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'cumulative',
};

describe('checkTelemetryEnv', () => {
  it('accepts the stack setup', () => {
    expect(checkTelemetryEnv(good)).toEqual({ enabled: true, problems: [], warnings: [] });
  });

  it('refuses an unset OTLP protocol, which Claude Code ignores silently', () => {
    const { OTEL_EXPORTER_OTLP_PROTOCOL: _, ...env } = good;
    expect(checkTelemetryEnv(env).problems).toEqual([
      'OTEL_EXPORTER_OTLP_PROTOCOL is unset: Claude Code would export nothing, silently. Set one of http/protobuf, http/json, grpc',
    ]);
  });

  it('names every broken variable', () => {
    const r = checkTelemetryEnv({
      ...good,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'thrift',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'otel-collector:4318',
      OTEL_METRICS_EXPORTER: 'console',
      OTEL_LOGS_EXPORTER: undefined,
      CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: undefined,
      OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: 'sometimes',
      OTEL_RESOURCE_ATTRIBUTES: Array.from({ length: MAX_RESOURCE_ATTRIBUTES + 1 }, (_, i) => `k${i}=v`).join(
        ',',
      ),
    });
    expect(r.problems.map((p) => p.split(/[ =:]/)[0])).toEqual([
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'OTEL_METRICS_EXPORTER',
      'OTEL_LOGS_EXPORTER',
      'OTEL_TRACES_EXPORTER',
      'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
      'OTEL_RESOURCE_ATTRIBUTES',
    ]);
  });

  it('warns when protocol and port disagree', () => {
    expect(checkTelemetryEnv({ ...good, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).warnings[0]).toContain(
      'gRPC is 4317',
    );
  });

  it('lets a session run with telemetry off, saying so', () => {
    const r = checkTelemetryEnv({ ...good, CLAUDE_CODE_ENABLE_TELEMETRY: '0' });
    expect(r).toMatchObject({ enabled: false, problems: [] });
    expect(r.warnings[0]).toContain('telemetry is off');
  });

  it('parses resource attributes', () => {
    expect(parseResourceAttributes('user.name=alice, team=x,bad')).toEqual({
      'user.name': 'alice',
      team: 'x',
    });
  });

  it("takes delta temporality (Claude Code's default) as well as cumulative: the collector makes it cumulative", () => {
    for (const t of ['delta', 'DELTA', 'cumulative', 'lowmemory', undefined])
      expect(
        checkTelemetryEnv({ ...good, OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: t }).problems,
        String(t),
      ).toEqual([]);
  });

  it('takes 13 resource attributes and up to 64 (the OpenTelemetry SDK keeps 128), not 65', () => {
    const attrs = (n: number) => Array.from({ length: n }, (_, i) => `attr.${i}=v${i}`).join(',');
    expect(MAX_RESOURCE_ATTRIBUTES).toBe(64);
    for (const n of [13, 64])
      expect(checkTelemetryEnv({ ...good, OTEL_RESOURCE_ATTRIBUTES: attrs(n) }).problems, String(n)).toEqual(
        [],
      );
    expect(checkTelemetryEnv({ ...good, OTEL_RESOURCE_ATTRIBUTES: attrs(65) }).problems).toEqual([
      "OTEL_RESOURCE_ATTRIBUTES has 65 entries (max 64): the OpenTelemetry SDK keeps 128 attributes at most, with its own and the gateway's",
    ]);
  });
});
