import { describe, expect, it } from 'vitest';
import { eventsOf, pointsOf, spansOf } from '../../sinks/otlp-records.ts';
import { recordedLine } from '../../testing/fixture-telemetry.ts';
import { type Recording, recordedSession } from '../../testing/recorded-otlp.ts';
import { latency, type SessionTelemetry, summarize, timeline, tokenSeries } from './summary.ts';

const ID = 'cccccccc-3333-4333-8333-333333333333';

function recorded(variant: 'rich' | 'default', withSpans = true): SessionTelemetry {
  return {
    sessionId: ID,
    events: eventsOf(JSON.parse(recordedLine('logs', variant, ID))),
    spans: withSpans ? spansOf(JSON.parse(recordedLine('traces', variant, ID))) : [],
    points: pointsOf(JSON.parse(recordedLine('metrics', variant, ID))),
    metadata: null,
  };
}

describe('session summary', () => {
  it('adds up tokens and cost of every model call and names tools from their spans', () => {
    const s = summarize(recorded('default'));
    expect(s.modelCalls.count).toBe(5);
    expect(s.tokens).toEqual({ input: 615, output: 225, cacheRead: 0, cacheCreation: 0, total: 840 });
    expect(s.costUsd).toBeCloseTo(5 * 0.00174, 6);
    expect(s.toolCalls).toMatchObject({ calls: 4, succeeded: 4, failed: 0, successRate: 1 });
    expect(Object.keys(s.toolCalls.byTool)).toEqual(['Bash', 'Edit', 'Write', 'mcp__probe__echo']);
    expect(s.modelCalls.timeToFirstToken.count).toBe(5);
    expect(s.linesOfCode).toEqual({ added: 5, removed: 1 }); // the recorded points
    expect(s.claudeCodeVersion).toBe('2.1.197');
  });

  it('falls back to the event tool names without a trace, and counts failures', () => {
    const t = recorded('default', false);
    const bash = t.events.find((e) => e.name === 'tool_result' && e.attrs.tool_name === 'Bash');
    if (!bash) throw new Error('no Bash tool_result in the fixture');
    bash.attrs.success = 'false';
    const s = summarize(t);
    expect(Object.keys(s.toolCalls.byTool)).toEqual(['Bash', 'Edit', 'Write', 'mcp_tool']);
    expect(s.toolCalls.byTool.Bash).toMatchObject({ calls: 1, failed: 1, successRate: 0 });
    expect(s.toolCalls.successRate).toBe(0.75);
    expect(timeline(t).filter((e) => e.kind === 'tool' && !e.ok)).toHaveLength(1);
  });

  it('accumulates tokens and cost over time in call order', () => {
    const series = tokenSeries(recorded('default'));
    expect(series.map((p) => p.input)).toEqual([123, 246, 369, 492, 615]);
    expect(series.every((p, i) => i === 0 || p.time >= (series[i - 1]?.time ?? 0))).toBe(true);
  });

  it('sums a 2.1.197 session, which has none of the newer telemetry, to zeros there', () => {
    const s = summarize(recorded('default'));
    expect(s.modelCalls).toMatchObject({ attempts: 5, retries: 0, errors: 0, attemptsFrom: 'trace' });
    expect(s.subagents).toMatchObject({ runs: 0, byType: {} });
    expect(s.workflows).toEqual([]);
    expect(s.hooks).toMatchObject({ registered: 0, executions: 0 });
    expect(s.apiBodies).toEqual({ requests: 0, responses: 0, redacted: 0 });
  });

  it("puts the gateway's observed usage beside it: none observed here, so every reported figure differs", () => {
    const s = summarize(recorded('default'));
    expect(s.usage.reported).toMatchObject({ modelCalls: 5, tokens: s.tokens, costUsd: s.costUsd });
    expect(s.usage.observed).toMatchObject({ requests: 0, modelCalls: 0 });
    expect(s.usage.equal).toBe(false);
    expect(s.usage.differences.map((d) => d.field)).toEqual([
      'modelCalls',
      'tokens.input',
      'tokens.output',
      'costUsd',
    ]);
  });

  it('takes latency quantiles by nearest rank', () => {
    expect(latency([5, 1, 3, 2, 4])).toEqual({ count: 5, meanMs: 3, p50Ms: 3, p95Ms: 5, maxMs: 5 });
    expect(latency([])).toMatchObject({ count: 0, p50Ms: null });
  });
});

/** A session recorded with Claude Code 2.1.332 (scripts/lib/testing/recorded-otlp.ts). */
function recorded332(name: Recording): SessionTelemetry {
  return { ...recordedSession(name), points: [], metadata: null };
}

describe('session summary of the newer telemetry (recorded with Claude Code 2.1.332)', () => {
  it('never says 0 errors when the API failed and the retry succeeded', () => {
    const t = recorded332('retry');
    const s = summarize(t);
    expect(s.claudeCodeVersion).toBe('2.1.332');
    expect(s.modelCalls).toMatchObject({ count: 1, attempts: 2, retries: 1, errors: 1, recoveredCalls: 1 });
    expect(s.apiBodies).toEqual({ requests: 2, responses: 1, redacted: 0 }); // the export redacts, not the summary
    expect(timeline(t).map((e) => e.kind)).toEqual(['prompt', 'retry', 'model']);
  });

  it('counts every failed attempt of a call that failed for good', () => {
    const t = recorded332('retries-exhausted');
    expect(summarize(t).modelCalls).toMatchObject({
      count: 0,
      errors: 3,
      failedCalls: 1,
      retriesExhausted: 1,
    });
    const errors = timeline(t).filter((e) => e.kind === 'error');
    expect(errors.map((e) => e.detail)).toEqual([
      '529 Overloaded, on attempt 3 (the earlier ones failed too)',
    ]);
  });

  it('sums up subagents, workflows and hooks, and draws them on the timeline', () => {
    const sub = summarize(recorded332('subagent'));
    expect(sub.modelCalls.count).toBe(3); // the subagent's call is a model call of the session too
    expect(sub.subagents).toMatchObject({ runs: 1, completed: 1, modelCalls: 1 });
    expect(sub.toolCalls.byTool.Agent).toMatchObject({ calls: 1, succeeded: 1 });
    expect(summarize(recorded332('workflow')).workflows.map((w) => w.runId)).toEqual(['wf_918d3d32-000']);
    const hooks = recorded332('hooks');
    expect(summarize(hooks).hooks).toMatchObject({ executions: 5, errors: 1 });
    const kinds = timeline(hooks).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'hook')).toHaveLength(5);
    expect(timeline(recorded332('subagent')).filter((e) => e.kind === 'subagent')).toHaveLength(1);
  });
});
