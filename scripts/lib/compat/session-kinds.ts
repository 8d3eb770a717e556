// The session kinds: the one list of the sessions the compatibility matrix runs on every release, the specs run on
// the pinned one, and the docs describe. A kind is a script of fixtures/sessions played with some settings; what
// its telemetry must hold is computed from that script (stack/anthropic-replay/src/expectations.ts), never typed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Expected, expectedTelemetry } from '../../../stack/anthropic-replay/src/expectations.ts';
import {
  parseSessionScript,
  type SessionScript,
} from '../../../stack/anthropic-replay/src/session-script.ts';
import { HOOK_EVENTS } from '../../../stack/claude-code/telemetry-config.ts';
import { repoRoot } from '../repo-root.ts';
import type { Expectation } from './compat-matrix.ts';

/** What a kind's session must leave in the sinks: the matrix's checks, and the kind's own. */
export interface KindExpectation extends Expectation {
  /** CLI processes of the session (1, or 1 + its continuations: --resume, --continue, /compact). */
  processes: number;
  /** compaction events (one per /compact). */
  compactions: number;
  /** The subagents' share of modelCalls and tokens (query_source=subagent, agent.name on their points). */
  subagent: { modelCalls: number; tokens: Record<string, number> };
  /** Per model call answered after retries: the attempt that got the answer (on its llm_request span). */
  attempts: number[];
  /** With SESSION_HOOKS=1: runs per hook event (hook_execution_complete events by hook_event). */
  hookRuns?: Record<string, number>;
}

export interface SessionKind {
  name: string;
  /** The script it plays: fixtures/sessions/SCRIPT.json. */
  script: string;
  /** Typed at a terminal (a pty), not headless. */
  interactive?: boolean;
  /** Settings of the session beyond the stack's (passed as the session's environment). */
  env?: Readonly<Record<string, string>>;
  /** Runs for more than 10 minutes: not in the shared lane; its own spec and stack. */
  long?: boolean;
  /** The only OTLP protocols it runs over, when not every one. */
  protocols?: readonly string[];
  description: string;
  /** What its session must leave in the sinks (expectationOf). */
  expectation: () => KindExpectation;
}

/** The extra resource attributes of the attrs13 kind: 13 entries, k1=v1 .. k13=v13 (besides user.name). */
export const ATTRS13 = Array.from({ length: 13 }, (_, i) => `k${i + 1}=v${i + 1}`).join(',');

type KindDef = Omit<SessionKind, 'expectation'>;

const DEFS: readonly KindDef[] = [
  { name: 'demo', script: 'demo', description: 'The demo: Write, two MCP tools, Edit, Bash, an answer.' },
  {
    name: 'api-error-529',
    script: 'api-error-529',
    env: { CLAUDE_CODE_MAX_RETRIES: '0' },
    description:
      'The API is overloaded and the CLI does not retry: the session fails with an api_error event.',
  },
  {
    name: 'api-retry-529',
    script: 'api-retry-529',
    env: { CLAUDE_CODE_MAX_RETRIES: '2' },
    description:
      'The API is overloaded once and the retry is answered: attempt 2 on the llm_request span, no api_error event.',
  },
  {
    name: 'interactive',
    script: 'demo',
    interactive: true,
    description: 'The demo typed at a terminal (a pty), then /exit.',
  },
  {
    name: 'subagent',
    script: 'subagent',
    description: "A subagent's model call: its usage attributed (query_source=subagent, agent.name).",
  },
  {
    name: 'resumed',
    script: 'resumed',
    description:
      'One conversation in 5 CLI processes: a first run, --resume, --continue, /compact, --resume; totals add up.',
  },
  {
    name: 'long',
    script: 'long',
    long: true,
    // Claude Code's own export interval (the stack's specs shorten it to 1 s): several exports, idle gaps.
    env: { OTEL_METRIC_EXPORT_INTERVAL: '60000' },
    description: '12 model calls each answered 55 s late: about 12 minutes, a dozen 60 s metric exports.',
  },
  {
    name: 'hooks',
    script: 'hooks',
    env: { SESSION_HOOKS: '1' },
    description: 'Command hooks configured (SessionStart, PreToolUse, ...): their hook events.',
  },
  {
    name: 'attrs13',
    script: 'demo',
    env: { OTEL_RESOURCE_ATTRIBUTES: ATTRS13 },
    description: 'The demo with 13 OTEL_RESOURCE_ATTRIBUTES entries besides user.name: nothing dropped.',
  },
];

export const KINDS: readonly SessionKind[] = DEFS.map((k) => ({ ...k, expectation: () => expectationOf(k) }));

/** The kind called `name`, or an error naming the kinds there are. */
export function kindNamed(name: string): SessionKind {
  const kind = KINDS.find((k) => k.name === name);
  if (!kind) throw new Error(`no session kind ${name}: the kinds are ${KINDS.map((k) => k.name).join(', ')}`);
  return kind;
}

/**
 * The environment a kind's session gets for `user`: the kind's env, with the plan's `user.name=USER` kept first in
 * OTEL_RESOURCE_ATTRIBUTES when the kind sets that variable (the session's own env would otherwise replace it).
 * A script's continuations are the session plan's (session-plan.ts): every session of that script runs them.
 */
export function kindEnv(kind: KindDef, user: string): Record<string, string> {
  const env = { ...kind.env };
  if (env.OTEL_RESOURCE_ATTRIBUTES !== undefined)
    env.OTEL_RESOURCE_ATTRIBUTES = [`user.name=${user}`, env.OTEL_RESOURCE_ATTRIBUTES].join(',');
  return env;
}

function readScript(script: string): SessionScript {
  const file = join(repoRoot, 'fixtures', 'sessions', `${script}.json`);
  return parseSessionScript(script, readFileSync(file, 'utf8'));
}

export function scriptExpectation(script: string, maxRetries: number): Expected {
  return expectedTelemetry(readScript(script), { maxRetries });
}

/** What the kind's session must leave in the sinks, from its script and its retry setting. */
export function expectationOf(kind: KindDef): KindExpectation {
  const e = scriptExpectation(kind.script, Number(kind.env?.CLAUDE_CODE_MAX_RETRIES ?? 0));
  return {
    tokens: { ...e.tokens },
    linesAdded: e.linesAdded,
    linesRemoved: e.linesRemoved,
    modelCalls: e.modelCalls,
    apiErrors: e.apiErrors.length,
    processes: e.processes,
    compactions: e.compactions,
    subagent: { modelCalls: e.subagent.modelCalls, tokens: { ...e.subagent.tokens } },
    attempts: [...e.attempts],
    ...(kind.env?.SESSION_HOOKS === '1' ? { hookRuns: hookRuns(e) } : {}),
  };
}

/** Each configured hook runs once per CLI process, the tool hooks once per tool call. */
function hookRuns(e: Expected): Record<string, number> {
  const tool = new Set(['PreToolUse', 'PostToolUse']);
  return Object.fromEntries(HOOK_EVENTS.map((h) => [h, tool.has(h) ? e.toolUses.length : e.processes]));
}
