import { describe, expect, it } from 'vitest';
import {
  buildReport,
  type CompatRun,
  checkRun,
  compareReleases,
  inPrometheus,
  renderMarkdown,
} from './compat-matrix.ts';
import type { SessionObservation } from './observe-session.ts';

const expected = {
  tokens: { input: 100, output: 20, cacheRead: 0, cacheCreation: 0 },
  linesAdded: 3,
  linesRemoved: 1,
  modelCalls: 2,
  apiErrors: 0,
};

/** What a release that exports everything right leaves for a session of `expected`. */
function complete(): SessionObservation {
  return {
    metrics: {
      'claude_code.token.usage': ['model', 'session.id', 'type'],
      'claude_code.cost.usage': ['model'],
    },
    events: { api_request: ['cost_usd', 'model'], user_prompt: ['prompt_length'] },
    spans: { 'claude_code.interaction': ['session.id'], 'claude_code.llm_request': ['model'] },
    spanEvents: {},
    resource: ['service.name', 'service.version'],
    spanTree: ['> claude_code.interaction', 'claude_code.interaction > claude_code.llm_request'],
    serviceVersion: '2.1.332',
    fileRecords: { traces: 3, metrics: 8, logs: 4 },
    backends: {
      prometheus: ['claude_code_token_usage_tokens_total', 'claude_code_cost_usage_USD_total'],
      jaeger: ['claude_code.interaction', 'claude_code.llm_request'],
      victorialogs: ['api_request', 'user_prompt'],
    },
    backendRecords: { jaeger: 3, victorialogs: 4 },
    egress: [],
    totals: {
      tokens: { input: 100, output: 20, cacheRead: 0, cacheCreation: 0 },
      cost: 0.0123,
      eventCost: 0.0123,
      linesAdded: 3,
      linesRemoved: 1,
      apiRequests: 2,
      apiErrors: 0,
    },
  };
}

const run = (
  release: string,
  observation?: SessionObservation,
  over: Partial<CompatRun> = {},
): CompatRun => ({
  release,
  protocol: 'grpc',
  session: 'demo',
  sessionId: '00000000-0000-4000-8000-000000000000',
  exitCode: 0,
  status: 'completed',
  seconds: 9,
  expected,
  observation,
  ...over,
});

const failed = (r: CompatRun) =>
  checkRun(r)
    .filter((c) => !c.ok)
    .map((c) => `${c.name}: ${c.detail}`);

describe('checkRun', () => {
  it('passes a session whose telemetry reached every sink with the script totals', () => {
    expect(failed(run('2.1.332', complete()))).toEqual([]);
  });

  it('names a release that exported nothing (the 2.1.113 report), check by check', () => {
    const o = complete();
    o.fileRecords = { traces: 0, metrics: 0, logs: 0 };
    o.metrics = {};
    o.backends = { prometheus: [], jaeger: [], victorialogs: [] };
    o.backendRecords = { jaeger: 0, victorialogs: 0 };
    o.totals = { ...o.totals, tokens: {}, cost: null, eventCost: 0, linesAdded: null, linesRemoved: null };
    expect(failed(run('2.1.113', o))).toEqual([
      'files: 0 spans, 0 metric points, 0 events',
      'prometheus: no metrics sent',
      'jaeger: 0 of 0 spans',
      'victorialogs: 0 of 0 events',
      'tokens: input none (script 100), output none (script 20)',
      'cost: no cost metric (events add up to 0)',
      'lines: +none -none (script +3 -1)',
    ]);
  });

  it('catches double counting, a metric missing from Prometheus, and a backend that lost records', () => {
    const o = complete();
    o.totals.tokens = { input: 200, output: 40, cacheRead: 0, cacheCreation: 0 };
    o.totals.cost = 0.0246;
    o.backends.prometheus = ['claude_code_token_usage_tokens_total'];
    o.backendRecords.jaeger = 2;
    expect(failed(run('2.1.213', o))).toEqual([
      'prometheus: missing claude_code.cost.usage',
      'jaeger: 2 of 3 spans',
      'tokens: input 200 (script 100), output 40 (script 20)',
      'cost: metric 0.0246, api_request events 0.0123',
    ]);
  });

  it('expects the failed exit and the api_error of an error script, and no cost', () => {
    const o = complete();
    o.totals = {
      tokens: {},
      cost: null,
      eventCost: 0,
      linesAdded: null,
      linesRemoved: null,
      apiRequests: 0,
      apiErrors: 1,
    };
    const r = run('2.1.332', o, {
      session: 'api-error-529',
      exitCode: 1,
      status: 'failed',
      expected: {
        tokens: { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 },
        linesAdded: 0,
        linesRemoved: 0,
        modelCalls: 0,
        apiErrors: 1,
      },
    });
    expect(failed(r)).toEqual([]);
    o.totals.apiErrors = 0; // the 2.1.197 retry report: an error that left no event
    expect(failed(r)).toEqual(['errors: 0 api_error events (script 1)']);
  });

  it('reports a session that could not run', () => {
    expect(failed(run('2.1.1', undefined, { error: 'image build failed', exitCode: null }))).toEqual([
      'ran: image build failed',
    ]);
  });
});

describe('buildReport and renderMarkdown', () => {
  it('orders releases numerically and lists what changed since the last release that sent telemetry', () => {
    const newer = complete();
    newer.events = { ...newer.events, hook_execution_complete: ['hook_name'] };
    newer.events.api_request = ['cost_usd', 'model', 'client_request_id'];
    delete newer.metrics['claude_code.cost.usage'];
    const none = complete();
    none.fileRecords = { traces: 0, metrics: 0, logs: 0 };
    none.metrics = {};
    none.events = {};
    none.spans = {};
    none.resource = [];
    none.backends = { prometheus: [], jaeger: [], victorialogs: [] };
    none.backendRecords = { jaeger: 0, victorialogs: 0 };
    none.totals = {
      ...none.totals,
      tokens: {},
      cost: null,
      eventCost: 0,
      linesAdded: null,
      linesRemoved: null,
    };
    const report = buildReport(
      [
        { release: '2.1.332', imageSeconds: 40, runs: [run('2.1.332', newer)] },
        { release: '2.1.113', imageSeconds: 40, runs: [run('2.1.113', none)] },
        { release: '2.1.97', imageSeconds: 40, runs: [run('2.1.97', complete())] },
      ],
      {
        generated: '2026-11-29',
        command: 'pnpm compat --versions 2.1.97,2.1.113,2.1.332',
        stack: { collector: '0.159.0' },
      },
    );
    expect(report.releases.map((r) => r.release)).toEqual(['2.1.97', '2.1.113', '2.1.332']);
    expect(report.releases[0]?.changes).toBeNull();
    expect(report.releases[1]?.changes?.added).toEqual([]);
    expect(report.releases[2]?.changes).toEqual({
      added: [
        'event api_request: client_request_id',
        'event hook_execution_complete',
        'event hook_execution_complete: hook_name',
      ],
      removed: ['metric claude_code.cost.usage', 'metric claude_code.cost.usage: model'],
    });
    const md = renderMarkdown(report);
    expect(md).toContain('| Release | demo (grpc) |');
    expect(md).toContain('| 2.1.97 | ✓ |');
    expect(md).toMatch(/\| 2\.1\.113 \| ✗ files, prometheus, jaeger, victorialogs, tokens, cost, lines \|/);
    expect(md).toContain('| `hook_execution_complete` |  |  | ● |');
    expect(md).toContain('Generated by `pnpm compat --versions 2.1.97,2.1.113,2.1.332` on 2026-11-29');
  });

  it('compares releases as numbers and maps OTel metric names to Prometheus ones', () => {
    expect(['2.1.332', '2.1.97', '2.0.77', '2.1.113'].sort(compareReleases)).toEqual([
      '2.0.77',
      '2.1.97',
      '2.1.113',
      '2.1.332',
    ]);
    expect(inPrometheus('claude_code.cost.usage', ['claude_code_cost_usage_USD_total'])).toBe(true);
    expect(inPrometheus('claude_code.cost.usage', ['claude_code_token_usage_tokens_total'])).toBe(false);
    expect(inPrometheus('claude_code.active_time.total', ['claude_code_active_time_seconds_total'])).toBe(
      true,
    );
  });
});
