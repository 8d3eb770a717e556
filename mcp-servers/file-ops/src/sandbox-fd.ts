// Binding every file operation to the sandbox AFTER it opens, so that no check-then-use race reaches outside
// (issue 22 item 3). path-rules.ts checks a path's real path; by the time a tool opens it, a user may have swapped
// one of its folders for a symlink (to /proc/self, to another user's folder), and O_NOFOLLOW guards only the last
// component. So each tool opens the folder it works in (O_DIRECTORY | O_NOFOLLOW), asks the kernel where that
// descriptor really is (/proc/self/fd/N), refuses it unless it is inside a root, and then names everything in it
// as /proc/self/fd/N/<name>: Linux resolves that through the open descriptor, so a later swap cannot redirect it.
// Files are opened the same way (O_NOFOLLOW) and checked again on their own descriptor. Linux only: without
// /proc/self/fd the server refuses to start (requireProcFd).
import { constants, existsSync, lstatSync, readlinkSync } from 'node:fs';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { basename, dirname, join, relative, sep } from 'node:path';
import { PathRuleError, resolveInSandbox, type Sandbox } from './path-rules.ts';

export const PROC_FD = '/proc/self/fd';

/** Refuses to start where the descriptors cannot be asked where they are (not Linux, or no /proc). */
export function requireProcFd(procFd = PROC_FD): void {
  if (!existsSync(procFd)) {
    throw new Error(
      `${procFd} does not exist: mcp-file-ops binds each file operation to its sandbox through it, so it runs on Linux with /proc mounted only (run it in its container)`,
    );
  }
}

/** A folder or file opened and found inside the sandbox: its descriptor and its real path at that moment. */
export interface Bound {
  fh: FileHandle;
  real: string;
}

/**
 * `name` inside the open folder `dir`, as a path the kernel resolves through the descriptor (like openat).
 * `name` is one component: not empty, no `/`, not `.` or `..`.
 */
export function at(dir: Bound, name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0'))
    throw new Error(`not a single path component: ${JSON.stringify(name)}`);
  return `${PROC_FD}/${dir.fh.fd}/${name}`;
}

/** The open folder itself, as a path through its descriptor (for opendir). */
export const self = (dir: Bound) => `${PROC_FD}/${dir.fh.fd}`;

/** True when `path` is inside one of the roots (or is one, when `allowRoot`). A string comparison only. */
export function insideRoots(roots: readonly string[], path: string, allowRoot: boolean): boolean {
  return roots.some((root) =>
    path === root ? allowRoot : path.startsWith(root.endsWith(sep) ? root : root + sep),
  );
}

const codeOf = (err: unknown) => (err as { code?: unknown } | null)?.code;

/**
 * Where the descriptor of `fh` really is, from the kernel; refused (and closed) unless inside the sandbox. The
 * message names the path as the client gave it (`shown`), never where it led.
 */
export function bind(sandbox: Sandbox, fh: FileHandle, shown: string, allowRoot: boolean): Bound {
  let real: string;
  try {
    real = readlinkSync(`${PROC_FD}/${fh.fd}`);
  } catch (err) {
    fh.close().catch(() => {});
    // A path longer than PATH_MAX has no name the kernel can give: nothing to check it against.
    throw new PathRuleError(
      'unverifiable',
      `where ${shown} was opened cannot be checked (${String(codeOf(err))}): refused`,
    );
  }
  if (!insideRoots(sandbox.roots, real, allowRoot)) {
    fh.close().catch(() => {});
    throw new PathRuleError(
      'symlink-escape',
      `${shown} led outside the allowed roots when it was opened (a symlink in its path, or one swapped in while the call ran)`,
    );
  }
  return { fh, real };
}

/** A system error of an operation through a descriptor, re-said with the client's path (not /proc/self/fd/N). */
export function sayError(err: unknown, shown: string, what: string): unknown {
  const code = codeOf(err);
  if (typeof code !== 'string') return err;
  if (code === 'ENOENT') return new PathRuleError('not-found', `${shown} does not exist`);
  if (code === 'ELOOP')
    return new PathRuleError(
      'symlink-escape',
      `${shown} is a symlink (swapped in while the call ran): it is not followed`,
    );
  return Object.assign(new Error(`${code}: cannot ${what} ${shown}`), { code });
}

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

/** ENOTDIR from O_DIRECTORY | O_NOFOLLOW: a file, or a symlink swapped in (lstat only chooses the words). */
function notADirectory(path: string, shown: string): PathRuleError {
  if (lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink())
    return new PathRuleError(
      'symlink-escape',
      `${shown} is a symlink (swapped in while the call ran): not followed`,
    );
  return new PathRuleError('not-a-directory', `${shown} is not a directory`);
}

async function openDirPath(sandbox: Sandbox, path: string, shown: string): Promise<Bound> {
  let fh: FileHandle;
  try {
    fh = await open(path, DIR_FLAGS);
  } catch (err) {
    if (codeOf(err) === 'ENOTDIR') throw notADirectory(path, shown);
    throw sayError(err, shown, 'open the folder');
  }
  return bind(sandbox, fh, shown, true);
}

/** The folder at `real` (a path resolveInSandbox returned), opened and bound; a root itself is allowed. */
export const openDirectory = (sandbox: Sandbox, real: string, shown: string) =>
  openDirPath(sandbox, real, shown);

/** The folder `name` inside the bound folder `dir`, opened through it and bound. */
export const openDirectoryAt = (sandbox: Sandbox, dir: Bound, name: string, shown: string) =>
  openDirPath(sandbox, at(dir, name), shown);

/** The folder holding `real` (not a root), opened and bound, and the name of `real` in it. */
export async function openParent(
  sandbox: Sandbox,
  real: string,
  shown: string,
): Promise<{ dir: Bound; name: string }> {
  if (sandbox.roots.includes(real))
    throw new PathRuleError('root-itself', `${shown} is a root directory itself`);
  return { dir: await openDirectory(sandbox, dirname(real), `the folder of ${shown}`), name: basename(real) };
}

/**
 * The file `name` in the bound folder `dir`, opened with `flags` plus O_NOFOLLOW (a symlink is never opened), and
 * bound. Checking its type (fstat) is the caller's: it knows what it expects.
 */
export async function openFileAt(
  sandbox: Sandbox,
  dir: Bound,
  name: string,
  shown: string,
  flags: number,
  mode?: number,
): Promise<Bound> {
  let fh: FileHandle;
  try {
    fh = await open(at(dir, name), flags | constants.O_NOFOLLOW, mode);
  } catch (err) {
    throw sayError(err, shown, 'open');
  }
  return bind(sandbox, fh, shown, false);
}

/**
 * The folder `real` (inside a root, no symlinks: a path resolveInSandbox returned) and every missing folder on the
 * way, made one at a time from the root, each through its bound parent: never through a path a swap can redirect.
 * Returns the folder, bound, and whether any folder was made.
 */
export async function makeDirectories(
  sandbox: Sandbox,
  real: string,
  shown: string,
  signal?: AbortSignal,
): Promise<{ dir: Bound; created: boolean }> {
  const root = [...sandbox.roots]
    .sort((a, b) => b.length - a.length)
    .find((r) => real === r || insideRoots([r], real, false));
  if (root === undefined) throw new PathRuleError('outside-roots', `${shown} is outside the allowed roots`);
  let dir = await openDirectory(sandbox, root, shown);
  let created = false;
  try {
    const names = relative(root, real).split(sep).filter(Boolean);
    for (const [i, name] of names.entries()) {
      const here = i === names.length - 1 ? shown : `${shown}: its folder ${join(dir.real, name)}`;
      let next: Bound;
      try {
        next = await openDirectoryAt(sandbox, dir, name, here);
      } catch (err) {
        if ((err as PathRuleError).rule !== 'not-found') throw err;
        signal?.throwIfAborted();
        try {
          await mkdir(at(dir, name));
          created = true;
        } catch (e) {
          if (codeOf(e) !== 'EEXIST') throw sayError(e, here, 'make the folder');
        }
        next = await openDirectoryAt(sandbox, dir, name, here);
      }
      await dir.fh.close();
      dir = next;
    }
  } catch (err) {
    await dir.fh.close();
    throw err;
  }
  return { dir, created };
}

/** A folder `path` as the client gave it (it must exist; a root too): checked (path-rules.ts), opened, bound. */
export async function openFolder(sandbox: Sandbox, path: string): Promise<Bound> {
  const real = await resolveInSandbox(sandbox, path, { mustExist: true, allowRoot: true });
  return openDirectory(sandbox, real, path);
}

/** Runs `fn` on a bound folder or file, then closes it, whatever happened. */
export async function using<T>(bound: Bound, fn: (b: Bound) => Promise<T>): Promise<T> {
  try {
    return await fn(bound);
  } finally {
    await bound.fh.close();
  }
}
