// The one safe way for host code to read a session record. A record folder is written where a session could reach
// it, so nothing in it is trusted: a file could be a symbolic link to a host file, a FIFO that never answers, a
// device, a sparse file of terabytes; an id could be a path; a start time could lie. Here a record file is read only
// when the record module names it (RECORD_FILES, SUBAGENT_TRANSCRIPT), when its folder is a real directory, and
// when it is a regular file within its size bound, opened without following links or blocking. Everything else is a
// RecordFileError naming the file and the rule it broke. What the files say is checked by record-metadata.ts. Host
// only: the container image carries session-record.ts, which must stay free of this.
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { RECORD_FILES, SESSION_ID, SUBAGENT_TRANSCRIPT } from './session-record.ts';

const MiB = 1024 * 1024;

/** The most a record file of each kind may hold (judged by its size, so a sparse file is judged by what it claims). */
export const RECORD_FILE_BOUNDS = {
  metadata: 1 * MiB,
  secrets: 1 * MiB,
  log: 256 * MiB,
  terminal: 256 * MiB,
  timing: 64 * MiB,
  transcript: 256 * MiB,
  subagentTranscript: 256 * MiB,
} as const;

/** A record file or folder that breaks a rule of this module: `file` is its path, `rule` says which rule. */
export class RecordFileError extends Error {
  readonly file: string;
  readonly rule: string;
  constructor(file: string, rule: string) {
    super(`${file} ${rule}`);
    this.name = 'RecordFileError';
    this.file = file;
    this.rule = rule;
  }
}

/** The kind of a record file by its name, or null for a name the record module does not define (never read). */
export function recordFileKind(name: string): keyof typeof RECORD_FILE_BOUNDS | null {
  const byName = Object.entries(RECORD_FILES).find(([, n]) => n === name);
  if (byName) return byName[0] as keyof typeof RECORD_FILES;
  return SUBAGENT_TRANSCRIPT.test(name) ? 'subagentTranscript' : null;
}

const mib = (n: number) => (n >= MiB ? `${Math.round((n / MiB) * 10) / 10} MiB` : `${n} bytes`);

function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return st.isFile() ? 'a regular file' : 'of an unknown kind';
}

/** lstat, or null when the path does not exist. */
function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new RecordFileError(path, `cannot be examined (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
}

/** Throws unless `dir` is a real directory (not a link to one); false when it does not exist. */
function checkFolder(dir: string): boolean {
  const st = lstatOrNull(dir);
  if (!st) return false;
  if (st.isSymbolicLink())
    throw new RecordFileError(dir, 'is a symbolic link: record folders are never followed');
  if (!st.isDirectory())
    throw new RecordFileError(dir, `is ${kindOf(st)}, not a directory: not a record folder`);
  return true;
}

/** Throws unless `id` is a session id (a UUID): an id read from anywhere is only then part of a path. */
export function checkSessionId(id: string, where: string): string {
  if (!SESSION_ID.test(id))
    throw new RecordFileError(where, `names ${JSON.stringify(id.slice(0, 80))}, not a session id (a UUID)`);
  return id;
}

/**
 * The record folder of a session, `<sessionsDir>/<id>`: the id must be a session id and the folder a real directory.
 * Null when the session has no record folder. (The sessions folder itself is the user's setting: it may be a link.)
 */
export function recordFolder(sessionsDir: string, id: string): string | null {
  const dir = join(sessionsDir, checkSessionId(id, join(sessionsDir, id.slice(0, 80))));
  return checkFolder(dir) ? dir : null;
}

/** The names in a record folder that the record module defines, sorted; anything else in it is never looked at. */
export function recordFileNames(dir: string): string[] {
  if (!checkFolder(dir)) return [];
  return readdirSync(dir)
    .filter((name) => recordFileKind(name) !== null)
    .sort();
}

/**
 * A record file's text, or null when the file does not exist. Throws a RecordFileError when the name is not one the
 * record defines, the folder is not a real directory, or the file is not a regular file within its bound. The file
 * is opened with O_NOFOLLOW (a link is refused by the kernel too) and O_NONBLOCK (a FIFO never blocks), and judged
 * again by fstat on the open descriptor; at most the bound is read.
 */
export function readRecordFile(dir: string, name: string, opts: { maxBytes?: number } = {}): string | null {
  const buf = readRecordBytes(dir, name, opts);
  return buf === null ? null : buf.toString('utf8');
}

export function readRecordBytes(dir: string, name: string, opts: { maxBytes?: number } = {}): Buffer | null {
  const file = join(dir, name);
  const kind = recordFileKind(name);
  if (kind === null)
    throw new RecordFileError(
      file,
      'is not a file of a session record: only the files session-record.ts names are read',
    );
  const max = Math.min(opts.maxBytes ?? Number.POSITIVE_INFINITY, RECORD_FILE_BOUNDS[kind]);
  if (!checkFolder(dir)) return null;
  const before = lstatOrNull(file);
  if (!before) return null;
  if (before.isSymbolicLink())
    throw new RecordFileError(file, 'is a symbolic link: record files are never followed');
  if (!before.isFile()) throw new RecordFileError(file, `is ${kindOf(before)}: only regular files are read`);
  let fd: number;
  try {
    fd = openSync(
      file,
      constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY,
    );
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP')
      throw new RecordFileError(file, 'is a symbolic link: record files are never followed');
    throw new RecordFileError(file, `cannot be opened (${code ?? err})`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new RecordFileError(file, `is ${kindOf(st)}: only regular files are read`);
    if (st.dev !== before.dev || st.ino !== before.ino)
      throw new RecordFileError(file, 'was replaced while it was opened: not read');
    if (st.size > max)
      throw new RecordFileError(file, `is ${mib(st.size)}, over the ${mib(max)} bound of a record's ${kind}`);
    // Read at most the bound (plus one byte, to see a file that grew past it since fstat).
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(Math.min(MiB, max + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > max)
        throw new RecordFileError(
          file,
          `grew over the ${mib(max)} bound of a record's ${kind} while it was read`,
        );
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}
