// search_files: names below a folder matching a pattern (glob.ts), walked folder by folder, each opened through
// its bound parent and bound itself (sandbox-fd.ts): a folder swapped for a symlink meanwhile is never followed.
import { opendir } from 'node:fs/promises';
import { join } from 'node:path';
import { compileGlob } from './glob.ts';
import type { FileOps } from './lib.ts';
import { displayPath, PathRuleError } from './path-rules.ts';
import { type Bound, openDirectoryAt, openFolder, sayError, self, using } from './sandbox-fd.ts';

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
  const start = await openFolder(ops.sandbox, path);
  const matches: string[] = [];
  let truncated = false;
  let unreadable = 0;
  /** Lists the bound folder `dir` (`rel` below the start), then each folder in it, opened through it and bound. */
  const walk = async (dir: Bound, rel: string): Promise<void> => {
    let handle: Awaited<ReturnType<typeof opendir>>;
    try {
      handle = await opendir(self(dir));
    } catch (err) {
      // The folder searched must be readable (its error says why); one below it is skipped and counted.
      if (dir === start || !isSystemError(err)) throw sayError(err, path, 'list');
      unreadable++;
      return;
    }
    try {
      for await (const entry of handle) {
        signal?.throwIfAborted();
        const below = rel ? join(rel, entry.name) : entry.name;
        if (matchesName(entry.name)) {
          if (matches.length >= limit) {
            truncated = true;
            return;
          }
          matches.push(below);
        }
        // Symlinks are listed when they match but never followed: a link out of the roots leads nowhere. A folder
        // swapped for one meanwhile is not opened (O_NOFOLLOW), nor one found outside (bound): skipped and counted.
        if (entry.isDirectory() && !entry.isSymbolicLink()) {
          let sub: Bound;
          try {
            sub = await openDirectoryAt(ops.sandbox, dir, entry.name, join(path, below));
          } catch (err) {
            if (signal?.aborted || !(isSystemError(err) || err instanceof PathRuleError)) throw err;
            unreadable++;
            continue;
          }
          await using(sub, () => walk(sub, below));
        }
        if (truncated) return;
      }
    } catch (err) {
      // A folder that fails while it is read (EIO, removed meanwhile) is incomplete: counted, like one unreadable.
      if (signal?.aborted || !isSystemError(err)) throw err;
      unreadable++;
    }
  };
  await using(start, () => walk(start, ''));
  return {
    path: displayPath(ops.sandbox, start.real),
    pattern,
    matches,
    truncated,
    unreadable,
    ...(unreadable
      ? {
          note: `${unreadable} folder${unreadable === 1 ? '' : 's'} below ${displayPath(ops.sandbox, start.real)} could not be read and ${unreadable === 1 ? 'was' : 'were'} skipped: the matches may be incomplete`,
        }
      : {}),
  };
}
