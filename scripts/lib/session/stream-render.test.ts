// The readable session, checked on what the real CLI printed: fixtures/streams/NAME.jsonl is the stream-json of
// `pnpm session --script NAME --json` for each script of fixtures/sessions/, and its rendering must show that
// script's prompt, its tool calls in order (names from expectations.ts, each with a result), its text, its API
// errors, and the result's tokens, cost and time; then the edges: a stream cut anywhere, lines that are not the
// CLI's, tool results far too long to print, a line with no end, a stream with no result.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expectedTelemetry } from '../../../stack/anthropic-replay/src/expectations.ts';
import {
  fillTurn,
  isErrorTurn,
  parseSessionScript,
  type SessionScript,
} from '../../../stack/anthropic-replay/src/session-script.ts';
import { repoRoot } from '../repo-root.ts';
import { cut, DONE_LINE, MAX_LINE_CHARS, renderStream, streamRender } from './stream-render.ts';

const sessionsDir = join(repoRoot, 'fixtures', 'sessions');
const streamsDir = join(repoRoot, 'fixtures', 'streams');
const scripts = readdirSync(sessionsDir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.slice(0, -5))
  .sort();

type Event = Record<string, unknown> & { type: string };
const events = (text: string): Event[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Event);

/** The text blocks of a script's answers, as the server filled them for the recorded session. */
function scriptTexts(script: SessionScript, sessionId: string): string[] {
  return script.turns.flatMap((t) =>
    isErrorTurn(t)
      ? []
      : fillTurn(t, { session_id: sessionId }).content.flatMap((b) => (b.type === 'text' ? [b.text] : [])),
  );
}

describe('the recorded stream of each scripted session', () => {
  it('is here for every script of fixtures/sessions/', () => {
    const recorded = readdirSync(streamsDir)
      .filter((f) => f.endsWith('.jsonl'))
      .map((f) => f.slice(0, -6))
      .sort();
    expect(recorded).toEqual(scripts);
  });

  describe.each(scripts)('%s', (name) => {
    const script = parseSessionScript(name, readFileSync(join(sessionsDir, `${name}.json`), 'utf8'));
    const expected = expectedTelemetry(script);
    const file = join(streamsDir, `${name}.jsonl`);
    // A missing recording fails the first test above, by name.
    const raw = existsSync(file) ? readFileSync(file, 'utf8') : '';
    const stream = events(raw);
    const init = stream.find((e) => e.type === 'system' && e.subtype === 'init');
    // A script with continuations is one CLI process each, each closing with its own result: the render closes with
    // the last one.
    const result = stream.findLast((e) => e.type === 'result');
    const out = renderStream(raw, { prompt: script.prompt });
    const lines = out.split('\n');

    it('is the real CLI stream-json, whole, and holds no credential', () => {
      expect(init?.session_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(result).toBeDefined();
      expect(raw).not.toMatch(/cct1\.|sk-ant|Bearer/);
    });

    it('renders shorter than it came, no line longer than the width', () => {
      expect(out.length).toBeLessThan(raw.length);
      for (const l of lines) expect(l.length, l).toBeLessThanOrEqual(200);
      expect(out).not.toContain('"type":"assistant"');
    });

    it('opens with the prompt, then the session, its model and MCP servers', () => {
      expect(lines[0]).toBe(`> ${script.prompt}`);
      expect(lines[1]).toContain(`session ${String(init?.session_id)}`);
      expect(lines[1]).toContain(script.model);
      expect(lines[1]).toMatch(/MCP: .*file-ops/);
    });

    it("shows the script's tool calls in order, each with its result", () => {
      const calls = lines.filter((l) => /^\s*● /.test(l)).map((l) => /● ([^(]+)\(/.exec(l)?.[1]);
      expect(calls).toEqual(expected.toolUses);
      expect(lines.filter((l) => /^\s*⎿ {2}/.test(l))).toHaveLength(expected.toolUses.length);
    });

    it("shows the script's answer text", () => {
      const texts = scriptTexts(script, String(init?.session_id));
      for (const t of texts) expect(out).toContain(t);
    });

    it('says each scripted API error', () => {
      for (const status of expected.apiErrors) expect(out).toMatch(new RegExp(`(API|✗).*\\b${status}\\b`));
    });

    it("closes with the result's time, turns, tokens by kind and cost", () => {
      const r = result as unknown as Record<string, unknown> & { usage: Record<string, number> };
      const last = lines.at(-2) ?? '';
      expect(last).toMatch(r.is_error ? /^✗ failed/ : /^✓ done/);
      const n = (k: string) => (r.usage[k] ?? 0).toLocaleString('en-US');
      expect(last).toContain(
        `tokens: input ${n('input_tokens')}, output ${n('output_tokens')}, cache read ${n('cache_read_input_tokens')}, cache write ${n('cache_creation_input_tokens')}`,
      );
      expect(last).toContain(`cost $${(r.total_cost_usd as number).toFixed(4)}`);
      expect(last).toContain(`${((r.duration_ms as number) / 1000).toFixed(1)} s`);
      expect(last).toContain(`${r.num_turns as number} turns`);
    });

    it("closes with the script's tokens (the main conversation's: a subagent's calls are its own)", () => {
      // With continuations, the last line is the last process's: the tokens of the last continuation's turns.
      const lastRun = script.continuations?.at(-1);
      const t = lastRun
        ? expectedTelemetry({ ...script, turns: lastRun.turns, continuations: undefined }).tokens
        : expected.tokens;
      const shown = [
        ...out.matchAll(
          /tokens: input ([\d,]+), output ([\d,]+), cache read ([\d,]+), cache write ([\d,]+)/g,
        ),
      ]
        .at(-1)
        ?.slice(1)
        .map((x) => Number(x.replaceAll(',', '')));
      const want = [t.input, t.output, t.cacheRead, t.cacheCreation];
      if (!expected.toolUses.includes('Agent')) expect(shown).toEqual(want);
      else for (const [i, n] of (shown ?? []).entries()) expect(n).toBeLessThanOrEqual(want[i] ?? 0);
      expect(out).toMatch(expected.apiErrors.length && !expected.modelCalls ? /^✗ failed/m : DONE_LINE);
    });

    it('renders the same whatever the chunks (mid-line, mid-character)', () => {
      const bytes = Buffer.from(raw);
      for (const size of [1, 7, 4096]) {
        const r = streamRender({ prompt: script.prompt });
        let text = '';
        for (let i = 0; i < bytes.length; i += size) text += r.write(bytes.subarray(i, i + size));
        expect(text + r.end()).toBe(out);
      }
    });
  });
});

describe('a stream that is not only the CLI stream', () => {
  const NO_RESULT = '✗ the stream ended without a result from Claude Code';
  const assistant = (content: unknown[], parent: string | null = null) =>
    JSON.stringify({ type: 'assistant', message: { content }, parent_tool_use_id: parent });
  const toolResult = (id: string, content: unknown, isError = false) =>
    JSON.stringify({
      type: 'user',
      message: { content: [{ type: 'tool_result', tool_use_id: id, content, is_error: isError }] },
    });

  it('prints a line that is not JSON as it is, and JSON that is not an event too', () => {
    const out = renderStream('entrypoint: starting\n[1, 2]\n"just a string"\n{not json\n');
    expect(out).toBe('entrypoint: starting\n[1, 2]\n"just a string"\n{not json\n');
  });

  it('prints an event of a type it does not know on one cut line', () => {
    const big = { type: 'stream_event', event: { delta: 'x'.repeat(10_000) } };
    const out = renderStream(`${JSON.stringify(big)}\n`, { width: 120 });
    const [line, ...rest] = out.split('\n');
    expect(line).toMatch(/^· stream_event: \{.*… \(\+[\d,]+ chars\)$/);
    expect(line?.length).toBe(120);
    expect(rest).toEqual([NO_RESULT, '']);
  });

  it('shows a huge tool result in a few lines and counts what it cut', () => {
    const body = Array.from({ length: 50_000 }, (_, i) => `row ${i} ${'y'.repeat(300)}`).join('\n');
    const out = renderStream(
      `${assistant([{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'seq' } }])}\n${toolResult('t1', body)}\n`,
      { width: 100, resultLines: 3 },
    );
    const lines = out.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1 + 3 + 1 + 1);
    expect(lines[5]).toBe(NO_RESULT);
    expect(lines[0]).toBe('● Bash(command: "seq")');
    expect(lines[1]).toMatch(/^ {2}⎿ {2}row 0 y+ … \(\+[\d,]+ chars\)$/);
    expect(lines[4]).toBe(
      `     … +49,997 lines (${(body.length - body.indexOf('row 3 ')).toLocaleString('en-US')} chars) not shown`,
    );
    for (const l of lines) expect(l.length).toBeLessThanOrEqual(105);
  });

  it("marks a failed tool call's result, and a subagent's calls sit under the call that started it", () => {
    const out = renderStream(
      [
        assistant([{ type: 'tool_use', id: 'a1', name: 'Agent', input: { prompt: 'count' } }]),
        assistant([{ type: 'tool_use', id: 'b1', name: 'Read', input: { file_path: '/x' } }], 'a1'),
        toolResult('b1', 'no such file', true),
        assistant([{ type: 'text', text: 'none' }], 'a1'),
        toolResult('a1', [{ type: 'text', text: 'none' }, { type: 'image' }]),
      ].join('\n'),
    );
    expect(out).toBe(
      [
        '● Agent(prompt: "count")',
        '    ● Read(file_path: "/x")',
        '      ⎿  ✗ no such file',
        '    none',
        '  ⎿  none',
        '     [image]',
        NO_RESULT,
        '',
      ].join('\n'),
    );
  });

  it('says a failed session plainly: its error, the API status and the figures', () => {
    const out = renderStream(
      `${JSON.stringify({ type: 'result', subtype: 'success', is_error: true, api_error_status: 529, result: 'API Error: 529 Overloaded', duration_ms: 1234, duration_api_ms: 1000, num_turns: 1, total_cost_usd: 0, usage: { input_tokens: 0, output_tokens: 0 } })}\n`,
    );
    expect(out).toBe(
      '✗ API Error: 529 Overloaded\n✗ failed, API error 529 in 1.2 s (model 1.0 s), 1 turns · tokens: input 0, output 0, cache read 0, cache write 0 · cost $0.0000\n',
    );
  });

  it('renders a last line that came without its newline, at the end', () => {
    const r = streamRender();
    expect(r.write('partial')).toBe('');
    expect(r.write(' line')).toBe('');
    expect(r.end()).toBe('partial line\n');
  });

  it(`drops a line of more than ${MAX_LINE_CHARS} chars with no newline, saying so, and goes on`, () => {
    const r = streamRender();
    const chunk = 'z'.repeat(1 << 20);
    let out = '';
    for (let i = 0; i <= 16; i++) out += r.write(chunk);
    expect(out).toBe('');
    out += r.write('zz\nafter\n');
    expect(out).toBe(
      `[a line of ${(17 * (1 << 20) + 2).toLocaleString('en-US')} chars was not shown: over ${MAX_LINE_CHARS.toLocaleString('en-US')}]\nafter\n`,
    );
    expect(r.end()).toBe('');
  });
});

describe('cut', () => {
  it.each([10, 40, 1000, 123_456])(
    'keeps %i chars whole when they fit, and counts exactly what it cut',
    (n) => {
      const text = 'a'.repeat(n);
      const out = cut(text, 40);
      if (n <= 40) expect(out).toBe(text);
      else {
        expect(out.length).toBe(40);
        const kept = out.indexOf(' …');
        expect(out.slice(kept)).toBe(` … (+${(n - kept).toLocaleString('en-US')} chars)`);
      }
    },
  );
});
