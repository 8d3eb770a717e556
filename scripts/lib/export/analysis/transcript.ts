// Claude Code's transcript of a session (transcript.jsonl in the record: one JSON object per line, a message or one
// content block of it) as the turns of a conversation, for report.html: who said what, when, tool calls and their
// results in between. Lines that are not messages (summaries, snapshots) or not JSON are skipped. A user message
// nobody typed (Claude Code 2.1.332 writes one with `origin: {kind: "task-notification"}` when a background subagent
// or workflow finishes) is a notification, not the user's.

export interface Turn {
  /** ISO time, when the line has one. */
  time: string | null;
  role: 'user' | 'assistant' | 'tool call' | 'tool result' | 'notification';
  text: string;
}

/** Each turn's text is cut here (the whole is in transcript.jsonl). */
export const TURN_TEXT_MAX = 4000;

const cut = (s: string) =>
  s.length > TURN_TEXT_MAX ? `${s.slice(0, TURN_TEXT_MAX)} … (${s.length} characters)` : s;

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((b) =>
      typeof b === 'string'
        ? b
        : (b as { type?: string; text?: string }).type === 'text'
          ? ((b as { text?: string }).text ?? '')
          : '',
    )
    .filter(Boolean)
    .join('\n');
}

export function conversationOf(jsonl: string): Turn[] {
  const turns: Turn[] = [];
  for (const line of jsonl.split('\n')) {
    if (!line.trim()) continue;
    let entry: {
      type?: string;
      timestamp?: string;
      origin?: { kind?: string };
      message?: { role?: string; content?: unknown };
    };
    try {
      entry = JSON.parse(line);
    } catch {
      continue;
    }
    if ((entry.type !== 'user' && entry.type !== 'assistant') || !entry.message) continue;
    const time = typeof entry.timestamp === 'string' ? entry.timestamp : null;
    const author =
      entry.type === 'assistant'
        ? 'assistant'
        : entry.origin?.kind === 'task-notification'
          ? 'notification'
          : 'user';
    const content = entry.message.content;
    const blocks = Array.isArray(content) ? content : [{ type: 'text', text: String(content ?? '') }];
    for (const b of blocks as {
      type?: string;
      text?: string;
      name?: string;
      input?: unknown;
      content?: unknown;
      is_error?: boolean;
    }[]) {
      if (b.type === 'text' && b.text?.trim()) turns.push({ time, role: author, text: cut(b.text) });
      else if (b.type === 'tool_use')
        turns.push({
          time,
          role: 'tool call',
          text: cut(`${b.name ?? '?'} ${JSON.stringify(b.input ?? {})}`),
        });
      else if (b.type === 'tool_result')
        turns.push({
          time,
          role: 'tool result',
          text: cut(`${b.is_error ? '(error) ' : ''}${textOf(b.content)}`),
        });
    }
  }
  return turns;
}
