// The session record: `<SESSIONS_DIR>/<session id>/`, written on the host by `pnpm session` (session-recorder.ts)
// from what it observes of the container, plus the files the session hands back through its spool (marked as
// reported); read on the host (`pnpm session`, `stack:check`, `pnpm export`). The container's wrapper writes the same
// layout into its spool. This module is its only owner:
// the folder's layout, the metadata type, the id format, the order of sessions and "the latest", and the salted
// hashes of the session's secrets; with them the two things of a session's run that host and container both spell:
// the OTLP protocols its telemetry may take (recorded as `telemetry.protocol`) and the shell quoting of the command
// an interactive session runs under script(1) (its terminal record). Host code reads a record only through
// record-files.ts (it refuses links, FIFOs, devices, oversized files and ids that are not ids). It stands alone
// (Node built-ins only) because the container image copies it beside its entrypoint: nothing else of the host's
// code goes into that image, and container code imports nothing else of the host's.
import { createHash, randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A session id: a UUID, as `claude --session-id` takes it. */
export const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * The OTLP protocols a session's telemetry may take (OTEL_EXPORTER_OTLP_PROTOCOL): Claude Code's exporters, the
 * gateway's two ports (HTTP for both http/*, gRPC), the container's check and `pnpm session`/`pnpm compat` options.
 */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** POSIX shell quoting of a command line, for `script -c` (the wrapper's terminal record, the tests' pty). */
export function shellQuote(words: string[]): string {
  return words
    .map((w) => (/^[A-Za-z0-9_./:=@%+-]+$/.test(w) ? w : `'${w.replaceAll("'", "'\\''")}'`))
    .join(' ');
}

/** One CLI run of a session: the first, or a continuation of the same conversation (--resume, --continue). */
export interface SessionStep {
  mode: 'first' | 'resume' | 'continue';
  /** A continuation's prompt (the first run's is the session's own, not repeated here). */
  prompt?: string;
  exitCode: number | null;
  signal: string | null;
  durationMs: number;
}

/** At most this many steps are kept from a session's account of itself (1 + the wrapper's 10 continuations). */
export const MAX_SESSION_STEPS = 11;

export interface SessionMetadata {
  sessionId: string;
  status: 'running' | 'completed' | 'failed' | 'interrupted' | 'limit-exceeded';
  /**
   * Set when a per-session limit (time, memory, processes) ended the session; `source` says whether the host saw it
   * (the wall clock, the engine's OOM flag) or only the session's own wrapper reported it (refused forks).
   */
  limit?: { kind: 'time' | 'memory' | 'processes'; description: string; source?: 'observed' | 'reported' };
  /**
   * Which fields and files the host observed (from the engine: docker run, wait and inspect, and the container's
   * output stream) and which the session reported (written inside it, so the user's word). Absent in records
   * written before the host kept them.
   */
  provenance?: { observed: string[]; reported: string[] };
  /** What the host saw of the session's container. */
  container?: {
    image: string | null;
    exitCode: number | null;
    oomKilled: boolean;
    /** The host's own wall clock ended it. */
    timedOut: boolean;
    /** How the session's hand-back folder was bounded. */
    spool: string;
    /** How much of the output stream session.log holds (it is bounded). */
    logBytes: number;
    logTruncated: boolean;
  };
  /** What the session said about itself (its wrapper's metadata), kept apart from what was observed. */
  reported?: {
    status: string | null;
    exitCode: number | null;
    limit: { kind: string; description: string } | null;
    /** Its CLI runs, when a script goes on in more (--resume, --continue), as its wrapper tells them. */
    steps?: SessionStep[];
    /** Files the session handed back that the host did not take, and why. */
    refused: string[];
  };
  /** The wrapper's own record of its CLI runs, in the metadata it hands back (the host's record: `reported.steps`). */
  steps?: SessionStep[];
  mode: 'headless' | 'interactive';
  api: string;
  script: string | null;
  model: string | null;
  user: string | null;
  claudeVersion: string;
  telemetry: { enabled: boolean; protocol: string | null; endpoint: string | null };
  startedAt: string;
  endedAt: string | null;
  durationMs: number | null;
  exitCode: number | null;
  signal: string | null;
  files: {
    log: string;
    metadata: string;
    terminal?: string;
    timing?: string;
    transcript?: string;
    /** Transcripts of the session's subagents (transcript-agent-*.jsonl), when it had any. */
    subagentTranscripts?: string[];
    secrets?: string;
  };
}

/** The header of a session log (the host's record and the wrapper's copy in the spool); `notes` go before its end. */
export function headerLines(
  m: Pick<
    SessionMetadata,
    'sessionId' | 'startedAt' | 'user' | 'mode' | 'api' | 'script' | 'model' | 'claudeVersion' | 'telemetry'
  >,
  notes: string[] = [],
): string[] {
  const t = m.telemetry;
  return [
    `# claude-code-telemetry session ${m.sessionId}`,
    `# started    ${m.startedAt}`,
    `# user       ${m.user ?? '(none)'}`,
    `# mode       ${m.mode}; API: ${m.api}${m.script ? ` (script ${m.script})` : ''}${m.model ? `; model ${m.model}` : ''}`,
    `# claude     ${m.claudeVersion}`,
    `# telemetry  ${t.enabled ? `on: ${t.protocol} -> ${t.endpoint} (metrics, events, traces)` : 'off'}`,
    ...notes,
    '# ---',
  ];
}

/** The files of a record, by role. */
export const RECORD_FILES = {
  log: 'session.log',
  metadata: 'metadata.json',
  terminal: 'terminal.log',
  timing: 'terminal.timing',
  /** Claude Code's own record of the conversation (its ~/.claude/projects/<cwd>/<session id>.jsonl). */
  transcript: 'transcript.jsonl',
  secrets: 'secrets.json',
} as const;

/** What may leave the machine in an archive: everything but the secret hashes. */
export const SHAREABLE_FILES: readonly string[] = [
  RECORD_FILES.metadata,
  RECORD_FILES.log,
  RECORD_FILES.terminal,
  RECORD_FILES.timing,
  RECORD_FILES.transcript,
];

/** A subagent's transcript in the record: `transcript-<file name Claude Code gave it>` (agent-<id>.jsonl). */
export const SUBAGENT_TRANSCRIPT = /^transcript-agent-[A-Za-z0-9_.-]{1,128}\.jsonl$/;

/** Whether a file of a record may leave the machine in an archive (the shareable files and subagent transcripts). */
export const isShareable = (name: string): boolean =>
  SHAREABLE_FILES.includes(name) || SUBAGENT_TRANSCRIPT.test(name);

export type RecordPaths = { dir: string } & Record<keyof typeof RECORD_FILES, string>;

export function recordPaths(sessionsDir: string, sessionId: string): RecordPaths {
  const dir = join(sessionsDir, sessionId);
  const f = RECORD_FILES;
  return {
    dir,
    log: join(dir, f.log),
    metadata: join(dir, f.metadata),
    terminal: join(dir, f.terminal),
    timing: join(dir, f.timing),
    transcript: join(dir, f.transcript),
    secrets: join(dir, f.secrets),
  };
}

/** Writes metadata.json whole (a new file renamed over the old: whatever was at that name is replaced, not written). */
export function writeMetadata(paths: RecordPaths, meta: SessionMetadata): void {
  const tmp = `${paths.metadata}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(meta, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
  renameSync(tmp, paths.metadata);
}

/** The one order of sessions everywhere: by start time (unknown first), then by id. */
export function byStart(
  a: { id: string; start: number | null },
  b: { id: string; start: number | null },
): number {
  return (a.start || 0) - (b.start || 0) || a.id.localeCompare(b.id);
}

/** How far ahead of this host's clock a start may be and still be believed (clocks differ a little). */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** Why a session with this start cannot be "the latest" (a record or telemetry could claim any time), or null. */
export function whyNotLatest(start: number | null, now = Date.now()): string | null {
  if (start === null || !Number.isFinite(start)) return 'its start time is unknown';
  if (start > now + CLOCK_SKEW_MS)
    return `it starts ${new Date(start).toISOString()}, in the future (more than ${CLOCK_SKEW_MS / 60_000} min ahead of this host's clock)`;
  return null;
}

/** "The latest session" of a list, in the order of byStart, among those whyNotLatest lets be it. */
export function latestOf<T extends { id: string; start: number | null }>(
  sessions: T[],
  now = Date.now(),
): T | undefined {
  return sessions
    .filter((s) => whyNotLatest(s.start, now) === null)
    .sort(byStart)
    .at(-1);
}

// ---- the session's secrets, known by salted hash only

/** Names of variables whose values are secrets. */
export const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH/i;
/** Values shorter than this are not treated as secrets (they would match ordinary words). */
export const MIN_SECRET_LENGTH = 8;

export interface SecretHashes {
  salt: string;
  sha256: string[];
}

export const hashSecret = (salt: string, value: string): string =>
  createHash('sha256').update(`${salt}\0${value}`).digest('hex');

/** The secret-looking values of an environment: by variable name, at least MIN_SECRET_LENGTH long. */
export function secretValues(env: Record<string, string | undefined>): string[] {
  return [
    ...new Set(
      Object.entries(env)
        .filter(([name, value]) => SECRET_NAME.test(name) && (value?.length ?? 0) >= MIN_SECRET_LENGTH)
        .map(([, value]) => value as string),
    ),
  ];
}

/** Salted hashes of an environment's secrets, for a record that must not hold the secrets themselves. */
export function hashSecrets(
  env: Record<string, string | undefined>,
  salt = randomBytes(16).toString('hex'),
): SecretHashes {
  return { salt, sha256: secretValues(env).map((v) => hashSecret(salt, v)) };
}

/** Writes secrets.json (mode 0600): the hashes `pnpm export` removes those secrets by. */
export function writeSecretHashes(paths: RecordPaths, env: Record<string, string | undefined>): void {
  writeHashes(paths, hashSecrets(env));
}

/** Writes secrets.json (mode 0600) from hashes already made (a test's record). */
export function writeHashes(paths: RecordPaths, hashes: SecretHashes): void {
  writeFileSync(paths.secrets, `${JSON.stringify(hashes)}\n`, { mode: 0o600 });
}
