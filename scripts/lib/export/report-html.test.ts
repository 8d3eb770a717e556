import { describe, expect, it } from 'vitest';
import { type Recording, recordedSession } from '../testing/recorded-otlp.ts';
import { apiErrorsText, COLORS, renderReport } from './report-html.ts';
import { type SessionTelemetry, summarize, timeline, tokenSeries } from './summary.ts';

const telemetry = (name: Recording, withSpans = true): SessionTelemetry => {
  const r = recordedSession(name);
  return { ...r, spans: withSpans ? r.spans : [], points: [], metadata: null };
};

/** report.html of one recorded session (Claude Code 2.1.332, scripts/lib/testing/recorded-otlp.ts). */
function report(t: SessionTelemetry): string {
  return renderReport({
    title: 'test',
    createdAt: '2026-11-29T09:00:00.000Z',
    sessions: [{ summary: summarize(t), series: tokenSeries(t), timeline: timeline(t), conversation: [] }],
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
