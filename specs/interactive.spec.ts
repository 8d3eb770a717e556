// Recipe: an interactive session driven through a pseudo-terminal (util-linux `script` gives `docker compose
// run` a terminal): wait for Claude Code's prompt, type one, let the scripted API answer, exit. It must leave the
// same kinds of telemetry as a headless session, and its terminal recording must be in the session log.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionTokens } from '../scripts/lib/sinks/session-totals.ts';
import { ANSI, runInteractiveDemo, squeeze } from '../scripts/lib/testing/pty-session.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { expectedFor, stack } from './support/stack.ts';

describe('an interactive session through a pseudo-terminal', () => {
  it('produces the telemetry of a headless one, and its terminal recording lands in the session log', async () => {
    const e2eStack = stack();
    const { outcome, played } = await runInteractiveDemo(e2eStack, { user: 'pty-user' });
    expect(played, 'the session did not end within 30000 ms of /exit').toBe(0);
    const plan = outcome.plan;

    const dir = join(e2eStack.sessionsDir, plan.sessionId);
    const meta = JSON.parse(readFileSync(join(dir, 'metadata.json'), 'utf8')) as {
      mode: string;
      status: string;
      files: Record<string, string>;
    };
    expect(meta).toMatchObject({ mode: 'interactive', status: 'completed' });
    expect(existsSync(join(dir, 'terminal.timing'))).toBe(true);
    const log = readFileSync(join(dir, 'session.log'), 'utf8');
    expect(log).toContain('# terminal recording');
    expect(squeeze(log.replace(ANSI, ''))).toContain(squeeze('please create the greeting'));

    const expected = expectedFor('demo');
    const found = await waitForSessionInSinks(plan.sessionId, {
      prometheus: e2eStack.prometheus,
      jaeger: e2eStack.jaeger,
      victorialogs: e2eStack.victorialogs,
      telemetryDir: e2eStack.telemetryDir,
    });
    // Cumulative sums keep arriving until the last export: poll until they match the script, bounded.
    const same = (got: Record<string, number>) =>
      Object.entries(expected.tokens).every(([k, v]) => got[k] === v);
    const tokens = await waitFor(
      `token usage of interactive session ${plan.sessionId} never matched the script`,
      async () => {
        const got = await sessionTokens(e2eStack.prometheus, plan.sessionId);
        return same(got) ? got : undefined;
      },
      { timeoutMs: 20_000 },
    );
    expect(tokens).toEqual(expected.tokens);
    const ops = new Set(found.traces.flatMap((t) => t.spans.map((x) => x.operationName)));
    for (const op of [
      'claude_code.interaction',
      'claude_code.llm_request',
      'claude_code.tool',
      'claude_code.tool.execution',
    ]) {
      expect(ops.has(op), op).toBe(true);
    }
    const events = new Set(found.files.logs.map((l) => l.name));
    for (const e of ['claude_code.user_prompt', 'claude_code.api_request', 'claude_code.tool_result'])
      expect(events.has(e), e).toBe(true);
  });
});
