// The settings of a query runner (query-runner.ts) and their defaults: what the server's environment variables
// (index.ts) set, resolved once, so the pool reads plain numbers.
import { DEFAULT_MAX_DATABASE_BYTES } from './db.ts';
import { QUICK_MS } from './quick-queries.ts';
import { DEFAULT_MAX_WORKER_RSS_BYTES } from './worker-memory.ts';

export interface QueryRunnerOptions {
  /** The database file (it must exist). */
  file: string;
  /** `read`: read-only connections for the query tool; `write`: read-write, for the execute tool. */
  mode?: 'read' | 'write';
  /** Time limit of one statement, from the moment its worker starts executing it (DATABASE_QUERY_TIMEOUT_MS). */
  timeoutMs: number;
  /** Worker processes kept ready (DATABASE_QUERY_WORKERS). */
  workers: number;
  /** At most this many when all are busy (DATABASE_QUERY_WORKERS_MAX; default 2 x workers). */
  maxWorkers?: number;
  /** A worker above `workers` retires after this long idle (default 30 s). */
  retireAfterMs?: number;
  /** How long a statement may wait for a free worker before it is refused (default 30 s). */
  maxWaitMs?: number;
  /** Time limit of a query on the worker kept for quick queries (default 1000 ms, at most timeoutMs). */
  quickLimitMs?: number;
  /** A query that ran in less is remembered as quick (default QUICK_MS). */
  quickMs?: number;
  /** A worker whose resident memory passes this while it runs a statement is killed (DATABASE_WORKER_MAX_RSS_BYTES; 0: no limit). */
  maxWorkerRssBytes?: number;
  /** `write`: the database file's size limit (DATABASE_MAX_BYTES). */
  maxDatabaseBytes?: number;
  log?: (line: string) => void;
}

/** The options with every default filled in. */
export type RunnerSettings = Required<Omit<QueryRunnerOptions, 'log'>> & Pick<QueryRunnerOptions, 'log'>;

export function runnerSettings(options: QueryRunnerOptions): RunnerSettings {
  const mode = options.mode ?? 'read';
  // One writer: SQLite runs one write at a time, and a second connection would wait for the first one's lock.
  const workers = mode === 'write' ? 1 : options.workers;
  return {
    mode,
    file: options.file,
    timeoutMs: options.timeoutMs,
    workers,
    maxWorkers: mode === 'write' ? 1 : Math.max(workers, options.maxWorkers ?? 2 * workers),
    maxWaitMs: options.maxWaitMs ?? 30_000,
    retireAfterMs: options.retireAfterMs ?? 30_000,
    quickLimitMs: Math.min(options.timeoutMs, options.quickLimitMs ?? 1000),
    quickMs: options.quickMs ?? QUICK_MS,
    maxWorkerRssBytes: options.maxWorkerRssBytes ?? DEFAULT_MAX_WORKER_RSS_BYTES,
    maxDatabaseBytes: options.maxDatabaseBytes ?? DEFAULT_MAX_DATABASE_BYTES,
    log: options.log,
  };
}
