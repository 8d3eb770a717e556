// What content a session's telemetry carries, by kind: shown, redacted by Claude Code (its OTEL_LOG_* switches off:
// `<REDACTED>` in place of a prompt or a response, tool details and tool output absent), or none of it at all; and
// whether its raw API bodies may stay as sent, which hold that content whatever the switches say (measured with
// 2.1.332). Pure: built from the session's flat events and spans. The summary counts the bodies, the manifest says
// what content is present, and the export redacts the bodies a session may not keep (redact.ts).
import type { EventRecord, SpanRecord } from '../../sinks/otlp-records.ts';

/** Claude Code's marker for content it did not log (its OTEL_LOG_* switches off). */
export const REDACTED = '<REDACTED>';

/** Whether a session's telemetry carries a kind of content: shown, redacted by Claude Code, or none of it at all. */
export type Shown = 'shown' | 'redacted' | 'none';

export interface SessionContent {
  /** user_prompt `prompt` (OTEL_LOG_USER_PROMPTS). */
  prompts: Shown;
  /** assistant_response `response` (OTEL_LOG_ASSISTANT_RESPONSES). */
  responses: Shown;
  /** tool_result / tool_decision `tool_parameters`, `tool_input` (OTEL_LOG_TOOL_DETAILS): absent when off. */
  toolDetails: Shown;
  /** `tool.output` span events of claude_code.tool spans (OTEL_LOG_TOOL_CONTENT): absent when off. */
  toolOutput: Shown;
}

/** The raw API body events (OTEL_LOG_RAW_API_BODIES=1); their `body` attribute holds the body. */
export const RAW_BODY_EVENTS: readonly string[] = ['api_request_body', 'api_response_body'];

const present = (v: unknown) => v !== undefined && v !== null && v !== REDACTED;

/** What content each session's telemetry carries, by session id (from its events, and its spans for tool output). */
export function sessionContent(events: EventRecord[], spans: SpanRecord[]): Map<string, SessionContent> {
  const bySession = new Map<string, EventRecord[]>();
  for (const e of events) {
    if (!e.session) continue;
    const list = bySession.get(e.session);
    if (list) list.push(e);
    else bySession.set(e.session, [e]);
  }
  const withOutput = new Set(
    spans
      .filter((s) => s.name === 'claude_code.tool' && s.events.some((e) => e.name === 'tool.output'))
      .map((s) => s.session),
  );
  const out = new Map<string, SessionContent>();
  for (const [id, mine] of bySession) {
    const shown = (name: string, attrs: string[]): Shown => {
      const of = mine.filter((e) => e.name === name);
      if (of.some((e) => attrs.some((a) => present(e.attrs[a])))) return 'shown';
      return of.length ? 'redacted' : 'none';
    };
    const tools = mine.some((e) => e.name === 'tool_result');
    const details =
      shown('tool_result', ['tool_parameters', 'tool_input']) === 'shown' ||
      shown('tool_decision', ['tool_parameters']) === 'shown';
    out.set(id, {
      prompts: shown('user_prompt', ['prompt']),
      responses: shown('assistant_response', ['response']),
      toolDetails: details ? 'shown' : tools ? 'redacted' : 'none',
      toolOutput: withOutput.has(id) ? 'shown' : tools ? 'redacted' : 'none',
    });
  }
  return out;
}

/**
 * Whether a session's raw API bodies may stay as sent. A request body holds the prompt and the conversation so far
 * (answers, tool input and output), a response body the answer and its tool calls: they stay only where the
 * session logged its prompts and redacted none of the rest. Unknown (no events of the session) is redacted.
 */
export function rawBodiesShown(c: SessionContent | undefined): boolean {
  return (
    c !== undefined &&
    c.prompts === 'shown' &&
    c.responses !== 'redacted' &&
    c.toolDetails !== 'redacted' &&
    c.toolOutput !== 'redacted'
  );
}
