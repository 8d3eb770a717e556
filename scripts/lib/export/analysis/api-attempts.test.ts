import { describe, expect, it } from 'vitest';
import { recordedSession } from '../../testing/recorded-otlp.ts';
import { apiAttempts, retryTimeline } from './api-attempts.ts';

describe('API attempts (recorded with Claude Code 2.1.332)', () => {
  it('counts the failed attempt of a call answered on its retry, though no api_error event was sent', () => {
    const { events, spans } = recordedSession('retry');
    expect(events.filter((e) => e.name === 'api_error')).toEqual([]); // what 2.1.332 sends
    expect(apiAttempts(events, spans)).toEqual({
      attempts: 2,
      retries: 1,
      errors: 1,
      failedCalls: 0,
      recoveredCalls: 1,
      retriesExhausted: 0,
      attemptsFrom: 'trace',
    });
    const [entry, ...rest] = retryTimeline(spans);
    expect(rest).toEqual([]);
    expect(entry).toMatchObject({ kind: 'retry', name: 'claude-sonnet-4-5-20250929' });
    expect(entry?.detail).toBe('1 failed attempt(s), answered on attempt 2');
  });

  it('counts every attempt of a call whose retries ran out', () => {
    const { events, spans } = recordedSession('retries-exhausted');
    const expected = {
      attempts: 3,
      retries: 2,
      errors: 3,
      failedCalls: 1,
      recoveredCalls: 0,
      retriesExhausted: 1,
    };
    expect(apiAttempts(events, spans)).toEqual({ ...expected, attemptsFrom: 'trace' });
    // without the trace, api_error's `attempt` still tells them
    expect(apiAttempts(events, [])).toEqual({ ...expected, attemptsFrom: 'events' });
    expect(retryTimeline(spans)).toEqual([]); // failed for good: the api_error event draws it
  });

  it('sees a recovered call only in the trace, and says where it counted', () => {
    const { events } = recordedSession('retry');
    expect(apiAttempts(events, [])).toMatchObject({ attempts: 1, errors: 0, attemptsFrom: 'events' });
  });

  it('counts one attempt per call in a session without errors, subagent calls included', () => {
    const { events, spans } = recordedSession('subagent');
    expect(apiAttempts(events, spans)).toMatchObject({
      attempts: 3,
      retries: 0,
      errors: 0,
      attemptsFrom: 'trace',
    });
  });
});
