// File operations behind the tools. Every path goes through path-rules.ts first; expected failures throw a
// FileOpError (or PathRuleError, EditRuleError) naming the rule, which the tool layer turns into an isError result.
// Results name paths relative to their root (displayPath), never where the roots are.
// Writes go through atomic-write.ts; list_directory's bounded listing is list-entries.ts.
import { constants, type Stats } from 'node:fs';
import { lstat, mkdir, open, opendir, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { DEFAULT_MAX_RESPONSE_BYTES } from '@claude-code-telemetry/mcp-common/instrument';
import { DEFAULT_TOOL_TIMEOUT_MS } from '@claude-code-telemetry/mcp-common/time-budget';
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import { atomicWrite } from './atomic-write.ts';
import { readAtMost } from './bounded-read.ts';
import { applyEdits, checkEdits, type Edit } from './edits.ts';
import { compileGlob } from './glob.ts';
import { listEntries, typeOf } from './list-entries.ts';
import { displayPath, resolveInSandbox, type Sandbox } from './path-rules.ts';
import { unifiedDiff } from './unified-diff.ts';

export type { Edit } from './edits.ts';

export type FileOpRule =
  | 'too-large'
  | 'not-a-file'
  | 'not-a-directory'
  | 'is-directory'
  | 'parent-missing'
  | 'not-utf8';

export class FileOpError extends RuleError<FileOpRule> {}

export interface Limits {
  maxReadBytes: number;
  maxWriteBytes: number;
  maxSearchResults: number;
  /** Entries list_directory returns at most (FILE_OPS_MAX_LIST_ENTRIES). */
  maxListEntries: number;
  /** Time budget of one tool call (MCP_TOOL_TIMEOUT_MS). */
  toolTimeoutMs: number;
  /** Size of one tool result as JSON (MCP_MAX_RESPONSE_BYTES). */
  maxResponseBytes: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxReadBytes: 1024 * 1024,
  maxWriteBytes: 1024 * 1024,
  maxSearchResults: 200,
  maxListEntries: 1000,
  toolTimeoutMs: DEFAULT_TOOL_TIMEOUT_MS,
  maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
};

export interface FileOps {
  sandbox: Sandbox;
  limits: Limits;
}

/** Only regular files are read: a FIFO blocks its reader until a writer comes, a device may act when opened. */
function mustBeRegularFile(st: Stats, path: string): void {
  if (st.isDirectory()) throw new FileOpError('is-directory', `${path} is a directory: use list_directory`);
  if (!st.isFile()) {
    throw new FileOpError(
      'not-a-file',
      `${path} is not a regular file (a FIFO, socket or device): only regular files are read or edited`,
    );
  }
}

/** A text file inside the sandbox: its real path (for a write back) and content. */
async function readText(
  ops: FileOps,
  path: string,
): Promise<{ real: string; size: number; content: string }> {
  const real = await resolveInSandbox(ops.sandbox, path, { mustExist: true, allowRoot: true });
  // Checked before the open, so a FIFO or device is never opened at all ...
  mustBeRegularFile(await lstat(real), path);
  // ... and again on the open handle, should it have been swapped meanwhile: O_NONBLOCK makes the open of a FIFO
  // return at once (without it, the open waits for a writer on one of libuv's 4 threads: 4 such calls stall every
  // file operation of the server); O_NOFOLLOW makes the open of a symlink fail.
  const fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const st = await fh.stat();
    mustBeRegularFile(st, path);
    const limit = ops.limits.maxReadBytes;
    if (st.size > limit) {
      throw new FileOpError(
        'too-large',
        `${path} is ${st.size} bytes, over the read limit of ${limit} bytes`,
      );
    }
    // fstat may say less than there is (a file growing meanwhile): read at most one byte past the limit.
    const buf = await readAtMost(fh, limit, st.size);
    if (buf.length > limit) {
      throw new FileOpError(
        'too-large',
        `${path} is over the read limit of ${limit} bytes (it grew while it was read)`,
      );
    }
    const content = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buf);
    return { real, size: buf.length, content };
  } catch (err) {
    if (err instanceof TypeError) throw new FileOpError('not-utf8', `${path} is not UTF-8 text`);
    throw err;
  } finally {
    await fh.close();
  }
}

export async function readTextFile(ops: FileOps, path: string) {
  const { real, size, content } = await readText(ops, path);
  return { path: displayPath(ops.sandbox, real), size, content };
}

export async function writeTextFile(
  ops: FileOps,
  path: string,
  content: string,
  createDirectories = false,
  signal?: AbortSignal,
) {
  const bytes = Buffer.byteLength(content, 'utf8');
  if (bytes > ops.limits.maxWriteBytes) {
    throw new FileOpError(
      'too-large',
      `content is ${bytes} bytes, over the write limit of ${ops.limits.maxWriteBytes} bytes`,
    );
  }
  const real = await resolveInSandbox(ops.sandbox, path, { mustExist: false });
  const existing = await lstat(real).catch(() => null);
  if (existing?.isDirectory()) throw new FileOpError('is-directory', `${path} is a directory`);
  // A symlink is replaced (never written through); a FIFO, socket or device is left alone.
  if (existing && !existing.isFile() && !existing.isSymbolicLink()) {
    throw new FileOpError(
      'not-a-file',
      `${path} is not a regular file (a FIFO, socket or device): it is not replaced`,
    );
  }
  const parent = await stat(dirname(real)).catch(() => null);
  if (!parent) {
    if (!createDirectories) {
      throw new FileOpError(
        'parent-missing',
        `the folder of ${path} does not exist (set createDirectories to make it)`,
      );
    }
    signal?.throwIfAborted();
    await mkdir(dirname(real), { recursive: true });
  } else if (!parent.isDirectory()) {
    throw new FileOpError('not-a-directory', `the parent of ${path} is not a directory`);
  }
  await atomicWrite(real, content, signal);
  return { path: displayPath(ops.sandbox, real), bytesWritten: bytes, created: !existing };
}

/**
 * The entries of a folder, sorted by name: at most `maxListEntries` (then `truncated`, with a note), stopping
 * when `signal` aborts (the call's time budget). The listing: list-entries.ts.
 */
export async function listDirectory(ops: FileOps, path: string, signal?: AbortSignal) {
  const real = await resolveInSandbox(ops.sandbox, path, { mustExist: true, allowRoot: true });
  const st = await stat(real);
  if (!st.isDirectory()) throw new FileOpError('not-a-directory', `${path} is not a directory`);
  const limit = ops.limits.maxListEntries;
  const { entries, truncated } = await listEntries(real, limit, signal);
  return {
    path: displayPath(ops.sandbox, real),
    entries,
    truncated,
    ...(truncated
      ? {
          note: `showing ${limit} entries (the first read, sorted by name); the folder has more: use search_files with a name pattern to find the ones you need`,
        }
      : {}),
  };
}

export async function fileInfo(ops: FileOps, path: string) {
  const real = await resolveInSandbox(ops.sandbox, path, { mustExist: true, allowRoot: true });
  // lstat, on the real path: nothing is opened (a FIFO or device is only described), and a symlink swapped in
  // meanwhile is described as a symlink, not followed.
  const st = await lstat(real);
  return {
    path: displayPath(ops.sandbox, real),
    type: typeOf(st),
    size: st.size,
    modified: st.mtime.toISOString(),
    created: st.birthtime.toISOString(),
    permissions: (st.mode & 0o777).toString(8).padStart(3, '0'),
  };
}

export async function createDirectory(ops: FileOps, path: string) {
  const real = await resolveInSandbox(ops.sandbox, path, { mustExist: false, allowRoot: true });
  const existing = await stat(real).catch(() => null);
  if (existing && !existing.isDirectory())
    throw new FileOpError('not-a-directory', `${path} exists and is not a directory`);
  await mkdir(real, { recursive: true });
  return { path: displayPath(ops.sandbox, real), created: !existing };
}

/** A file-system error (it has a code), as opposed to an abort or a bug. */
const isSystemError = (err: unknown) => typeof (err as { code?: unknown } | null)?.code === 'string';

/**
 * Names below a folder matching a pattern (glob.ts), depth first, symlinks listed but never followed, as paths
 * relative to that folder. Stops at `maxResults` (truncated) or when `signal` aborts (the call's time budget),
 * between two directory entries. A folder below it that cannot be read is skipped and counted (`unreadable`,
 * with a note): the matches are then incomplete.
 */
export async function searchFiles(
  ops: FileOps,
  path: string,
  pattern: string,
  maxResults?: number,
  signal?: AbortSignal,
) {
  const limit = Math.min(maxResults ?? ops.limits.maxSearchResults, ops.limits.maxSearchResults);
  const matchesName = compileGlob(pattern);
  const start = await resolveInSandbox(ops.sandbox, path, { mustExist: true, allowRoot: true });
  if (!(await stat(start)).isDirectory())
    throw new FileOpError('not-a-directory', `${path} is not a directory`);
  const matches: string[] = [];
  let truncated = false;
  let unreadable = 0;
  const walk = async (dir: string): Promise<void> => {
    let handle: Awaited<ReturnType<typeof opendir>>;
    try {
      handle = await opendir(dir);
    } catch (err) {
      // The folder searched must be readable (its error says why); one below it is skipped and counted.
      if (dir === start || !isSystemError(err)) throw err;
      unreadable++;
      return;
    }
    try {
      for await (const entry of handle) {
        signal?.throwIfAborted();
        const full = join(dir, entry.name);
        if (matchesName(entry.name)) {
          if (matches.length >= limit) {
            truncated = true;
            return;
          }
          matches.push(relative(start, full));
        }
        // Symlinks are listed when they match but never followed: a link out of the roots leads nowhere.
        if (entry.isDirectory() && !entry.isSymbolicLink()) await walk(full);
        if (truncated) return;
      }
    } catch (err) {
      // A folder that fails while it is read (EIO, removed meanwhile) is incomplete: counted, like one unreadable.
      if (signal?.aborted || !isSystemError(err)) throw err;
      unreadable++;
    }
  };
  await walk(start);
  return {
    path: displayPath(ops.sandbox, start),
    pattern,
    matches,
    truncated,
    unreadable,
    ...(unreadable
      ? {
          note: `${unreadable} folder${unreadable === 1 ? '' : 's'} below ${displayPath(ops.sandbox, start)} could not be read and ${unreadable === 1 ? 'was' : 'were'} skipped: the matches may be incomplete`,
        }
      : {}),
  };
}

export async function editFile(
  ops: FileOps,
  path: string,
  edits: readonly Edit[],
  dryRun: boolean,
  signal?: AbortSignal,
) {
  // The edits' count and size before the file is read; the result's size before any diff is built, dryRun or not.
  checkEdits(edits, ops.limits.maxWriteBytes);
  const { real, content } = await readText(ops, path);
  const next = applyEdits(content, edits, path, ops.limits.maxWriteBytes);
  const shown = displayPath(ops.sandbox, real);
  const { diff, truncated } = unifiedDiff(shown, content, next);
  if (!dryRun) await atomicWrite(real, next, signal);
  return { path: shown, diff, diffTruncated: truncated, applied: !dryRun };
}
