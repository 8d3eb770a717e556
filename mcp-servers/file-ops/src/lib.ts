// File operations behind the tools. Every path goes through path-rules.ts first; expected failures throw a
// FileOpError (or PathRuleError) naming the rule, which the tool layer turns into an isError result.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, opendir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { DEFAULT_TOOL_TIMEOUT_MS } from '@claude-code-telemetry/mcp-common/time-budget';
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import { compileGlob } from './glob.ts';
import { resolveInSandbox, type Sandbox } from './path-rules.ts';
import { unifiedDiff } from './unified-diff.ts';

export type FileOpRule =
  | 'too-large'
  | 'not-a-file'
  | 'not-a-directory'
  | 'is-directory'
  | 'parent-missing'
  | 'edit-not-found'
  | 'edit-ambiguous'
  | 'not-utf8';

export class FileOpError extends RuleError<FileOpRule> {}

export interface Limits {
  maxReadBytes: number;
  maxWriteBytes: number;
  maxSearchResults: number;
  /** Time budget of one tool call (MCP_TOOL_TIMEOUT_MS). */
  toolTimeoutMs: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxReadBytes: 1024 * 1024,
  maxWriteBytes: 1024 * 1024,
  maxSearchResults: 200,
  toolTimeoutMs: DEFAULT_TOOL_TIMEOUT_MS,
};

export interface FileOps {
  sandbox: Sandbox;
  limits: Limits;
}

type EntryType = 'file' | 'directory' | 'symlink' | 'other';

function typeOf(st: { isFile(): boolean; isDirectory(): boolean; isSymbolicLink(): boolean }): EntryType {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'directory';
  if (st.isFile()) return 'file';
  return 'other';
}

export async function readTextFile(ops: FileOps, path: string) {
  const real = await resolveInSandbox(ops.sandbox, path, { mustExist: true, allowRoot: true });
  // O_NOFOLLOW: if the last component was swapped for a symlink after the check, the open fails.
  const fh = await open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    const st = await fh.stat();
    if (st.isDirectory()) throw new FileOpError('is-directory', `${path} is a directory: use list_directory`);
    if (!st.isFile()) throw new FileOpError('not-a-file', `${path} is not a regular file`);
    if (st.size > ops.limits.maxReadBytes) {
      throw new FileOpError(
        'too-large',
        `${path} is ${st.size} bytes, over the read limit of ${ops.limits.maxReadBytes} bytes`,
      );
    }
    const buf = await fh.readFile();
    const content = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(buf);
    return { path: real, size: st.size, content };
  } catch (err) {
    if (err instanceof TypeError) throw new FileOpError('not-utf8', `${path} is not UTF-8 text`);
    throw err;
  } finally {
    await fh.close();
  }
}

/** Atomic write: a new temp file (O_EXCL, so never through a symlink) in the target's folder, then rename. */
async function atomicWrite(target: string, content: string): Promise<void> {
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    // rename replaces a symlink at the target itself; it never writes through it.
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function writeTextFile(ops: FileOps, path: string, content: string, createDirectories = false) {
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
  const parent = await stat(dirname(real)).catch(() => null);
  if (!parent) {
    if (!createDirectories) {
      throw new FileOpError(
        'parent-missing',
        `the folder of ${path} does not exist (set createDirectories to make it)`,
      );
    }
    await mkdir(dirname(real), { recursive: true });
  } else if (!parent.isDirectory()) {
    throw new FileOpError('not-a-directory', `the parent of ${path} is not a directory`);
  }
  await atomicWrite(real, content);
  return { path: real, bytesWritten: bytes, created: !existing };
}

export async function listDirectory(ops: FileOps, path: string) {
  const real = await resolveInSandbox(ops.sandbox, path, { mustExist: true, allowRoot: true });
  const st = await stat(real);
  if (!st.isDirectory()) throw new FileOpError('not-a-directory', `${path} is not a directory`);
  const entries = await readdir(real, { withFileTypes: true });
  const out = await Promise.all(
    entries
      .sort((a, b) => a.name.localeCompare(b.name))
      .map(async (e) => {
        const s = await lstat(join(real, e.name)).catch(() => null);
        return { name: e.name, type: s ? typeOf(s) : ('other' as EntryType), size: s?.isFile() ? s.size : 0 };
      }),
  );
  return { path: real, entries: out };
}

export async function fileInfo(ops: FileOps, path: string) {
  const real = await resolveInSandbox(ops.sandbox, path, { mustExist: true, allowRoot: true });
  const st = await stat(real);
  return {
    path: real,
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
  return { path: real, created: !existing };
}

/**
 * Names below a folder matching a pattern (glob.ts), depth first, symlinks listed but never followed. Stops at
 * `maxResults` (truncated) or when `signal` aborts (the call's time budget), between two directory entries.
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
  const walk = async (dir: string): Promise<void> => {
    const handle = await opendir(dir).catch(() => null);
    if (!handle) return;
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
  };
  await walk(start);
  return { path: start, pattern, matches, truncated };
}

export interface Edit {
  oldText: string;
  newText: string;
}

export async function editFile(ops: FileOps, path: string, edits: Edit[], dryRun: boolean) {
  const { path: real, content } = await readTextFile(ops, path);
  let next = content;
  edits.forEach((edit, i) => {
    const first = next.indexOf(edit.oldText);
    if (edit.oldText === '' || first < 0) {
      throw new FileOpError('edit-not-found', `edit ${i + 1}: oldText not found in ${path}`);
    }
    if (next.indexOf(edit.oldText, first + 1) >= 0) {
      throw new FileOpError(
        'edit-ambiguous',
        `edit ${i + 1}: oldText occurs more than once in ${path}; add context`,
      );
    }
    next = next.slice(0, first) + edit.newText + next.slice(first + edit.oldText.length);
  });
  const diff = unifiedDiff(real, content, next);
  if (!dryRun) {
    const bytes = Buffer.byteLength(next, 'utf8');
    if (bytes > ops.limits.maxWriteBytes) {
      throw new FileOpError(
        'too-large',
        `edited file is ${bytes} bytes, over the write limit of ${ops.limits.maxWriteBytes} bytes`,
      );
    }
    await atomicWrite(real, next);
  }
  return { path: real, diff, applied: !dryRun };
}
