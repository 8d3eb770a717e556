// The usage table `pnpm usage` prints, and the report's shape checked before it is printed.
import { describe, expect, it } from 'vitest';
import { formatUsage, parseUsageReport } from './gateway-usage.ts';

const report = parseUsageReport({
  users: [
    {
      user: 'alice',
      day: '2026-03-01',
      tokens: 1500,
      usd: 0.25,
      requests: 12,
      inProgress: 1,
      limits: { tokensPerDay: 3000, usdPerDay: 1, requestsPerMinute: 60, concurrentRequests: 4 },
    },
    {
      user: 'bob',
      day: '2026-03-01',
      tokens: 10,
      usd: 0,
      requests: 1,
      inProgress: 0,
      limits: { tokensPerDay: null, usdPerDay: null, requestsPerMinute: null, concurrentRequests: null },
    },
  ],
});

describe('formatUsage', () => {
  it('shows use against each limit, and no limit where there is none', () => {
    expect(formatUsage(report)).toBe(
      [
        'Use on 2026-03-01 (UTC) against budgets:',
        'user   tokens today        USD today            requests  in progress',
        'alice  1500 / 3000 (50 %)  $0.2500 / $1 (25 %)  12        1 / 4',
        'bob    10 / no limit       $0.0000 / no limit   1         0 / no limit',
      ].join('\n'),
    );
  });
  it('says when nothing was used', () => {
    expect(formatUsage({ users: [] })).toBe('No use recorded today (UTC).');
  });
  it('refuses a report of another shape', () => {
    expect(() => parseUsageReport({ users: [{ user: 'a' }] })).toThrow(
      "the session gateway's usage report has no valid users[0].day",
    );
  });
});
