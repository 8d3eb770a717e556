import { describe, expect, it } from 'vitest';
import { recordedSession } from '../../testing/recorded-otlp.ts';
import { hooksOf, hookTimeline } from './hooks.ts';

describe('hook executions (recorded with Claude Code 2.1.332)', () => {
  it('counts executions by hook event, with the Stop hook that exited 1 as an error', () => {
    const { events } = recordedSession('hooks');
    const h = hooksOf(events);
    expect(h).toMatchObject({
      registered: 5,
      executions: 5,
      hooks: 5,
      succeeded: 4,
      blocking: 0,
      errors: 1,
      cancelled: 0,
      unfinished: 0,
    });
    expect(Object.keys(h.byEvent)).toEqual([
      'PostToolUse',
      'PreToolUse',
      'SessionStart',
      'Stop',
      'UserPromptSubmit',
    ]);
    expect(h.byEvent.Stop).toMatchObject({ executions: 1, succeeded: 0, errors: 1 });
    const timeline = hookTimeline(events);
    expect(timeline.map((e) => e.name)).toEqual([
      'SessionStart:startup',
      'UserPromptSubmit',
      'PreToolUse:Bash',
      'PostToolUse:Bash',
      'Stop',
    ]);
    expect(timeline.filter((e) => !e.ok).map((e) => e.name)).toEqual(['Stop']);
  });

  it('counts an execution that started and never completed', () => {
    const { events } = recordedSession('hooks');
    const lastComplete = events.findLastIndex((e) => e.name === 'hook_execution_complete');
    expect(hooksOf(events.filter((_, i) => i !== lastComplete))).toMatchObject({
      executions: 4,
      unfinished: 1,
    });
  });

  it('finds none in a session without hooks', () => {
    const { events } = recordedSession('retry');
    expect(hooksOf(events)).toMatchObject({ registered: 0, executions: 0, byEvent: {} });
  });
});
