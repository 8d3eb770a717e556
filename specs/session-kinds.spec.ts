// Recipe: every session kind of the compatibility matrix (scripts/lib/compat/session-kinds.ts) on the pinned
// release, on the shared stack: its totals in Prometheus, its events and spans in the files exactly what its script
// says (session-kind-checks.ts). The interactive kind has its own spec (interactive.spec.ts) and the long one its
// own stack (long-session.spec.ts). Per kind, beyond the totals:
//   - resumed: 5 CLI processes (first run, --resume, --continue, /compact, --resume) add up exactly; a compaction;
//   - subagent: the subagent's model call attributed to it (query_source=subagent, agent.name);
//   - api-retry-529: the retry on the llm_request span (attempt 2), and no api_error event;
//   - hooks: each hook ran once per CLI process, the tool hooks once per tool call (hook_execution_complete);
//   - attrs13: 13 resource attributes beside user.name, nothing lost, user.name still the verified user.
// telemetry-config.spec.ts looks deeper at hooks (their environment) and the 13 attributes (on every record).
import { describe, expect, it } from 'vitest';
import { KINDS, kindEnv, kindNamed, type SessionKind } from '../scripts/lib/compat/session-kinds.ts';
import { promQuery } from '../scripts/lib/sinks/prometheus.ts';
import { awaitKind } from './support/session-kind-checks.ts';
import { runStackSession, stack } from './support/stack.ts';

const USER = 'kinds';

async function runKind(kind: SessionKind) {
  const s = stack();
  const out = await runStackSession(s, { script: kind.script, user: USER }, kindEnv(kind, USER));
  const e = kind.expectation();
  const id = out.plan.sessionId;
  // A session whose every model call failed ends in failure; every other kind ends well.
  if (e.modelCalls) expect(out.exitCode, out.output.slice(-2000)).toBe(0);
  else expect(out.exitCode, out.output.slice(-2000)).not.toBe(0);
  const seen = await awaitKind(s, id, e);
  return { out, id, e, ...seen };
}

const shared = KINDS.filter((k) => !k.long && !k.interactive);

describe('session kinds on the pinned release', () => {
  it('lists every kind that this spec does not run, and why', () => {
    expect(KINDS.filter((k) => !shared.includes(k)).map((k) => k.name)).toEqual(['interactive', 'long']);
  });

  for (const kind of shared.filter((k) => !['resumed', 'attrs13', 'hooks'].includes(k.name))) {
    it(`${kind.name}: totals, events and spans exactly its script`, async () => {
      const { problems } = await runKind(kind);
      expect(problems).toEqual([]);
    });
  }

  it('resumed: 5 CLI processes of one conversation add up exactly, with a compaction', async () => {
    const kind = kindNamed('resumed');
    const { problems, out, e, observation } = await runKind(kind);
    expect(e.processes).toBe(5);
    // The container's output: each further run announced by the wrapper, and one result per CLI process.
    const announced = out.output
      .split('\n')
      .filter((l) => /^# step \d\/5: claude --(resume|continue)/.test(l));
    expect(announced.map((l) => /--(resume|continue)/.exec(l)?.[1])).toEqual([
      'resume',
      'continue',
      'resume',
      'resume',
    ]);
    const results = out.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type?: string; is_error?: boolean })
      .filter((e) => e.type === 'result');
    expect(results.map((r) => r.is_error)).toEqual(Array(5).fill(false));
    // The record: each CLI run as the session's wrapper told it (reported), each ended well.
    const steps = out.metadata?.reported?.steps ?? [];
    expect(steps.map((st) => st.mode)).toEqual(['first', 'resume', 'continue', 'resume', 'resume']);
    expect(steps.map((st) => st.exitCode)).toEqual(Array(5).fill(0));
    expect(problems).toEqual([]);
    expect(observation.totals.sessions).toBeGreaterThanOrEqual(1);
  });

  it('hooks: each configured hook ran as often as its script says, with the totals of its script', async () => {
    const { problems, e } = await runKind(kindNamed('hooks'));
    expect(e.hookRuns).toBeDefined();
    expect(problems).toEqual([]);
  });

  it('attrs13: 13 resource attributes beside user.name, nothing lost, user.name still the verified user', async () => {
    const { problems, id } = await runKind(kindNamed('attrs13'));
    expect(problems).toEqual([]);
    const r = await promQuery(stack().prometheus, `claude_code_session_count_total{session_id="${id}"}`);
    expect(r.map((x) => x.metric.user_name)).toEqual([USER]);
  });
});
