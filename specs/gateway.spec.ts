// Recipe: every model call of a session goes through the session gateway, which records what the API reported.
// The gateway's record of a scripted session holds the same calls, tokens and cost as Claude Code's own telemetry
// (its api_request events) and as the script (expectations.ts); each call is also a gateway_request event with
// telemetry.source=observed in the sinks. A budget overrun is a 429 the session shows, naming the budget.
// Needs the lead's wiring: sessions reach the model at ANTHROPIC_BASE_URL=http://session-gateway:8080/scripts/NAME,
// and the e2e stack sets GATEWAY_BUDGETS to a writable file of its own (the budgets test writes it).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { repoRoot } from '../scripts/lib/repo-root.ts';
import { countBy } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { expectedFor, runStackSession, type StackInfo, stack } from './support/stack.ts';

type Row = Record<string, unknown>;

/** The gateway's record of a session, read inside its container as `pnpm usage` does. */
async function gatewayRecord(s: StackInfo, sessionId: string): Promise<Row[]> {
  const r = await $({
    quiet: true,
    env: { ...process.env, ...s.composeEnv },
  })`docker compose -p ${s.project} -f ${join(repoRoot, 'stack/compose.yaml')} exec -T session-gateway node src/usage-report.ts --session ${sessionId}`;
  return (JSON.parse(r.stdout.trim().split('\n').at(-1) as string) as { requests: Row[] }).requests;
}

const attr = (item: unknown, key: string) => {
  const a = (item as { attributes?: { key: string; value: Record<string, unknown> }[] }).attributes?.find(
    (x) => x.key === key,
  );
  return a ? Object.values(a.value)[0] : undefined;
};
const num = (v: unknown) => Number(v ?? 0);

describe('the session gateway', () => {
  let s: StackInfo;
  beforeAll(() => {
    s = stack();
  });

  it("records a session's calls as Claude Code reports them, and as the script says", async () => {
    const expected = expectedFor('demo');
    const out = await runStackSession(s, { script: 'demo', user: 'gateway-user' });
    expect(out.exitCode, out.output.slice(-2000)).toBe(0);
    const id = out.plan.sessionId;

    const rows = (await gatewayRecord(s, id)).filter((r) => r.status === 200);
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
      `the telemetry files never held ${expected.modelCalls} api_request and gateway_request events of session ${id} after 30000 ms`,
      async () => {
        const l = await sessionRecords(s.telemetryDir, 'logs', id);
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
    const file = s.composeEnv.GATEWAY_BUDGETS;
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
    await new Promise((r) => setTimeout(r, Number(s.composeEnv.GATEWAY_BUDGETS_CHECK_MS ?? 2000) + 500));
    try {
      // The first call is admitted (nothing used yet) and uses more than 1 token: the next is refused.
      const out = await runStackSession(s, { script: 'demo', user: 'over-budget' });
      expect(out.output).toContain('budget tokensPerDay of user over-budget');
      const rows = await gatewayRecord(s, out.plan.sessionId);
      expect(rows.filter((r) => r.status === 200)).toHaveLength(1);
      // Not retried: x-should-retry: false stops the SDK's retries, so one refusal per attempt Claude Code makes.
      expect(rows.filter((r) => r.outcome === 'budget:tokensPerDay').length).toBeGreaterThanOrEqual(1);
    } finally {
      writeFileSync(file, JSON.stringify({ default: unlimited, users: {} }));
    }
  });
});
