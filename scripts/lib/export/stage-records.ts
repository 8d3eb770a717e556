// Export phase "session records": each chosen session's record (metadata, session log, terminal recording,
// transcripts; never its secret hashes), scrubbed into sessions/<id>/. An id found neither in the records nor in the telemetry
// is an error, not an empty archive; what a record says is absent (telemetry off, still running) goes to `missing`.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  isShareable,
  readSessionRecord,
  recordPaths,
  type SessionMetadata,
} from '../session/session-record.ts';
import type { TelemetryRecords } from './stage-telemetry.ts';
import { type Staging, UnknownSessionError } from './staging.ts';

export function stageRecords(
  st: Staging,
  sessionsDir: string,
  telemetryDir: string,
  sessions: string[],
  records: TelemetryRecords,
): Map<string, SessionMetadata | null> {
  const metadata = new Map(sessions.map((id) => [id, readSessionRecord(sessionsDir, id)]));
  const hasTelemetry = (id: string) =>
    records.events.some((e) => e.session === id) ||
    records.spans.some((s) => s.session === id) ||
    records.points.some((p) => p.session === id);
  const unknown = sessions.filter((id) => !metadata.get(id) && !hasTelemetry(id));
  if (unknown.length)
    throw new UnknownSessionError(
      `unknown session id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: not in the telemetry files (${telemetryDir}) nor in the session records (${sessionsDir}). ` +
        '`pnpm export list` shows the sessions known; ids are also the folder names in the sessions folder and the session_id label in Prometheus.',
    );
  for (const id of sessions) {
    const m = metadata.get(id);
    const paths = recordPaths(sessionsDir, id);
    if (!m)
      st.missing.push({
        what: `session record of ${id}`,
        why: `no ${paths.metadata}: the session was not run through \`pnpm session\` (no session log)`,
      });
    else if (!m.telemetry.enabled)
      st.missing.push({ what: `telemetry of session ${id}`, why: 'the session ran with telemetry off' });
    else if (!hasTelemetry(id))
      st.missing.push({
        what: `telemetry of session ${id}`,
        why: `none in ${telemetryDir} (rotated away, or never received)`,
      });
    if (m?.status === 'running')
      st.missing.push({
        what: `the end of session ${id}`,
        why: 'the session was still running when it was exported',
      });
    // The shareable files and the subagents' transcripts; never the secret hashes.
    const names = existsSync(paths.dir) ? readdirSync(paths.dir).filter(isShareable).sort() : [];
    for (const name of names) {
      const file = join(paths.dir, name);
      mkdirSync(join(st.dir, 'sessions', id), { recursive: true });
      writeFileSync(join(st.dir, 'sessions', id, name), st.scrub(readFileSync(file, 'utf8')));
    }
  }
  return metadata;
}
