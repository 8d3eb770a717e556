// What the sessions' OTLP ingest (otlp-http.ts, otlp-grpc.ts) shares: its settings, the per-session series limiter,
// and refusals counted by kind and logged in summary (the first of a kind, then a count per minute; a kind is a fixed
// word, never a value from a request, so the log and the counters stay bounded).
// The ingest does not stamp anything itself: it forwards the request's bytes unchanged to the collector's sessions
// receiver (otlp/sessions: 4319 http, 4316 grpc; on the stack's default network only), with the verified user,
// session id, project and branch in the headers x-cct-user, x-cct-session, x-cct-project and x-cct-branch
// (identityHeaders), and the collector overwrites user.name, session.id, project and git.branch on every resource
// and record from them (a session without a project in its credential keeps none, whatever it sent) (stack/otel-collector/config.yaml). Why there: one decoder (the collector's)
// both reads the data and stamps it; a second one here could be made to disagree with it by a crafted message.
import { type RepeatLog, repeatLog } from '@claude-code-telemetry/mcp-common/repeat-log';
import { z } from 'zod';
import { seriesLimiter } from './otlp-series.ts';

/** The headers the collector stamps the identity from (config.yaml, from_context: metadata.x-cct-user). */
export const USER_HEADER = 'x-cct-user';
export const SESSION_HEADER = 'x-cct-session';
export const PROJECT_HEADER = 'x-cct-project';
export const BRANCH_HEADER = 'x-cct-branch';

/** What the gateway knows of a session from its verified credential. */
export interface Identity {
  user: string;
  sessionId: string;
  project?: string;
  branch?: string;
}

/**
 * The headers the collector stamps a session's telemetry from: always all four, the project and branch empty when
 * the credential has none (the collector then inserts no project: an empty metadata value is no value). The
 * values passed the credential's rules (no `;`, which the collector joins repeated values with, no control
 * character), and whatever headers the session sent are never passed on under these names.
 */
export function identityHeaders(who: Identity): Record<string, string> {
  return {
    [USER_HEADER]: who.user,
    [SESSION_HEADER]: who.sessionId,
    ...(who.project ? { [PROJECT_HEADER]: who.project } : {}),
    ...(who.branch ? { [BRANCH_HEADER]: who.branch } : {}),
  };
}

const int = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const Settings = z.object({
  OTLP_SESSIONS_HTTP: z.url().default('http://otel-collector:4319'),
  OTLP_SESSIONS_GRPC: z.url().default('http://otel-collector:4316'),
  /** The largest request, compressed or not (the collector's own limit is the same 16 MiB). */
  OTLP_MAX_BODY_BYTES: int(16 * 1024 * 1024),
  /** Distinct metric series per session and window (Claude Code sends well under 200). */
  OTLP_SESSION_MAX_SERIES: int(2000),
  /** The window: the collector's delta_to_cumulative max_stale (30 min), how long a series' state lives. */
  OTLP_SESSION_SERIES_WINDOW_MS: int(30 * 60_000),
  OTLP_MAX_TRACKED_SESSIONS: int(1000),
  /** How long the collector may take to answer before the sender is told to retry (503 / UNAVAILABLE). */
  OTLP_FORWARD_TIMEOUT_MS: int(30_000),
  /** Seconds the sender is told to wait before retrying when the collector is unavailable or a limit is hit. */
  OTLP_RETRY_AFTER_S: int(5),
});
export type IngestSettings = z.infer<typeof Settings>;

export function ingestSettings(env: NodeJS.ProcessEnv = process.env): IngestSettings {
  const r = Settings.safeParse(env);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  throw new Error(`session gateway OTLP setting ${first?.path.join('.')}: ${first?.message}`);
}

/** Why a request was refused: a fixed set, so counters and log stay bounded. */
export type IngestRefusal =
  | 'unauthenticated'
  | 'too-large'
  | 'malformed'
  | 'unsupported'
  | 'series-limit'
  | 'collector-unavailable';

export interface OtlpIngest {
  settings: IngestSettings;
  admitSeries: ReturnType<typeof seriesLimiter>['admit'];
  /** Counts a refusal and logs it in summary. `line` must hold no credential. */
  refuse(kind: IngestRefusal, line: string): void;
  refused: ReadonlyMap<IngestRefusal, number>;
  log: (line: string) => void;
  close(): void;
}

export interface IngestOptions {
  env?: NodeJS.ProcessEnv;
  settings?: Partial<IngestSettings>;
  log?: (line: string) => void;
  /** The summary interval of refusal lines (default 60 s). */
  logIntervalMs?: number;
}

export function createIngest(o: IngestOptions = {}): OtlpIngest {
  const settings = { ...ingestSettings(o.env ?? process.env), ...o.settings };
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const bounded: RepeatLog = repeatLog(log, o.logIntervalMs ?? 60_000);
  const refused = new Map<IngestRefusal, number>();
  const limiter = seriesLimiter({
    maxSeries: settings.OTLP_SESSION_MAX_SERIES,
    windowMs: settings.OTLP_SESSION_SERIES_WINDOW_MS,
    maxSessions: settings.OTLP_MAX_TRACKED_SESSIONS,
  });
  return {
    settings,
    admitSeries: limiter.admit,
    refuse(kind, line) {
      refused.set(kind, (refused.get(kind) ?? 0) + 1);
      bounded.note(`otlp-${kind}`, `session-gateway: ${line}`);
    },
    refused,
    log,
    close: () => bounded.close(),
  };
}

/** A safe summary of a credential check's error for the log (never the token). */
export const describeFrom = (address: string | undefined) => address ?? 'an unknown address';
