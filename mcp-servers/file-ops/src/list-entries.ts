// The bounded listing behind list_directory (lib.ts): a folder of a million entries must cost neither memory nor
// the server's file operations. At most `limit` names are read from the directory stream, one at a time, and
// described with lstat (a symlink is described, never followed) at most LSTAT_CONCURRENCY at a time: libuv has 4
// threads for every file operation of the server.
import { lstat, opendir } from 'node:fs/promises';
import { join } from 'node:path';

/** lstat calls list_directory has in flight at once: libuv has 4 threads for every file operation of the server. */
const LSTAT_CONCURRENCY = 4;

export type EntryType = 'file' | 'directory' | 'symlink' | 'other';

export function typeOf(st: {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}): EntryType {
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'directory';
  if (st.isFile()) return 'file';
  return 'other';
}

/** `fn` over `items`, at most `concurrency` at a time, in order; stops starting new ones once `signal` aborts. */
export async function mapBounded<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<R>,
  signal?: AbortSignal,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      signal?.throwIfAborted();
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

/** Sorts by UTF-16 code units: the same order everywhere, unlike localeCompare, and cheap. */
const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The entries of the folder `dir` (a real path), sorted by name: at most `limit`, the first read (then
 * `truncated`), stopping when `signal` aborts (the call's time budget). An entry gone before its lstat is `other`.
 */
export async function listEntries(dir: string, limit: number, signal?: AbortSignal) {
  const names: { name: string }[] = [];
  let truncated = false;
  // Leaving the loop (break or throw) closes the directory.
  for await (const entry of await opendir(dir)) {
    signal?.throwIfAborted();
    if (names.length >= limit) {
      truncated = true;
      break;
    }
    names.push({ name: entry.name });
  }
  names.sort(byName);
  const entries = await mapBounded(
    names,
    LSTAT_CONCURRENCY,
    async ({ name }) => {
      const s = await lstat(join(dir, name)).catch(() => null);
      return { name, type: s ? typeOf(s) : ('other' as EntryType), size: s?.isFile() ? s.size : 0 };
    },
    signal,
  );
  return { entries, truncated };
}
