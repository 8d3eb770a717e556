// A session's totals are read over the retention (last_over_time), never as an instant value that Prometheus
// forgets 5 minutes after the session's last export; and no session id can end the selector.
import { describe, expect, it } from 'vitest';
import { PROMETHEUS_LOOKBACK, SESSION_METRICS, sessionTotalQuery } from './session-totals.ts';

const ID = 'aaaaaaaa-1111-4111-8111-111111111111';

describe('sessionTotalQuery', () => {
  it("sums each series' last value over the retention, by the labels asked", () => {
    expect(sessionTotalQuery(SESSION_METRICS.tokens, ID, { by: ['type'] })).toBe(
      `sum by (type) (last_over_time(claude_code_token_usage_tokens_total{session_id="${ID}"}[${PROMETHEUS_LOOKBACK}]))`,
    );
    expect(PROMETHEUS_LOOKBACK).toBe('30d');
  });

  it('adds label matchers, each value a quoted literal', () => {
    expect(sessionTotalQuery(SESSION_METRICS.linesOfCode, ID, { where: { type: 'added' } })).toBe(
      `sum (last_over_time(claude_code_lines_of_code_count_total{session_id="${ID}", type="added"}[30d]))`,
    );
  });

  it('keeps a hostile session id inside its string literal', () => {
    const q = sessionTotalQuery(SESSION_METRICS.cost, 'x"} or vector(1) #');
    expect(q).toContain('session_id="x\\"} or vector(1) #"');
    expect(q.endsWith('[30d]))')).toBe(true);
  });
});
