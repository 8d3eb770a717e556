// Recipe: the stack's config files checked by the real tools, in the images the stack runs, and the Claude Code
// entrypoint refusing a telemetry setup that would lose a session's data.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { repoRoot } from '../scripts/lib/repo-root.ts';
import { compose } from '../scripts/lib/stack/compose.ts';
import { readEnvFile } from '../scripts/lib/stack/env-file.ts';
import { envFiles } from '../scripts/lib/stack/stack-files.ts';

const versions = readEnvFile(envFiles.versions);
const image = (key: string) => versions[key] as string;
const mount = (rel: string, at: string) => ['-v', `${join(repoRoot, rel)}:${at}:ro`];
const run = (args: string[]) => $({ quiet: true, nothrow: true })`docker run --rm --network none ${args}`;

describe('config files, checked by the real tools', () => {
  // Every collector loads sessions.yaml (receivers, identity stamping, limits) first, then its role's pipelines:
  // the single host's collector and the scaled gateways config.yaml (the sinks), the gateways gateway.yaml over it,
  // the scaled agents agent.yaml. Each of them alone is not a whole config.
  it.each([
    ['the single host collector', ['sessions.yaml', 'config.yaml']],
    ['a scaled agent', ['sessions.yaml', 'agent.yaml']],
    ['a scaled gateway', ['sessions.yaml', 'config.yaml', 'gateway.yaml']],
  ])('otelcol validate accepts %s: %j', async (_, files) => {
    const r = await run([
      ...files.flatMap((f) => mount(`stack/otel-collector/${f}`, `/etc/otelcol/${f}`)),
      image('OTELCOL_LOCAL_IMAGE'),
      'validate',
      ...files.map((f) => `--config=/etc/otelcol/${f}`),
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it.each(['prometheus.yml', 'scaled.yml'])(
    'promtool check config accepts stack/prometheus/%s',
    async (file) => {
      const r = await run([
        ...mount(`stack/prometheus/${file}`, '/etc/prometheus/prometheus.yml'),
        '--entrypoint',
        'promtool',
        image('PROMETHEUS_LOCAL_IMAGE'),
        'check',
        'config',
        '/etc/prometheus/prometheus.yml',
      ]);
      expect(r.exitCode, r.stderr + r.stdout).toBe(0);
      expect(r.stdout).toContain('SUCCESS');
    },
  );

  it('promtool refuses a broken config (the check can fail)', async () => {
    const r = await $({
      quiet: true,
      nothrow: true,
      input: 'scrape_configs:\n  - job_name: x\n    static_configs: [{ targets: [1] }]\n    bogus: true\n',
    })`docker run --rm -i --network none --entrypoint sh ${image('PROMETHEUS_LOCAL_IMAGE')} -c ${'cat > /tmp/p.yml && promtool check config /tmp/p.yml'}`;
    expect(r.exitCode).not.toBe(0);
  });

  it.each(['config.yaml', 'scaled-collector.yaml', 'scaled-query.yaml'])(
    'jaeger validate accepts stack/jaeger/%s',
    async (file) => {
      const r = await run([
        ...mount(`stack/jaeger/${file}`, `/etc/jaeger/${file}`),
        image('JAEGER_LOCAL_IMAGE'),
        'validate',
        `--config=/etc/jaeger/${file}`,
      ]);
      expect(r.exitCode, r.stderr).toBe(0);
    },
  );

  it.each([
    ['stack/compose.yaml', []],
    ['stack/compose.yaml + compose.scaled.yaml', [join(repoRoot, 'stack/compose.scaled.yaml')]],
  ])('docker compose accepts %s with the stack env files', async (_, overrides) => {
    const scaled = overrides.length > 0;
    const env = {
      ...process.env,
      MCP_AUTH_TOKEN: 'x'.repeat(40),
      MCP_SESSION_SECRET: 'z'.repeat(64),
      WORKSPACES_DIR: '/tmp/w',
      GRAFANA_ADMIN_PASSWORD: 'y'.repeat(20),
      TELEMETRY_DIR: '/tmp/t',
      SESSIONS_DIR: '/tmp/s',
      QUEUE_DIR: '/tmp/q',
      SESSION_REVOKED_DIR: '/tmp/r',
      OTELCOL_IMAGE: 'a:1',
      JAEGER_IMAGE: 'b:1',
      PROMETHEUS_IMAGE: 'c:1',
      VICTORIALOGS_IMAGE: 'g:1',
      ANTHROPIC_REPLAY_IMAGE: 'd:1',
      MCP_FILE_OPS_IMAGE: 'e:1',
      MCP_DATABASE_IMAGE: 'f:1',
      EGRESS_PROXY_IMAGE: 'h:1',
      SESSION_GATEWAY_IMAGE: 'i:1',
      HEALTHCHECK_BIN: '/tmp/healthcheck',
      OPENSEARCH_IMAGE: 'j:1',
      S3_GATEWAY_IMAGE: 'k:1',
      S3_ACCESS_KEY_ID: 'l'.repeat(20),
      S3_SECRET_ACCESS_KEY: 'm'.repeat(40),
    };
    // versions.env and these values only: not the local stack's .images.env and .env.local.
    const cfg = await compose(
      [
        '--profile',
        'grafana',
        '--profile',
        'session',
        ...(scaled ? ['--profile', 'resize'] : []),
        'config',
        '--format',
        'json',
      ],
      {
        overrides,
        localEnv: false,
        env,
        quiet: true,
        nothrow: true,
      },
    );
    expect(cfg.exitCode, cfg.stderr).toBe(0);
    const services = (
      JSON.parse(cfg.stdout) as {
        services: Record<
          string,
          { ports?: { host_ip?: string }[]; healthcheck?: unknown; container_name?: string }
        >;
      }
    ).services;
    const single = [
      'anthropic-replay',
      'claude-code',
      'egress-proxy',
      'grafana',
      'jaeger',
      'mcp-database',
      'mcp-file-ops',
      'otel-collector',
      'prometheus',
      'session-gateway',
      'victorialogs',
    ];
    const scaledOnly = [
      'jaeger-collector-1',
      'jaeger-collector-2',
      'opensearch-1',
      'opensearch-2',
      'opensearch-3',
      'otel-agent-2',
      'otel-gateway-1',
      'otel-gateway-2',
      'otel-gateway-3',
      's3-gateway',
      'victorialogs-storage-1',
      'victorialogs-storage-2',
    ];
    expect(Object.keys(services).sort()).toEqual((scaled ? [...single, ...scaledOnly] : single).sort());
    for (const [name, svc] of Object.entries(services)) {
      // Every service has a memory bound (a session's is its limit).
      expect((svc as { mem_limit?: unknown }).mem_limit, `${name} has no memory limit`).toBeDefined();
      for (const p of svc.ports ?? [])
        expect(p.host_ip, `${name} publishes a port beyond 127.0.0.1`).toBe('127.0.0.1');
      expect(svc.container_name, name).toBeUndefined();
      if (name !== 'claude-code') expect(svc.healthcheck, `${name} has no healthcheck`).toBeDefined();
    }
  });
});

describe('the Claude Code entrypoint', () => {
  it('refuses a session whose OTLP protocol is unset (Claude Code would export nothing), exit 78', async () => {
    const env = [
      'CLAUDE_CODE_ENABLE_TELEMETRY=1',
      'CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1',
      'OTEL_METRICS_EXPORTER=otlp',
      'OTEL_LOGS_EXPORTER=otlp',
      'OTEL_TRACES_EXPORTER=otlp',
      'OTEL_EXPORTER_OTLP_ENDPOINT=http://otel-collector:4318',
      'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative',
      'SESSION_PROMPT=hello',
    ].flatMap((e) => ['-e', e]);
    const r = await run([...env, image('CLAUDE_CODE_IMAGE'), 'session']);
    expect(r.exitCode).toBe(78);
    expect(r.stderr).toContain('refusing to start');
    expect(r.stderr).toContain('OTEL_EXPORTER_OTLP_PROTOCOL is unset');
    const ok = await run([
      ...env,
      '-e',
      'OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf',
      image('CLAUDE_CODE_IMAGE'),
      'check',
    ]);
    expect(ok.exitCode, ok.stderr).toBe(0);
    expect(ok.stderr).toContain('telemetry environment ok');
  });
});
