import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { repoRoot } from '../repo-root.ts';
import { readEnvFile } from '../stack/env-file.ts';
import { envFiles } from '../stack/stack-files.ts';
import { configComponents, missingComponents, parseManifest, readManifest } from './collector-manifest.ts';

const manifestFile = join(repoRoot, 'stack/otel-collector/builder-config.yaml');
const configFile = join(repoRoot, 'stack/otel-collector/config.yaml');

describe('the collector builder manifest', () => {
  const manifest = readManifest(manifestFile);

  it('has every component the stack config uses', () => {
    const config = configComponents(readFileSync(configFile, 'utf8'));
    expect(config.exporters).toEqual(['otlp_grpc', 'otlp_http', 'file']);
    expect(config.processors).toContain('delta_to_cumulative');
    expect(config.processors).toContain('transform');
    expect(missingComponents(config, manifest)).toEqual([]);
  });

  it("has every component of every collector config beside it (the scaled topology's agent and gateway too)", () => {
    const dir = join(repoRoot, 'stack/otel-collector');
    const configs = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'builder-config.yaml');
    expect(configs).toContain('config.yaml');
    for (const f of configs) {
      const config = configComponents(readFileSync(join(dir, f), 'utf8'));
      expect(missingComponents(config, manifest), f).toEqual([]);
    }
  });

  it('builds the collector release pinned in stack/versions.env, every module at that release', () => {
    const version = readEnvFile(envFiles.versions).OTELCOL_VERSION;
    expect(manifest.version).toBe(version);
    const text = readFileSync(manifestFile, 'utf8');
    const versions = [...text.matchAll(/gomod: \S+ (v\S+)/g)].map((m) => m[1]);
    expect(versions.length).toBeGreaterThan(0);
    expect(new Set(versions)).toEqual(new Set([`v${version}`]));
  });

  it('reports a config component the manifest lacks', () => {
    const config = configComponents(
      'receivers: { otlp: {}, zipkin: {} }\nexporters: { "otlp_grpc/x": {}, kafka: {} }\nextensions: { health_check: {} }',
    );
    expect(missingComponents(config, manifest)).toEqual(['receivers/zipkin', 'exporters/kafka']);
  });

  it('parses an empty manifest without inventing modules', () => {
    expect(parseManifest('dist: { version: 1.0.0 }').modules.receivers).toEqual([]);
  });
});

describe("the load bench's no-op collector (stack/otel-collector/bench-noop.yaml)", () => {
  // `pnpm bench load` compares the stack with this collector: only the exporter may differ. The stack's collector
  // loads sessions.yaml, then config.yaml: maps merged key by key, as the collector merges --config files.
  const merge = (a: unknown, b: unknown): unknown => {
    const isMap = (x: unknown): x is Record<string, unknown> =>
      !!x && typeof x === 'object' && !Array.isArray(x);
    if (!isMap(a) || !isMap(b)) return b === undefined ? a : b;
    const out: Record<string, unknown> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
    return out;
  };
  const stack = merge(
    parse(readFileSync(join(repoRoot, 'stack/otel-collector/sessions.yaml'), 'utf8')),
    parse(readFileSync(configFile, 'utf8')),
  ) as {
    receivers: unknown;
    processors: Record<string, Record<string, unknown>>;
    service: { pipelines: { traces: { processors: string[] } } };
  };
  const noop = parse(readFileSync(join(repoRoot, 'stack/otel-collector/bench-noop.yaml'), 'utf8'));

  it("has the stack's receiver and traces processors, in the same order, and only a nop exporter", () => {
    expect(noop.receivers).toEqual(stack.receivers);
    const processors: string[] = stack.service.pipelines.traces.processors;
    expect(noop.service.pipelines.traces.processors).toEqual(processors);
    // The traces statements only: the no-op collector takes no logs or metrics.
    const traces = (p: Record<string, unknown>) => ({
      ...p,
      log_statements: undefined,
      metric_statements: undefined,
    });
    for (const p of processors)
      expect(traces(noop.processors[p]), p).toEqual(traces(stack.processors[p] ?? {}));
    expect(noop.service.pipelines.traces.exporters).toEqual(['nop']);
  });
});
