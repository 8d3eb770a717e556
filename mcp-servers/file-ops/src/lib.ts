// File operations behind the tools. Every path goes through path-rules.ts first (its checks and clear refusals),
// then is opened and bound to the sandbox by sandbox-fd.ts, and used only through what was opened: no path is
// looked up again after its check (issue 22 item 3). Expected failures throw a FileOpError (or PathRuleError,
// EditRuleError) naming the rule, which the tool layer turns into an isError result. Results name paths relative
// to their root (displayPath), never where the roots are.
// Writes go through atomic-write.ts; list_directory's bounded listing is list-entries.ts.
import { constants, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DEFAULT_MAX_RESPONSE_BYTES } from '@claude-code-telemetry/mcp-common/instrument';
import { DEFAULT_TOOL_TIMEOUT_MS } from '@claude-code-telemetry/mcp-common/time-budget';
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import { atomicWrite } from './atomic-write.ts';
import { readAtMost } from './bounded-read.ts';
import { applyEdits, checkEdits, type Edit } from './edits.ts';
import { listEntries, typeOf } from './list-entries.ts';
import { displayPath, PathRuleError, resolveInSandbox, type Sandbox } from './path-rules.ts';
import {
  at,
  type Bound,
  makeDirectories,
  openDirectory,
  openFileAt,
  openFolder,
  openParent,
  sayError,
  self,
  using,
} from './sandbox-fd.ts';
import { unifiedDiff } from './unified-diff.ts';

export type { Edit } from './edits.ts';
/** search_files lives in its own module; the tools import every operation from here. */
export { searchFiles } from './search-files.ts';

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
  if (st.isSymbolicLink())
    throw new PathRuleError(
      'symlink-escape',
      `${path} is a symlink (swapped in while the call ran): not followed`,
    );
  if (!st.isFile()) {
    throw new FileOpError(
      'not-a-file',
      `${path} is not a regular file (a FIFO, socket or device): only regular files are read or edited`,
    );
  }
}

/** Opens the folder holding a file `path` the client named (it must exist), bound; the root is a folder. */
async function openFolderOf(ops: FileOps, path: string) {
  const real = await resolveInSandbox(ops.sandbox, path, { mustExist: true, allowRoot: true });
  if (ops.sandbox.roots.includes(real))
    throw new FileOpError('is-directory', `${path} is a directory: use list_directory`);
  return openParent(ops.sandbox, real, path);
}

/** The text of the file `name` in the bound folder `dir`: its real path and content. */
async function readTextIn(
  ops: FileOps,
  dir: Bound,
  name: string,
  path: string,
): Promise<{ real: string; size: number; content: string }> {
  // Checked before the open, so a FIFO or device is never opened at all ...
  mustBeRegularFile(
    await lstat(at(dir, name)).catch((err) => Promise.reject(sayError(err, path, 'read'))),
    path,
  );
  // ... and again on the open handle, should it have been swapped meanwhile: O_NONBLOCK makes the open of a FIFO
  // return at once (without it, the open waits for a writer on one of libuv's 4 threads: 4 such calls stall every
  // file operation of the server); openFileAt adds O_NOFOLLOW (a symlink is not opened) and binds the file.
  const file = await openFileAt(ops.sandbox, dir, name, path, constants.O_RDONLY | constants.O_NONBLOCK);
  return using(file, async ({ fh, real }) => {
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
    }
  });
}

export async function readTextFile(ops: FileOps, path: string) {
  const { dir, name } = await openFolderOf(ops, path);
  const { real, size, content } = await using(dir, () => readTextIn(ops, dir, name, path));
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
  const folder = `the folder of ${path}`;
  let dir: Bound;
  if (createDirectories) {
    signal?.throwIfAborted();
    ({ dir } = await makeDirectories(ops.sandbox, dirname(real), folder, signal));
  } else {
    dir = await openDirectory(ops.sandbox, dirname(real), folder).catch((err: unknown) => {
      if ((err as PathRuleError).rule === 'not-found') {
        throw new FileOpError(
          'parent-missing',
          `the folder of ${path} does not exist (set createDirectories to make it)`,
        );
      }
      if ((err as PathRuleError).rule === 'not-a-directory')
        throw new FileOpError('not-a-directory', `the parent of ${path} is not a directory`);
      throw err;
    });
  }
  return using(dir, async () => {
    const name = basename(real);
    const existing = await lstat(at(dir, name)).catch(() => null);
    if (existing?.isDirectory()) throw new FileOpError('is-directory', `${path} is a directory`);
    // A symlink is replaced (never written through); a FIFO, socket or device is left alone.
    if (existing && !existing.isFile() && !existing.isSymbolicLink()) {
      throw new FileOpError(
        'not-a-file',
        `${path} is not a regular file (a FIFO, socket or device): it is not replaced`,
      );
    }
    await atomicWrite(ops.sandbox, dir, name, content, signal, path);
    return {
      path: displayPath(ops.sandbox, join(dir.real, name)),
      bytesWritten: bytes,
      created: !existing,
    };
  });
}

/**
 * The entries of a folder, sorted by name: at most `maxListEntries` (then `truncated`, with a note), stopping
 * when `signal` aborts (the call's time budget). The listing: list-entries.ts.
 */
export async function listDirectory(ops: FileOps, path: string, signal?: AbortSignal) {
  const dir = await openFolder(ops.sandbox, path);
  const limit = ops.limits.maxListEntries;
  // Listed and described through the folder's descriptor (self, at): a swap of the path meanwhile is not followed.
  const { entries, truncated } = await using(dir, () => listEntries(self(dir), limit, signal));
  return {
    path: displayPath(ops.sandbox, dir.real),
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
  let st: Stats;
  let where: string;
  if (ops.sandbox.roots.includes(real)) {
    const root = await openDirectory(ops.sandbox, real, path);
    st = await using(root, () => root.fh.stat());
    where = root.real;
  } else {
    // lstat, in its bound folder: nothing is opened (a FIFO or device is only described), and a symlink swapped
    // in meanwhile is described as a symlink, not followed.
    const { dir, name } = await openParent(ops.sandbox, real, path);
    st = await using(dir, () =>
      lstat(at(dir, name)).catch((err) => Promise.reject(sayError(err, path, 'describe'))),
    );
    where = join(dir.real, name);
  }
  return {
    path: displayPath(ops.sandbox, where),
    type: typeOf(st),
    size: st.size,
    modified: st.mtime.toISOString(),
    created: st.birthtime.toISOString(),
    permissions: (st.mode & 0o777).toString(8).padStart(3, '0'),
  };
}

export async function createDirectory(ops: FileOps, path: string) {
  const real = await resolveInSandbox(ops.sandbox, path, { mustExist: false, allowRoot: true });
  // A folder on the way that is a file is refused (not-a-directory), naming it.
  const { dir, created } = await makeDirectories(ops.sandbox, real, path);
  await dir.fh.close();
  return { path: displayPath(ops.sandbox, dir.real), created };
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
  const { dir, name } = await openFolderOf(ops, path);
  // Read and written back in the same bound folder.
  return using(dir, async () => {
    const { real, content } = await readTextIn(ops, dir, name, path);
    const next = applyEdits(content, edits, path, ops.limits.maxWriteBytes);
    const shown = displayPath(ops.sandbox, real);
    const { diff, truncated } = unifiedDiff(shown, content, next);
    if (!dryRun) await atomicWrite(ops.sandbox, dir, name, next, signal, path);
    return { path: shown, diff, diffTruncated: truncated, applied: !dryRun };
  });
}
