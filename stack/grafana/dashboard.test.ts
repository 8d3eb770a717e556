// The Grafana dashboard's shape, checked without Grafana: a bare dashboard model (not the HTTP API envelope),
// every datasource it uses provisioned with that uid, every query on a metric name Prometheus really has.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DASHBOARD_FILE, dashboardJson } from './dashboard.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const dashboard = JSON.parse(readFileSync(here('./dashboards/claude-code.json'), 'utf8')) as {
  uid: string;
  title: string;
  panels: {
    id: number;
    title: string;
    datasource: { uid: string };
    targets: { expr: string; datasource: { uid: string } }[];
  }[];
  templating: { list: { name: string; datasource: { uid: string }; query: { query: string } }[] };
};
const provisioned = (
  parse(readFileSync(here('./provisioning/datasources/datasources.yaml'), 'utf8')) as {
    datasources: { uid: string; type: string; url: string }[];
  }
).datasources;
const names = JSON.parse(readFileSync(here('../../fixtures/prometheus-metric-names.json'), 'utf8')) as Record<
  string,
  string[] | string
>;
const known = new Set(Object.values(names).filter(Array.isArray).flat());

/** Metric names in a PromQL expression: identifiers followed by `{` or `[` or standing alone inside a call. */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b([a-z_][a-z0-9_]*_(?:total|bucket|count|sum))\b/gi)].map((m) => m[1] as string);
}

describe('the Claude Code dashboard', () => {
  it('is the JSON that dashboard.ts builds with the Grafana Foundation SDK (never edited by hand)', () => {
    expect(readFileSync(DASHBOARD_FILE, 'utf8'), 'run: node stack/grafana/dashboard.ts').toBe(
      dashboardJson(),
    );
  });

  it('is a bare dashboard model with a fixed uid, unique panel ids', () => {
    expect(dashboard).not.toHaveProperty('dashboard');
    expect(dashboard.uid).toBe('claude-code-telemetry');
    expect(new Set(dashboard.panels.map((p) => p.id)).size).toBe(dashboard.panels.length);
  });

  it('uses only provisioned datasources', () => {
    const uids = new Set(provisioned.map((d) => d.uid));
    expect(uids).toEqual(new Set(['prometheus', 'jaeger']));
    for (const p of dashboard.panels) {
      expect(uids.has(p.datasource.uid), p.title).toBe(true);
      for (const t of p.targets) expect(uids.has(t.datasource.uid), p.title).toBe(true);
    }
  });

  it('queries only metric names Prometheus has, and covers what users look at', () => {
    const used = new Set<string>();
    for (const p of dashboard.panels) {
      expect(p.targets.length, p.title).toBeGreaterThan(0);
      for (const t of p.targets) {
        const found = metricNames(t.expr);
        expect(found.length, `${p.title}: ${t.expr}`).toBeGreaterThan(0);
        for (const n of found) {
          expect(known.has(n), `${p.title} uses ${n}, which Prometheus does not have`).toBe(true);
          used.add(n);
        }
      }
    }
    for (const n of names.claudeCode as string[]) expect(used.has(n), `no panel shows ${n}`).toBe(true);
    const titles = dashboard.panels.map((p) => p.title.toLowerCase()).join(' | ');
    for (const topic of [
      'sessions',
      'tokens by type',
      'cost',
      'lines',
      'active time',
      'edit decisions',
      'by user',
      'drill-down',
    ]) {
      expect(titles).toContain(topic);
    }
  });

  it('breaks down by user and session through template variables', () => {
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['user', 'session']);
    expect(dashboard.templating.list[0]?.query.query).toContain('user_name');
    expect(dashboard.templating.list[1]?.query.query).toContain('session_id');
  });

  it('rejects a name Prometheus does not have (the check can fail)', () => {
    expect(metricNames('sum(claude_code_cost_usage_total)').filter((n) => !known.has(n))).toEqual([
      'claude_code_cost_usage_total',
    ]);
  });
});
