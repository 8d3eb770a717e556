import { describe, expect, it } from 'vitest';
import { recordedSession } from '../../testing/recorded-otlp.ts';
import { subagentsOf, subagentTimeline, workflowsOf } from './agents.ts';

describe('subagents and workflows (recorded with Claude Code 2.1.332)', () => {
  it('sums up a subagent the Agent tool ran, from its model calls and subagent_completed', () => {
    const { events } = recordedSession('subagent');
    const s = subagentsOf(events);
    const general = {
      runs: 1,
      completed: 1,
      background: 0,
      modelCalls: 1,
      tokens: 150 + 9 + 900, // its one call, as subagent_completed's total_tokens says too
      costUsd: 0.00396,
      toolUses: 0,
    };
    expect(s).toMatchObject(general);
    expect(Object.keys(s.byType)).toEqual(['general-purpose']);
    expect(s.byType['general-purpose']).toMatchObject(general);
    expect(s.duration).toMatchObject({ count: 1, maxMs: 75 });
    expect(workflowsOf(events)).toEqual([]);
    const [entry] = subagentTimeline(events);
    expect(entry).toMatchObject({ kind: 'subagent', name: 'general-purpose', ok: true });
    expect((entry?.end ?? 0) - (entry?.start ?? 0)).toBe(75);
  });

  it('names a workflow run by its id, with its agents and their calls', () => {
    const { events } = recordedSession('workflow');
    expect(workflowsOf(events)).toEqual([
      { runId: 'wf_918d3d32-000', name: 'custom', agents: 1, modelCalls: 1, tokens: 110, costUsd: 0.00045 },
    ]);
    // a workflow's agent sends no subagent_completed: it is known by its calls
    const s = subagentsOf(events);
    expect(s).toMatchObject({ runs: 1, completed: 0, modelCalls: 1 });
    expect(Object.keys(s.byType)).toEqual(['workflow-subagent']);
    expect(subagentTimeline(events)[0]?.detail).toBe(
      '1 model call(s), workflow wf_918d3d32-000; no subagent_completed event',
    );
  });

  it('finds none in a session without subagents', () => {
    const { events } = recordedSession('hooks');
    expect(subagentsOf(events)).toMatchObject({ runs: 0, modelCalls: 0, byType: {} });
    expect(subagentTimeline(events)).toEqual([]);
  });
});
