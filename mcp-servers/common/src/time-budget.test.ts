import { describe, expect, it } from 'vitest';
import { TimeLimitError, withTimeBudget } from './time-budget.ts';

describe('withTimeBudget', () => {
  it('passes a result or an error through, and the signal stays quiet', async () => {
    let seen: AbortSignal | undefined;
    expect(
      await withTimeBudget('t', 60_000, async (signal) => {
        seen = signal;
        return 42;
      }),
    ).toBe(42);
    expect(seen?.aborted).toBe(false);
    await expect(withTimeBudget('t', 60_000, async () => Promise.reject(new Error('boom')))).rejects.toThrow(
      'boom',
    );
  });

  it('past the budget: rejects naming the tool, the limit and the variable, and aborts the signal', async () => {
    let seen: AbortSignal | undefined;
    const never = withTimeBudget('search_files', 50, (signal) => {
      seen = signal;
      return new Promise<never>(() => {}); // ignores its signal: the budget still ends the call
    });
    await expect(never).rejects.toBeInstanceOf(TimeLimitError);
    await expect(never).rejects.toMatchObject({
      rule: 'time-limit',
      message:
        'search_files ran over the time budget of 50 ms per tool call (MCP_TOOL_TIMEOUT_MS) and was stopped',
    });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBeInstanceOf(TimeLimitError);
  });

  it('passes an outer abort (the client cancelled) to the work', async () => {
    const outer = new AbortController();
    const run = withTimeBudget(
      't',
      60_000,
      (signal) =>
        new Promise((_, reject) => {
          signal.throwIfAborted();
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
      outer.signal,
    );
    outer.abort(new Error('cancelled'));
    await expect(run).rejects.toThrow('cancelled');
  });
});
