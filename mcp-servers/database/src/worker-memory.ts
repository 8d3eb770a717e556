// The query workers' memory limit (DATABASE_WORKER_MAX_RSS_BYTES). SQLite builds computed values (zeroblob,
// randomblob, printf) in the worker's memory, up to about 512 MiB each (better-sqlite3 sets SQLITE_LIMIT_LENGTH to
// V8's largest string) and several per row; better-sqlite3 offers no sqlite3_limit, and its SQLite keeps no memory
// statistics, so PRAGMA hard_heap_limit is not enforced. Hence this watch: while a worker runs a statement its
// resident size is read from /proc (Linux) every RSS_CHECK_MS, and over the limit the runner (query-runner.ts) kills
// it (`memory-limit`) and starts another. A worker still over 3/4 of the limit after its statement is replaced too
// (the C heap keeps some of what it freed).
import { existsSync, readFileSync } from 'node:fs';
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';

/** Default of DATABASE_WORKER_MAX_RSS_BYTES. */
export const DEFAULT_MAX_WORKER_RSS_BYTES = 256 * 1024 * 1024;
/** How often a busy worker's memory is read. */
export const RSS_CHECK_MS = 50;

/** A process's resident memory in bytes, from /proc (Linux); undefined elsewhere or when it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/** The limit in force: `maxBytes` (0: none), or none where /proc cannot be read, which `log` is told. */
export function workerRssLimit(
  maxBytes: number,
  log?: (line: string) => void,
  canRead = existsSync('/proc/self/status'),
): number {
  if (maxBytes && !canRead) log?.('no /proc on this system: the query workers have no memory limit');
  return canRead ? maxBytes : 0;
}

/**
 * Reads `pid`'s memory every RSS_CHECK_MS while it runs `what` (the query, the statement); over `limit`, calls
 * `over` with the `memory-limit` error. Returns the stop function. With no limit (0), watches nothing.
 */
export function watchMemory(
  pid: number,
  limit: number,
  what: string,
  over: (err: RuleError) => void,
  read: (pid: number) => number | undefined = residentBytes,
): () => void {
  if (!limit) return () => {};
  const timer = setInterval(() => {
    const rss = read(pid);
    if (rss === undefined || rss <= limit) return;
    over(
      new RuleError(
        'memory-limit',
        `${what} took its worker's memory to ${rss} bytes, past the limit of ${limit} bytes (DATABASE_WORKER_MAX_RSS_BYTES), and was stopped: values it computes (zeroblob, randomblob, printf, group_concat) are built in memory; compute smaller ones`,
      ),
    );
  }, RSS_CHECK_MS);
  return () => clearInterval(timer);
}

/** Whether a worker done with its statement still holds over 3/4 of `limit` (0: no limit): it is replaced. */
export function holdsTooMuch(
  pid: number,
  limit: number,
  read: (pid: number) => number | undefined = residentBytes,
): boolean {
  const rss = limit ? read(pid) : undefined;
  return rss !== undefined && rss > (limit * 3) / 4;
}
