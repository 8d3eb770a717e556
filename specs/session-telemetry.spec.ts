// Recipe: run a scripted session, then check with exact numbers that its metrics are in Prometheus, its trace
// in Jaeger (with the MCP servers' spans) and its spans, points and events in the rotated files, and that the MCP
// servers did what the script asked. Every expected number comes from the script (fixtures/sessions/demo.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { SessionOutcome } from '../scripts/lib/session/session-run.ts';
import { type JaegerTrace, jaegerTraces } from '../scripts/lib/sinks/jaeger.ts';
import { promQuery } from '../scripts/lib/sinks/prometheus.ts';
import { countBy } from '../scripts/lib/sinks/session-sinks.ts';
import { SESSION_METRICS, sessionTokens, sessionTotal } from '../scripts/lib/sinks/session-totals.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { execIn } from './support/compose-in.ts';
import { expectedFor, runStackSession, type StackInfo, stack } from './support/stack.ts';

const expected = expectedFor('demo');
let e2eStack: StackInfo;
let session: SessionOutcome;
let id: string;
const sel = () => `{session_id="${id}"}`;

beforeAll(async () => {
  e2eStack = stack();
  session = await runStackSession(e2eStack, { script: 'demo', user: 'spec-user' });
  id = session.plan.sessionId;
  expect(session.exitCode, session.output.slice(-2000)).toBe(0);
});

async function value(query: string): Promise<number> {
  const r = await promQuery(e2eStack.prometheus, query);
  return Number(r[0]?.value[1] ?? Number.NaN);
}

describe('metrics in Prometheus', () => {
  it('has the session count, labelled with the session id and user', async () => {
    const count = await waitFor(
      `no claude_code_session_count_total for session ${id}`,
      async () => ((await value(`sum(claude_code_session_count_total${sel()})`)) === 1 ? 1 : undefined),
      { timeoutMs: 20_000 },
    );
    expect(count).toBe(1);
    const labels = (await promQuery(e2eStack.prometheus, `claude_code_session_count_total${sel()}`))[0]
      ?.metric;
    expect(labels).toMatchObject({ session_id: id, user_name: 'spec-user' });
  });

  it('has token usage per type equal to the script, exactly', async () => {
    const tokens = await waitFor(
      `token usage of session ${id} never matched the script`,
      async () => {
        const got = await sessionTokens(e2eStack.prometheus, id);
        return got.output === expected.tokens.output && got.input === expected.tokens.input ? got : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(tokens).toEqual(expected.tokens);
  });

  it('has a cost above zero, lines added/removed as the Write and Edit changed them, and active time', async () => {
    expect(await sessionTotal(e2eStack.prometheus, SESSION_METRICS.cost, id)).toBeGreaterThan(0);
    const lines = await waitFor(
      `lines of code of session ${id} never matched the script`,
      async () => {
        const added = await value(
          `sum(claude_code_lines_of_code_count_total{session_id="${id}", type="added"})`,
        );
        const removed = await value(
          `sum(claude_code_lines_of_code_count_total{session_id="${id}", type="removed"})`,
        );
        return added === expected.linesAdded && removed === expected.linesRemoved
          ? { added, removed }
          : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(lines).toEqual({ added: expected.linesAdded, removed: expected.linesRemoved });
    expect(await value(`sum(claude_code_active_time_seconds_total${sel()})`)).toBeGreaterThan(0);
  });
});

describe('the trace in Jaeger', () => {
  let trace: JaegerTrace;
  beforeAll(async () => {
    trace = await waitFor(
      `no complete claude-code trace for session ${id} in Jaeger`,
      async () => {
        const t = (await jaegerTraces(e2eStack.jaeger, 'claude-code', id))[0];
        const ops = countBy(t?.spans ?? [], (x) => x.operationName);
        return ops['claude_code.interaction'] === 1 &&
          ops['claude_code.tool.execution'] === expected.toolUses.length
          ? t
          : undefined;
      },
      { timeoutMs: 20_000 },
    );
  });

  it('has one interaction root, one llm_request per model turn, one tool span per tool_use with its execution child', () => {
    const ops = countBy(trace.spans, (x) => x.operationName);
    expect(ops['claude_code.interaction']).toBe(1);
    expect(ops['claude_code.llm_request']).toBe(expected.modelCalls);
    const tools = trace.spans.filter((x) => x.operationName === 'claude_code.tool');
    const name = (sp: (typeof tools)[number]) => String(sp.tags.find((t) => t.key === 'tool_name')?.value);
    expect(tools.map(name).sort()).toEqual([...expected.toolUses].sort());
    const root = trace.spans.find((x) => x.operationName === 'claude_code.interaction');
    expect(root?.references ?? []).toEqual([]);
    for (const tool of tools) {
      const children = trace.spans.filter((c) => c.references.some((r) => r.spanID === tool.spanID));
      expect(
        children.map((c) => c.operationName),
        name(tool),
      ).toContain('claude_code.tool.execution');
      expect(tool.references[0]?.spanID).toBe(root?.spanID);
    }
  });

  it("has the MCP servers' spans for the same session id", async () => {
    const fileOps = (await jaegerTraces(e2eStack.jaeger, 'mcp-file-ops', id)).flatMap((t) => t.spans);
    const database = (await jaegerTraces(e2eStack.jaeger, 'mcp-database', id)).flatMap((t) => t.spans);
    expect(fileOps.map((x) => x.operationName)).toEqual(['tools/call read_file']);
    expect(database.map((x) => x.operationName)).toEqual(['tools/call query']);
  });
});

describe('the telemetry files', () => {
  it("hold the session's spans, metric points and events", async () => {
    const files = await waitFor(
      `the files in ${e2eStack.telemetryDir} never held all of session ${id}`,
      async () => {
        const [traces, metrics, logs] = await Promise.all(
          (['traces', 'metrics', 'logs'] as const).map((sig) =>
            sessionRecords(e2eStack.telemetryDir, sig, id),
          ),
        );
        const events = countBy(logs ?? [], (r) => r.name);
        return (events['claude_code.tool_result'] ?? 0) === expected.toolUses.length &&
          (traces?.filter((t) => t.name === 'claude_code.interaction').length ?? 0) === 1
          ? { traces, metrics, logs, events }
          : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(files.events['claude_code.user_prompt']).toBe(1);
    expect(files.events['claude_code.api_request']).toBe(expected.modelCalls);
    expect(files.events['claude_code.tool_result']).toBe(expected.toolUses.length);
    expect(files.events['claude_code.tool_decision']).toBe(expected.toolUses.length);
    expect(countBy(files.traces ?? [], (t) => t.name)['claude_code.llm_request']).toBe(expected.modelCalls);
    expect(new Set((files.metrics ?? []).map((m) => m.name))).toEqual(
      expect.objectContaining(
        new Set(['claude_code.session.count', 'claude_code.token.usage', 'claude_code.cost.usage']),
      ),
    );
  });
});

describe('the MCP servers did what the script asked', () => {
  it('every MCP call succeeded, the workspace file has the edited content and the database is as seeded', async () => {
    const log = session.output;
    expect(log).not.toContain('"is_error":true');
    const run = (service: string, command: string[]) => execIn(e2eStack, service, command);
    const file = await run('mcp-file-ops', ['cat', `/workspace/spec-user/${id}/hello.py`]);
    expect(file.stdout).toBe(
      "def main():\n    print('Hello, and welcome!')\n    print('Have a nice day.')\n\n\nif __name__ == '__main__':\n    main()\n",
    );
    const db = await run('mcp-database', [
      'node',
      '-e',
      "const D=require('better-sqlite3'); console.log(new D('/data/demo.sqlite',{readonly:true}).prepare('select count(*) n from customers').get().n)",
    ]);
    expect(db.stdout.trim()).toBe('3');
    // The MCP servers export every second and Prometheus scrapes every 5 s: poll, bounded.
    const calls = await waitFor(
      `the MCP servers' tool call counters for session ${id} did not reach Prometheus`,
      async () => {
        const r = await promQuery(
          e2eStack.prometheus,
          `sum by (gen_ai_tool_name, mcp_tool_outcome) (mcp_server_tool_calls_total${sel()})`,
        );
        return r.length === 2 ? r : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(
      calls.map((c) => [c.metric.gen_ai_tool_name, c.metric.mcp_tool_outcome, c.value[1]]).sort(),
    ).toEqual([
      ['query', 'success', '1'],
      ['read_file', 'success', '1'],
    ]);
  });
});

describe('the session record', () => {
  it("keeps Claude Code's own transcript: the prompt, and every tool call of the script in order", () => {
    expect(session.metadata?.files.transcript).toBe('transcript.jsonl');
    const lines = readFileSync(join(session.dir, 'transcript.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { type?: string; message?: { content?: unknown } });
    expect(lines.some((l) => l.type === 'user')).toBe(true);
    // One tool_use block per scripted tool call (a message may be written over several lines: ids count once).
    const uses = new Map<string, string>();
    for (const l of lines.filter((x) => x.type === 'assistant'))
      for (const block of Array.isArray(l.message?.content) ? l.message.content : [])
        if ((block as { type?: string }).type === 'tool_use') {
          const b = block as { id: string; name: string };
          uses.set(b.id, b.name);
        }
    expect([...uses.values()]).toEqual(expected.toolUses);
  });
});
