// A headless session's output as a person reads it. Claude Code prints its session as stream-json (one JSON event a
// line, `claude -p --output-format stream-json --verbose`; its init line alone is about 3,000 characters): this turns
// that stream into the prompt, each tool call with its input on one line and its result in a few (cut, saying how
// much was cut), the answer text, and a closing line with tokens, cost and time. Pure and line-buffered: it takes
// the stream in chunks as they come (a chunk may end mid-line or mid-character) and returns the text to print.
// Anything it does not know is kept visible: a line that is not JSON is printed as it is, an event of an unknown
// type as one cut line. `pnpm session --json` bypasses it and prints the raw stream.
import { StringDecoder } from 'node:string_decoder';

export interface StreamRenderOptions {
  /** The session's prompt, printed first (the stream itself does not carry it). */
  prompt?: string;
  /** Characters per line of tool input and result (default 160). */
  width?: number;
  /** Lines of a tool result shown (default 4); the rest is counted, not printed. */
  resultLines?: number;
}

export interface StreamRender {
  /** Takes the next chunk of the stream; returns the text of every line it completed ('' when none). */
  write(chunk: string | Uint8Array): string;
  /** The stream ended: renders a last line without its newline, and says so when Claude Code gave no result. */
  end(): string;
}

/** A line longer than this (no newline in 16 MiB) is not held: it is dropped, and the drop is said. */
export const MAX_LINE_CHARS = 16 << 20;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const count = (n: number) => n.toLocaleString('en-US');

/** `text` cut to `width` characters, saying how many were cut. */
export function cut(text: string, width: number): string {
  if (text.length <= width) return text;
  // The note takes room too: what is cut is counted once the note's own length is known (it settles in 3 rounds).
  let kept = width;
  let note = '';
  for (let i = 0; i < 3; i++) {
    note = ` … (+${count(text.length - kept)} chars)`;
    kept = Math.max(0, width - note.length);
  }
  return `${text.slice(0, kept)}${note}`;
}

/** A tool's input on one line: `key: value, …`, strings quoted (so newlines show as \n), cut to `width`. */
export function inputLine(input: unknown, width: number): string {
  if (!isObject(input)) return cut(JSON.stringify(input) ?? '', width);
  const parts = Object.entries(input).map(([k, v]) => `${k}: ${cut(JSON.stringify(v) ?? 'undefined', 80)}`);
  return cut(parts.join(', '), width);
}

/** A tool result's text: a string, or the text of its blocks (an image or other block named by its type). */
function resultText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return content === undefined ? '' : JSON.stringify(content);
  return content
    .map((b) => (isObject(b) ? (str(b.text) ?? `[${str(b.type) ?? 'block'}]`) : String(b)))
    .join('\n');
}

/** The first `lines` lines of `text`, each cut to `width`, then what was left out: lines and characters. */
export function resultBlock(text: string, lines: number, width: number): string[] {
  const all = text.replace(/\n+$/, '').split('\n');
  const shown = all.slice(0, lines).map((l) => cut(l, width));
  if (all.length > lines) {
    const rest = all.slice(lines);
    shown.push(`… +${count(rest.length)} lines (${count(rest.join('\n').length)} chars) not shown`);
  }
  return shown.length === 1 && shown[0] === '' ? ['(no output)'] : shown;
}

/** The closing line of a session that succeeded, as `resultLine` writes it (the smoke list looks for it). */
export const DONE_LINE =
  /^✓ done in [\d.]+ s \(model [\d.]+ s\), \d+ turns · tokens: input [\d,]+, output [\d,]+, cache read [\d,]+, cache write [\d,]+ · cost \$[\d.]+$/m;

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** The closing line of a `result` event: how it ended, its time, turns, tokens by kind and cost. */
function resultLine(e: Json, lastText: string): string[] {
  const u = isObject(e.usage) ? e.usage : {};
  const tokens = [
    `input ${count(num(u.input_tokens))}`,
    `output ${count(num(u.output_tokens))}`,
    `cache read ${count(num(u.cache_read_input_tokens))}`,
    `cache write ${count(num(u.cache_creation_input_tokens))}`,
  ].join(', ');
  const failed = e.is_error === true || (str(e.subtype) ?? 'success') !== 'success';
  const sub = str(e.subtype) ?? 'success';
  const how = failed ? `✗ failed${sub === 'success' ? '' : ` (${sub})`}` : '✓ done';
  const api = e.api_error_status ? `, API error ${String(e.api_error_status)}` : '';
  const out = [
    `${how}${api} in ${seconds(num(e.duration_ms))} (model ${seconds(num(e.duration_api_ms))}), ${num(e.num_turns)} turns · tokens: ${tokens} · cost $${num(e.total_cost_usd).toFixed(4)}`,
  ];
  const text = str(e.result);
  // Its text is the last answer, already shown; a failure's own words are shown when they are new.
  if (failed && text && text !== lastText) out.unshift(`✗ ${text}`);
  const errors = Array.isArray(e.errors) ? e.errors.map(String) : [];
  for (const err of errors) out.unshift(`✗ ${err}`);
  return out;
}

export function streamRender(o: StreamRenderOptions = {}): StreamRender {
  const width = o.width ?? 160;
  const resultLines = o.resultLines ?? 4;
  const decoder = new StringDecoder('utf8');
  let pending = '';
  let dropping = 0;
  let sawResult = false;
  let sawEvent = false;
  let lastText = '';
  /** Nesting of each tool call (a subagent's calls sit under the Agent call that started them). */
  const toolDepth = new Map<string, number>();
  /** …and of each subagent's task events, by task id. */
  const taskDepths = new Map<string, number>();

  const indent = (depth: number, lines: string[]) => lines.map((l) => `${'    '.repeat(depth)}${l}`);

  function depthOf(e: Json): number {
    const parent = str(e.parent_tool_use_id);
    return parent ? (toolDepth.get(parent) ?? 0) + 1 : 0;
  }

  function system(e: Json): string[] {
    const sub = str(e.subtype) ?? '';
    if (sub === 'init') {
      const mcp = Array.isArray(e.mcp_servers)
        ? e.mcp_servers.filter(isObject).map((s) => `${str(s.name)} (${str(s.status)})`)
        : [];
      const tools = Array.isArray(e.tools) ? e.tools.length : 0;
      return [
        `· session ${str(e.session_id) ?? '?'} · ${str(e.model) ?? '?'} · Claude Code ${str(e.claude_code_version) ?? '?'} · ${str(e.cwd) ?? '?'} · ${tools} tools · MCP: ${mcp.join(', ') || 'none'}`,
      ];
    }
    const taskDepth = () => {
      const id = str(e.tool_use_id);
      const task = str(e.task_id) ?? '';
      const d = id && toolDepth.has(id) ? (toolDepth.get(id) ?? 0) + 1 : (taskDepths.get(task) ?? 0);
      taskDepths.set(task, d);
      return d;
    };
    if (sub === 'task_started')
      return indent(taskDepth(), [
        `· subagent started: ${str(e.description) ?? '?'} (${str(e.subagent_type) ?? str(e.task_type) ?? '?'})`,
      ]);
    if (sub === 'task_updated' && isObject(e.patch) && str(e.patch.status))
      return indent(taskDepth(), [`· subagent ${str(e.patch.status)}`]);
    if (sub === 'task_notification') {
      const u = isObject(e.usage) ? e.usage : {};
      return indent(taskDepth(), [
        `· subagent ${str(e.status) ?? 'done'}: ${cut(str(e.summary) ?? '', width / 2)} (${count(num(u.total_tokens))} tokens, ${seconds(num(u.duration_ms))})`,
      ]);
    }
    if (sub === 'permission_denied') return [`✗ permission denied: ${str(e.tool_name) ?? '?'}`];
    if (sub === 'api_retry') {
      const status = e.error_status ?? str(e.error) ?? 'error';
      return [
        `… API ${String(status)}: retry ${num(e.attempt)} of ${num(e.max_retries)} in ${seconds(num(e.retry_delay_ms))}`,
      ];
    }
    return [`· ${cut(`system ${sub}: ${JSON.stringify(e)}`, width - 2)}`];
  }

  function assistant(e: Json): string[] {
    const m = isObject(e.message) ? e.message : {};
    const content = Array.isArray(m.content) ? m.content.filter(isObject) : [];
    const depth = depthOf(e);
    const out: string[] = [];
    // A model call that failed comes as an assistant message too: its text is the error, marked as one.
    const failed = Boolean(str(e.error));
    for (const b of content) {
      if (b.type === 'text') {
        const text = str(b.text) ?? '';
        if (depth === 0) lastText = text;
        out.push(...indent(depth, (failed ? `✗ ${text}` : text).split('\n')));
      } else if (b.type === 'tool_use') {
        const id = str(b.id);
        const name = str(b.name) ?? '?';
        if (id) {
          toolDepth.set(id, depth);
        }
        out.push(...indent(depth, [`● ${name}(${inputLine(b.input, width - name.length - 4)})`]));
      } else if (b.type === 'thinking') {
        out.push(...indent(depth, [`(thinking: ${count((str(b.thinking) ?? '').length)} chars)`]));
      } else out.push(...indent(depth, [`· ${cut(`${String(b.type)}: ${JSON.stringify(b)}`, width - 2)}`]));
    }
    if (failed && !content.some((b) => b.type === 'text')) out.push(...indent(depth, [`✗ ${str(e.error)}`]));
    return out;
  }

  function user(e: Json): string[] {
    const m = isObject(e.message) ? e.message : {};
    const depth = depthOf(e);
    if (typeof m.content === 'string') return indent(depth, [`> ${cut(m.content, width - 2)}`]);
    const out: string[] = [];
    for (const b of Array.isArray(m.content) ? m.content.filter(isObject) : []) {
      if (b.type === 'tool_result') {
        const id = str(b.tool_use_id) ?? '';
        const d = toolDepth.get(id) ?? depth;
        const lines = resultBlock(resultText(b.content), resultLines, width);
        const first = b.is_error === true ? `✗ ${lines[0]}` : lines[0];
        out.push(...indent(d, [`  ⎿  ${first}`, ...lines.slice(1).map((l) => `     ${l}`)]));
      } else if (b.type === 'text') out.push(...indent(depth, [`> ${cut(str(b.text) ?? '', width - 2)}`]));
      else out.push(...indent(depth, [`· ${cut(`${String(b.type)}: ${JSON.stringify(b)}`, width - 2)}`]));
    }
    return out;
  }

  function line(raw: string): string[] {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return [];
    let e: unknown;
    try {
      e = JSON.parse(text);
    } catch {
      return [text];
    }
    if (!isObject(e) || typeof e.type !== 'string') return [text];
    const first = !sawEvent;
    sawEvent = true;
    const head = first && o.prompt ? [`> ${o.prompt}`] : [];
    switch (e.type) {
      case 'system':
        return [...head, ...system(e)];
      case 'assistant':
        return [...head, ...assistant(e)];
      case 'user':
        return [...head, ...user(e)];
      case 'result':
        sawResult = true;
        return [...head, ...resultLine(e, lastText)];
      default:
        return [...head, `· ${cut(`${e.type}: ${text}`, width - 2)}`];
    }
  }

  const join = (lines: string[]) => lines.map((l) => `${l}\n`).join('');

  return {
    write(chunk) {
      let text = typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk));
      const out: string[] = [];
      if (dropping) {
        const nl = text.indexOf('\n');
        if (nl < 0) {
          dropping += text.length;
          return '';
        }
        out.push(`[a line of ${count(dropping + nl)} chars was not shown: over ${count(MAX_LINE_CHARS)}]`);
        dropping = 0;
        text = text.slice(nl + 1);
      }
      const lines = (pending + text).split('\n');
      pending = lines.pop() ?? '';
      for (const l of lines) out.push(...line(l));
      if (pending.length > MAX_LINE_CHARS) {
        dropping = pending.length;
        pending = '';
      }
      return join(out);
    },
    end() {
      const rest = pending + decoder.end();
      pending = '';
      const out = dropping
        ? [`[a line of ${count(dropping + rest.length)} chars was not shown: over ${count(MAX_LINE_CHARS)}]`]
        : line(rest);
      dropping = 0;
      if (sawEvent && !sawResult) out.push('✗ the stream ended without a result from Claude Code');
      return join(out);
    },
  };
}

/** A whole recorded stream, rendered (the tests, and a record's session.log). */
export function renderStream(text: string, o: StreamRenderOptions = {}): string {
  const r = streamRender(o);
  return r.write(text) + r.end();
}
