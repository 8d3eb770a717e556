// Runs statements in a pool of warm worker processes (query-worker.ts), one statement per worker at a time, so a
// slow query holds up only its own worker, never the server or the other clients' queries.
// - The rules (sql-rules.ts) run here first, on a read-only connection of this process: a refused statement never
//   waits for a worker.
// - Workers are started ahead of time and load the schema before they take work; the time limit starts when the
//   worker says it is executing the statement, so neither a worker's start-up nor a wait for a free worker counts.
// - A statement over its time limit (or past the tool call's budget) is stopped for certain: its worker is killed
//   and a new one started in its place. SQLite cannot be interrupted from JavaScript, hence processes, not threads.
// - A spare: when every worker is busy, another is started ahead of need (up to maxWorkers), so a fast query
//   finds a warm worker even while slow ones hold the others; a worker above `workers` retires after it has been
//   idle for a while. Only when maxWorkers are busy (maxWorkers - 1 for a query that is not quick, see below)
//   does a statement wait (at most maxWaitMs).
// - The last worker is kept for quick queries: with maxWorkers - 1 busy, the next one goes only to a query that
//   cannot loop (straight-line bytecode: SELECT 1, a lookup by key) or whose SQL ran in under QUICK_MS last time,
//   and there it has a short time limit (quickLimitMs; past it: `query-busy`). So slow queries, from one client or
//   many, never hold every worker: a quick query does not wait for a time limit to free one.
// - Memory: while a worker runs a statement its resident size is read from /proc (Linux) every RSS_CHECK_MS;
//   over maxWorkerRssBytes the worker is killed (`memory-limit`) and replaced. SQLite builds computed values
//   (zeroblob, randomblob, printf) in the worker's memory, up to about 512 MiB each (better-sqlite3 sets
//   SQLITE_LIMIT_LENGTH to V8's largest string) and several per row; better-sqlite3 offers no sqlite3_limit, and
//   its SQLite keeps no memory statistics, so PRAGMA hard_heap_limit is not enforced. A worker still
//   over 3/4 of the limit after its statement is replaced too (the C heap keeps some of what it freed).
// - A time limit that expires while its result is already waiting to be read (this process stalled past the
//   limit) does not count: the expiry waits one turn of the event loop, in which pending results are read.
// The write tool has a runner of its own with one read-write worker (SQLite has one writer at a time anyway).
import { type ChildProcess, fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import Database from 'better-sqlite3';
import { checkWrite, DEFAULT_MAX_DATABASE_BYTES, type WriteResult } from './db.ts';
import type { QueryResult } from './query.ts';
import type { WorkerJob, WorkerRequest } from './query-worker.ts';
import type { ResultLimits } from './result-limits.ts';
import { inspectReadQuery, type SqlParam } from './sql-rules.ts';

const WORKER = fileURLToPath(new URL('./query-worker.ts', import.meta.url));

/** Default of DATABASE_WORKER_MAX_RSS_BYTES. */
export const DEFAULT_MAX_WORKER_RSS_BYTES = 256 * 1024 * 1024;
/** How often a busy worker's memory is read. */
const RSS_CHECK_MS = 50;
/** A query that ran in less is quick: its SQL may use the worker kept for quick queries next time. */
export const QUICK_MS = 100;
/** How many quick queries' SQL is remembered. */
const QUICK_REMEMBERED = 1000;

/** A process's resident memory in bytes, from /proc (Linux); undefined elsewhere or when it is gone. */
export function residentBytes(pid: number): number | undefined {
  try {
    const kb = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Number(kb) * 1024;
  } catch {
    return undefined;
  }
}

/**
 * Calls `expire` `ms` from now, unless cancelled first. The expiry waits for the check phase of the event loop
 * (setImmediate): I/O that arrived while this process was stalled past `ms`, such as a worker's result, is read in
 * the poll phase before it, and settling cancels the expiry. Returns the cancel function.
 */
export function deadline(ms: number, expire: () => void): () => void {
  let immediate: ReturnType<typeof setImmediate> | undefined;
  const timer = setTimeout(() => {
    immediate = setImmediate(expire);
  }, ms);
  return () => {
    clearTimeout(timer);
    if (immediate) clearImmediate(immediate);
  };
}

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

interface Worker {
  child: ChildProcess;
  ready: boolean;
  busy: boolean;
  dead: boolean;
  /** Set while an extra worker waits idle to retire. */
  retire?: ReturnType<typeof setTimeout>;
}

interface Waiter {
  /** May run on the worker kept for quick queries. */
  quick: boolean;
  take(worker: Worker, onReserve: boolean): void;
  fail(err: Error): void;
}

type Reply = { id: number; started?: true; result?: unknown; error?: { rule?: string; message: string } };

export class QueryRunner {
  private readonly o: Required<Omit<QueryRunnerOptions, 'log'>> & Pick<QueryRunnerOptions, 'log'>;

  private readonly checker: Database.Database;
  private readonly workers = new Set<Worker>();
  private readonly waiting: Waiter[] = [];
  private nextId = 1;
  private closed = false;
  private failedStarts = 0;
  /** Callers of whenReady() waiting for the first ready worker. */
  private readonly readyWaiters: (() => void)[] = [];
  /** How the last worker ended (named in the error when no worker is ready in time). */
  private lastExit = '';
  /** SQL of queries that ran in under QUICK_MS, oldest first. */
  private readonly quickSql = new Set<string>();
  /** Whether the last worker is kept for quick queries (a read pool of 2 or more). */
  private readonly reserve: boolean;
  /** The memory limit, when it can be read (Linux). */
  private readonly rssLimit: number;

  constructor(options: QueryRunnerOptions) {
    const mode = options.mode ?? 'read';
    // One writer: SQLite runs one write at a time, and a second connection would wait for the first one's lock.
    const workers = mode === 'write' ? 1 : options.workers;
    this.o = {
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
    this.reserve = mode === 'read' && this.o.maxWorkers >= 2;
    const canRead = existsSync('/proc/self/status');
    if (this.o.maxWorkerRssBytes && !canRead) {
      options.log?.('no /proc on this system: the query workers have no memory limit');
    }
    this.rssLimit = canRead ? this.o.maxWorkerRssBytes : 0;
    this.checker = new Database(this.o.file, { readonly: true, fileMustExist: true });
    for (let i = 0; i < this.o.workers; i++) this.spawn();
  }

  /** A read-only query (the runner must be a `read` one). */
  async query(
    sql: string,
    params: SqlParam[] | undefined,
    limits: ResultLimits,
    signal?: AbortSignal,
  ): Promise<QueryResult> {
    if (this.o.mode !== 'read') throw new Error('query() needs a read runner');
    const { straightLine } = inspectReadQuery(this.checker, sql, params);
    const quick = straightLine || this.quickSql.has(sql);
    return this.submit({ kind: 'read', sql, params, limits }, signal, quick) as Promise<QueryResult>;
  }

  /** A write statement (the runner must be a `write` one). */
  async execute(sql: string, params: SqlParam[] | undefined, signal?: AbortSignal): Promise<WriteResult> {
    if (this.o.mode !== 'write') throw new Error('execute() needs a write runner');
    checkWrite(this.checker, sql, params);
    return this.submit({ kind: 'write', sql, params }, signal, false) as Promise<WriteResult>;
  }

  /**
   * Resolves once a worker is ready to take a statement. A statement sent before that waits for a worker's start
   * like any other wait (at most maxWaitMs); callers that must not count start-up (the tests) wait here first.
   */
  whenReady(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the query runner is closed'));
    if ([...this.workers].some((w) => w.ready && !w.dead)) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Process ids of the live workers (tests: a killed worker is replaced). */
  pids(): number[] {
    return [...this.workers].filter((w) => !w.dead).map((w) => w.child.pid as number);
  }

  close(): void {
    this.closed = true;
    for (const w of this.workers) {
      w.dead = true;
      w.child.kill('SIGKILL');
    }
    this.workers.clear();
    for (const w of this.waiting.splice(0)) w.fail(new Error('the query runner was closed'));
    this.checker.close();
  }

  private spawn(): void {
    const args = [this.o.file, this.o.mode, String(this.o.maxDatabaseBytes)];
    const child = fork(WORKER, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const worker: Worker = { child, ready: false, busy: false, dead: false };
    this.workers.add(worker);
    child.on('message', (m: { ready?: true }) => {
      if (!m.ready) return;
      worker.ready = true;
      this.failedStarts = 0;
      for (const resolve of this.readyWaiters.splice(0)) resolve();
      this.dispatch();
    });
    child.once('exit', (code, signal) => {
      this.lastExit = `worker ${child.pid} exited (${code ?? signal})${worker.busy ? ' while running a statement' : ''}${worker.ready ? '' : ' before it was ready'}`;
      worker.dead = true;
      clearTimeout(worker.retire);
      this.workers.delete(worker);
      if (this.closed) return;
      if (worker.ready) {
        // Keep `workers` ready, and a spare if work is waiting or every worker is busy.
        if (this.workers.size < this.o.workers) this.spawn();
        else this.ensureSpare();
        return;
      }
      // It could not start (database gone, no memory): try again, less and less often.
      const delay = Math.min(30_000, 1000 * 2 ** this.failedStarts++);
      this.o.log?.(
        `query worker exited (${code ?? signal}) before it was ready; starting another in ${delay} ms`,
      );
      setTimeout(() => !this.closed && this.spawn(), delay).unref();
    });
  }

  /**
   * Hands idle workers to waiting statements, first come first served, except that the last of maxWorkers goes
   * only to a quick query (the first one waiting); then makes sure of a spare.
   */
  private dispatch(): void {
    for (const w of this.workers) {
      if (!this.waiting.length) break;
      if (!w.ready || w.busy || w.dead) continue;
      const busy = [...this.workers].filter((x) => x.busy && !x.dead).length;
      const onReserve = this.reserve && busy >= this.o.maxWorkers - 1;
      const i = onReserve ? this.waiting.findIndex((x) => x.quick) : 0;
      if (i < 0) break;
      clearTimeout(w.retire);
      w.retire = undefined;
      w.busy = true;
      this.waiting.splice(i, 1)[0]?.take(w, onReserve);
    }
    this.ensureSpare();
  }

  /** Starts another worker when none is idle or starting (up to maxWorkers). */
  private ensureSpare(): void {
    if (this.closed) return;
    const available = [...this.workers].some((w) => !w.dead && (!w.ready || !w.busy));
    if (!available && this.workers.size < this.o.maxWorkers) this.spawn();
  }

  /** The pool's state in a few words, for errors: `123 starting, 124 busy`. */
  private describeWorkers(): string {
    const state = (w: Worker) =>
      [w.dead ? 'ended' : w.ready ? (w.busy ? 'busy' : 'idle') : 'starting'].join('');
    return [...this.workers].map((w) => `${w.child.pid} ${state(w)}`).join(', ') || 'none';
  }

  /** An idle worker above `workers` retires once it has been idle for retireAfterMs. */
  private idle(worker: Worker): void {
    if (worker.dead || this.workers.size <= this.o.workers || worker.retire) return;
    worker.retire = setTimeout(() => {
      if (worker.busy || worker.dead || this.workers.size <= this.o.workers) return;
      worker.dead = true;
      worker.child.kill('SIGKILL');
    }, this.o.retireAfterMs);
    worker.retire.unref();
  }

  private acquire(quick: boolean, signal?: AbortSignal): Promise<{ worker: Worker; onReserve: boolean }> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        quick,
        take: (worker, onReserve) => {
          done();
          resolve({ worker, onReserve });
        },
        fail: (err) => {
          done();
          reject(err);
        },
      };
      const leave = (err: unknown) => {
        const i = this.waiting.indexOf(waiter);
        if (i >= 0) this.waiting.splice(i, 1);
        done();
        reject(err);
      };
      const timer = setTimeout(() => {
        const started = [...this.workers].some((w) => w.ready && !w.dead);
        leave(
          started
            ? new RuleError(
                'query-busy',
                this.reserve && !quick
                  ? `${this.o.maxWorkers - 1} of the ${this.o.maxWorkers} query workers (DATABASE_QUERY_WORKERS_MAX; the last is kept for quick queries) stayed busy for ${this.o.maxWaitMs} ms: try again`
                  : `all ${this.o.maxWorkers} query workers (DATABASE_QUERY_WORKERS_MAX) stayed busy for ${this.o.maxWaitMs} ms: try again`,
              )
            : new Error(
                `no query worker could start within ${this.o.maxWaitMs} ms (workers: ${this.describeWorkers()}${this.lastExit ? `; last: ${this.lastExit}` : ''}); see the server's log`,
              ),
        );
      }, this.o.maxWaitMs);
      const onAbort = () => leave(signal?.reason ?? new Error('cancelled'));
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.dispatch();
    });
  }

  private async submit(
    job: WorkerRequest,
    signal: AbortSignal | undefined,
    quick: boolean,
  ): Promise<unknown> {
    if (this.closed) throw new Error('the query runner is closed');
    signal?.throwIfAborted();
    const { worker, onReserve } = await this.acquire(quick, signal);
    try {
      return await this.runOn(worker, { ...job, id: this.nextId++ }, onReserve, signal);
    } finally {
      worker.busy = false;
      const rss = this.rssLimit && !worker.dead ? residentBytes(worker.child.pid as number) : undefined;
      if (rss !== undefined && rss > (this.rssLimit * 3) / 4) {
        // Still holding memory its statement freed: a fresh worker takes its place.
        worker.dead = true;
        worker.child.kill('SIGKILL');
      }
      if (!worker.dead) {
        this.dispatch();
        if (!worker.busy) this.idle(worker);
      }
    }
  }

  /** Remembers (or forgets) `sql` as a quick query's. */
  private noteQuick(sql: string, quick: boolean): void {
    this.quickSql.delete(sql);
    if (!quick) return;
    this.quickSql.add(sql);
    if (this.quickSql.size > QUICK_REMEMBERED)
      this.quickSql.delete(this.quickSql.values().next().value as string);
  }

  private runOn(worker: Worker, job: WorkerJob, onReserve: boolean, signal?: AbortSignal): Promise<unknown> {
    const what = job.kind === 'read' ? 'the query' : 'the statement';
    const limitMs = onReserve ? this.o.quickLimitMs : this.o.timeoutMs;
    const overLimit = () =>
      onReserve && limitMs < this.o.timeoutMs
        ? new RuleError(
            'query-busy',
            `every other query worker was busy (${this.o.maxWorkers - 1} of DATABASE_QUERY_WORKERS_MAX=${this.o.maxWorkers}), so the query ran on the one kept for quick queries, which stops a query after ${limitMs} ms: it was stopped; try again when the slow queries are done`,
          )
        : new RuleError(
            'query-timeout',
            `${what} ran over the time limit of ${limitMs} ms (DATABASE_QUERY_TIMEOUT_MS) and was stopped`,
          );
    return new Promise((resolve, reject) => {
      let cancelTimer: (() => void) | undefined;
      let startedAt: number | undefined;
      const pid = worker.child.pid as number;
      const watch = this.rssLimit
        ? setInterval(() => {
            const rss = residentBytes(pid);
            if (rss === undefined || rss <= this.rssLimit) return;
            kill(
              new RuleError(
                'memory-limit',
                `${what} took its worker's memory to ${rss} bytes, past the limit of ${this.rssLimit} bytes (DATABASE_WORKER_MAX_RSS_BYTES), and was stopped: values it computes (zeroblob, randomblob, printf, group_concat) are built in memory; compute smaller ones`,
              ),
            );
          }, RSS_CHECK_MS)
        : undefined;
      const finish = (settle: () => void) => {
        cancelTimer?.();
        clearInterval(watch);
        worker.child.off('message', onMessage);
        worker.child.off('exit', onExit);
        signal?.removeEventListener('abort', onAbort);
        settle();
      };
      const kill = (err: unknown) => {
        worker.dead = true;
        worker.child.kill('SIGKILL'); // its exit starts a replacement
        if (job.kind === 'read' && startedAt !== undefined) this.noteQuick(job.sql, false);
        finish(() => reject(err));
      };
      const onMessage = (m: Reply) => {
        if (m.id !== job.id) return;
        if (m.started) {
          startedAt = performance.now();
          cancelTimer = deadline(limitMs, () => kill(overLimit()));
          return;
        }
        if (job.kind === 'read' && startedAt !== undefined) {
          this.noteQuick(job.sql, performance.now() - startedAt < this.o.quickMs);
        }
        finish(() => {
          if (m.error?.rule) reject(new RuleError(m.error.rule, m.error.message));
          else if (m.error) reject(new Error(m.error.message));
          else resolve(m.result);
        });
      };
      const onExit = (code: number | null, sig: string | null) => {
        worker.dead = true;
        finish(() => reject(new Error(`the query worker exited (${code ?? sig}) while running ${what}`)));
      };
      const onAbort = () => kill(signal?.reason ?? new Error('cancelled'));
      worker.child.on('message', onMessage);
      worker.child.once('exit', onExit);
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.child.send(job, (err) => {
        if (err) kill(new Error(`could not hand ${what} to a query worker: ${err.message}`));
      });
    });
  }
}
