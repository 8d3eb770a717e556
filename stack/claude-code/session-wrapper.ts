// Runs one Claude Code session and keeps its record: a session log (header, then everything the CLI printed,
// tee'd to the terminal too), the exit code, the duration, forwarded signals, and a metadata JSON. Interactive
// sessions run under util-linux `script`, which records the terminal with timing (replayable with scriptreplay).
// The record's layout is session-record.ts's (the one module of host code this image carries).
import { spawn } from 'node:child_process';
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
  const child = interactive
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
          shellQuote([o.command, ...o.args]),
        ],
        {
          stdio: 'inherit',
        },
      )
    : spawn(o.command, o.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let logFlushed: Promise<void> = Promise.resolve();
  if (!interactive) {
    const log = createWriteStream(files.log, { flags: 'a' });
    child.stdout?.on('data', (d: Buffer) => {
      log.write(d);
      process.stdout.write(d);
    });
    child.stderr?.on('data', (d: Buffer) => {
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
      child.once('close', end);
      child.once('error', end);
    });
  }
  let forwarded: string | null = null;
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => {
    const handler = () => {
      forwarded = sig;
      child.kill(sig);
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
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }, o.limits.timeoutMs)
    : undefined;
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(
    (resolve) => {
      child.once('error', (err) => {
        appendFileSync(files.log, `# could not start ${o.command}: ${err.message}\n`);
        resolve({ code: 127, signal: null });
      });
      child.once('close', (c, s) => resolve({ code: c, signal: s }));
    },
  );
  clearTimeout(clock);
  for (const [sig, handler] of handlers) process.off(sig, handler);
  await logFlushed;
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
