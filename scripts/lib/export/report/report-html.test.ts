import { describe, expect, it } from 'vitest';
import type { SessionMetadata } from '../../session/session-record.ts';
import { type Recording, recordedSession } from '../../testing/recorded-otlp.ts';
import { type SessionTelemetry, summarize, timeline, tokenSeries } from '../analysis/summary.ts';
import {
  compareUsage,
  type ObservedUsage,
  type ReportedUsage,
  type UsageComparison,
} from '../analysis/usage.ts';
import { apiErrorsText, COLORS, renderReport } from './report-html.ts';

const telemetry = (name: Recording, withSpans = true): SessionTelemetry => {
  const r = recordedSession(name);
  return { ...r, spans: withSpans ? r.spans : [], points: [], metadata: null };
};

/** report.html of one recorded session (Claude Code 2.1.332, scripts/lib/testing/recorded-otlp.ts). */
function report(
  t: SessionTelemetry,
  o: { usage?: UsageComparison; record?: SessionMetadata | null } = {},
): string {
  const summary = summarize(t);
  if (o.usage) summary.usage = o.usage;
  return renderReport({
    title: 'test',
    createdAt: '2026-11-29T09:00:00.000Z',
    sessions: [
      {
        summary,
        series: tokenSeries(t),
        timeline: timeline(t),
        conversation: [],
        record: o.record ?? null,
      },
    ],
    missing: [],
    content: {
      userPrompts: false,
      assistantResponses: false,
      toolDetails: false,
      toolContent: false,
      apiBodies: false,
      evidence: [],
    },
    versions: {},
    redactions: {},
  });
}

const cell = (html: string, key: string) =>
  new RegExp(`data-key="${key.replace('.', '\\.')}">([^<]*)<`).exec(html)?.[1];

describe('report.html of the newer telemetry', () => {
  it('shows the failed attempt of a call that was retried successfully: never 0 API errors', () => {
    const html = report(telemetry('retry'));
    expect(cell(html, 'modelCalls.errors')).toBe('1: 1 retried, 1 call(s) then answered');
    expect(cell(html, 'modelCalls.attempts')).toBe('2 (1 retried)');
    expect(cell(html, 'apiErrors')).toBe('1 (1 call(s) recovered)');
    expect(html).toContain(`fill="${COLORS.retry}" data-series="retry"`);
    expect(html).toContain('>API errors</text>'); // its timeline lane
    expect(html).toContain('data-key="apiBodies"');
  });

  it('says when, without a trace, a recovered failure cannot be seen', () => {
    const s = summarize(telemetry('retry', false));
    expect(apiErrorsText(s)).toBe('0 (no trace: a failed attempt that was retried successfully is not seen)');
  });

  it('breaks the errors of a call that failed for good down', () => {
    const html = report(telemetry('retries-exhausted'));
    expect(cell(html, 'modelCalls.errors')).toBe(
      '3: 2 retried; 1 call(s) failed for good (1 after all retries)',
    );
  });

  it('has a table of subagents, workflows and hooks only where the session had them', () => {
    const sub = report(telemetry('subagent'));
    expect(sub).toContain('data-key="subagents"');
    expect(sub).toContain('<th>general-purpose</th>');
    expect(sub).toContain(`data-series="subagent"`);
    expect(sub).not.toContain('data-key="hooks"');
    expect(sub).not.toContain('data-key="workflows"');
    expect(report(telemetry('workflow'))).toContain('<code>wf_918d3d32-000</code></th><td>custom</td>');
    const hooks = report(telemetry('hooks'));
    expect(hooks).toContain('data-key="hooks"');
    expect(hooks).toContain('<th>Stop</th><td>1</td><td>1</td><td>0</td><td>0</td><td>1</td>');
    expect(hooks).toContain('>hooks</text>');
    expect(hooks).not.toContain('data-key="subagents"');
    expect(hooks).not.toContain('data-key="apiErrors"');
    expect(cell(hooks, 'modelCalls.errors')).toBe('0');
  });
});

const tokens = (input: number, output: number) => ({
  input,
  output,
  cacheRead: 0,
  cacheCreation: 0,
  total: input + output,
});
const observed = (calls: number, cost: number): ObservedUsage => ({
  requests: calls,
  otherRequests: 0,
  modelCalls: calls,
  failed: 0,
  tokens: tokens(123 * calls, 45 * calls),
  costUsd: cost,
  unpriced: 0,
  forged: 0,
});
const reported = (calls: number, cost: number): ReportedUsage => ({
  modelCalls: calls,
  errors: 0,
  tokens: tokens(123 * calls, 45 * calls),
  costUsd: cost,
});
const rowClass = (html: string, field: string) =>
  new RegExp(`<tr class="([a-z]+)" data-field="${field.replace('.', '\\.')}">`).exec(html)?.[1];

describe('report.html: observed usage beside reported', () => {
  it('says equal when the gateway saw what Claude Code reported', () => {
    const html = report(telemetry('retry'), {
      usage: compareUsage(observed(5, 0.0087), reported(5, 0.0087)),
    });
    expect(cell(html, 'usage')).toBe('equal');
    expect(html).toContain('data-key="usage.equal"');
    expect(html).not.toContain('data-key="usage.differences"');
    expect(rowClass(html, 'modelCalls')).toBe('same');
    expect(cell(html, 'usage.observed.costUsd')).toBe('$0.0087');
  });

  it('flags each difference, in words and in red: a forged api_request', () => {
    const html = report(telemetry('retry'), {
      usage: compareUsage(observed(6, 0.03), reported(7, 999.03)),
    });
    expect(cell(html, 'usage')).toBe('4 difference(s)');
    expect(html).toContain('<div class="card alert">');
    expect(html).toContain('<li>reported 7 model calls, observed 6</li>');
    expect(html).toContain('<li>reported cost $999.03, observed $0.03</li>');
    expect(rowClass(html, 'modelCalls')).toBe('diff');
    expect(rowClass(html, 'tokens.cacheRead')).toBe('same');
    expect(cell(html, 'usage.reported.modelCalls')).toBe('7');
    expect(cell(html, 'usage.observed.modelCalls')).toBe('6');
  });

  it('compares what the summary holds: a session without gateway events differs, and says why', () => {
    const html = report(telemetry('retry'));
    expect(cell(html, 'usage')).toBe('5 difference(s)');
    expect(html).toContain('<li>reported 1 model call, observed 0</li>');
    expect(html).toContain('<li>reported 1200 cache creation tokens, observed 0</li>');
    expect(html).toContain('the gateway recorded no request of this session');
  });
});

const record = (over: Partial<SessionMetadata> = {}): SessionMetadata => ({
  sessionId: 'cccccccc-3333-4333-8333-333333333333',
  status: 'completed',
  mode: 'headless',
  api: 'replay',
  script: 'demo',
  model: null,
  user: 'alice',
  claudeVersion: '2.1.332',
  telemetry: { enabled: true, protocol: 'http/protobuf', endpoint: null },
  startedAt: '2026-11-29T08:00:00.000Z',
  endedAt: '2026-11-29T08:01:00.000Z',
  durationMs: 60_000,
  exitCode: 0,
  signal: null,
  files: { log: 'session.log', metadata: 'metadata.json' },
  ...over,
});

describe("report.html: the record's provenance", () => {
  it('lists what the host observed and what the session reported, and the files it refused, escaped', () => {
    const html = report(telemetry('retry'), {
      record: record({
        provenance: {
          observed: ['user', 'exitCode', 'secrets.json'],
          reported: ['reported', 'transcript.jsonl'],
        },
        container: {
          image: 'claude-code:local',
          exitCode: 0,
          oomKilled: false,
          timedOut: false,
          spool: 'tmpfs 64m',
          logBytes: 2048,
          logTruncated: false,
        },
        reported: {
          status: 'completed',
          exitCode: 0,
          limit: null,
          refused: [
            '<img src=x onerror=alert(1)>.jsonl: not a record file',
            'transcript.jsonl: a symbolic link',
          ],
        },
      }),
    });
    expect(html).toContain(
      'data-key="provenance.observed"><code>user</code>, <code>exitCode</code>, <code>secrets.json</code></td>',
    );
    expect(html).toContain(
      'data-key="provenance.reported"><code>reported</code>, <code>transcript.jsonl</code></td>',
    );
    expect(html).toContain('2 file(s) handed back and not taken');
    expect(html).toContain('<code>&lt;img src=x onerror=alert(1)&gt;.jsonl: not a record file</code>');
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('<tr class="diff"><th>Refused from the session');
    expect(cell(html, 'provenance.said')).toBe('status completed, exit 0');
  });

  it('says "not recorded" for a record written before provenance, and for none', () => {
    expect(cell(report(telemetry('retry'), { record: record() }), 'provenance.observed')).toMatch(
      /^not recorded \(a record written before the host kept provenance/,
    );
    expect(report(telemetry('retry'), { record: null })).toContain(
      'not recorded: no metadata.json for this session in the archive',
    );
  });

  it('lists at most 50 refused files and says how many more', () => {
    const refused = Array.from({ length: 1001 }, (_, i) => `f${i}: not a record file`);
    const html = report(telemetry('retry'), {
      record: record({ reported: { status: null, exitCode: null, limit: null, refused } }),
    });
    expect(html.match(/<li><code>f\d+: not a record file<\/code><\/li>/g)).toHaveLength(50);
    expect(html).toContain('and 951 more (metadata.json lists them all)');
  });
});
