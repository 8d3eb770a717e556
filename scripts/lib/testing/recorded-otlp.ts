// Test helper: the sessions recorded with the real Claude Code CLI 2.1.332 for its newer telemetry, kept in
// fixtures/otlp/<name>-{logs,traces}.jsonl: the session's requests as the collector's file exporter wrote them,
// filtered to the session (otlp-filter's filterRequest), one export request per line. Recorded on 2026-11-29 in
// the stack (`pnpm session`, user `measure`), the CLI with the stack's telemetry settings plus what `env` says.
// (The older `rich`/`default` payloads, 2.1.197, are fixture-telemetry.ts's.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../repo-root.ts';
import { type EventRecord, eventsOf, type SpanRecord, spansOf } from '../sinks/otlp-records.ts';

export const RECORDED_2_1_332 = {
  /** fixtures/sessions/api-retry-529.json: a 529, then the retry answered (CLAUDE_CODE_MAX_RETRIES=2). */
  retry: {
    session: 'd559254f-340f-4dd4-8d50-7abbd68fb198',
    env: { OTEL_LOG_RAW_API_BODIES: '1', CLAUDE_CODE_OTEL_CONTENT_MAX_LENGTH: '12000' },
  },
  /** A 500, then 529 twice, with CLAUDE_CODE_MAX_RETRIES=2: the call failed after 3 attempts. */
  'retries-exhausted': {
    session: '70029e8b-aaa2-41bf-8f33-af76be2321b4',
    env: { CLAUDE_CODE_MAX_RETRIES: '2' },
  },
  /** fixtures/sessions/subagent.json: the Agent tool runs a general-purpose subagent in the foreground. */
  subagent: { session: '5dc25b4f-e526-4cfc-96c5-8bdee3e37c03', env: {} },
  /**
   * fixtures/sessions/hooks.json with hooks in its settings: SessionStart, UserPromptSubmit, PreToolUse (Bash),
   * PostToolUse (*) running `true`, and Stop running `exit 1` (a non-blocking error).
   */
  hooks: { session: 'ef6d4c3c-e11b-4a58-85f0-c242be21e7d9', env: {} },
  /** The Workflow tool (allowed in its settings) running an inline script of one agent() call. */
  workflow: { session: '13943a65-bb44-43eb-b881-1715816814d6', env: {} },
  /** A prompt quoting a (fake) API key and bearer token, with prompts, responses and raw bodies logged. */
  'raw-bodies': {
    session: '435daabb-1a29-4438-8883-30853ca1d95a',
    env: {
      OTEL_LOG_RAW_API_BODIES: '1',
      CLAUDE_CODE_OTEL_CONTENT_MAX_LENGTH: '12000',
      OTEL_LOG_USER_PROMPTS: '1',
      OTEL_LOG_ASSISTANT_RESPONSES: '1',
    },
  },
} as const;
export type Recording = keyof typeof RECORDED_2_1_332;

/** The recorded lines of one signal (one export request each). */
export function recordedLines(name: Recording, signal: 'logs' | 'traces'): string[] {
  return readFileSync(join(repoRoot, 'fixtures', 'otlp', `${name}-${signal}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim());
}

/** A recorded session as flat records: its id, events and spans (fresh objects on each call). */
export function recordedSession(name: Recording): {
  sessionId: string;
  events: EventRecord[];
  spans: SpanRecord[];
} {
  return {
    sessionId: RECORDED_2_1_332[name].session,
    events: recordedLines(name, 'logs').flatMap((l) => eventsOf(JSON.parse(l))),
    spans: recordedLines(name, 'traces').flatMap((l) => spansOf(JSON.parse(l))),
  };
}
