import { describe, expect, it } from 'vitest';
import {
  buildReport,
  type CompatRun,
  cellResult,
  checkRun,
  compareReleases,
  inPrometheus,
  judgeRelease,
  regressions,
  releasesOf,
} from './compat-matrix.ts';
import { complete, expected, META, run } from './compat-test-data.ts';

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

describe("the kinds' own checks", () => {
  it('checks a retried call as Claude Code reports it: attempts in the trace and no api_error', () => {
    const o = complete();
    o.attempts = { attempts: 2, retries: 1, recovered: 1, from: 'trace' };
    const retry = { ...expected, retries: 1 };
    expect(failed(run('2.1.332', o, { session: 'api-retry-529', expected: retry }))).toEqual([]);
    o.totals.apiErrors = 1; // an api_error for a call that was answered: not what was scripted
    o.attempts = { attempts: 1, retries: 0, recovered: 0, from: 'trace' };
    expect(failed(run('2.1.332', o, { session: 'api-retry-529', expected: retry }))).toEqual([
      'errors: 1 api_error events (script 0)',
      'retries: 0 retried attempt(s) in the trace (script 1)',
    ]);
    o.attempts = { attempts: 2, retries: 1, recovered: 0, from: 'events' };
    o.totals.apiErrors = 0;
    expect(failed(run('2.1.1', o, { expected: retry }))).toEqual([
      'retries: 1 retried attempt(s) in the events (no llm_request spans) (script 1)',
    ]);
  });

  it('counts the hook runs per hook event', () => {
    const o = complete();
    o.hookRuns = { SessionStart: 1, PreToolUse: 2 };
    const e = { ...expected, hookRuns: { SessionStart: 1, PreToolUse: 2 } };
    expect(failed(run('2.1.332', o, { session: 'hooks', expected: e }))).toEqual([]);
    o.hookRuns = { SessionStart: 1, Stop: 1 };
    expect(failed(run('2.1.332', o, { session: 'hooks', expected: e }))).toEqual([
      'hooks: PreToolUse 0 (script 2), Stop 1 (script 0)',
    ]);
  });

  it('counts the events a kind expects and the subagent tokens under a subagent query_source', () => {
    const o = complete();
    o.counts = { events: { compaction: 1 }, spanEvents: {} };
    o.tokensBySource = { main: 100, 'agent:builtin:general-purpose': 20 };
    const e = { ...expected, events: { compaction: 1 }, subagentTokens: 20 };
    expect(failed(run('2.1.332', o, { expected: e }))).toEqual([]);
    o.counts = { events: {}, spanEvents: {} };
    o.tokensBySource = { main: 120 };
    expect(failed(run('2.1.220', o, { expected: e }))).toEqual([
      'event compaction: 0 (script 1)',
      'attribution: 0 tokens under query_source (none of a subagent) (script 20); by query_source: main 120',
    ]);
  });
});

describe('cells over repeated runs', () => {
  const ok = { name: 'tokens', ok: true, detail: 'equal' };
  const bad = (d: string) => ({ name: 'lines', ok: false, detail: d });
  const id = { kind: 'interactive', protocol: 'grpc', config: 'env' };

  it('passes or fails only when every measured run agrees; otherwise flaky with its counts', () => {
    expect(cellResult(id, [{ checks: [ok] }, { checks: [ok] }]).state).toBe('pass');
    const flaky = cellResult(id, [{ checks: [ok] }, { checks: [ok, bad('+0 -0')] }, { checks: [ok] }]);
    expect(flaky).toMatchObject({ state: 'flaky', runs: 3, passed: 2 });
    expect(flaky.failures).toEqual({ lines: { runs: 1, details: ['+0 -0'] } });
    const fail = cellResult(id, [{ checks: [bad('+0 -0')] }, { checks: [bad('+1 -0')] }]);
    expect(fail).toMatchObject({ state: 'fail', passed: 0 });
    expect(fail.failures.lines).toEqual({ runs: 2, details: ['+0 -0', '+1 -0'] });
  });

  it('leaves the unmeasured runs out of the verdict, and says unmeasured when none measured', () => {
    expect(cellResult(id, [{ checks: [ok] }, { checks: [], unmeasured: 'no record' }])).toMatchObject({
      state: 'pass',
      runs: 1,
      unmeasured: 1,
    });
    expect(cellResult(id, [{ checks: [], unmeasured: 'no record' }]).state).toBe('unmeasured');
  });
});

describe('judging releases', () => {
  it("keeps each kind's inventory apart: what -p sessions lack is not hidden by an interactive one", () => {
    const headless = complete();
    const interactive = complete();
    interactive.metrics = { ...interactive.metrics, 'claude_code.active_time.total': ['type'] };
    interactive.backends.prometheus.push('claude_code_active_time_seconds_total');
    const rel = judgeRelease({
      release: '2.1.112',
      imageSeconds: 1,
      runs: [
        run('2.1.112', headless, { attempt: 1 }),
        run('2.1.112', headless, { attempt: 2 }),
        run('2.1.112', interactive, { session: 'interactive' }),
      ],
    });
    expect(rel.inventory.demo?.metrics['claude_code.active_time.total']).toBeUndefined();
    expect(rel.inventory.demo?.runs).toBe(2);
    expect(rel.inventory.interactive?.metrics['claude_code.active_time.total']).toEqual({
      runs: 1,
      keys: ['type'],
    });
    expect(rel.cells.map((c) => [c.kind, c.protocol, c.config, c.state, c.runs])).toEqual([
      ['demo', 'grpc', 'env', 'pass', 2],
      ['interactive', 'grpc', 'env', 'pass', 1],
    ]);
  });

  it('orders releases numerically and lists, per kind, what changed since the last release that sent telemetry', () => {
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
    const report = buildReport(
      [
        { release: '2.1.332', imageSeconds: 40, runs: [run('2.1.332', newer)] },
        { release: '2.1.113', imageSeconds: 40, runs: [run('2.1.113', none)] },
        { release: '2.1.97', imageSeconds: 40, runs: [run('2.1.97', complete())] },
      ],
      META,
    );
    expect(report.releases.map((r) => r.release)).toEqual(['2.1.97', '2.1.113', '2.1.332']);
    expect(report.releases[0]?.changes).toEqual({});
    expect(report.releases[2]?.changes.demo).toEqual({
      since: '2.1.97',
      added: [
        'event api_request: client_request_id',
        'event hook_execution_complete',
        'event hook_execution_complete: hook_name',
      ],
      removed: ['metric claude_code.cost.usage', 'metric claude_code.cost.usage: model'],
    });
  });

  it('reads a matrix written before cells (one run per cell) by judging its runs again', () => {
    const old = {
      releases: [
        { release: '2.1.112', imageSeconds: 1, runs: [{ ...run('2.1.112', complete()), config: undefined }] },
      ],
    };
    const [rel] = releasesOf(JSON.parse(JSON.stringify(old)));
    expect(rel?.cells).toEqual([
      {
        kind: 'demo',
        protocol: 'grpc',
        config: 'env',
        state: 'pass',
        runs: 1,
        passed: 1,
        unmeasured: 0,
        failures: {},
      },
    ]);
    expect(releasesOf(JSON.parse(JSON.stringify({ releases: [rel] })))[0]?.cells).toEqual(rel?.cells);
    expect(() => releasesOf({})).toThrow(/has a `releases` list/);
  });

  it('names a regression only for a check that passed before and fails in every run after', () => {
    const good = judgeRelease({ release: '2.1.300', imageSeconds: 1, runs: [run('2.1.300', complete())] });
    const lost = complete();
    lost.totals.tokens = { input: 50, output: 20, cacheRead: 0, cacheCreation: 0 };
    const bad = judgeRelease({
      release: '2.1.301',
      imageSeconds: 1,
      runs: [run('2.1.301', lost, { attempt: 1 }), run('2.1.301', lost, { attempt: 2 })],
    });
    expect(regressions(good, bad).regressed).toEqual([
      'demo grpc env: tokens (input 50 (script 100)) passed on 2.1.300, fails on 2.1.301 in 2 of 2 runs',
    ]);
    const flaky = judgeRelease({
      release: '2.1.301',
      imageSeconds: 1,
      runs: [run('2.1.301', lost, { attempt: 1 }), run('2.1.301', complete(), { attempt: 2 })],
    });
    expect(regressions(good, flaky)).toMatchObject({
      regressed: [],
      flaky: [expect.stringContaining('1 of 2 runs')],
    });
    expect(regressions(bad, good).regressed).toEqual([]);
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
