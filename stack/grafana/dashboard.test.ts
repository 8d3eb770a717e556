// The Grafana dashboard's shape, checked without Grafana: a bare dashboard model (not the HTTP API envelope),
// every datasource it uses provisioned with that uid, every query on a metric name Prometheus really has, and the
// observed usage row's links to VictoriaLogs (which Grafana here cannot read).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EVENT_NAME } from '../session-gateway/src/usage-event.ts';
import { DASHBOARD_FILE, dashboardJson, OBSERVED_USAGE_QUERIES } from './dashboard.ts';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const dashboard = JSON.parse(readFileSync(here('./dashboards/claude-code.json'), 'utf8')) as {
  uid: string;
  title: string;
  panels: {
    id: number;
    type: string;
    title: string;
    description?: string;
    gridPos: { x: number; y: number; w: number; h: number };
    datasource: { uid: string };
    targets: { expr: string; datasource: { uid: string } }[];
    options?: { mode?: string; content?: string };
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
/** Rows only group the panels below them, text panels only say things: no datasource, no queries. */
const panels = dashboard.panels.filter((p) => p.type !== 'row' && p.type !== 'text');
/** The panels of a row: below it, above the next row. */
function rowPanels(title: string) {
  const rows = dashboard.panels.filter((p) => p.type === 'row');
  const at = rows.findIndex((r) => r.title === title);
  const top = rows[at]?.gridPos.y ?? Number.POSITIVE_INFINITY;
  const next = rows[at + 1]?.gridPos.y ?? Number.POSITIVE_INFINITY;
  return dashboard.panels.filter((p) => p.type !== 'row' && p.gridPos.y > top && p.gridPos.y < next);
}

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
    for (const p of panels) {
      expect(uids.has(p.datasource.uid), p.title).toBe(true);
      for (const t of p.targets) expect(uids.has(t.datasource.uid), p.title).toBe(true);
    }
  });

  it('queries only metric names Prometheus has, and covers what users look at', () => {
    const used = new Set<string>();
    for (const p of panels) {
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

  it('has a By user row: tokens, cost, sessions and tool calls per user, over the time range', () => {
    const below = rowPanels('By user');
    expect(below.map((p) => p.title)).toEqual([
      'Tokens by user',
      'Cost by user',
      'Sessions by user',
      'Tool calls by user (MCP calls, edit decisions)',
    ]);
    for (const p of below) {
      expect(p.description, p.title).toBeTruthy();
      for (const t of p.targets) {
        expect(t.expr, p.title).toMatch(/^(sum|count) by \(user_name\) \(/);
        expect(t.expr, p.title).toContain('[$__range]');
        expect(t.expr, p.title).toContain('user_name=~"$user"');
      }
    }
    const tools = below.at(-1);
    expect(tools?.targets.map((t) => metricNames(t.expr))).toEqual([
      ['mcp_server_tool_calls_total', 'claude_code_session_count_total'],
      ['claude_code_code_edit_tool_decision_total'],
    ]);
    // the limitation is stated where the numbers are: built-in tool calls are events, not metrics
    expect(tools?.description).toContain('Prometheus has no count of them');
    // rows and panels do not overlap
    const cells = new Set<string>();
    for (const p of dashboard.panels)
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++)
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          expect(cells.has(`${x},${y}`), `${p.title} overlaps another panel at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
  });

  it("has an Observed usage row: the gateway's events in VictoriaLogs, linked, and why they are not drawn", () => {
    const [panel, ...more] = rowPanels('Observed usage by user (session gateway)');
    expect(more).toEqual([]);
    expect(panel?.type).toBe('text');
    expect(panel?.options?.mode).toBe('markdown');
    const content = panel?.options?.content ?? '';
    const q = OBSERVED_USAGE_QUERIES;
    expect(q.observed).toBe(
      `event.name:=${EVENT_NAME} telemetry.source:=observed | stats by (user.name) count() requests, sum(input_tokens) input, sum(output_tokens) output, sum(cache_read_tokens) cache_read, sum(cache_creation_tokens) cache_creation, sum(cost_usd) usd`,
    );
    expect(q.reported).toMatch(/^event\.name:=api_request \| stats by \(user\.name\) /);
    for (const query of Object.values(q)) {
      expect(content).toContain(`  ${query}\n`);
      // each query linked, as VictoriaLogs' UI reads it from its hash route
      const link = `http://127.0.0.1:9428/select/vmui/#/?${new URLSearchParams({ query })}`;
      expect(content).toContain(`](${link}&g0.range_input=24h`);
    }
    expect(content).toContain('not drawn here');
    expect(content).toContain("Grafana's VictoriaLogs data source is a plugin this stack does not install");
  });

  it('breaks down by user, project and session through template variables', () => {
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['user', 'project', 'session']);
    expect(dashboard.templating.list[1]?.query.query).toBe(
      'label_values(claude_code_session_count_total{user_name=~"$user"}, project)',
    );
    expect(dashboard.templating.list[0]?.query.query).toContain('user_name');
    expect(dashboard.templating.list[2]?.query.query).toContain('session_id');
    expect(dashboard.templating.list[2]?.query.query).toContain('project=~"$project"');
  });

  it('rejects a name Prometheus does not have (the check can fail)', () => {
    expect(metricNames('sum(claude_code_cost_usage_total)').filter((n) => !known.has(n))).toEqual([
      'claude_code_cost_usage_total',
    ]);
  });
});
