// What a session record says, checked before anything believes it: metadata.json (its session id must be its
// folder's; the fields the host reads must be well-formed, so no string of the record reaches a terminal or a path
// unchecked), the listing of the sessions folder with every record left out and why, "the latest" (never a start
// unknown or in the future), and secrets.json. Files are read through record-files.ts only. Host only.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RecordFileError, readRecordFile, recordFolder } from './record-files.ts';
import { USER_NAME } from './session-plan.ts';
import {
  byStart,
  latestOf,
  RECORD_FILES,
  SESSION_ID,
  type SecretHashes,
  type SessionMetadata,
  whyNotLatest,
} from './session-record.ts';

/** A record file left out, and why (a warning: `pnpm export list`, the manifest's `missing`, stack:check). */
export interface RecordProblem {
  file: string;
  why: string;
}

const STATUSES: readonly unknown[] = ['running', 'completed', 'failed', 'interrupted', 'limit-exceeded'];
const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (max: number) => (v: unknown) => typeof v === 'string' && v.length <= max;
const orNull = (ok: (v: unknown) => boolean) => (v: unknown) => v === null || ok(v);
const orAbsent = (ok: (v: unknown) => boolean) => (v: unknown) => v === undefined || ok(v);
const shown = (v: unknown) => JSON.stringify(v)?.slice(0, 80) ?? String(v);

/** The fields host code reads, each with its rule (others, and fields added later, pass through unread). */
const METADATA_FIELDS: [string, (v: unknown) => boolean, string][] = [
  ['status', (v) => STATUSES.includes(v), `one of ${STATUSES.join(', ')}`],
  ['startedAt', text(64), 'a time (a string)'],
  [
    'telemetry',
    (v) => isObject(v) && typeof v.enabled === 'boolean',
    'an object with `enabled` true or false',
  ],
  ['mode', orAbsent((v) => v === 'headless' || v === 'interactive'), 'headless or interactive'],
  ['endedAt', orAbsent(orNull(text(64))), 'a time or null'],
  ['durationMs', orAbsent(orNull((v) => typeof v === 'number' && Number.isFinite(v) && v >= 0)), 'a number'],
  ['exitCode', orAbsent(orNull(Number.isInteger)), 'an integer or null'],
  [
    'user',
    orAbsent(orNull((v) => typeof v === 'string' && USER_NAME.test(v))),
    'a user name (pnpm session --user)',
  ],
  ['script', orAbsent(orNull(text(200))), 'a script name or null'],
  ['claudeVersion', orAbsent(text(200)), 'a version (a string)'],
];

/** metadata.json's content, checked: its session id must be its folder's, and the fields read must be well-formed. */
export function parseMetadata(file: string, content: string, folderId: string): SessionMetadata {
  let m: unknown;
  try {
    m = JSON.parse(content);
  } catch (err) {
    throw new RecordFileError(file, `is not JSON (${(err as Error).message})`);
  }
  if (!isObject(m)) throw new RecordFileError(file, 'is not a JSON object');
  if (typeof m.sessionId !== 'string' || !SESSION_ID.test(m.sessionId))
    throw new RecordFileError(file, `has sessionId ${shown(m.sessionId)}, not a session id (a UUID)`);
  if (m.sessionId !== folderId)
    throw new RecordFileError(file, `has sessionId ${m.sessionId}, not its folder's ${folderId}`);
  for (const [field, ok, what] of METADATA_FIELDS)
    if (!ok(m[field])) throw new RecordFileError(file, `has ${field} ${shown(m[field])}, not ${what}`);
  return m as unknown as SessionMetadata;
}

/** A session's metadata; null when it has no record (or a record without metadata.json); else a RecordFileError. */
export function readSessionMetadata(sessionsDir: string, id: string): SessionMetadata | null {
  const dir = recordFolder(sessionsDir, id);
  const content = dir === null ? null : readRecordFile(dir, RECORD_FILES.metadata);
  return dir === null || content === null
    ? null
    : parseMetadata(join(dir, RECORD_FILES.metadata), content, id);
}

/** Every record of the sessions folder, oldest first, and the entries left out (with why). */
export function listSessionRecords(sessionsDir: string): {
  records: SessionMetadata[];
  problems: RecordProblem[];
} {
  let names: string[];
  try {
    names = readdirSync(sessionsDir).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], problems: [] };
    throw err;
  }
  const records: SessionMetadata[] = [];
  const problems: RecordProblem[] = [];
  for (const name of names) {
    if (name.startsWith('.')) continue;
    try {
      const m = readSessionMetadata(sessionsDir, name);
      if (m) records.push(m);
    } catch (err) {
      if (!(err instanceof RecordFileError)) throw err;
      problems.push({ file: err.file, why: err.rule });
    }
  }
  const start = (m: SessionMetadata) => startOf(m);
  records.sort((a, b) => byStart({ id: a.sessionId, start: start(a) }, { id: b.sessionId, start: start(b) }));
  return { records, problems };
}

/** A record's start, when its startedAt is a time. */
export const startOf = (m: SessionMetadata): number | null => {
  const t = Date.parse(m.startedAt);
  return Number.isFinite(t) ? t : null;
};

/**
 * The latest recorded session (the order of session-record.ts; a start unknown or in the future is never the
 * latest), with what was passed over; an error saying how to make one when there is none.
 */
export function latestSessionRecord(
  sessionsDir: string,
  now = Date.now(),
): { record: SessionMetadata; problems: RecordProblem[] } {
  const { records, problems } = listSessionRecords(sessionsDir);
  for (const m of records) {
    const why = whyNotLatest(startOf(m), now);
    if (why)
      problems.push({
        file: join(sessionsDir, m.sessionId, RECORD_FILES.metadata),
        why: `${why}: not taken as the latest`,
      });
  }
  const latest = latestOf(
    records.map((m) => ({ id: m.sessionId, start: startOf(m), m })),
    now,
  );
  if (!latest)
    throw new Error(
      `no session records in ${sessionsDir}${problems.length ? ` that can be the latest (${problems.length} left out: ${problems.map((p) => `${p.file} ${p.why}`).join('; ')})` : ''}: run \`pnpm session\` first`,
    );
  return { record: latest.m, problems };
}

/** The session's secret hashes; null when it has none; a RecordFileError when they cannot be read or are malformed. */
export function readSessionSecrets(sessionsDir: string, id: string): SecretHashes | null {
  const dir = recordFolder(sessionsDir, id);
  const content = dir === null ? null : readRecordFile(dir, RECORD_FILES.secrets);
  if (dir === null || content === null) return null;
  const file = join(dir, RECORD_FILES.secrets);
  let h: unknown;
  try {
    h = JSON.parse(content);
  } catch (err) {
    throw new RecordFileError(file, `is not JSON (${(err as Error).message})`);
  }
  if (
    !isObject(h) ||
    !text(256)(h.salt) ||
    !Array.isArray(h.sha256) ||
    !h.sha256.every((x) => typeof x === 'string' && /^[0-9a-f]{64}$/.test(x))
  )
    throw new RecordFileError(file, 'is not {salt, sha256: [64 hex digits, ...]}');
  return { salt: h.salt as string, sha256: h.sha256 as string[] };
}
