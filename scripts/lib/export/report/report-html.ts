// report.html: what a person opens first. One self-contained file: inline CSS, charts as inline SVG drawn here,
// a few lines of inline script that only record what the browser rendered (for the e2e check). No network, no CDN,
// no external font: it opens the same from a laptop, a ticket attachment or an air-gapped machine.
// Over 300 lines on purpose: the page's template, styles, chart drawing and tables read best as one file, like the
// page.
import type { SessionMetadata } from '../../session/session-record.ts';
import type { SeriesPoint, SessionSummary, TimelineEntry } from '../analysis/summary.ts';
import type { Turn } from '../analysis/transcript.ts';
import type { Manifest } from '../archive/archive.ts';
import { esc } from './html.ts';
import { provenanceSection, usageCard, usageSection } from './report-usage.ts';

export interface ReportSession {
  summary: SessionSummary;
  series: SeriesPoint[];
  timeline: TimelineEntry[];
  /** The conversation from Claude Code's transcript (absent when the record has none). */
  conversation?: Turn[];
  /** The session's record (metadata.json): its provenance; null when the archive has none. */
  record?: SessionMetadata | null;
}

export interface ReportInput {
  title: string;
  createdAt: string;
  sessions: ReportSession[];
  missing: Manifest['missing'];
  content: Manifest['content'];
  versions: Record<string, string>;
  redactions: Record<string, number>;
}

export const COLORS = {
  input: '#2563eb',
  output: '#16a34a',
  cacheRead: '#9333ea',
  cacheCreation: '#ea580c',
  cost: '#dc2626',
  model: '#2563eb',
  toolOk: '#0d9488',
  toolFailed: '#e11d48',
  prompt: '#111827',
  retry: '#f59e0b',
  subagent: '#0891b2',
  hook: '#64748b',
} as const;

/** 12,345 (toLocaleString would load ICU's locale data: ~20 ms on the first call). */
export const fmtInt = (n: number) => String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
export const fmtUsd = (n: number) => `$${n.toFixed(4)}`;
const fmtMs = (n: number | null) =>
  n === null ? '–' : n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${fmtInt(n)} ms`;
const fmtPct = (n: number | null) => (n === null ? '–' : `${(n * 100).toFixed(1)}%`);
const clock = (t: number) => new Date(t).toISOString().slice(11, 19);
/** An axis tick: tenths of a second when the whole axis spans less than a minute (UTC). */
const tick = (t: number, span: number) => new Date(t).toISOString().slice(11, span < 60_000 ? 21 : 19);

const W = 760;
const PAD = { left: 64, right: 36, top: 16, bottom: 28 };

function axes(t0: number, t1: number, yMax: number, yLabel: (v: number) => string, h: number): string {
  const plotW = W - PAD.left - PAD.right;
  const plotH = h - PAD.top - PAD.bottom;
  const parts = [
    `<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" class="axis"/>`,
    `<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + plotH}" class="axis"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + plotH - (plotH * i) / 4;
    parts.push(
      `<line x1="${PAD.left}" y1="${y}" x2="${W - PAD.right}" y2="${y}" class="grid"/>`,
      `<text x="${PAD.left - 6}" y="${y + 4}" text-anchor="end" class="tick">${esc(yLabel((yMax * i) / 4))}</text>`,
    );
  }
  for (let i = 0; i <= 4; i++) {
    const x = PAD.left + (plotW * i) / 4;
    parts.push(
      `<text x="${x}" y="${h - 8}" text-anchor="middle" class="tick">${esc(tick(t0 + ((t1 - t0) * i) / 4, t1 - t0))}</text>`,
    );
  }
  return parts.join('');
}

/** A step chart of cumulative values; one path per series. */
function stepChart(
  id: string,
  title: string,
  points: SeriesPoint[],
  series: { key: keyof SeriesPoint; label: string; color: string }[],
  t0: number,
  t1: number,
  yLabel: (v: number) => string,
): string {
  const h = 240;
  const plotW = W - PAD.left - PAD.right;
  const plotH = h - PAD.top - PAD.bottom;
  const span = Math.max(1, t1 - t0);
  const yMax = Math.max(1e-9, ...points.flatMap((p) => series.map((s) => Number(p[s.key]))));
  const x = (t: number) => (PAD.left + ((t - t0) / span) * plotW).toFixed(1);
  const y = (v: number) => (PAD.top + plotH - (v / yMax) * plotH).toFixed(1);
  const paths = series.map((s) => {
    let d = `M${x(t0)},${y(0)}`;
    for (const p of points) d += ` H${x(p.time)} V${y(Number(p[s.key]))}`;
    d += ` H${x(t1)}`;
    return `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="3" data-series="${esc(String(s.key))}"/>`;
  });
  const legend = series
    .map(
      (s, i) =>
        `<g transform="translate(${PAD.left + 8 + i * 150},${PAD.top + 4})"><rect width="12" height="12" fill="${s.color}"/><text x="16" y="11" class="legend">${esc(s.label)}</text></g>`,
    )
    .join('');
  return `<figure><figcaption>${esc(title)}</figcaption><svg data-chart="${esc(id)}" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="${esc(title)}">${axes(t0, t1, yMax, yLabel, h)}${paths.join('')}${legend}</svg></figure>`;
}

/** The timeline's lanes, top down: prompts, model calls, API errors and retries, subagents, hooks, then each tool. */
function laneOf(e: TimelineEntry): string {
  switch (e.kind) {
    case 'prompt':
      return 'prompt';
    case 'model':
      return 'model';
    case 'error':
    case 'retry':
      return 'API errors';
    case 'subagent':
      return 'subagents';
    case 'hook':
      return 'hooks';
    default:
      return e.name;
  }
}

function colorOf(e: TimelineEntry): string {
  if (e.kind === 'prompt') return COLORS.prompt;
  if (e.kind === 'model') return COLORS.model;
  if (e.kind === 'retry') return COLORS.retry;
  if (e.kind === 'subagent') return COLORS.subagent;
  if (e.kind === 'hook' && e.ok) return COLORS.hook;
  return e.ok ? COLORS.toolOk : COLORS.toolFailed;
}

function timelineChart(entries: TimelineEntry[], t0: number, t1: number): string {
  const fixed = ['prompt', 'model', 'API errors', 'subagents', 'hooks'].filter(
    (lane, i) => i < 2 || entries.some((e) => laneOf(e) === lane),
  );
  const lanes = [
    ...fixed,
    ...[...new Set(entries.filter((e) => e.kind === 'tool').map((e) => e.name))].sort(),
  ];
  const row = 26;
  const left = 190;
  const h = PAD.top + lanes.length * row + PAD.bottom;
  const plotW = W - left - PAD.right;
  const span = Math.max(1, t1 - t0);
  const x = (t: number) => left + ((t - t0) / span) * plotW;
  const parts: string[] = [];
  lanes.forEach((lane, i) => {
    const y = PAD.top + i * row;
    parts.push(
      `<text x="${left - 8}" y="${y + 17}" text-anchor="end" class="lane">${esc(lane.length > 28 ? `${lane.slice(0, 27)}…` : lane)}</text>`,
      `<line x1="${left}" y1="${y + row}" x2="${W - PAD.right}" y2="${y + row}" class="grid"/>`,
    );
  });
  for (const e of entries) {
    const y = PAD.top + lanes.indexOf(laneOf(e)) * row + 5;
    const x0 = x(e.start);
    const width = Math.max(4, x(e.end) - x0);
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="16" rx="2" fill="${colorOf(e)}" data-series="${esc(e.kind)}"><title>${esc(`${e.name} at ${clock(e.start)}: ${e.detail}`)}</title></rect>`,
    );
  }
  for (let i = 0; i <= 4; i++)
    parts.push(
      `<text x="${left + (plotW * i) / 4}" y="${h - 8}" text-anchor="middle" class="tick">${esc(tick(t0 + (span * i) / 4, span))}</text>`,
    );
  return `<figure><figcaption>Timeline of model and tool calls${fixed.length > 2 ? `, ${fixed.slice(2).join(', ')}` : ''} (UTC; hover a bar for details)</figcaption><svg data-chart="timeline" viewBox="0 0 ${W} ${h}" width="${W}" height="${h}" role="img" aria-label="timeline">${parts.join('')}</svg></figure>`;
}

function sessionSection(r: ReportSession): string {
  const s = r.summary;
  const times = [...r.series.map((p) => p.time), ...r.timeline.flatMap((e) => [e.start, e.end])];
  const t0 = s.start ? Date.parse(s.start) : Math.min(...times);
  const t1 = s.end ? Date.parse(s.end) : Math.max(...times);
  const card = (label: string, value: string, key: string) =>
    `<div class="card"><div class="label">${esc(label)}</div><div class="value" data-key="${esc(key)}">${esc(value)}</div></div>`;
  const tokenRows = (
    [
      ['input', 'Input'],
      ['output', 'Output'],
      ['cacheRead', 'Cache read'],
      ['cacheCreation', 'Cache creation'],
      ['total', 'Total'],
    ] as const
  )
    .map(([k, label]) => `<tr><th>${label}</th><td data-key="tokens.${k}">${fmtInt(s.tokens[k])}</td></tr>`)
    .join('');
  const toolRows = Object.entries(s.toolCalls.byTool)
    .map(
      ([name, t]) =>
        `<tr><th>${esc(name)}</th><td>${t.calls}</td><td>${t.succeeded}</td><td>${t.failed}</td><td>${fmtPct(t.successRate)}</td><td>${fmtMs(t.latency.p50Ms)}</td><td>${fmtMs(t.latency.p95Ms)}</td><td>${fmtMs(t.latency.maxMs)}</td></tr>`,
    )
    .join('');
  const modelRows = Object.entries(s.modelCalls.byModel)
    .map(
      ([m, x]) =>
        `<tr><th>${esc(m)}</th><td>${x.calls}</td><td>${fmtInt(x.tokens)}</td><td>${fmtUsd(x.costUsd)}</td></tr>`,
    )
    .join('');
  const w = s.wrapper;
  const m = s.modelCalls;
  return `<section class="session" data-session="${esc(s.sessionId)}">
<h2>Session <code>${esc(s.sessionId)}</code></h2>
<p class="meta">${esc(s.start ?? '?')} → ${esc(s.end ?? '?')} · Claude Code ${esc(s.claudeCodeVersion ?? 'unknown')} · ${esc(s.models.join(', ') || 'no model calls')}${w ? ` · ${esc(w.mode)} session, ${esc(w.status)} (exit ${esc(w.exitCode ?? '–')})${w.script ? `, script ${esc(w.script)}` : ''}${w.user ? `, user ${esc(w.user)}` : ''}` : ''}</p>
<div class="cards">
${card('Duration', fmtMs(s.durationMs), 'duration')}
${card('Cost (reported)', fmtUsd(s.costUsd), 'cost')}
${card('Tokens (reported)', fmtInt(s.tokens.total), 'tokens')}
${card('Model calls (reported)', String(s.modelCalls.count), 'modelCalls')}
${card('Tool calls', `${s.toolCalls.calls} (${fmtPct(s.toolCalls.successRate)} ok)`, 'toolCalls')}
${m.errors ? card('API errors', `${m.errors}${m.recoveredCalls ? ` (${m.recoveredCalls} call(s) recovered)` : ''}`, 'apiErrors') : ''}
${s.subagents.runs ? card('Subagents', String(s.subagents.runs), 'subagents') : ''}
${s.hooks.executions ? card('Hook executions', String(s.hooks.executions), 'hooks') : ''}
${usageCard(s.usage)}
</div>
${usageSection(s.usage)}
${provenanceSection(r.record)}
${
  r.series.length
    ? stepChart(
        'tokens',
        'Tokens over time (cumulative, by type)',
        r.series,
        [
          { key: 'input', label: 'input', color: COLORS.input },
          { key: 'output', label: 'output', color: COLORS.output },
          { key: 'cacheRead', label: 'cache read', color: COLORS.cacheRead },
          { key: 'cacheCreation', label: 'cache creation', color: COLORS.cacheCreation },
        ],
        t0,
        t1,
        fmtInt,
      ) +
      stepChart(
        'cost',
        'Cost over time (cumulative, USD)',
        r.series,
        [{ key: 'costUsd', label: 'cost (USD)', color: COLORS.cost }],
        t0,
        t1,
        (v) => `$${v.toFixed(3)}`,
      )
    : '<p class="warn">No model calls in this session’s telemetry: no token or cost chart.</p>'
}
${r.timeline.length ? timelineChart(r.timeline, t0, t1) : '<p class="warn">No events: no timeline.</p>'}
<div class="tables">
<table><caption>Tokens by type</caption>${tokenRows}</table>
<table><caption>Model calls</caption>
<tr><th>Calls</th><td data-key="modelCalls.count">${s.modelCalls.count}</td></tr>
<tr><th>API attempts</th><td data-key="modelCalls.attempts">${m.attempts}${m.retries ? ` (${m.retries} retried)` : ''}</td></tr>
<tr><th>API errors</th><td data-key="modelCalls.errors">${esc(apiErrorsText(s))}</td></tr>
<tr><th>Latency p50 / p95 / max</th><td>${fmtMs(s.modelCalls.latency.p50Ms)} / ${fmtMs(s.modelCalls.latency.p95Ms)} / ${fmtMs(s.modelCalls.latency.maxMs)}</td></tr>
<tr><th>Time to first token p50</th><td>${fmtMs(s.modelCalls.timeToFirstToken.p50Ms)}</td></tr>
<tr><th>Lines added / removed</th><td>${fmtInt(s.linesOfCode.added)} / ${fmtInt(s.linesOfCode.removed)}</td></tr>
<tr><th>Prompts</th><td>${s.prompts}</td></tr>
</table>
</div>
<table class="wide"><caption>By model</caption><tr><th>Model</th><th>Calls</th><th>Tokens</th><th>Cost</th></tr>${modelRows}</table>
<table class="wide"><caption>Tool calls by tool</caption><tr><th>Tool</th><th>Calls</th><th>Succeeded</th><th>Failed</th><th>Success rate</th><th>p50</th><th>p95</th><th>Max</th></tr>${toolRows || '<tr><td colspan="8">No tool calls.</td></tr>'}</table>
${subagentTable(s)}${workflowTable(s)}${hookTable(s)}${apiBodiesNote(s)}
${conversationSection(r.conversation)}
</section>`;
}

/** API errors in words: every failed attempt, those retried and those final (never "0" when the API failed). */
export function apiErrorsText(s: SessionSummary): string {
  const m = s.modelCalls;
  const retried = m.errors - m.failedCalls;
  const parts = [
    retried > 0 &&
      `${retried} retried${m.recoveredCalls ? `, ${m.recoveredCalls} call(s) then answered` : ''}`,
    m.failedCalls > 0 &&
      `${m.failedCalls} call(s) failed for good${m.retriesExhausted ? ` (${m.retriesExhausted} after all retries)` : ''}`,
  ].filter(Boolean);
  const source =
    m.attemptsFrom === 'events' && m.count
      ? ' (no trace: a failed attempt that was retried successfully is not seen)'
      : '';
  return `${m.errors}${parts.length ? `: ${parts.join('; ')}` : ''}${source}`;
}

function subagentTable(s: SessionSummary): string {
  const a = s.subagents;
  if (!a.runs) return '';
  const rows = Object.entries(a.byType)
    .map(
      ([type, x]) =>
        `<tr><th>${esc(type)}</th><td>${x.runs}</td><td>${x.background}</td><td>${x.modelCalls}</td><td>${fmtInt(x.tokens)}</td><td>${fmtUsd(x.costUsd)}</td><td>${x.toolUses}</td><td>${fmtMs(x.duration.p50Ms)}</td><td>${fmtMs(x.duration.maxMs)}</td></tr>`,
    )
    .join('');
  return `<table class="wide" data-key="subagents"><caption>Subagents by type (${a.runs} run(s), ${a.completed} completed; their model calls are in the figures above too)</caption><tr><th>Type</th><th>Runs</th><th>In background</th><th>Model calls</th><th>Tokens</th><th>Cost</th><th>Tool uses</th><th>Run time p50</th><th>Max</th></tr>${rows}</table>`;
}

function workflowTable(s: SessionSummary): string {
  if (!s.workflows.length) return '';
  const rows = s.workflows
    .map(
      (w) =>
        `<tr><th><code>${esc(w.runId)}</code></th><td>${esc(w.name)}</td><td>${w.agents}</td><td>${w.modelCalls}</td><td>${fmtInt(w.tokens)}</td><td>${fmtUsd(w.costUsd)}</td></tr>`,
    )
    .join('');
  return `<table class="wide" data-key="workflows"><caption>Workflows (workflow.run_id)</caption><tr><th>Run id</th><th>Name</th><th>Agents</th><th>Model calls</th><th>Tokens</th><th>Cost</th></tr>${rows}</table>`;
}

function hookTable(s: SessionSummary): string {
  const h = s.hooks;
  if (!h.executions && !h.registered) return '';
  const rows = Object.entries(h.byEvent)
    .map(
      ([event, x]) =>
        `<tr><th>${esc(event)}</th><td>${x.executions}</td><td>${x.hooks}</td><td>${x.succeeded}</td><td>${x.blocking}</td><td>${x.errors}</td><td>${x.cancelled}</td><td>${fmtMs(x.duration.p50Ms)}</td><td>${fmtMs(x.duration.maxMs)}</td></tr>`,
    )
    .join('');
  const notes = [
    `${h.registered} hook event(s) configured`,
    h.unfinished && `${h.unfinished} execution(s) never completed`,
  ].filter(Boolean);
  return `<table class="wide" data-key="hooks"><caption>Hook executions by hook event (${esc(notes.join(', '))})</caption><tr><th>Hook event</th><th>Executions</th><th>Hooks run</th><th>Succeeded</th><th>Blocking</th><th>Errors</th><th>Cancelled</th><th>p50</th><th>Max</th></tr>${rows || '<tr><td colspan="9">No hook ran.</td></tr>'}</table>`;
}

function apiBodiesNote(s: SessionSummary): string {
  const b = s.apiBodies;
  if (!b.requests && !b.responses) return '';
  const redacted = b.redacted
    ? ` ${b.redacted} of them redacted while exporting: they hold the prompt and the conversation, which this session did not log (OTEL_LOG_USER_PROMPTS and related switches).`
    : ' Kept as sent (the session logged its prompts and content too), secrets removed.';
  return `<p class="note" data-key="apiBodies">Raw API bodies (OTEL_LOG_RAW_API_BODIES) in otlp/logs.jsonl: ${b.requests} request body(ies), ${b.responses} response body(ies).${esc(redacted)}</p>`;
}

/** The conversation, turn by turn, from the transcript (times in UTC, as on the timeline). */
function conversationSection(turns: Turn[] | undefined): string {
  if (!turns) return '<p class="warn">No transcript in the session record: no conversation.</p>';
  const rows = turns
    .map(
      (t) =>
        `<tr data-turn="${esc(t.role)}"><td>${t.time ? esc(t.time.slice(11, 19)) : ''}</td><th>${esc(t.role)}</th><td><pre>${esc(t.text)}</pre></td></tr>`,
    )
    .join('');
  return `<table class="wide conversation"><caption>Conversation (${turns.length} turns, from transcript.jsonl)</caption><tr><th>Time</th><th>Who</th><th>What</th></tr>${rows || '<tr><td colspan="3">Empty transcript.</td></tr>'}</table>`;
}

/** Records, once the page has rendered, the size and the number of drawn marks of each chart. */
const RENDER_CHECK = `addEventListener('load', () => {
  for (const svg of document.querySelectorAll('svg[data-chart]')) {
    const box = svg.getBoundingClientRect();
    const marks = [...svg.querySelectorAll('[data-series]')].filter((m) => {
      const b = m.getBBox();
      return b.width > 0 || b.height > 0;
    });
    svg.dataset.renderedWidth = String(Math.round(box.width));
    svg.dataset.renderedHeight = String(Math.round(box.height));
    svg.dataset.renderedMarks = String(marks.length);
  }
  document.body.dataset.rendered = 'true';
});`;

export function renderReport(input: ReportInput): string {
  const c = input.content;
  const contentNote =
    c.userPrompts || c.assistantResponses || c.toolDetails || c.toolContent || c.apiBodies
      ? `This archive holds content the telemetry carried un-redacted: ${[
          c.userPrompts && 'user prompts',
          c.assistantResponses && 'assistant responses',
          c.toolDetails && 'tool parameters',
          c.toolContent && 'tool output',
          c.apiBodies && 'API request/response bodies',
        ]
          .filter(Boolean)
          .join(', ')}.`
      : "Prompts, responses and tool content were redacted in the telemetry by Claude Code (the OTEL_LOG_* switches were off). The session's own record still holds the conversation: its log and transcript are in this archive, with known secrets removed.";
  const redacted = Object.values(input.redactions).reduce((a, b) => a + b, 0);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(input.title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111827;margin:24px auto;max-width:820px;padding:0 16px;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 4px;border-top:1px solid #e5e7eb;padding-top:16px}
code{font:13px ui-monospace,monospace}.meta{color:#4b5563;margin:0 0 12px}
.cards{display:flex;gap:10px;flex-wrap:wrap;margin:12px 0}.card{border:1px solid #e5e7eb;border-radius:8px;padding:8px 12px;min-width:120px}
.card .label{color:#6b7280;font-size:12px}.card .value{font-size:20px;font-weight:600}
figure{margin:16px 0}figcaption{font-weight:600;margin-bottom:4px}svg{display:block;max-width:100%;height:auto}
.axis{stroke:#374151}.grid{stroke:#e5e7eb}.tick,.legend,.lane{font-size:11px;fill:#374151}
table{border-collapse:collapse;margin:12px 16px 12px 0;font-size:13px}caption{text-align:left;font-weight:600;padding-bottom:4px}
th,td{border:1px solid #e5e7eb;padding:3px 8px;text-align:left}td{text-align:right}td.left{text-align:left}.tables{display:flex;flex-wrap:wrap}
table.wide{width:100%}.warn{background:#fef3c7;border:1px solid #f59e0b;border-radius:6px;padding:8px 12px}
.note{color:#4b5563}
.alert{background:#fee2e2;border:2px solid #dc2626;border-radius:6px;padding:8px 12px}.card.alert .value{color:#b91c1c}
tr.diff td,tr.diff th{background:#fee2e2;color:#991b1b;font-weight:600}.ok{color:#166534}
</style></head>
<body>
<h1>${esc(input.title)}</h1>
<p class="meta">Exported ${esc(input.createdAt)} · ${input.sessions.length} session(s) · Claude Code ${esc(input.versions['claude-code'] ?? 'unknown')}</p>
${
  input.missing.length
    ? `<div class="warn" data-key="missing"><strong>This archive is incomplete:</strong><ul>${input.missing
        .map((m) => `<li>${esc(m.what)}: ${esc(m.why)}</li>`)
        .join('')}</ul></div>`
    : ''
}
<p class="note">${esc(contentNote)}${redacted ? ` ${redacted} secret(s) were removed while exporting (see manifest.json).` : ''} Every file is listed with its sha256 in manifest.json; check them with <code>pnpm export verify ARCHIVE</code>.</p>
${input.sessions.map(sessionSection).join('\n')}
<script>${RENDER_CHECK}</script>
</body></html>
`;
}
