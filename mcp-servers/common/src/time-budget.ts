// Every tool call has a time budget (MCP_TOOL_TIMEOUT_MS, default 30 s). Past it, the call's AbortSignal fires and
// the client gets an isError result naming the limit, whether or not the work noticed: work that can stop (a
// directory walk, a query in a worker process) listens to the signal; anything else goes on in the background and
// its result is dropped. Work on the event loop itself must be bounded by its own rules (a linear glob matcher,
// queries in worker processes), since no timer can interrupt it.
import { RuleError } from './tool-result.ts';

export const DEFAULT_TOOL_TIMEOUT_MS = 30_000;
export const TOOL_TIMEOUT_ENV = 'MCP_TOOL_TIMEOUT_MS';

export class TimeLimitError extends RuleError<'time-limit'> {}

/**
 * Runs `work` with a signal that aborts after `timeoutMs` (or when `outer` aborts, e.g. the client cancelled);
 * rejects with a TimeLimitError at the limit even if the work ignores the signal.
 */
export function withTimeBudget<T>(
  what: string,
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
  outer?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  const signal = outer ? AbortSignal.any([controller.signal, outer]) : controller.signal;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const err = new TimeLimitError(
        'time-limit',
        `${what} ran over the time budget of ${timeoutMs} ms per tool call (${TOOL_TIMEOUT_ENV}) and was stopped`,
      );
      controller.abort(err);
      reject(err);
    }, timeoutMs);
    Promise.resolve()
      .then(() => work(signal))
      .then(
        (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(err);
        },
      );
  });
}
