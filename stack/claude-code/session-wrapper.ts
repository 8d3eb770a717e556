// Runs one Claude Code session and keeps its record: a session log (header, then everything the CLI printed,
// tee'd to the terminal too), the exit code, the duration, forwarded signals, and a metadata JSON. Interactive
// sessions run under util-linux `script`, which records the terminal with timing (replayable with scriptreplay).
// The record's layout is session-record.ts's (the one module of host code this image carries).
import { type ChildProcess, spawn } from 'node:child_process';
import {
  appendFileSync,
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  headerLines,
  RECORD_FILES,
  type RecordPaths,
  recordPaths,
  type SessionMetadata,
  type SessionStep,
  SUBAGENT_TRANSCRIPT,
  shellQuote,
  writeMetadata,
  writeSecretHashes,
} from '../../scripts/lib/session/session-record.ts';
import {
  describeLimit,
  type LimitCounters,
  limitHit,
  readLimitCounters,
  type SessionLimits,
} from './session-limits.ts';

export type { SessionMetadata };

export interface WrapOptions {
  dir: string;
  command: string;
  args: string[];
  metadata: Omit<SessionMetadata, 'status' | 'endedAt' | 'durationMs' | 'exitCode' | 'signal' | 'files'>;
  /**
   * The session's environment: salted hashes of its secret-named variables go to secrets.json (mode 0600), so
   * `pnpm export` can remove those secrets from what it archives without the record holding them.
   */
  secretEnv?: Record<string, string | undefined>;
  /**
   * Where Claude Code keeps its transcripts (`<config dir>/projects`): the session's `<project>/<session id>.jsonl`
   * is copied into the record as transcript.jsonl once the session ends (it is lost with the container otherwise).
   */
  transcripts?: string;
  /** The session's limits: the wall clock is enforced here; memory and processes by the engine, read back here. */
  limits?: SessionLimits;
  /** Where the container's cgroup counters are (tests point it elsewhere). */
  readCounters?: () => LimitCounters;
  /**
   * Further CLI runs of the same conversation after the first (headless only), in order, each once the one before
   * ended well: default, what SESSION_CONTINUATIONS holds.
   */
  continuations?: Continuation[];
}

/** A further run of the conversation: `claude -p PROMPT --resume SESSION_ID`, or `--continue` (the latest one). */
export interface Continuation {
  mode: 'resume' | 'continue';
  prompt: string;
}

/** The variable that hands a session its continuations: a JSON list of {mode, prompt} (a script's, by name). */
export const CONTINUATIONS_ENV = 'SESSION_CONTINUATIONS';
export const MAX_CONTINUATIONS = 10;

/** The continuations in SESSION_CONTINUATIONS (none when unset), or an error naming the variable and the rule. */
export function parseContinuations(value: string | undefined): Continuation[] {
  if (value === undefined || value === '') return [];
  const rule = `${CONTINUATIONS_ENV} must be a JSON list of at most ${MAX_CONTINUATIONS} {"mode": "resume"|"continue", "prompt": "..."}`;
  let list: unknown;
  try {
    list = JSON.parse(value);
  } catch {
    throw new Error(`${rule}: it is not JSON`);
  }
  if (!Array.isArray(list) || list.length > MAX_CONTINUATIONS)
    throw new Error(`${rule}: ${Array.isArray(list) ? `it has ${list.length}` : 'it is not a list'}`);
  return list.map((c: unknown, i) => {
    const { mode, prompt, ...rest } = (c ?? {}) as Record<string, unknown>;
    if (
      (mode !== 'resume' && mode !== 'continue') ||
      typeof prompt !== 'string' ||
      !prompt ||
      Object.keys(rest).length
    )
      throw new Error(`${rule}: entry ${i + 1} is not`);
    return { mode, prompt };
  });
}

/**
 * The CLI arguments of a continuation, from the first run's: its prompt instead of the first (after -p), and
 * `--resume SESSION_ID` or `--continue` instead of `--session-id SESSION_ID` (the CLI takes the id from the
 * conversation it resumes).
 */
export function continuationArgs(args: string[], sessionId: string, c: Continuation): string[] {
  const p = args.indexOf('-p');
  if (p < 0 || p + 1 >= args.length)
    throw new Error('a session with continuations runs headless: its first run has no -p PROMPT');
  const out = [...args];
  out[p + 1] = c.prompt;
  const id = out.indexOf('--session-id');
  if (id >= 0) out.splice(id, 2);
  return [...out, ...(c.mode === 'resume' ? ['--resume', sessionId] : ['--continue'])];
}

/** Claude Code's transcript of a session: `<projects>/<any project folder>/<session id>.jsonl`, if there is one. */
export function findTranscript(projects: string, sessionId: string): string | undefined {
  if (!existsSync(projects)) return undefined;
  for (const entry of readdirSync(projects, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const file = join(projects, entry.name, `${sessionId}.jsonl`);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/**
 * The transcripts of a session's subagents: `<projects>/<any project folder>/<session id>/subagents/*.jsonl`
 * (Claude Code 2.1.332 keeps each subagent's conversation there), by the record file name each gets.
 */
export function findSubagentTranscripts(
  projects: string,
  sessionId: string,
): { from: string; name: string }[] {
  if (!existsSync(projects)) return [];
  const out: { from: string; name: string }[] = [];
  for (const entry of readdirSync(projects, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = join(projects, entry.name, sessionId, 'subagents');
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir, { withFileTypes: true })) {
      const name = `transcript-${f.name}`;
      if (f.isFile() && SUBAGENT_TRANSCRIPT.test(name)) out.push({ from: join(dir, f.name), name });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

export async function runWrapped(o: WrapOptions): Promise<SessionMetadata> {
  // Checked before the record exists: a session that cannot run its continuations leaves no half record.
  const continuations = o.continuations ?? parseContinuations(process.env[CONTINUATIONS_ENV]);
  if (o.metadata.mode === 'interactive' && continuations.length)
    throw new Error(
      `session ${o.metadata.sessionId}: continuations run headless, not in an interactive session`,
    );
  const runs = [
    { args: o.args, step: undefined as Continuation | undefined },
    ...continuations.map((c) => ({ args: continuationArgs(o.args, o.metadata.sessionId, c), step: c })),
  ];
  const files: RecordPaths = recordPaths(o.dir, o.metadata.sessionId);
  mkdirSync(files.dir, { recursive: true });
  if (existsSync(files.metadata))
    throw new Error(`session ${o.metadata.sessionId} already has a record in ${files.dir}`);
  const started = Date.now();
  const meta: SessionMetadata = {
    ...o.metadata,
    status: 'running',
    endedAt: null,
    durationMs: null,
    exitCode: null,
    signal: null,
    files: {
      log: RECORD_FILES.log,
      metadata: RECORD_FILES.metadata,
      ...(o.metadata.mode === 'interactive'
        ? { terminal: RECORD_FILES.terminal, timing: RECORD_FILES.timing }
        : {}),
      ...(o.secretEnv ? { secrets: RECORD_FILES.secrets } : {}),
    },
  };
  if (o.secretEnv) writeSecretHashes(files, o.secretEnv);
  const save = () => writeMetadata(files, meta);
  writeFileSync(files.log, `${headerLines(o.metadata).join('\n')}\n`);
  save();

  const interactive = o.metadata.mode === 'interactive';
  let child: ChildProcess | undefined;
  /** Runs the CLI once with `args`: its output into the log (headless), until it ends. */
  const runOnce = async (args: string[]) => {
    const c = interactive
      ? spawn(
          'script',
          [
            '-q',
            '-f',
            '-e',
            '--log-out',
            files.terminal,
            '--log-timing',
            files.timing,
            '-c',
            shellQuote([o.command, ...args]),
          ],
          {
            stdio: 'inherit',
          },
        )
      : spawn(o.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    let logFlushed: Promise<void> = Promise.resolve();
    if (!interactive) {
      const log = createWriteStream(files.log, { flags: 'a' });
      c.stdout?.on('data', (d: Buffer) => {
        log.write(d);
        process.stdout.write(d);
      });
      c.stderr?.on('data', (d: Buffer) => {
        log.write(d);
        process.stderr.write(d);
      });
      // The record's closing lines are appended after this stream has flushed everything the CLI printed.
      // 'close' may never come when the command cannot be started ('error' then), so either ends the log, once.
      logFlushed = new Promise((resolve) => {
        let ended = false;
        const end = () => {
          if (ended) return;
          ended = true;
          log.end(resolve);
        };
        c.once('close', end);
        c.once('error', end);
      });
    }
    const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      c.once('error', (err) => {
        appendFileSync(files.log, `# could not start ${o.command}: ${err.message}\n`);
        resolve({ code: 127, signal: null });
      });
      c.once('close', (code, sig) => resolve({ code, signal: sig }));
    });
    await logFlushed;
    return result;
  };
  let forwarded: string | null = null;
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => {
    const handler = () => {
      forwarded = sig;
      child?.kill(sig);
    };
    process.on(sig, handler);
    return [sig, handler] as const;
  });

  const counters = o.readCounters ?? (() => readLimitCounters());
  const before = counters();
  let timedOut = false;
  const clock = o.limits
    ? setTimeout(() => {
        timedOut = true;
        const c = child;
        c?.kill('SIGTERM');
        setTimeout(() => c?.kill('SIGKILL'), 5000).unref();
      }, o.limits.timeoutMs)
    : undefined;
  let code: number | null = null;
  let signal: NodeJS.Signals | null = null;
  const steps: SessionStep[] = [];
  for (const [i, run] of runs.entries()) {
    if (run.step) {
      // Each further run is said before its output (in the log, and on stderr: the host records the container's
      // output), and only after the one before ended well.
      const line = `# step ${i + 1}/${runs.length}: claude ${run.step.mode === 'resume' ? `--resume ${o.metadata.sessionId}` : '--continue'}: ${run.step.prompt}\n`;
      appendFileSync(files.log, `\n# ---\n${line}`);
      process.stderr.write(line);
    }
    const t0 = Date.now();
    ({ code, signal } = await runOnce(run.args));
    steps.push({
      mode: run.step?.mode ?? 'first',
      ...(run.step ? { prompt: run.step.prompt } : {}),
      exitCode: code,
      signal: signal ?? forwarded,
      durationMs: Date.now() - t0,
    });
    if (code !== 0 || signal || forwarded || timedOut) break;
  }
  if (runs.length > 1) meta.steps = steps;
  clearTimeout(clock);
  for (const [sig, handler] of handlers) process.off(sig, handler);
  const hit = o.limits ? limitHit(before, counters(), timedOut) : null;

  if (interactive && existsSync(files.terminal)) {
    appendFileSync(
      files.log,
      `# terminal recording (also in terminal.log, replay: scriptreplay --log-timing terminal.timing --log-out terminal.log)\n`,
    );
    appendFileSync(files.log, readFileSync(files.terminal));
  }
  if (o.transcripts) {
    const transcript = findTranscript(o.transcripts, o.metadata.sessionId);
    if (transcript) {
      copyFileSync(transcript, files.transcript);
      meta.files.transcript = RECORD_FILES.transcript;
    } else appendFileSync(files.log, `# no transcript of this session in ${o.transcripts}\n`);
    const subagents = findSubagentTranscripts(o.transcripts, o.metadata.sessionId);
    for (const t of subagents) copyFileSync(t.from, join(files.dir, t.name));
    if (subagents.length) meta.files.subagentTranscripts = subagents.map((t) => t.name);
  }
  meta.endedAt = new Date().toISOString();
  meta.durationMs = Date.now() - started;
  meta.exitCode = code;
  meta.signal = signal ?? forwarded;
  meta.status = meta.signal ? 'interrupted' : code === 0 ? 'completed' : 'failed';
  if (hit && o.limits) {
    meta.status = 'limit-exceeded';
    meta.limit = { kind: hit, description: describeLimit(hit, o.limits) };
    appendFileSync(files.log, `\n# the session was ended by ${meta.limit.description}\n`);
  }
  appendFileSync(
    files.log,
    `\n# ---\n# ended      ${meta.endedAt} after ${meta.durationMs} ms: ${meta.status}, exit ${code ?? '-'}${meta.signal ? `, signal ${meta.signal}` : ''}\n`,
  );
  save();
  return meta;
}
