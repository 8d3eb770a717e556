// Runs statements in a pool of warm worker processes (query-worker.ts), one statement per worker at a time, so a
// slow query holds up only its own worker, never the server or the other clients' queries.
// - The rules (sql-rules.ts) run here first, on a read-only connection of this process: a refused statement never
//   waits for a worker.
// - Workers are started ahead of time and load the schema before they take work; the time limit starts when the
//   worker says it is executing the statement, so neither a worker's start-up nor a wait for a free worker counts.
// - A statement over its time limit (or past the tool call's budget) is stopped for certain: its worker is killed
//   (run-on-worker.ts) and a new one started in its place. SQLite cannot be interrupted from JavaScript, hence
//   processes, not threads.
// - A spare: when every worker is busy, another is started ahead of need (up to maxWorkers), so a fast query
//   finds a warm worker even while slow ones hold the others; a worker above `workers` retires after it has been
//   idle for a while. Only when maxWorkers are busy (maxWorkers - 1 for a query that is not quick, see below)
//   does a statement wait (at most maxWaitMs).
// - The last worker is kept for quick queries, with a short time limit (quick-queries.ts): slow queries never hold
//   every worker.
// - Memory: a worker whose resident size passes maxWorkerRssBytes while it runs a statement is killed
//   (`memory-limit`) and replaced (worker-memory.ts).
// - A time limit that expires while its result is already waiting to be read does not count (deadline.ts).
// The write tool has a runner of its own with one read-write worker (SQLite has one writer at a time anyway).
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import Database from 'better-sqlite3';
import { checkWrite, type WriteResult } from './db.ts';
import type { QueryResult } from './query.ts';
import type { WorkerJob, WorkerRequest } from './query-worker.ts';
import { keepsReserve, pickWaiter, QuickQueries, reserveStopped } from './quick-queries.ts';
import type { ResultLimits } from './result-limits.ts';
import { type RunLimits, runOnWorker } from './run-on-worker.ts';
import { type QueryRunnerOptions, type RunnerSettings, runnerSettings } from './runner-options.ts';
import { inspectReadQuery, type SqlParam } from './sql-rules.ts';
import { holdsTooMuch, workerRssLimit } from './worker-memory.ts';

export type { QueryRunnerOptions } from './runner-options.ts';

const WORKER = fileURLToPath(new URL('./query-worker.ts', import.meta.url));

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

export class QueryRunner {
  private readonly o: RunnerSettings;

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
  /** Queries (SQL and bound values) that ran quick last time. */
  private readonly quickSql: QuickQueries;
  /** Whether the last worker is kept for quick queries (a read pool of 2 or more). */
  private readonly reserve: boolean;
  /** The memory limit, when it can be read (Linux). */
  private readonly rssLimit: number;

  constructor(options: QueryRunnerOptions) {
    this.o = runnerSettings(options);
    this.reserve = keepsReserve(this.o.mode, this.o.maxWorkers);
    this.quickSql = new QuickQueries(this.o.quickMs);
    this.rssLimit = workerRssLimit(this.o.maxWorkerRssBytes, options.log);
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
    const quick = this.quickSql.isQuick(sql, params, straightLine);
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

  /** How many live workers have started (tests: wait for a spare's start, which a busy machine makes slow). */
  readyWorkers(): number {
    return [...this.workers].filter((w) => w.ready && !w.dead).length;
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
      const { index: i, onReserve } = pickWaiter(this.waiting, busy, this.o.maxWorkers, this.reserve);
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
      if (!worker.dead && holdsTooMuch(worker.child.pid as number, this.rssLimit)) {
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

  private runOn(worker: Worker, job: WorkerJob, onReserve: boolean, signal?: AbortSignal): Promise<unknown> {
    const limitMs = onReserve ? this.o.quickLimitMs : this.o.timeoutMs;
    const limits: RunLimits = {
      limitMs,
      rssLimit: this.rssLimit,
      // Stopped on the worker kept for quick queries, at a limit shorter than the usual one: `query-busy`.
      overLimit:
        onReserve && limitMs < this.o.timeoutMs
          ? () => reserveStopped(limitMs, this.o.maxWorkers)
          : undefined,
      ran: job.kind === 'read' ? (ms) => this.quickSql.ran(job.sql, job.params, ms) : undefined,
    };
    return runOnWorker(worker, job, limits, signal);
  }
}
