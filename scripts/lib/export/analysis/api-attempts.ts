// Attempts at the Messages API, retries included. Claude Code retries a failed call (429, 5xx, 529; up to
// CLAUDE_CODE_MAX_RETRIES) and reports it so (measured with 2.1.332; fixtures/otlp/retry-*, retries-exhausted-*):
//   - a call answered after failed attempts: one api_request event and NO api_error event. Only its
//     claude_code.llm_request span tells: `attempt` (the attempt that was answered) and one `gen_ai.request.attempt`
//     span event per attempt (attribute `attempt` only: the failed attempts' status codes are not recorded);
//   - a call that failed for good: one api_error event (`attempt`: its last one, `status_code`, `error`), plus an
//     api_retries_exhausted event (`total_attempts`) when it had been retried; its span has success=false.
// So failed attempts are counted from the spans. Without the trace only the failures reported as api_error are
// seen, and a call that failed then succeeded looks like a clean one: `attemptsFrom` says which was used.
import type { EventRecord, SpanRecord } from '../../sinks/otlp-records.ts';
import { num, type TimelineEntry, truthy } from './summary-values.ts';

export interface ApiAttempts {
  /** Requests sent to the API, retries included. */
  attempts: number;
  /** Attempts beyond each call's first. */
  retries: number;
  /** API errors: every failed attempt, those that were retried (whether the call then succeeded or not) and each call's final failure. */
  errors: number;
  /** Calls that failed for good (api_error events). */
  failedCalls: number;
  /** Calls answered only after one or more failed attempts (no api_error event for them). */
  recoveredCalls: number;
  /** Calls whose retries ran out (api_retries_exhausted events). */
  retriesExhausted: number;
  /** Where the attempts were counted: the llm_request spans, or (the trace absent or short) the events. */
  attemptsFrom: 'trace' | 'events';
}

export const LLM_REQUEST_SPAN = 'claude_code.llm_request';

/** One model call's span: how many attempts it took, and whether it was answered in the end. */
function callOf(s: SpanRecord): { attempts: number; ok: boolean } {
  const attempts = Math.max(
    1,
    num(s.attrs.attempt),
    s.events.filter((e) => e.name === 'gen_ai.request.attempt').length,
  );
  const ok = s.attrs.success === undefined ? s.statusCode !== 2 : truthy(s.attrs.success);
  return { attempts, ok };
}

/** The session's Claude Code events and spans (already of one session). */
export function apiAttempts(events: EventRecord[], spans: SpanRecord[]): ApiAttempts {
  const answered = events.filter((e) => e.name === 'api_request').length;
  const failures = events.filter((e) => e.name === 'api_error');
  const retriesExhausted = events.filter((e) => e.name === 'api_retries_exhausted').length;
  const calls = spans.filter((s) => s.name === LLM_REQUEST_SPAN).map(callOf);
  if (calls.length && calls.length >= answered + failures.length) {
    const attempts = calls.reduce((a, c) => a + c.attempts, 0);
    return {
      attempts,
      retries: attempts - calls.length,
      errors: calls.reduce((a, c) => a + (c.ok ? c.attempts - 1 : c.attempts), 0),
      failedCalls: failures.length,
      recoveredCalls: calls.filter((c) => c.ok && c.attempts > 1).length,
      retriesExhausted,
      attemptsFrom: 'trace',
    };
  }
  const failedAttempts = failures.reduce((a, e) => a + Math.max(1, num(e.attrs.attempt)), 0);
  return {
    attempts: answered + failedAttempts,
    retries: failedAttempts - failures.length,
    errors: failedAttempts,
    failedCalls: failures.length,
    recoveredCalls: 0,
    retriesExhausted,
    attemptsFrom: 'events',
  };
}

/** A timeline entry for each model call answered only after failed attempts (its span, start to end). */
export function retryTimeline(spans: SpanRecord[]): TimelineEntry[] {
  return spans
    .filter((s) => s.name === LLM_REQUEST_SPAN)
    .flatMap((s) => {
      const c = callOf(s);
      if (!c.ok || c.attempts < 2) return [];
      return [
        {
          kind: 'retry' as const,
          name: String(s.attrs.model ?? 'model'),
          start: s.start,
          end: s.end,
          ok: true,
          detail: `${c.attempts - 1} failed attempt(s), answered on attempt ${c.attempts}`,
        },
      ];
    });
}
