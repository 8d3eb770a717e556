// The host's recorder of one session: writes the record (session.log, metadata.json, secrets.json) from what it
// observes of the session's container: its output stream, its exit, the engine's view of it, its wall clock. No
// container mounts the records, so no session can read or change one. What only the session has (its transcripts,
// the terminal recording, its wrapper's view) comes from its spool afterwards, marked as reported.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import {
  hashSecrets,
  headerLines,
  isShareable,
  MAX_SESSION_STEPS,
  RECORD_FILES,
  type RecordPaths,
  recordPaths,
  type SessionMetadata,
  type SessionStep,
  SUBAGENT_TRANSCRIPT,
  writeMetadata,
} from './session-record.ts';
import type { SpoolHarvest } from './session-spool.ts';

/** The most of a session's output stream the log keeps (SESSION_LOG_MAX_BYTES, default 64 MiB). */
export const DEFAULT_LOG_MAX_BYTES = 64 << 20;

export type Started = Omit<
  SessionMetadata,
  | 'status'
  | 'endedAt'
  | 'durationMs'
  | 'exitCode'
  | 'signal'
  | 'files'
  | 'provenance'
  | 'container'
  | 'reported'
>;

export interface Observed {
  exitCode: number | null;
  signal: string | null;
  image: string | null;
  oomKilled: boolean;
  timedOut: boolean;
  spool: string;
  timeoutMs: number;
  memoryLimit: string | null;
}

/** Fields of the metadata the host observes; everything under `reported` and the spool's files are the session's. */
const OBSERVED_FIELDS = [
  'sessionId',
  'user',
  'mode',
  'api',
  'script',
  'model',
  'claudeVersion',
  'telemetry',
  'startedAt',
  'endedAt',
  'durationMs',
  'exitCode',
  'signal',
  'status',
  'container',
  RECORD_FILES.log,
  RECORD_FILES.metadata,
];

/** Parses the wrapper's metadata.json from the spool: the session's own account, whatever it holds. */
const STEP_MODES: readonly string[] = ['first', 'resume', 'continue'];
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The CLI runs a session's wrapper tells of, each checked and bounded (the session's word, never trusted). */
function reportedSteps(v: unknown): SessionStep[] | undefined {
  if (!Array.isArray(v) || !v.length) return undefined;
  return v.slice(0, MAX_SESSION_STEPS).flatMap((x): SessionStep[] => {
    const s = (x ?? {}) as Record<string, unknown>;
    if (typeof s.mode !== 'string' || !STEP_MODES.includes(s.mode)) return [];
    return [
      {
        mode: s.mode as SessionStep['mode'],
        ...(typeof s.prompt === 'string' ? { prompt: s.prompt.slice(0, 200) } : {}),
        exitCode: num(s.exitCode),
        signal: typeof s.signal === 'string' ? s.signal.slice(0, 16) : null,
        durationMs: Math.max(0, num(s.durationMs) ?? 0),
      },
    ];
  });
}

function reportedAccount(h: SpoolHarvest): SessionMetadata['reported'] {
  const file = h.files.find((f) => f.name === RECORD_FILES.metadata);
  const base = { status: null, exitCode: null, limit: null, refused: h.refused };
  if (!file) return base;
  try {
    const m = JSON.parse(file.data.toString('utf8')) as Record<string, unknown>;
    const limit = m.limit as { kind?: unknown; description?: unknown } | undefined;
    return {
      status: typeof m.status === 'string' ? m.status.slice(0, 64) : null,
      exitCode: typeof m.exitCode === 'number' ? m.exitCode : null,
      limit:
        limit && ['time', 'memory', 'processes'].includes(String(limit.kind))
          ? { kind: String(limit.kind), description: String(limit.description ?? '').slice(0, 200) }
          : null,
      refused: h.refused,
      ...((steps) => (steps ? { steps } : {}))(reportedSteps(m.steps)),
    };
  } catch {
    return { ...base, refused: [...h.refused, `${RECORD_FILES.metadata}: not JSON`] };
  }
}

export interface HostRecorder {
  paths: RecordPaths;
  /** Appends what the container printed (bounded). */
  write(chunk: Buffer | string): void;
  /** Ends the record: the observed outcome, then the spool's files as reported. */
  finish(o: Observed, harvest: SpoolHarvest): SessionMetadata;
}

export function startRecord(
  sessionsDir: string,
  started: Started,
  secrets: Record<string, string>,
  maxLogBytes = DEFAULT_LOG_MAX_BYTES,
): HostRecorder {
  const paths = recordPaths(sessionsDir, started.sessionId);
  mkdirSync(paths.dir, { mode: 0o700 }); // fails when the record exists: one record per session id
  const t0 = Date.now();
  const meta: SessionMetadata = {
    ...started,
    status: 'running',
    endedAt: null,
    durationMs: null,
    exitCode: null,
    signal: null,
    files: { log: RECORD_FILES.log, metadata: RECORD_FILES.metadata, secrets: RECORD_FILES.secrets },
  };
  writeFileSync(paths.secrets, `${JSON.stringify(hashSecrets(secrets))}\n`, { mode: 0o600 });
  const log = openSync(paths.log, 'wx', 0o600);
  let logBytes = 0;
  let truncated = false;
  const put = (b: Buffer) => {
    writeSync(log, b);
    logBytes += b.length;
  };
  put(
    Buffer.from(
      `${headerLines(started, ['# recorded   on the host: this log is the container output stream; files marked reported came from the session']).join('\n')}\n`,
    ),
  );
  writeMetadata(paths, meta);
  return {
    paths,
    write(chunk) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (truncated) return;
      if (logBytes + b.length > maxLogBytes) {
        put(b.subarray(0, Math.max(0, maxLogBytes - logBytes)));
        put(Buffer.from(`\n# output past ${maxLogBytes} bytes not kept (SESSION_LOG_MAX_BYTES)\n`));
        truncated = true;
        return;
      }
      put(b);
    },
    finish(o, harvest) {
      const reported = reportedAccount(harvest);
      meta.endedAt = new Date().toISOString();
      meta.durationMs = Date.now() - t0;
      meta.exitCode = o.exitCode;
      meta.signal = o.signal;
      meta.status = o.signal ? 'interrupted' : o.exitCode === 0 ? 'completed' : 'failed';
      // Limits: the host's clock and the engine's OOM flag are facts; a wall clock the wrapper hit shows in the
      // observed duration too; refused forks only the session itself can see.
      const wallClock = (meta.durationMs ?? 0) >= o.timeoutMs;
      const limitKind =
        o.timedOut || (reported?.limit?.kind === 'time' && wallClock)
          ? 'time'
          : o.oomKilled
            ? 'memory'
            : (reported?.limit?.kind as 'memory' | 'processes' | undefined);
      if (limitKind) {
        const observed = limitKind === 'time' || (limitKind === 'memory' && o.oomKilled);
        meta.status = 'limit-exceeded';
        meta.limit = {
          kind: limitKind,
          description:
            limitKind === 'time'
              ? `the wall-clock limit of ${o.timeoutMs / 1000} s (SESSION_TIMEOUT_SECONDS)`
              : limitKind === 'memory'
                ? `the memory limit of ${o.memoryLimit ?? 'the container'} (SESSION_MEMORY_LIMIT)`
                : (reported?.limit?.description ?? 'the process limit (SESSION_PIDS_LIMIT)'),
          source: observed ? 'observed' : 'reported',
        };
        put(Buffer.from(`\n# the session was ended by ${meta.limit.description} (${meta.limit.source})\n`));
      }
      const taken: string[] = [];
      for (const f of harvest.files) {
        if (f.name === RECORD_FILES.metadata) continue; // its account is in `reported`
        if (!isShareable(f.name) && !SUBAGENT_TRANSCRIPT.test(f.name)) continue;
        writeFileSync(join(paths.dir, f.name), f.data, { mode: 0o600, flag: 'wx' });
        taken.push(f.name);
      }
      if (taken.includes(RECORD_FILES.transcript)) meta.files.transcript = RECORD_FILES.transcript;
      else put(Buffer.from(`# the session handed back no transcript\n`));
      if (taken.includes(RECORD_FILES.terminal)) meta.files.terminal = RECORD_FILES.terminal;
      if (taken.includes(RECORD_FILES.timing)) meta.files.timing = RECORD_FILES.timing;
      const agents = taken.filter((n) => SUBAGENT_TRANSCRIPT.test(n));
      if (agents.length) meta.files.subagentTranscripts = agents;
      const terminal = harvest.files.find((f) => f.name === RECORD_FILES.terminal);
      if (terminal) {
        put(
          Buffer.from(
            `# terminal recording, reported by the session (also in terminal.log, replay: scriptreplay --log-timing terminal.timing --log-out terminal.log)\n`,
          ),
        );
        put(terminal.data.subarray(0, Math.max(0, maxLogBytes - logBytes)));
      }
      for (const r of harvest.refused) put(Buffer.from(`# not taken from the session's spool: ${r}\n`));
      put(
        Buffer.from(
          `\n# ---\n# ended      ${meta.endedAt} after ${meta.durationMs} ms: ${meta.status}, exit ${o.exitCode ?? '-'}${o.signal ? `, signal ${o.signal}` : ''}\n`,
        ),
      );
      closeSync(log);
      meta.container = {
        image: o.image,
        exitCode: o.exitCode,
        oomKilled: o.oomKilled,
        timedOut: o.timedOut,
        spool: o.spool,
        logBytes,
        logTruncated: truncated,
      };
      meta.reported = reported;
      meta.provenance = {
        observed: [
          ...OBSERVED_FIELDS,
          RECORD_FILES.secrets,
          ...(meta.limit?.source === 'observed' ? ['limit'] : []),
        ],
        reported: ['reported', ...(meta.limit?.source === 'reported' ? ['limit'] : []), ...taken],
      };
      writeMetadata(paths, meta);
      return meta;
    },
  };
}
