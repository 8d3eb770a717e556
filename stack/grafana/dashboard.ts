#!/usr/bin/env node
// The Claude Code dashboard as code: built with @grafana/grafana-foundation-sdk's builders, typed against Grafana's
// dashboard schema, and written to dashboards/claude-code.json (committed: Grafana provisions that file).
//   node stack/grafana/dashboard.ts          rewrite the JSON
//   node stack/grafana/dashboard.ts --check  exit 1 when the committed JSON differs from what this builds
// A unit test (dashboard.test.ts) fails when they differ, so the JSON is never edited by hand.
// Over 300 lines on purpose: one builder chain, panel after panel, in the order the dashboard shows them.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as bargauge from '@grafana/grafana-foundation-sdk/bargauge';
import {
  BarGaugeDisplayMode,
  BigValueColorMode,
  BigValueGraphMode,
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  StackingConfigBuilder,
  StackingMode,
  VizLegendOptionsBuilder,
  VizOrientation,
} from '@grafana/grafana-foundation-sdk/common';
import {
  DashboardBuilder,
  DashboardLinkBuilder,
  DashboardLinkType,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder, PromQueryFormat } from '@grafana/grafana-foundation-sdk/prometheus';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as text from '@grafana/grafana-foundation-sdk/text';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { GATEWAY_EVENT } from '../../scripts/lib/export/analysis/usage.ts';
import { vlUiUrl } from '../../scripts/lib/sinks/victorialogs.ts';

export const DASHBOARD_FILE = fileURLToPath(new URL('./dashboards/claude-code.json', import.meta.url));

const prometheus = { type: 'prometheus', uid: 'prometheus' };
/**
 * Every Claude Code query is scoped to the selected users, projects and sessions. `project` is the label the
 * collector stamps from the session's credential (pnpm session --project, or its workspace's git remote); All
 * (`.*`) also matches the sessions that have none.
 */
const scope = 'session_id=~"$session", user_name=~"$user", project=~"$project"';
const last = () => new ReduceDataOptionsBuilder().calcs(['lastNotNull']).fields('').values(false);

const query = (
  expr: string,
  o: { legend?: string; instant?: boolean; ref?: string; table?: boolean } = {},
) => {
  const q = new DataqueryBuilder()
    .refId(o.ref ?? 'A')
    .datasource(prometheus)
    .expr(expr);
  if (o.legend) q.legendFormat(o.legend);
  if (o.instant) q.instant();
  if (o.table) q.format(PromQueryFormat.Table);
  return q;
};

const grid = (x: number, y: number, w: number, h: number) => ({ x, y, w, h });

function statPanel(title: string, expr: string, unit: string, x: number, description = '') {
  return new stat.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(prometheus)
    .gridPos(grid(x, 0, 4, 4))
    .unit(unit)
    .reduceOptions(last())
    .colorMode(BigValueColorMode.Value)
    .graphMode(BigValueGraphMode.None)
    .withTarget(query(expr, { instant: true }));
}

function barsPanel(
  title: string,
  expr: string,
  legend: string,
  unit: string,
  pos: ReturnType<typeof grid>,
  description = '',
) {
  return new bargauge.PanelBuilder()
    .title(title)
    .description(description)
    .datasource(prometheus)
    .gridPos(pos)
    .unit(unit)
    .orientation(VizOrientation.Horizontal)
    .displayMode(BarGaugeDisplayMode.Basic)
    .reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
    .withTarget(query(expr, { legend, instant: true }));
}

function seriesPanel(title: string, expr: string, legend: string, unit: string, x: number, stacked: boolean) {
  return new timeseries.PanelBuilder()
    .title(title)
    .datasource(prometheus)
    .gridPos(grid(x, 4, 12, 8))
    .unit(unit)
    .stacking(new StackingConfigBuilder().mode(stacked ? StackingMode.Normal : StackingMode.None))
    .legend(
      new VizLegendOptionsBuilder()
        .displayMode(LegendDisplayMode.Table)
        .placement(LegendPlacement.Right)
        .calcs(['lastNotNull'])
        .showLegend(true),
    )
    .withTarget(query(expr, { legend }));
}

const variable = (name: string, label: string, q: string) =>
  new QueryVariableBuilder(name)
    .label(label)
    .datasource(prometheus)
    .query({ query: q, refId: name } as unknown as string)
    .includeAll(true)
    .allValue('.*')
    .multi(true)
    .current({ text: 'All', value: '$__all' })
    .refresh(VariableRefresh.OnTimeRangeChanged);

/** Each series' last value in the dashboard's range: a session's total (Claude Code's counters are per session). */
const overRange = (metric: string) => `last_over_time(${metric}{${scope}}[$__range])`;
const perUser = (metric: string) => `sum by (user_name) (${overRange(metric)})`;
const WHOLE =
  'Counted per session, whole: a session that began before the range counts in full. Sessions run without --user have no user_name.';

/** VictoriaLogs' web UI as the browser on this host reaches it (VICTORIALOGS_PORT's default, like Jaeger's link). */
const VICTORIALOGS_UI = 'http://127.0.0.1:9428';
/** The session gateway's own record of each model request; a gateway_request a session forged says reported. */
const OBSERVED = `event.name:=${GATEWAY_EVENT} telemetry.source:=observed`;
const USAGE_STATS =
  'count() requests, sum(input_tokens) input, sum(output_tokens) output, sum(cache_read_tokens) cache_read, sum(cache_creation_tokens) cache_creation, sum(cost_usd) usd';
/** LogsQL over VictoriaLogs: the observed usage by user, Claude Code's reported usage beside it, and per session. */
export const OBSERVED_USAGE_QUERIES = {
  observed: `${OBSERVED} | stats by (user.name) ${USAGE_STATS}`,
  reported: `event.name:=api_request | stats by (user.name) ${USAGE_STATS}`,
  bySession: `(${OBSERVED}) or event.name:=api_request | stats by (user.name, session.id, event.name) ${USAGE_STATS}`,
};

/**
 * The observed usage row's one panel: Grafana here reads Prometheus and Jaeger only, and the gateway's events are
 * in VictoriaLogs (no metric carries them), so it gives the queries and links to run them in VictoriaLogs' UI.
 */
function observedUsagePanel() {
  const q = OBSERVED_USAGE_QUERIES;
  const item = (what: string, query: string) =>
    `- [${what}](${vlUiUrl(VICTORIALOGS_UI, query)}) (last 24 h; change the range there):\n\n  \`\`\`\n  ${query}\n  \`\`\``;
  return new text.PanelBuilder()
    .title('Observed usage by user: tokens, cost and requests the session gateway recorded (in VictoriaLogs)')
    .description(
      "The session gateway records every model request itself (outside the session's reach). Its events are in VictoriaLogs, which Grafana here cannot read: this panel links the queries instead of drawing them.",
    )
    .gridPos(grid(0, 54, 24, 12))
    .mode(text.TextMode.Markdown)
    .content(
      [
        `The session gateway sends one \`${GATEWAY_EVENT}\` event per model request it proxied (\`telemetry.source=observed\`: tokens by type, cost, status, attempt, time to first byte). Claude Code's own \`api_request\` events and the metrics above are what the session **reported**.`,
        '',
        "These figures are not drawn here: the gateway's events are in VictoriaLogs, not Prometheus, and Grafana's VictoriaLogs data source is a plugin this stack does not install (it would be downloaded at start). Run them in VictoriaLogs' UI:",
        '',
        item('Observed usage by user (the gateway)', q.observed),
        item('Reported usage by user (Claude Code), to compare', q.reported),
        item('Both, per session', q.bySession),
        '',
        "The gateway's `requests` include the failed ones (refused by a budget, API errors); add `http.status_code:=200` to its filter for the calls answered, what Claude Code's `api_request` counts. `pnpm stack:check --session ID` and `pnpm export` put the two side by side per session and name every difference.",
      ].join('\n'),
    );
}

export function claudeCodeDashboard() {
  const sum = (metric: string, extra = '') => `sum(${metric}{${scope}${extra}})`;
  const by = (labels: string, metric: string) => `sum by (${labels}) (${metric}{${scope}})`;
  return new DashboardBuilder('Claude Code')
    .uid('claude-code-telemetry')
    .description(
      "Claude Code sessions, tokens, cost, code changes, active time, edit decisions and MCP tool calls, by session, a By user row (tokens, cost, sessions, tool calls per user over the time range), and an Observed usage row (the session gateway's own record, in VictoriaLogs: its queries, linked). Metric names as Prometheus's OTLP receiver writes them (UnderscoreEscapingWithSuffixes, verified live).",
    )
    .tags(['claude-code', 'telemetry'])
    .timezone('browser')
    .readonly()
    .refresh('10s')
    .time({ from: 'now-6h', to: 'now' })
    .withVariable(variable('user', 'User', 'label_values(claude_code_session_count_total, user_name)'))
    .withVariable(
      variable(
        'project',
        'Project',
        'label_values(claude_code_session_count_total{user_name=~"$user"}, project)',
      ),
    )
    .withVariable(
      variable(
        'session',
        'Session',
        'label_values(claude_code_session_count_total{user_name=~"$user", project=~"$project"}, session_id)',
      ),
    )
    .link(
      new DashboardLinkBuilder('Traces in Jaeger')
        .type(DashboardLinkType.Link)
        .url('http://127.0.0.1:16686/search?service=claude-code')
        .targetBlank(true),
    )
    .withPanel(
      statPanel(
        'Sessions',
        sum('claude_code_session_count_total'),
        'short',
        0,
        'Claude Code sessions started',
      ),
    )
    .withPanel(
      statPanel(
        'Cost',
        sum('claude_code_cost_usage_USD_total'),
        'currencyUSD',
        4,
        'Estimated cost reported by Claude Code',
      ),
    )
    .withPanel(statPanel('Tokens', sum('claude_code_token_usage_tokens_total'), 'short', 8))
    .withPanel(
      statPanel('Lines added', sum('claude_code_lines_of_code_count_total', ', type="added"'), 'short', 12),
    )
    .withPanel(
      statPanel(
        'Lines removed',
        sum('claude_code_lines_of_code_count_total', ', type="removed"'),
        'short',
        16,
      ),
    )
    .withPanel(statPanel('Active time', sum('claude_code_active_time_seconds_total'), 's', 20))
    .withPanel(
      seriesPanel(
        'Tokens by type',
        by('type', 'claude_code_token_usage_tokens_total'),
        '{{type}}',
        'short',
        0,
        true,
      ),
    )
    .withPanel(
      seriesPanel(
        'Cost over time',
        by('model', 'claude_code_cost_usage_USD_total'),
        '{{model}}',
        'currencyUSD',
        12,
        false,
      ),
    )
    .withPanel(
      barsPanel(
        'Lines of code',
        by('type', 'claude_code_lines_of_code_count_total'),
        '{{type}}',
        'short',
        grid(0, 12, 8, 8),
      ),
    )
    .withPanel(
      barsPanel(
        'Active time by type',
        by('type', 'claude_code_active_time_seconds_total'),
        '{{type}}',
        's',
        grid(8, 12, 8, 8),
      ),
    )
    .withPanel(
      barsPanel(
        'Edit decisions',
        by('tool_name, decision', 'claude_code_code_edit_tool_decision_total'),
        '{{tool_name}} {{decision}}',
        'short',
        grid(16, 12, 8, 8),
      ),
    )
    .withPanel(
      new table.PanelBuilder()
        .title('Sessions (drill-down: pick one in the session variable above)')
        .datasource(prometheus)
        .gridPos(grid(0, 20, 24, 8))
        .showHeader(true)
        .withTransformation({ id: 'merge', options: {} })
        .withTransformation({
          id: 'organize',
          options: {
            excludeByName: { Time: true },
            renameByName: { 'Value #A': 'cost (USD)', 'Value #B': 'tokens', 'Value #C': 'active s' },
          },
        })
        .withTarget(
          query(by('session_id, user_name', 'claude_code_cost_usage_USD_total'), {
            instant: true,
            table: true,
          }),
        )
        .withTarget(
          query(by('session_id, user_name', 'claude_code_token_usage_tokens_total'), {
            ref: 'B',
            instant: true,
            table: true,
          }),
        )
        .withTarget(
          query(by('session_id, user_name', 'claude_code_active_time_seconds_total'), {
            ref: 'C',
            instant: true,
            table: true,
          }),
        ),
    )
    .withPanel(
      barsPanel(
        'MCP tool calls by outcome',
        'sum by (gen_ai_tool_name, mcp_tool_outcome) (mcp_server_tool_calls_total{session_id=~"$session"})',
        '{{gen_ai_tool_name}} {{mcp_tool_outcome}}',
        'short',
        grid(0, 28, 12, 8),
      ),
    )
    .withPanel(
      barsPanel(
        'MCP tool call duration, p95 (over the selected sessions)',
        'histogram_quantile(0.95, sum by (le, gen_ai_tool_name) (mcp_server_operation_duration_seconds_bucket{session_id=~"$session"}))',
        '{{gen_ai_tool_name}}',
        's',
        grid(12, 28, 12, 8),
      ),
    )
    .withRow(new RowBuilder('By user').gridPos(grid(0, 36, 24, 1)))
    .withPanel(
      barsPanel(
        'Tokens by user',
        perUser('claude_code_token_usage_tokens_total'),
        '{{user_name}}',
        'short',
        grid(0, 37, 12, 8),
        `Tokens (input, output, cache read and creation) of each user's sessions in the dashboard's time range. ${WHOLE}`,
      ),
    )
    .withPanel(
      barsPanel(
        'Cost by user',
        perUser('claude_code_cost_usage_USD_total'),
        '{{user_name}}',
        'currencyUSD',
        grid(12, 37, 12, 8),
        `Estimated cost (Claude Code's) of each user's sessions in the dashboard's time range. ${WHOLE}`,
      ),
    )
    .withPanel(
      barsPanel(
        'Sessions by user',
        `count by (user_name) (group by (user_name, session_id) (${overRange('claude_code_session_count_total')}))`,
        '{{user_name}}',
        'short',
        grid(0, 45, 12, 8),
        "Distinct sessions (session ids) of each user with data in the dashboard's time range.",
      ),
    )
    .withPanel(
      barsPanel(
        'Tool calls by user (MCP calls, edit decisions)',
        // The MCP servers' count has a session id, not a user: it is joined to the user of each session.
        `sum by (user_name) (sum by (session_id) (last_over_time(mcp_server_tool_calls_total{session_id=~"$session"}[$__range])) * on (session_id) group_left (user_name) group by (session_id, user_name) (${overRange('claude_code_session_count_total')}))`,
        '{{user_name}} MCP tool calls',
        'short',
        grid(12, 45, 12, 8),
        "What Prometheus counts of each user's tool calls in the dashboard's time range: calls to the MCP servers (their mcp_server_tool_calls_total, joined to users by session id) and edit tool decisions (Edit, Write, NotebookEdit; accepted or rejected). Claude Code's built-in tool calls (Read, Bash, Grep, ...) are events (tool_result) and spans, not metrics: Prometheus has no count of them, and Grafana here has no VictoriaLogs data source. Every tool call by user: in VictoriaLogs' UI, `event.name:=tool_result | stats by (user.name, tool_name) count()`.",
      ).withTarget(
        query(`sum by (user_name) (${overRange('claude_code_code_edit_tool_decision_total')})`, {
          legend: '{{user_name}} edit decisions',
          instant: true,
          ref: 'B',
        }),
      ),
    )
    .withRow(new RowBuilder('Observed usage by user (session gateway)').gridPos(grid(0, 53, 24, 1)))
    .withPanel(observedUsagePanel())
    .build();
}

/** The dashboard as the committed file holds it: panel ids in order, two-space JSON, newline at the end. */
export function dashboardJson(): string {
  const d = claudeCodeDashboard() as unknown as { panels?: { id?: number }[] };
  d.panels?.forEach((p, i) => {
    p.id = i + 1;
  });
  return `${JSON.stringify(d, null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const built = dashboardJson();
  if (process.argv.includes('--check')) {
    const same = readFileSync(DASHBOARD_FILE, 'utf8') === built;
    console.log(
      same
        ? 'dashboard: up to date'
        : `dashboard: ${DASHBOARD_FILE} differs; run node stack/grafana/dashboard.ts`,
    );
    process.exit(same ? 0 : 1);
  }
  writeFileSync(DASHBOARD_FILE, built);
  console.log(`dashboard: wrote ${DASHBOARD_FILE}`);
}
