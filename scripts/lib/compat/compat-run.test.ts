import { describe, expect, it } from 'vitest';
import { matrixExpectation, type Tried, withRetries } from './compat-run.ts';
import { run } from './compat-test-data.ts';
import { kindNamed } from './session-kinds.ts';

describe("the registry's expectations as the matrix checks them", () => {
  it('api-retry-529: one retried attempt in the trace and no api_error, as Claude Code reports an answered retry', () => {
    const e = matrixExpectation(kindNamed('api-retry-529').expectation());
    expect(e).toMatchObject({ apiErrors: 0, retries: 1 });
  });

  it('api-error-529: the api_error of a call that failed for good, no retry', () => {
    const e = matrixExpectation(kindNamed('api-error-529').expectation());
    expect(e.apiErrors).toBe(1);
    expect(e.retries).toBeUndefined();
  });

  it('resumed: its compaction event; subagent: its tokens under a subagent query_source', () => {
    expect(matrixExpectation(kindNamed('resumed').expectation()).events).toEqual({ compaction: 1 });
    const sub = kindNamed('subagent').expectation();
    expect(matrixExpectation(sub).subagentTokens).toBe(
      Object.values(sub.subagent.tokens).reduce((a, n) => a + n, 0),
    );
    expect(matrixExpectation(sub).subagentTokens).toBeGreaterThan(0);
    expect(matrixExpectation(kindNamed('hooks').expectation()).hookRuns).toEqual(
      kindNamed('hooks').expectation().hookRuns,
    );
    expect(
      Object.keys(matrixExpectation(kindNamed('hooks').expectation()).hookRuns ?? {}).length,
    ).toBeGreaterThan(0);
    expect(matrixExpectation(kindNamed('demo').expectation())).toEqual({
      ...kindNamed('demo').expectation(),
      processes: undefined,
      compactions: undefined,
      subagent: undefined,
      attempts: undefined,
    });
  });
});

describe('a run that measured nothing', () => {
  const measured: Tried = { run: run('2.1.332') };
  const never: Tried = { run: run('2.1.332'), retry: 'the session never started (no session record)' };

  it('is tried again, and counts its tries when one measures', async () => {
    const tries = [never, never, measured];
    const logged: number[] = [];
    const r = await withRetries(
      async () => tries.shift() as Tried,
      3,
      (_, n) => logged.push(n),
    );
    expect(r).toMatchObject({ tries: 3 });
    expect(r.unmeasured).toBeUndefined();
    expect(logged).toEqual([1, 2]);
  });

  it('is kept as unmeasured after the last try, saying why', async () => {
    let n = 0;
    const r = await withRetries(
      async () => {
        n++;
        return never;
      },
      3,
      () => {},
    );
    expect(n).toBe(3);
    expect(r).toMatchObject({ tries: 3, unmeasured: 'the session never started (no session record)' });
  });
});
