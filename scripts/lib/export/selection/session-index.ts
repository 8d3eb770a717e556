// The sessions an export can take: those in the telemetry files (Claude Code's events: start, end, cost, tokens)
// and those the session wrapper recorded (the session records, session-record.ts), joined by session id. The user
// is the record's (`pnpm session --user`), else the `user.name` the telemetry carries (a record may be gone); the
// project is the `project` the telemetry carries (stamped by the collector from the session's credential).
// Only session ids are taken (a telemetry's session.id or a folder name that is not one is left out, with a
// warning), and records are read through record-files.ts: a record that breaks its rules is left out, with why.
import { listSessionRecords, type RecordProblem } from '../../session/record-metadata.ts';
import { isProjectName, isUserName } from '../../session/session-credential.ts';
import { byStart, SESSION_ID, type SessionMetadata } from '../../session/session-record.ts';
import { eventsOf } from '../../sinks/otlp-records.ts';
import { exportRequests, signalFiles } from '../../sinks/telemetry-files.ts';

export interface KnownSession {
  id: string;
  start: number | null;
  end: number | null;
  durationMs: number | null;
  costUsd: number;
  tokens: number;
  modelCalls: number;
  status: SessionMetadata['status'] | null;
  /** `user.name` of the session: its record's `user`, else the telemetry's; null when it ran without --user. */
  user: string | null;
  /**
   * `project` of the session: what the collector stamped on its telemetry from its credential (pnpm session
   * --project, or its workspace's git remote); null when it had none or left no telemetry.
   */
  project: string | null;
  inTelemetry: boolean;
  recorded: boolean;
}

const num = (v: unknown) => (typeof v === 'number' ? v : Number(v) || 0);

/** The sessions known, in the order of byStart; `warn` hears of every record or id left out, and why. */
export async function indexSessions(
  telemetryDir: string,
  sessionsDir: string,
  warn: (problem: RecordProblem) => void = () => {},
): Promise<KnownSession[]> {
  const badIds = new Set<string>();
  const byId = new Map<string, KnownSession>();
  const get = (id: string) => {
    let s = byId.get(id);
    if (!s) {
      s = {
        id,
        start: null,
        end: null,
        durationMs: null,
        costUsd: 0,
        tokens: 0,
        modelCalls: 0,
        status: null,
        user: null,
        project: null,
        inTelemetry: false,
        recorded: false,
      };
      byId.set(id, s);
    }
    return s;
  };
  for (const file of signalFiles(telemetryDir, 'logs')) {
    for await (const req of exportRequests(file)) {
      for (const e of eventsOf(req)) {
        if (!e.session) continue;
        if (!SESSION_ID.test(e.session)) {
          if (!badIds.has(e.session))
            warn({
              file: telemetryDir,
              why: `has a session.id ${JSON.stringify(e.session.slice(0, 80))}, not a session id (a UUID): left out`,
            });
          badIds.add(e.session);
          continue;
        }
        const s = get(e.session);
        s.inTelemetry = true;
        const user = e.resource['user.name'] ?? e.attrs['user.name'];
        if (s.user === null && isUserName(user)) s.user = user;
        const project = e.resource.project ?? e.attrs.project;
        if (s.project === null && isProjectName(project)) s.project = project;
        if (Number.isFinite(e.time)) {
          s.start = s.start === null ? e.time : Math.min(s.start, e.time);
          s.end = s.end === null ? e.time : Math.max(s.end, e.time);
        }
        if (e.name === 'api_request' && e.service === 'claude-code') {
          s.modelCalls++;
          s.costUsd += num(e.attrs.cost_usd);
          s.tokens +=
            num(e.attrs.input_tokens) +
            num(e.attrs.output_tokens) +
            num(e.attrs.cache_read_tokens) +
            num(e.attrs.cache_creation_tokens);
        }
      }
    }
  }
  const { records, problems } = listSessionRecords(sessionsDir);
  for (const p of problems) warn({ file: p.file, why: `${p.why}: left out` });
  for (const m of records) {
    const s = get(m.sessionId);
    s.recorded = true;
    s.status = m.status;
    if (m.user) s.user = m.user;
    const started = Date.parse(m.startedAt);
    if (Number.isFinite(started)) s.start = s.start === null ? started : Math.min(s.start, started);
    const ended = Date.parse(m.endedAt ?? '');
    if (Number.isFinite(ended)) s.end = s.end === null ? ended : Math.max(s.end, ended);
    if (m.durationMs !== null) s.durationMs = m.durationMs;
  }
  for (const s of byId.values()) {
    if (s.durationMs === null && s.start !== null && s.end !== null) s.durationMs = s.end - s.start;
    s.costUsd = Math.round(s.costUsd * 1e6) / 1e6;
  }
  return [...byId.values()].sort(byStart);
}

/** "90s", "15m", "2h", "7d", "1w" in milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/.exec(text.trim());
  if (!m)
    throw new Error(`--since takes a duration such as 90s, 15m, 2h, 7d or 1w, not ${JSON.stringify(text)}`);
  const unit = { s: 1e3, m: 6e4, h: 3.6e6, d: 8.64e7, w: 6.048e8 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  return Number(m[1]) * unit;
}
