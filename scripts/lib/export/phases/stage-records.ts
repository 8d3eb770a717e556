// Export phase "session records": each chosen session's record (metadata, session log, terminal recording,
// transcripts; never its secret hashes), scrubbed into sessions/<id>/. An id found neither in the records nor in the telemetry
// is an error, not an empty archive; what a record says is absent (telemetry off, still running) goes to `missing`.
// Records are read only through record-files.ts: a record file that breaks its rules (a link, a FIFO, a device, over
// its bound, metadata naming another session) is left out and named in `missing`; the export of the rest goes on.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  RecordFileError,
  readRecordFile,
  recordFileNames,
  recordFolder,
} from '../../session/record-files.ts';
import { readSessionMetadata } from '../../session/record-metadata.ts';
import { isShareable, RECORD_FILES, type SessionMetadata } from '../../session/session-record.ts';
import { UnknownSessionError } from '../selection/choose-sessions.ts';
import type { TelemetryRecords } from './stage-telemetry.ts';
import type { Staging } from './staging.ts';

const LEFT_OUT = Symbol('left out');

/** Runs a read of a record; a RecordFileError becomes a `missing` entry (and a log line) and LEFT_OUT. */
function orLeftOut<T>(st: Staging, what: string, read: () => T): T | typeof LEFT_OUT {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof RecordFileError)) throw err;
    st.missing.push({ what, why: `${err.message}: left out of the archive` });
    st.log(`left out ${what}: ${err.message}`);
    return LEFT_OUT;
  }
}

export function stageRecords(
  st: Staging,
  sessionsDir: string,
  telemetryDir: string,
  sessions: string[],
  records: TelemetryRecords,
): Map<string, SessionMetadata | null> {
  // Each session's record folder (a real directory, or none) and its metadata (checked), or LEFT_OUT.
  const read = new Map(
    sessions.map((id) => {
      const dir = orLeftOut(st, `session record of ${id}`, () => recordFolder(sessionsDir, id));
      const m =
        typeof dir === 'string'
          ? orLeftOut(st, `sessions/${id}/${RECORD_FILES.metadata}`, () =>
              readSessionMetadata(sessionsDir, id),
            )
          : dir;
      return [id, { dir, m }] as const;
    }),
  );
  const metadata = new Map(sessions.map((id) => [id, metaOf(read.get(id)?.m)]));
  const broken = (id: string) => read.get(id)?.m === LEFT_OUT;
  const hasTelemetry = (id: string) =>
    records.events.some((e) => e.session === id) ||
    records.spans.some((s) => s.session === id) ||
    records.points.some((p) => p.session === id);
  const unknown = sessions.filter((id) => !metadata.get(id) && !broken(id) && !hasTelemetry(id));
  if (unknown.length)
    throw new UnknownSessionError(
      `unknown session id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: not in the telemetry files (${telemetryDir}) nor in the session records (${sessionsDir}). ` +
        '`pnpm export list` shows the sessions known; ids are also the folder names in the sessions folder and the session_id label in Prometheus.',
    );
  for (const id of sessions) {
    const m = metadata.get(id);
    if (!m && !broken(id))
      st.missing.push({
        what: `session record of ${id}`,
        why: `no ${join(sessionsDir, id, RECORD_FILES.metadata)}: the session was not run through \`pnpm session\` (no session log)`,
      });
    else if (m && !m.telemetry.enabled)
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
    // The shareable files and the subagents' transcripts (never the secret hashes, nor a metadata.json that broke
    // its rules), each one read as a regular file within its bound.
    const dir = read.get(id)?.dir;
    if (typeof dir !== 'string') continue;
    const names = orLeftOut(st, `session record of ${id}`, () => recordFileNames(dir));
    if (names === LEFT_OUT) continue;
    for (const name of names.filter((n) => isShareable(n) && !(n === RECORD_FILES.metadata && broken(id)))) {
      const content = orLeftOut(st, `sessions/${id}/${name}`, () => readRecordFile(dir, name));
      if (content === null || content === LEFT_OUT) continue;
      mkdirSync(join(st.dir, 'sessions', id), { recursive: true });
      writeFileSync(join(st.dir, 'sessions', id, name), st.scrub(content));
    }
  }
  return metadata;
}

const metaOf = (m: SessionMetadata | null | typeof LEFT_OUT | undefined): SessionMetadata | null =>
  m === LEFT_OUT || m === undefined ? null : m;
