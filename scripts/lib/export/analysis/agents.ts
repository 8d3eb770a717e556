// Subagents and workflows of a session, as Claude Code reports them (measured with 2.1.332; fixtures/otlp/subagent-*,
// workflow-*):
//   - a subagent's model calls are api_request events (and llm_request spans) with `agent_id` and `agent.name` (its
//     type; `query_source` agent:builtin:<type>); its spans hang under the Agent tool's execution span;
//   - a subagent the Agent tool ran ends with a subagent_completed event: agent_type, agent_id, is_async (it ran in
//     the background), duration_ms, total_tokens, total_tool_uses, model. A workflow's agents have none;
//   - a workflow's agents' events and spans carry `workflow.run_id` (wf_...) and `workflow.name` (`custom` for a
//     script passed inline, whatever its meta name).
import type { EventRecord } from '../../sinks/otlp-records.ts';
import { type Latency, latency, num, roundNoise, type TimelineEntry, truthy } from './summary-values.ts';

export interface SubagentStats {
  /** Subagents (distinct agent ids). */
  runs: number;
  /** Of which ended with a subagent_completed event. */
  completed: number;
  /** Of which ran in the background (is_async). */
  background: number;
  modelCalls: number;
  /** Tokens of their model calls (input, output, cache read and creation). */
  tokens: number;
  costUsd: number;
  /** Tool uses, as subagent_completed counts them. */
  toolUses: number;
  /** Run time of the completed ones. */
  duration: Latency;
}

export interface Subagents extends SubagentStats {
  byType: Record<string, SubagentStats>;
}

export interface WorkflowRun {
  runId: string;
  name: string;
  /** Agents that worked in the run (distinct agent ids). */
  agents: number;
  modelCalls: number;
  tokens: number;
  costUsd: number;
}

const callTokens = (e: EventRecord) =>
  num(e.attrs.input_tokens) +
  num(e.attrs.output_tokens) +
  num(e.attrs.cache_read_tokens) +
  num(e.attrs.cache_creation_tokens);

interface Agent {
  id: string;
  type: string;
  calls: EventRecord[];
  completed?: EventRecord;
}

/** Every subagent of the session's events: by agent id, with its model calls and its subagent_completed event. */
function agentsOf(events: EventRecord[]): Agent[] {
  const agents = new Map<string, Agent>();
  const agent = (id: string) => {
    const a = agents.get(id) ?? { id, type: '', calls: [] };
    agents.set(id, a);
    return a;
  };
  for (const e of events) {
    const id = e.attrs.agent_id;
    if (typeof id !== 'string' || !id) continue;
    if (e.name === 'api_request') {
      const a = agent(id);
      a.calls.push(e);
      a.type ||= String(e.attrs['agent.name'] ?? '');
    } else if (e.name === 'subagent_completed') {
      const a = agent(id);
      a.completed = e;
      a.type = String(e.attrs.agent_type ?? a.type);
    }
  }
  return [...agents.values()].map((a) => ({ ...a, type: a.type || 'unknown' }));
}

function stats(agents: Agent[]): SubagentStats {
  const calls = agents.flatMap((a) => a.calls);
  const done = agents.flatMap((a) => (a.completed ? [a.completed] : []));
  return {
    runs: agents.length,
    completed: done.length,
    background: done.filter((e) => truthy(e.attrs.is_async)).length,
    modelCalls: calls.length,
    tokens: calls.reduce((s, e) => s + callTokens(e), 0),
    costUsd: roundNoise(calls.reduce((s, e) => s + num(e.attrs.cost_usd), 0)),
    toolUses: done.reduce((s, e) => s + num(e.attrs.total_tool_uses), 0),
    duration: latency(done.map((e) => num(e.attrs.duration_ms))),
  };
}

/** The session's subagents (its Claude Code events, of one session). */
export function subagentsOf(events: EventRecord[]): Subagents {
  const agents = agentsOf(events);
  const byType: Record<string, SubagentStats> = {};
  for (const type of [...new Set(agents.map((a) => a.type))].sort())
    byType[type] = stats(agents.filter((a) => a.type === type));
  return { ...stats(agents), byType };
}

/** The session's workflow runs, in the order they started (from `workflow.run_id` on its events). */
export function workflowsOf(events: EventRecord[]): WorkflowRun[] {
  const runs = new Map<string, { name: string; agents: Set<string>; calls: EventRecord[] }>();
  for (const e of [...events].sort((a, b) => a.time - b.time)) {
    const runId = e.attrs['workflow.run_id'];
    if (typeof runId !== 'string' || !runId) continue;
    const r = runs.get(runId) ?? { name: '', agents: new Set<string>(), calls: [] };
    runs.set(runId, r);
    r.name ||= String(e.attrs['workflow.name'] ?? '');
    if (typeof e.attrs.agent_id === 'string') r.agents.add(e.attrs.agent_id);
    if (e.name === 'api_request') r.calls.push(e);
  }
  return [...runs.entries()].map(([runId, r]) => ({
    runId,
    name: r.name || 'unknown',
    agents: r.agents.size,
    modelCalls: r.calls.length,
    tokens: r.calls.reduce((s, e) => s + callTokens(e), 0),
    costUsd: roundNoise(r.calls.reduce((s, e) => s + num(e.attrs.cost_usd), 0)),
  }));
}

/** A timeline entry per subagent: its run as subagent_completed gives it, else the span of its model calls. */
export function subagentTimeline(events: EventRecord[]): TimelineEntry[] {
  return agentsOf(events).flatMap((a) => {
    const workflow = a.calls.find((e) => e.attrs['workflow.run_id'])?.attrs['workflow.run_id'];
    const where = workflow ? `, workflow ${String(workflow)}` : '';
    if (a.completed) {
      const e = a.completed;
      const ms = num(e.attrs.duration_ms);
      return [
        {
          kind: 'subagent' as const,
          name: a.type,
          start: e.time - ms,
          end: e.time,
          ok: true,
          detail: `${ms} ms, ${num(e.attrs.total_tokens)} tokens, ${num(e.attrs.total_tool_uses)} tool use(s)${truthy(e.attrs.is_async) ? ', in the background' : ''}${where}`,
        },
      ];
    }
    if (!a.calls.length) return [];
    const start = Math.min(...a.calls.map((e) => e.time - num(e.attrs.duration_ms)));
    const end = Math.max(...a.calls.map((e) => e.time));
    return [
      {
        kind: 'subagent' as const,
        name: a.type,
        start,
        end,
        ok: true,
        detail: `${a.calls.length} model call(s)${where}; no subagent_completed event`,
      },
    ];
  });
}
