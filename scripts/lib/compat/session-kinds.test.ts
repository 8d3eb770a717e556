import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../repo-root.ts';
import { planSession } from '../session/session-plan.ts';
import { loadScriptInfo } from '../session/session-run.ts';
import { ATTRS13, KINDS, kindEnv, kindNamed } from './session-kinds.ts';

describe('session kinds', () => {
  it('names each kind once, each playing a script that exists', () => {
    const names = KINDS.map((k) => k.name);
    expect(new Set(names).size).toBe(names.length);
    for (const k of KINDS)
      expect(existsSync(join(repoRoot, 'fixtures', 'sessions', `${k.script}.json`))).toBe(true);
  });

  it('refuses an unknown kind, naming the kinds', () => {
    expect(() => kindNamed('nope')).toThrow(/no session kind nope: the kinds are demo, api-error-529/);
  });

  it('expects a retried 529 as attempt 2 and no api_error, an unretried one as an api_error', () => {
    expect(kindNamed('api-retry-529').expectation()).toMatchObject({
      apiErrors: 0,
      attempts: [2],
      modelCalls: 1,
    });
    expect(kindNamed('api-error-529').expectation()).toMatchObject({
      apiErrors: 1,
      attempts: [],
      modelCalls: 0,
    });
  });

  it('adds up the 5 CLI processes of the resumed kind, its compaction included', () => {
    expect(kindNamed('resumed').expectation()).toMatchObject({
      processes: 5,
      compactions: 1,
      modelCalls: 8,
      tokens: { input: 4730, output: 243, cacheRead: 11970, cacheCreation: 4260 },
      linesAdded: 5,
    });
  });

  it("attributes the subagent's model call to it", () => {
    expect(kindNamed('subagent').expectation().subagent).toEqual({
      modelCalls: 1,
      tokens: { input: 150, output: 9, cacheRead: 0, cacheCreation: 900 },
    });
  });

  it('runs the long kind at the production 60 s export interval, for 12 model calls', () => {
    const long = kindNamed('long');
    expect(long.long).toBe(true);
    expect(long.env?.OTEL_METRIC_EXPORT_INTERVAL).toBe('60000');
    expect(long.expectation().modelCalls).toBe(12);
  });

  it('keeps user.name first when a kind sets 13 resource attributes', () => {
    expect(ATTRS13.split(',')).toHaveLength(13);
    const env = kindEnv(kindNamed('attrs13'), 'compat');
    expect(env.OTEL_RESOURCE_ATTRIBUTES?.split(',')).toEqual(['user.name=compat', ...ATTRS13.split(',')]);
    expect(kindEnv(kindNamed('demo'), 'compat')).toEqual({});
  });

  it('expects each configured hook to run once per process, the tool hooks once per tool call', () => {
    expect(kindNamed('hooks').expectation().hookRuns).toEqual({
      SessionStart: 1,
      UserPromptSubmit: 1,
      PreToolUse: 1,
      PostToolUse: 1,
      Stop: 1,
    });
    expect(kindNamed('demo').expectation().hookRuns).toBeUndefined();
  });

  it("hands the resumed kind's continuations to the session wrapper (its session plan does)", () => {
    const plan = planSession({ script: kindNamed('resumed').script }, {}, loadScriptInfo);
    const steps = JSON.parse(plan.env.SESSION_CONTINUATIONS ?? '[]');
    expect(steps.map((s: { mode: string }) => s.mode)).toEqual(['resume', 'continue', 'resume', 'resume']);
    expect(steps[2].prompt).toBe('/compact');
    expect(kindEnv(kindNamed('resumed'), 'compat').SESSION_CONTINUATIONS).toBeUndefined();
  });
});
