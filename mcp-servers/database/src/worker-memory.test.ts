// The memory watch of a query worker, on a given reader of resident sizes: no process is started.
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { holdsTooMuch, RSS_CHECK_MS, residentBytes, watchMemory, workerRssLimit } from './worker-memory.ts';

afterEach(() => {
  vi.useRealTimers();
});

describe('residentBytes', () => {
  it.skipIf(!existsSync('/proc/self/status'))("reads a live process's resident size from /proc", () => {
    expect(residentBytes(process.pid)).toBeGreaterThan(1024 * 1024);
  });

  it('is undefined for a process that is gone', () => {
    expect(residentBytes(2 ** 31 - 1)).toBeUndefined();
  });
});

describe('workerRssLimit', () => {
  it('is the limit where /proc can be read, none elsewhere, and says so', () => {
    const log = vi.fn();
    expect(workerRssLimit(1000, log, true)).toBe(1000);
    expect(workerRssLimit(0, log, false)).toBe(0);
    expect(log).not.toHaveBeenCalled();
    expect(workerRssLimit(1000, log, false)).toBe(0);
    expect(log).toHaveBeenCalledWith('no /proc on this system: the query workers have no memory limit');
  });
});

describe('watchMemory', () => {
  it('reports memory-limit once the resident size passes the limit, naming both and the setting', () => {
    vi.useFakeTimers();
    const sizes = [900, 1000, 1001];
    const read = vi.fn(() => sizes.shift());
    const over = vi.fn();
    const stop = watchMemory(42, 1000, 'the query', over, read);
    vi.advanceTimersByTime(2 * RSS_CHECK_MS);
    expect(over).not.toHaveBeenCalled();
    vi.advanceTimersByTime(RSS_CHECK_MS);
    expect(read).toHaveBeenCalledWith(42);
    expect(over).toHaveBeenCalledTimes(1);
    expect(over.mock.calls[0]?.[0]).toMatchObject({
      rule: 'memory-limit',
      message: expect.stringMatching(
        /^the query took its worker's memory to 1001 bytes, past the limit of 1000 bytes \(DATABASE_WORKER_MAX_RSS_BYTES\), and was stopped/,
      ),
    });
    stop();
    vi.advanceTimersByTime(10 * RSS_CHECK_MS);
    expect(read).toHaveBeenCalledTimes(3);
  });

  it('ignores a size it cannot read, and watches nothing without a limit', () => {
    vi.useFakeTimers();
    const over = vi.fn();
    const stop = watchMemory(42, 1000, 'the query', over, () => undefined);
    vi.advanceTimersByTime(10 * RSS_CHECK_MS);
    stop();
    const read = vi.fn(() => 2 ** 40);
    watchMemory(42, 0, 'the query', over, read)();
    vi.advanceTimersByTime(10 * RSS_CHECK_MS);
    expect(read).not.toHaveBeenCalled();
    expect(over).not.toHaveBeenCalled();
  });
});

describe('holdsTooMuch', () => {
  it('is true over 3/4 of the limit after a statement; false at it, unreadable, or with no limit', () => {
    expect(holdsTooMuch(42, 1000, () => 751)).toBe(true);
    expect(holdsTooMuch(42, 1000, () => 750)).toBe(false);
    expect(holdsTooMuch(42, 1000, () => undefined)).toBe(false);
    const read = vi.fn(() => 2 ** 40);
    expect(holdsTooMuch(42, 0, read)).toBe(false);
    expect(read).not.toHaveBeenCalled();
  });
});
