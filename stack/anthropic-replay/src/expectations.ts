// What the sinks must hold after a session script has played: computed from the SAME script the replay server
// plays, so no expected number is typed twice.
import { isCompact, isErrorTurn, type ReplyTurn, type SessionScript, type Turn } from './session-script.ts';

export interface Tokens {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
}

export interface Expected {
  /** Model calls that got an answer (one llm_request span each, one api_request event each). */
  modelCalls: number;
  /** Scripted API errors the session reports (an api_error event each), by HTTP status. */
  apiErrors: number[];
  tokens: Tokens;
  /** tool_use blocks, in order: one claude_code.tool span each. */
  toolUses: string[];
  /** Lines of code Claude Code counts for the script's Write and Edit calls (see linesOf). */
  linesAdded: number;
  linesRemoved: number;
  /** CLI processes: the first run and one per continuation (each restarts Claude Code's cumulative counters). */
  processes: number;
  /** /compact runs: one model call each (query_source=compact) and one compaction event. */
  compactions: number;
  /** The model calls a subagent makes (turns with caller "subagent"): part of modelCalls and tokens. */
  subagent: { modelCalls: number; tokens: Tokens };
  /**
   * Model calls answered after retries (scripted errors the CLI retried, within maxRetries): the attempt that
   * got the answer (2 after one retry). Retried errors are not in apiErrors: Claude Code reports no api_error.
   */
  attempts: number[];
}

export interface ExpectOptions {
  /** CLAUDE_CODE_MAX_RETRIES of the session (the e2e stack's 0 unless told): errors within it are retried. */
  maxRetries?: number;
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

const noTokens = (): Tokens => ({ input: 0, output: 0, cacheRead: 0, cacheCreation: 0 });

function addUsage(t: Tokens, turn: ReplyTurn) {
  t.input += turn.usage.input_tokens;
  t.output += turn.usage.output_tokens;
  t.cacheRead += turn.usage.cache_read_input_tokens;
  t.cacheCreation += turn.usage.cache_creation_input_tokens;
}

function addTurns(e: Expected, turns: Turn[], maxRetries: number) {
  let failed: number[] = [];
  for (const turn of turns) {
    if (isErrorTurn(turn)) {
      failed.push(turn.error.status);
      continue;
    }
    // Errors just before an answer, no more than the CLI retries: attempts of this call, not errors.
    if (failed.length && failed.length <= maxRetries) e.attempts.push(failed.length + 1);
    else e.apiErrors.push(...failed);
    failed = [];
    e.modelCalls++;
    addUsage(e.tokens, turn);
    if (turn.caller === 'subagent') {
      e.subagent.modelCalls++;
      addUsage(e.subagent.tokens, turn);
    }
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
  e.apiErrors.push(...failed);
}

export function expectedTelemetry(script: SessionScript, o: ExpectOptions = {}): Expected {
  const maxRetries = o.maxRetries ?? 0;
  const e: Expected = {
    modelCalls: 0,
    apiErrors: [],
    tokens: noTokens(),
    toolUses: [],
    linesAdded: 0,
    linesRemoved: 0,
    processes: 1,
    compactions: 0,
    subagent: { modelCalls: 0, tokens: noTokens() },
    attempts: [],
  };
  addTurns(e, script.turns, maxRetries);
  for (const c of script.continuations ?? []) {
    e.processes++;
    if (isCompact(c.prompt)) e.compactions++;
    addTurns(e, c.turns, maxRetries);
  }
  return e;
}
