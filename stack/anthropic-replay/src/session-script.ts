// A session script: what the scripted Messages API answers, turn by turn, for one Claude Code session.
// The same file tells the specs what the sinks must hold (tokens, model calls, tool calls): one source of truth.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';

const usage = z
  .object({
    input_tokens: z.number().int().nonnegative().describe('Input tokens of this model call'),
    output_tokens: z.number().int().nonnegative().describe('Output tokens of this model call'),
    cache_read_input_tokens: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe('Tokens read from the prompt cache'),
    cache_creation_input_tokens: z
      .number()
      .int()
      .nonnegative()
      .default(0)
      .describe('Tokens written to the prompt cache'),
  })
  .strict();

const textBlock = z.object({ type: z.literal('text'), text: z.string().min(1) }).strict();
const toolUseBlock = z
  .object({
    type: z.literal('tool_use'),
    name: z.string().min(1).describe('Built-in tool (Write, Edit, Read, Bash) or mcp__SERVER__TOOL'),
    input: z.record(z.string(), z.unknown()),
  })
  .strict();

const replyTurn = z
  .object({
    content: z.array(z.discriminatedUnion('type', [textBlock, toolUseBlock])).min(1),
    usage,
    stop_reason: z.enum(['end_turn', 'tool_use', 'max_tokens', 'stop_sequence']).optional(),
    delay_ms: z
      .number()
      .int()
      .nonnegative()
      .max(60_000)
      .optional()
      .describe('Wait before the first byte (latency)'),
    caller: z
      .literal('subagent')
      .optional()
      .describe('Who makes this model call when it is not the main conversation: a subagent'),
  })
  .strict();

export const API_ERRORS = {
  401: { type: 'authentication_error', message: 'invalid x-api-key' },
  429: {
    type: 'rate_limit_error',
    message: 'Number of request tokens has exceeded your per-minute rate limit',
  },
  500: { type: 'api_error', message: 'Internal server error' },
  529: { type: 'overloaded_error', message: 'Overloaded' },
} as const;

const errorTurn = z
  .object({
    error: z
      .object({
        status: z.union([z.literal(401), z.literal(429), z.literal(500), z.literal(529)]),
        message: z.string().optional(),
      })
      .strict(),
  })
  .strict();

/** The model a script plays when it names none: the one model every scripted session and bench reports by default. */
export const DEFAULT_MODEL = 'claude-sonnet-4-5-20250929';

const turns = z.array(z.union([replyTurn, errorTurn])).min(1);

/** The slash command that compacts the conversation: one model call (query_source=compact) and a compaction event. */
export const COMPACT = '/compact';
/** How many further CLI runs a script may chain after its first (each is a CLI process of its own). */
export const MAX_CONTINUATIONS = 10;

const continuation = z
  .object({
    mode: z
      .enum(['resume', 'continue'])
      .describe('claude --resume SESSION_ID, or claude --continue (the latest conversation of the folder)'),
    prompt: z.string().min(1).describe(`What this run sends: a prompt, or ${COMPACT}`),
    turns,
  })
  .strict();

export const sessionScriptSchema = z
  .object({
    description: z.string().min(1),
    prompt: z.string().min(1).describe('The prompt `pnpm session --script` sends'),
    model: z.string().min(1).default(DEFAULT_MODEL),
    turns,
    continuations: z
      .array(continuation)
      .max(MAX_CONTINUATIONS)
      .optional()
      .describe('Further CLI runs of the same conversation, in order, after the first'),
  })
  .strict();

export type SessionScript = z.infer<typeof sessionScriptSchema> & { name: string };
export type Turn = SessionScript['turns'][number];
export type ReplyTurn = z.infer<typeof replyTurn>;
export type Continuation = z.infer<typeof continuation>;

/** Every turn the replay plays for one session, in order: the first run's, then each continuation's. */
export function playedTurns(script: Pick<SessionScript, 'turns' | 'continuations'>): Turn[] {
  return [...script.turns, ...(script.continuations ?? []).flatMap((c) => c.turns)];
}

/** Is this prompt the compact command (one model call that summarises the conversation)? */
export const isCompact = (prompt: string) => prompt.trim() === COMPACT;

export function isErrorTurn(turn: Turn): turn is z.infer<typeof errorTurn> {
  return 'error' in turn;
}

/** Placeholders a script may use in text and tool input, filled per session by the server. */
export interface TurnContext {
  session_id: string;
}

/** Replaces {{session_id}} in every string of a reply (so each session works in its own folder). */
export function fillTurn(turn: ReplyTurn, ctx: TurnContext): ReplyTurn {
  const fill = (v: unknown): unknown =>
    typeof v === 'string'
      ? v.replaceAll('{{session_id}}', ctx.session_id)
      : Array.isArray(v)
        ? v.map(fill)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fill(x)]))
          : v;
  return fill(turn) as ReplyTurn;
}

export function stopReason(turn: ReplyTurn): string {
  return turn.stop_reason ?? (turn.content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
}

/** Parses a script, or throws an error naming the file and each problem's path. */
export function parseSessionScript(name: string, text: string): SessionScript {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`session script ${name}: not JSON: ${(err as Error).message}`);
  }
  const parsed = sessionScriptSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('; ');
    throw new Error(`session script ${name} is malformed: ${problems}`);
  }
  return { name, ...parsed.data };
}

export interface LoadedScripts {
  scripts: Map<string, SessionScript>;
  /** Scripts that failed to load, with the reason: served as clear errors, never silently skipped. */
  invalid: Map<string, string>;
}

/**
 * The scripts of `dir` as they are now: loaded again whenever a file is added, removed or changed (names, sizes
 * and modification times are compared on each call: a handful of stat calls), so a script saved while the server
 * runs is played at once, without a restart.
 */
export function watchSessionScripts(dir: string): () => LoadedScripts {
  let signature = '';
  let loaded: LoadedScripts = { scripts: new Map(), invalid: new Map() };
  return () => {
    const now = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => {
        const st = statSync(join(dir, f));
        return `${f}:${st.size}:${st.mtimeMs}`;
      })
      .join('|');
    if (now !== signature) {
      loaded = loadSessionScripts(dir);
      signature = now;
    }
    return loaded;
  };
}

export function loadSessionScripts(dir: string): LoadedScripts {
  const scripts = new Map<string, SessionScript>();
  const invalid = new Map<string, string>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const name = basename(file, '.json');
    try {
      scripts.set(name, parseSessionScript(name, readFileSync(join(dir, file), 'utf8')));
    } catch (err) {
      invalid.set(name, (err as Error).message);
    }
  }
  return { scripts, invalid };
}
