// Recipe: every model call of a session goes through the session gateway, which records what the API reported.
// The gateway's record of a scripted session holds the same calls, tokens and cost as Claude Code's own telemetry
// (its api_request events) and as the script (expectations.ts); each call is also a gateway_request event with
// telemetry.source=observed in the sinks. This holds for every script of fixtures/sessions that ends by itself in
// seconds, compared by the export's own rules (export/analysis/usage.ts); a scripted 529 is a failed request at the gateway
// and, when Claude Code's retry recovers it, no api_error. A budget overrun is a 429 the session shows, naming
// the budget.
// Needs the lead's wiring: sessions reach the model at ANTHROPIC_BASE_URL=http://session-gateway:8080/scripts/NAME,
// and the e2e stack sets GATEWAY_BUDGETS to a writable file of its own (the budgets test writes it).
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  compareUsage,
  observedUsage,
  sessionUsage,
  type UsageComparison,
  usageLine,
  usd,
} from '../scripts/lib/export/analysis/usage.ts';
import { repoRoot } from '../scripts/lib/repo-root.ts';
import { countBy, sessionEvents } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { expectedTelemetry } from '../stack/anthropic-replay/src/expectations.ts';
import { isErrorTurn, playedTurns } from '../stack/anthropic-replay/src/session-script.ts';
import {
  gatewayRecord,
  recordAsEvents,
  scriptCostUsd,
  scriptDelayMs,
  sessionScript,
} from './support/gateway-usage.ts';
import { expectedFor, runStackSession, type StackInfo, stack } from './support/stack.ts';

const attr = (item: unknown, key: string) => {
  const a = (item as { attributes?: { key: string; value: Record<string, unknown> }[] }).attributes?.find(
    (x) => x.key === key,
  );
  return a ? Object.values(a.value)[0] : undefined;
};
const num = (v: unknown) => Number(v ?? 0);

describe('the session gateway', () => {
  let e2eStack: StackInfo;
  beforeAll(() => {
    e2eStack = stack();
  });

  it("records a session's calls as Claude Code reports them, and as the script says", async () => {
    const expected = expectedFor('demo');
    const out = await runStackSession(e2eStack, { script: 'demo', user: 'gateway-user' });
    expect(out.exitCode, out.output.slice(-2000)).toBe(0);
    const id = out.plan.sessionId;

    const rows = (await gatewayRecord(e2eStack, id)).filter((r) => r.status === 200);
    expect(rows).toHaveLength(expected.modelCalls);
    for (const r of rows) expect(r).toMatchObject({ user: 'gateway-user', session_id: id, outcome: 'ok' });
    const sum = (k: string) => rows.reduce((a, r) => a + num(r[k]), 0);
    expect({
      input: sum('input_tokens'),
      output: sum('output_tokens'),
      cacheRead: sum('cache_read_tokens'),
      cacheCreation: sum('cache_creation_tokens'),
    }).toEqual(expected.tokens);

    // Claude Code's own api_request events, and the gateway's events, for the same session.
    const logs = await waitFor(
      `the telemetry files never held ${expected.modelCalls} api_request and gateway_request events of session ${id}`,
      async () => {
        const l = await sessionRecords(e2eStack.telemetryDir, 'logs', id);
        const n = countBy(l, (r) => r.name);
        return n['claude_code.api_request'] === expected.modelCalls &&
          n['claude_code_telemetry.gateway_request'] === rows.length
          ? l
          : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const claude = logs.filter((r) => r.name === 'claude_code.api_request').map((r) => r.item);
    const observed = logs
      .filter((r) => r.name === 'claude_code_telemetry.gateway_request')
      .map((r) => r.item);
    const key = (i: unknown, names: string[]) => names.map((n) => num(attr(i, n))).join('/');
    const tokenNames = ['input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_creation_tokens'];
    // Call by call (as multisets: the order of two events in the files is not the order of the calls).
    expect(claude.map((i) => key(i, tokenNames)).sort()).toEqual(
      observed.map((i) => key(i, tokenNames)).sort(),
    );
    const claudeCost = claude.reduce((a, i) => a + num(attr(i, 'cost_usd')), 0);
    expect(sum('cost_usd')).toBeCloseTo(claudeCost, 9);
    for (const i of observed) {
      expect(attr(i, 'telemetry.source')).toBe('observed');
      expect(attr(i, 'user.name')).toBe('gateway-user');
    }
  });

  it('answers a budget overrun with a 429 the session shows, naming the budget', async () => {
    const file = e2eStack.composeEnv.GATEWAY_BUDGETS;
    if (!file)
      throw new Error(
        'the e2e stack sets no GATEWAY_BUDGETS (a writable budgets file): the budget test cannot change budgets',
      );
    const unlimited = {
      tokensPerDay: null,
      usdPerDay: null,
      requestsPerMinute: null,
      concurrentRequests: null,
    };
    writeFileSync(
      file,
      JSON.stringify({ default: unlimited, users: { 'over-budget': { tokensPerDay: 1 } } }),
    );
    // The gateway reads the file again within GATEWAY_BUDGETS_CHECK_MS (the e2e stack's, else 2 s).
    await new Promise((r) =>
      setTimeout(r, Number(e2eStack.composeEnv.GATEWAY_BUDGETS_CHECK_MS ?? 2000) + 500),
    );
    try {
      // The first call is admitted (nothing used yet) and uses more than 1 token: the next is refused.
      const out = await runStackSession(e2eStack, { script: 'demo', user: 'over-budget' });
      expect(out.output).toContain('budget tokensPerDay of user over-budget');
      const rows = await gatewayRecord(e2eStack, out.plan.sessionId);
      expect(rows.filter((r) => r.status === 200)).toHaveLength(1);
      // Not retried: x-should-retry: false stops the SDK's retries, so one refusal per attempt Claude Code makes.
      expect(rows.filter((r) => r.outcome === 'budget:tokensPerDay').length).toBeGreaterThanOrEqual(1);
    } finally {
      writeFileSync(file, JSON.stringify({ default: unlimited, users: {} }));
    }
  });
});

/** A script that keeps the API waiting longer than this in all is left out: it is a long wait, not a usage case. */
const MAX_SCRIPT_WAIT_MS = 5_000;
/** What a script needs beyond the e2e stack's settings (the stack turns Claude Code's retries off). */
const SCRIPT_ENV: Record<string, Record<string, string>> = {
  'api-retry-529': { CLAUDE_CODE_MAX_RETRIES: '2' },
};
const USER = 'usage-spec';
const isMessages = (r: Record<string, unknown>) => /\/v1\/messages$/.test(String(r.path));
const answered = (r: Record<string, unknown>) =>
  Number(r.status) >= 200 && Number(r.status) < 300 && r.outcome === 'ok';

const scripts = readdirSync(join(repoRoot, 'fixtures/sessions'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''))
  .sort()
  .map((name) => {
    const wait = scriptDelayMs(sessionScript(name));
    return {
      name,
      skip:
        wait > MAX_SCRIPT_WAIT_MS
          ? `its answers wait ${wait / 1000} s in all (over ${MAX_SCRIPT_WAIT_MS / 1000} s: a long wait)`
          : undefined,
    };
  });

describe("the session gateway's usage equals Claude Code's, for every scripted session", () => {
  let e2eStack: StackInfo;
  beforeAll(() => {
    e2eStack = stack();
  });

  for (const { name, skip } of scripts) {
    if (skip) {
      console.log(`gateway usage: ${name}: skipped, ${skip}`);
      it.skip(`${name} (skipped: ${skip})`, () => {});
      continue;
    }
    it(name, async () => {
      const script = sessionScript(name);
      const expected = expectedTelemetry(script);
      const env = SCRIPT_ENV[name];
      const retried = Number(env?.CLAUDE_CODE_MAX_RETRIES ?? 0) > 0;
      // Each scripted error is one failed request at the gateway. Claude Code reports it (api_error) only when the
      // call failed for good; an attempt that a retry recovered, it does not report at all (api-attempts.ts).
      const reportedErrors = retried ? 0 : expected.apiErrors.length;
      const t0 = Date.now();
      const out = await runStackSession(e2eStack, { script: name, user: USER }, env);
      expect(out.exitCode === 0, `exit ${out.exitCode}: ${out.output.slice(-2000)}`).toBe(
        reportedErrors === 0,
      );
      const id = out.plan.sessionId;

      // The files, read as the export reads them, until both sides are whole (the gateway sends a batch a second).
      let last: UsageComparison | undefined;
      const files = await waitFor(
        () =>
          `the telemetry files never held ${expected.modelCalls} api_request, ${reportedErrors} api_error and ${expected.modelCalls + expected.apiErrors.length} gateway_request event(s) of ${name} session ${id} (last: ${last ? usageLine(last) : 'nothing'})`,
        async () => {
          last = sessionUsage(id, await sessionEvents(e2eStack.telemetryDir, id));
          const { observed: o, reported: r } = last;
          return r.modelCalls === expected.modelCalls &&
            r.errors === reportedErrors &&
            o.requests === expected.modelCalls + expected.apiErrors.length
            ? last
            : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250 },
      );

      // The gateway's own record (SQLite), by the same rules, against Claude Code's api_request events.
      const rows = await gatewayRecord(e2eStack, id);
      for (const r of rows) expect(r).toMatchObject({ user: USER, session_id: id });
      const record = compareUsage(observedUsage(id, recordAsEvents(rows)), files.reported);
      expect(record.differences, usageLine(record)).toEqual([]);
      expect(record.equal).toBe(true);
      expect(record.observed, "the gateway's record vs its gateway_request events").toEqual(files.observed);
      expect(files.equal, usageLine(files)).toBe(true);

      // And as the script says: its answered calls, their tokens and cost; each scripted error a failed request.
      const { total, ...tokens } = record.observed.tokens;
      expect({ calls: record.observed.modelCalls, tokens }).toEqual({
        calls: expected.modelCalls,
        tokens: expected.tokens,
      });
      expect(record.observed.costUsd).toBeCloseTo(scriptCostUsd(script), 9);
      // usage.ts leaves cost out of the comparison when a request is unpriced. The gateway marks a failed request
      // (an API error: no model, no tokens) so, though it cost nothing: compare the cost here all the same, and
      // hold that every unpriced request is such a one (so the cost left out is $0).
      expect(Math.round(record.observed.costUsd * 1e6)).toBe(Math.round(record.reported.costUsd * 1e6));
      const unpriced = rows.filter((r) => isMessages(r) && r.price_known === 0);
      expect(unpriced).toHaveLength(record.observed.unpriced);
      for (const r of unpriced)
        expect(r, 'an unpriced request').toMatchObject({
          model: null,
          input_tokens: 0,
          output_tokens: 0,
          cache_read_tokens: 0,
          cache_creation_tokens: 0,
        });
      // The record, request by request in order, is the script's turns: an error turn a failed request with its
      // status (for api-retry-529: the 529, then its retry answered), an answer a 200. (Its `attempt` column does
      // not tell a retry: Claude Code 2.1's retry comes with x-stainless-retry-count 0 or none, so it says 0.)
      // A script that goes on in more CLI runs (--resume, --continue): their turns follow, in order.
      expect(rows.filter(isMessages).map((r) => [Number(r.status), answered(r)])).toEqual(
        playedTurns(script).map((t) => (isErrorTurn(t) ? [t.error.status, false] : [200, true])),
      );
      expect(record.reported.errors).toBe(reportedErrors);

      console.log(
        `gateway usage: ${name}: ${record.observed.modelCalls} call(s), ${record.observed.failed} failed request(s), ${total} tokens, ${usd(record.observed.costUsd)}; Claude Code ${record.reported.modelCalls} api_request, ${record.reported.errors} api_error, ${record.reported.tokens.total} tokens, ${usd(record.reported.costUsd)}; equal ${record.equal} (${((Date.now() - t0) / 1000).toFixed(1)} s)`,
      );
    }, 60_000);
  }
});
