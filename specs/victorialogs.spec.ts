// Recipe: Claude Code's events in VictoriaLogs, the queryable store beside the files. A session's events arrive
// there with the same names and counts as in logs.jsonl; they can be selected by session id (a field) and by user
// (a stream field); a prompt as long as Claude Code's content limit is stored intact; and the web UI, opened on
// the session's query in headless Chromium, lists them (screenshot: test-results/victorialogs-ui.png).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../scripts/lib/repo-root.ts';
import { countBy, waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { sessionRecords } from '../scripts/lib/sinks/telemetry-files.ts';
import { type LogEntry, quoted, sessionFilter, vlQuery, vlUiUrl } from '../scripts/lib/sinks/victorialogs.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { renderedDom, requireChromium, screenshot } from './support/chromium.ts';
import { countColor, decodePng } from './support/png.ts';
import { runStackSession, stack } from './support/stack.ts';

/** Claude Code's default content limit (CLAUDE_CODE_OTEL_CONTENT_MAX_LENGTH): 60 KiB of characters. */
const CONTENT_LIMIT = 61_440;

/**
 * The session's events in VictoriaLogs once it holds as many as the files. A session that just ended may not be in
 * the files yet (the collector batches and flushes each second): first wait until every sink has it.
 */
async function eventsOf(id: string): Promise<{ rows: LogEntry[]; files: Record<string, number> }> {
  const e2eStack = stack();
  await waitForSessionInSinks(id, e2eStack, 60_000);
  // Claude Code's own events (the gateway's observed gateway_request events of the session are checked elsewhere).
  const own = (name: string) => name.startsWith('claude_code.');
  const files = countBy(
    (await sessionRecords(e2eStack.telemetryDir, 'logs', id)).filter((r) => own(r.name)),
    (r) => r.name,
  );
  const total = Object.values(files).reduce((a, b) => a + b, 0);
  expect(total, 'events of the session in the files').toBeGreaterThan(0);
  const rows = await waitFor(`VictoriaLogs does not hold the ${total} events of session ${id}`, async () => {
    const r = (await vlQuery(e2eStack.victorialogs, sessionFilter(id))).filter((e) =>
      own(String(e._msg ?? '')),
    );
    return r.length >= total ? r : undefined;
  });
  return { rows, files };
}

describe('VictoriaLogs: Claude Code events, queryable', () => {
  it('holds every event of a session with the same names and counts as the telemetry files', async () => {
    const id = stack().warmupSession;
    const { rows, files } = await eventsOf(id);
    expect(countBy(rows, (r) => r._msg ?? '')).toEqual(files);
    for (const r of rows) {
      expect(r['session.id']).toBe(id);
      expect(r['service.name']).toBe('claude-code');
      expect(`claude_code.${r['event.name']}`).toBe(r._msg);
    }
    expect(
      rows.filter((r) => r._msg === 'claude_code.api_request').every((r) => Number(r.cost_usd) > 0),
    ).toBe(true);
  });

  it("selects a user's sessions by the user.name stream field, and no one else's", async () => {
    const e2eStack = stack();
    const user = `carol-${Date.now().toString(36)}`;
    const run = await runStackSession(e2eStack, { script: 'demo', user });
    expect(run.exitCode, run.output.slice(-1500)).toBe(0);
    const { rows } = await eventsOf(run.plan.sessionId);
    const byUser = await vlQuery(e2eStack.victorialogs, `{user.name=${quoted(user)}}`);
    expect(byUser.length).toBe(rows.length);
    expect(new Set(byUser.map((r) => r['session.id']))).toEqual(new Set([run.plan.sessionId]));
    expect(byUser.every((r) => r._stream?.includes(`user.name=${quoted(user)}`))).toBe(true);
    // The recipe from the README: failed tool calls by user (the demo has none), as stats.
    const stats = await vlQuery(
      e2eStack.victorialogs,
      `{user.name=${quoted(user)}} event.name:=tool_result | stats by (success) count() calls`,
    );
    expect(stats).toEqual([
      { success: 'true', calls: String(rows.filter((r) => r['event.name'] === 'tool_result').length) },
    ]);
    const warmup = await vlQuery(
      e2eStack.victorialogs,
      `{user.name="warmup"} ${sessionFilter(run.plan.sessionId)}`,
    );
    expect(warmup).toEqual([]);
  });

  it(`keeps a prompt as long as Claude Code's content limit (${CONTENT_LIMIT} characters) intact`, async () => {
    const e2eStack = stack();
    const prompt = `${'long prompt '.repeat(CONTENT_LIMIT / 12)}`.slice(0, CONTENT_LIMIT - 4).concat(' end');
    expect(prompt.length).toBe(CONTENT_LIMIT);
    const run = await runStackSession(
      e2eStack,
      { script: 'demo' },
      { SESSION_PROMPT: prompt, OTEL_LOG_USER_PROMPTS: '1' },
    );
    expect(run.exitCode, run.output.slice(-1500)).toBe(0);
    const { rows } = await eventsOf(run.plan.sessionId);
    const stored = rows.find((r) => r['event.name'] === 'user_prompt');
    const sent = (await sessionRecords(e2eStack.telemetryDir, 'logs', run.plan.sessionId))
      .find((r) => r.name === 'claude_code.user_prompt')
      ?.item.attributes?.find((a) => a.key === 'prompt')?.value?.stringValue;
    expect(sent, 'the prompt as Claude Code sent it').toBe(prompt);
    expect(stored?.prompt?.length).toBe(CONTENT_LIMIT);
    expect(stored?.prompt).toBe(prompt);
  });

  it('stays up when a sender repeats a resource attribute key (VictoriaLogs 1.52.1 exits on that unless normalized)', async () => {
    const e2eStack = stack();
    const marker = `duplicate-resource-key-${Date.now().toString(36)}`;
    const attr = (value: string) => ({ key: 'service.name', value: { stringValue: value } });
    const res = await fetch(`${e2eStack.otlpHttp}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceLogs: [
          {
            resource: { attributes: [attr('first'), attr('hostile-sender')] },
            scopeLogs: [{ logRecords: [{ body: { stringValue: marker } }] }],
          },
        ],
      }),
      signal: AbortSignal.timeout(5_000),
    });
    expect(res.status).toBe(200);
    const stored = await waitFor(`VictoriaLogs did not store ${marker}`, async () => {
      const r = await vlQuery(e2eStack.victorialogs, `_msg:=${quoted(marker)}`);
      return r.length ? r : undefined;
    });
    // One value per key (the last), and the service still answers and ingests what comes next.
    expect(stored.map((r) => r['service.name'])).toEqual(['hostile-sender']);
    const after = await runStackSession(e2eStack, { script: 'demo' });
    expect(after.exitCode).toBe(0);
    await eventsOf(after.plan.sessionId);
  });

  it("shows a session's events in its web UI (headless Chromium: DOM and screenshot)", async () => {
    requireChromium();
    const e2eStack = stack();
    const id = e2eStack.warmupSession;
    await eventsOf(id);
    // The UI lists every event of the session: Claude Code's and the gateway's observed ones.
    const rows = await vlQuery(e2eStack.victorialogs, sessionFilter(id));
    const url = vlUiUrl(e2eStack.victorialogs, sessionFilter(id));
    const dom = await renderedDom(url);
    expect(dom).toContain(id);
    for (const name of new Set(rows.map((r) => r._msg)))
      expect(dom, `${name} listed in the UI`).toContain(name);
    expect(dom).toMatch(new RegExp(`Total logs returned:\\s*(<[^>]+>)*\\s*${rows.length}\\b`));
    mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
    const png = join(repoRoot, 'test-results', 'victorialogs-ui.png');
    const img = decodePng(await screenshot(url, png, 1400, 1000));
    console.log(`victorialogs spec: UI screenshot ${png} (${img.width}x${img.height})`);
    // The UI's header bar (#3F51B5) and chart bars are drawn: a blank or error page has neither.
    expect(countColor(img, '#3f51b5', 16), 'header pixels').toBeGreaterThan(10_000);
  });
});
