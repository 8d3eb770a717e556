import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { repeatLog } from './repeat-log.ts';

describe('repeatLog', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('logs the first of a kind, then one summary per interval while they keep coming', () => {
    const lines: string[] = [];
    const log = repeatLog((l) => lines.push(l), 60_000);
    for (let i = 1; i <= 1000; i++) log.note('auth', `refused #${i}: wrong bearer token`);
    expect(lines).toEqual(['refused #1: wrong bearer token']);
    vi.advanceTimersByTime(60_000);
    expect(lines).toEqual([
      'refused #1: wrong bearer token',
      '999 more like this (auth) in the last 60 s, latest: refused #1000: wrong bearer token',
    ]);
    for (let i = 1; i <= 5; i++) log.note('auth', `refused again #${i}`);
    vi.advanceTimersByTime(60_000);
    expect(lines.slice(2)).toEqual(['5 more like this (auth) in the last 60 s, latest: refused again #5']);
    // A quiet interval closes the window: the next one is logged in full again.
    vi.advanceTimersByTime(60_000);
    log.note('auth', 'refused later');
    expect(lines.slice(3)).toEqual(['refused later']);
    log.close();
  });

  it('keeps kinds apart, and close() logs what is pending', () => {
    const lines: string[] = [];
    const log = repeatLog((l) => lines.push(l), 1000);
    log.note('auth', 'a1');
    log.note('host', 'h1');
    log.note('auth', 'a2');
    log.note('host', 'h2');
    log.note('host', 'h3');
    log.close();
    expect(lines).toEqual([
      'a1',
      'h1',
      '1 more like this (auth) in the last 1 s, latest: a2',
      '2 more like this (host) in the last 1 s, latest: h3',
    ]);
    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(4);
  });
});
