// What the sinks must hold after a session script has played: computed from the SAME script the replay server
// plays, so no expected number is typed twice.
import { isErrorTurn, type SessionScript } from './session-script.ts';

export interface Expected {
  /** Model calls that got an answer (one llm_request span each, one api_request event each). */
  modelCalls: number;
  /** Scripted API errors, by HTTP status. */
  apiErrors: number[];
  tokens: { input: number; output: number; cacheRead: number; cacheCreation: number };
  /** tool_use blocks, in order: one claude_code.tool span each. */
  toolUses: string[];
  /** Lines of code Claude Code counts for the script's Write and Edit calls (see linesOf). */
  linesAdded: number;
  linesRemoved: number;
}

/**
 * Claude Code 2.1.197's count, observed: a Write of a new file adds content.split('\n').length lines (a trailing
 * newline counts as a line); an Edit removes old_string's lines and adds new_string's (without the final newline).
 */
function lineCount(text: string, trailingNewlineCounts: boolean): number {
  if (text === '') return 0;
  const parts = text.split('\n');
  return trailingNewlineCounts || !text.endsWith('\n') ? parts.length : parts.length - 1;
}

export function expectedTelemetry(script: SessionScript): Expected {
  const e: Expected = {
    modelCalls: 0,
    apiErrors: [],
    tokens: { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 },
    toolUses: [],
    linesAdded: 0,
    linesRemoved: 0,
  };
  for (const turn of script.turns) {
    if (isErrorTurn(turn)) {
      e.apiErrors.push(turn.error.status);
      continue;
    }
    e.modelCalls++;
    e.tokens.input += turn.usage.input_tokens;
    e.tokens.output += turn.usage.output_tokens;
    e.tokens.cacheRead += turn.usage.cache_read_input_tokens;
    e.tokens.cacheCreation += turn.usage.cache_creation_input_tokens;
    for (const block of turn.content) {
      if (block.type !== 'tool_use') continue;
      e.toolUses.push(block.name);
      const input = block.input as Record<string, unknown>;
      if (block.name === 'Write' && typeof input.content === 'string')
        e.linesAdded += lineCount(input.content, true);
      if (
        block.name === 'Edit' &&
        typeof input.old_string === 'string' &&
        typeof input.new_string === 'string'
      ) {
        e.linesRemoved += lineCount(input.old_string, false);
        e.linesAdded += lineCount(input.new_string, false);
      }
    }
  }
  return e;
}
