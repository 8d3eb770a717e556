// Budgets on a real SQLite file: the day's tokens and dollars reset at UTC midnight, requests per minute slide,
// concurrency counts what is in progress, the state survives a restart, a raised budget applies at once, and a
// broken budgets file keeps the budgets read before.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Budgets, budgetFile, NO_LIMITS, parseBudgets } from './budget-file.ts';
import { type Finished, openBudgets } from './budgets.ts';

const used = (tokens: number, costUsd = 0): Finished => ({
  requestId: 'r',
  model: 'claude-sonnet-4-5',
  status: 200,
  inputTokens: tokens,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
  costUsd,
  priceKnown: true,
  ttfbMs: 1,
  durationMs: 2,
  outcome: 'ok',
});

function setup(budgets: Budgets, start = Date.parse('2026-03-01T23:59:00Z')) {
  const dir = mkdtempSync(join(tmpdir(), 'budgets-'));
  const file = join(dir, 'budgets.json');
  writeFileSync(file, JSON.stringify(budgets));
  const clock = { t: start };
  const now = () => clock.t;
  const errors: string[] = [];
  const open = () =>
    openBudgets(
      join(dir, 'gateway.sqlite'),
      budgetFile(file, { checkEveryMs: 0, now, onError: (e) => errors.push(e) }),
      { now },
    );
  return { dir, file, clock, open, errors };
}
const req = (user = 'alice') => ({ user, sessionId: 's', path: '/v1/messages', attempt: 0 });

describe('budgets', () => {
  it('refuses past the daily tokens, names the budget and its reset, and resets at UTC midnight', () => {
    const s = setup({ default: { ...NO_LIMITS, tokensPerDay: 100 }, users: {} });
    const b = s.open();
    const a = b.admit(req());
    if (!a.ok) throw new Error('first request refused');
    a.finish(used(100));
    const r = b.admit(req());
    expect(r).toMatchObject({ ok: false, budget: 'tokensPerDay', retryAfterSeconds: 60 });
    if (!r.ok)
      expect(r.message).toBe(
        'budget tokensPerDay of user alice: 100 of 100 tokens used today (UTC); resets at 2026-03-02T00:00:00.000Z (in 60 s)',
      );
    // Another user has a budget of their own.
    expect(b.admit(req('bob')).ok).toBe(true);
    s.clock.t += 60_000;
    expect(b.admit(req()).ok).toBe(true);
    b.close();
  });

  it('refuses past the daily dollars', () => {
    const s = setup({ default: { ...NO_LIMITS, usdPerDay: 0.5 }, users: {} });
    const b = s.open();
    const a = b.admit(req());
    if (a.ok) a.finish(used(10, 0.6));
    expect(b.admit(req())).toMatchObject({ ok: false, budget: 'usdPerDay' });
    b.close();
  });

  it('counts requests per minute over a sliding window, and says when the next is allowed', () => {
    const s = setup({ default: { ...NO_LIMITS, requestsPerMinute: 2 }, users: {} });
    const b = s.open();
    for (const _ of [1, 2]) {
      const a = b.admit(req());
      if (a.ok) a.finish(used(1));
      s.clock.t += 10_000;
    }
    const r = b.admit(req());
    // The first was at t, now is t+20 s: it leaves the window in 40 s.
    expect(r).toMatchObject({ ok: false, budget: 'requestsPerMinute', retryAfterSeconds: 40 });
    // A refused request does not count against the window.
    s.clock.t += 40_001;
    expect(b.admit(req()).ok).toBe(true);
    b.close();
  });

  it('counts requests in progress, and frees a place when one finishes (once)', () => {
    const s = setup({ default: { ...NO_LIMITS, concurrentRequests: 2 }, users: {} });
    const b = s.open();
    const one = b.admit(req());
    const two = b.admit(req());
    expect(b.admit(req())).toMatchObject({ ok: false, budget: 'concurrentRequests', retryAfterSeconds: 1 });
    if (!one.ok || !two.ok) throw new Error('refused');
    one.finish(used(1));
    one.finish(used(1));
    const three = b.admit(req());
    expect(three.ok).toBe(true);
    expect(b.admit(req()).ok).toBe(false);
    b.close();
  });

  it('keeps the day across a restart', () => {
    const s = setup({ default: { ...NO_LIMITS, tokensPerDay: 100 }, users: {} });
    const b = s.open();
    const a = b.admit(req());
    if (a.ok) a.finish(used(150));
    b.close();
    const again = s.open();
    expect(again.admit(req())).toMatchObject({ ok: false, budget: 'tokensPerDay' });
    expect(again.usageToday('alice')[0]).toMatchObject({
      tokens: 150,
      requests: 1,
      limits: { tokensPerDay: 100 },
    });
    again.close();
  });

  it('applies a raised budget without a restart, per user over the default', () => {
    const s = setup({ default: { ...NO_LIMITS, tokensPerDay: 100 }, users: {} });
    const b = s.open();
    const a = b.admit(req());
    if (a.ok) a.finish(used(100));
    expect(b.admit(req()).ok).toBe(false);
    writeFileSync(
      s.file,
      JSON.stringify({
        default: { ...NO_LIMITS, tokensPerDay: 100 },
        users: { alice: { tokensPerDay: 1000 } },
      }),
    );
    expect(b.admit(req()).ok).toBe(true);
    b.close();
  });

  it('keeps the last good budgets when the file breaks, and says so once', () => {
    const s = setup({ default: { ...NO_LIMITS, tokensPerDay: 100 }, users: {} });
    const b = s.open();
    writeFileSync(s.file, '{"default": {"tokensPerDay": -1}}');
    expect(b.usageToday('alice')[0]?.limits.tokensPerDay).toBe(100);
    expect(b.usageToday('alice')[0]?.limits.tokensPerDay).toBe(100);
    expect(s.errors).toHaveLength(1);
    expect(s.errors[0]).toContain(`budgets file ${s.file} is invalid`);
    b.close();
  });

  it('refuses an invalid budgets file at start, naming the field', () => {
    expect(() =>
      parseBudgets(
        '{"default":{"tokensPerDay":1.5,"usdPerDay":null,"requestsPerMinute":null,"concurrentRequests":null}}',
        'b.json',
      ),
    ).toThrow('budgets file b.json is invalid: default.tokensPerDay: must be a whole number');
    expect(() => parseBudgets('{"default":{}, "users": {"../x": {}}}', 'b.json')).toThrow(
      /default.tokensPerDay/,
    );
    expect(() => parseBudgets('nope', 'b.json')).toThrow('budgets file b.json is not JSON');
  });

  it('the shipped budgets.json is valid', async () => {
    const { readFileSync } = await import('node:fs');
    const path = join(import.meta.dirname, '../budgets.json');
    expect(parseBudgets(readFileSync(path, 'utf8'), path).default.concurrentRequests).toBeGreaterThan(0);
  });
});
