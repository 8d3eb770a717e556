// A worker process of the query runner (query-runner.ts): it holds one connection, read-only (`read`) or
// read-write (`write`), and runs one statement at a time, so the runner can stop a statement over its time limit
// for certain by killing this process (SQLite cannot be interrupted from JavaScript mid-statement).
// Arguments: the database file, `read` or `write`, and for `write` the database's size limit in bytes.
// Protocol over the IPC channel:
//   worker -> runner  { ready: true }  once the connection is open and the schema loaded
//   runner -> worker  { id, kind: 'read', sql, params, limits } | { id, kind: 'write', sql, params }
//   worker -> runner  { id, started: true }  when the statement is compiled and about to run (the clock starts)
//                     { id, result } | { id, error: { rule?, message } }
import { Worker } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { DEFAULT_MAX_DATABASE_BYTES, executeWrite, limitDatabaseSize } from './db.ts';
import { runReadQuery } from './query.ts';
import type { ResultLimits } from './result-limits.ts';
import type { SqlParam } from './sql-rules.ts';

export type WorkerRequest =
  | { kind: 'read'; sql: string; params?: SqlParam[]; limits: ResultLimits }
  | { kind: 'write'; sql: string; params?: SqlParam[] };
export type WorkerJob = WorkerRequest & { id: number };

const [file, mode, maxBytesArg] = process.argv.slice(2);
const send = process.send?.bind(process);
const maxBytes = maxBytesArg ? Number(maxBytesArg) : DEFAULT_MAX_DATABASE_BYTES;
if (
  !file ||
  (mode !== 'read' && mode !== 'write') ||
  !send ||
  !(Number.isSafeInteger(maxBytes) && maxBytes > 0)
) {
  process.stderr.write(
    'query-worker: needs a database file, read or write, an optional size limit in bytes, and an IPC channel\n',
  );
  process.exit(2);
}
// A watchdog thread: the main thread may be inside a statement that never returns, so only another thread can see
// that the server died (this process was handed to another parent) and end this one, not leave it running forever.
new Worker(
  'const ppid = process.ppid; setInterval(() => { if (process.ppid !== ppid) process.kill(process.pid, "SIGKILL"); }, 1000);',
  { eval: true },
).unref();

const db = new Database(file, { readonly: mode === 'read', fileMustExist: true });
if (mode === 'write') {
  db.pragma('foreign_keys = ON');
  limitDatabaseSize(db, maxBytes);
}
// Warm: the schema is read now, not in the first query's time.
db.prepare('SELECT count(*) FROM sqlite_schema').get();

process.on('message', (job: WorkerJob) => {
  const started = () => send({ id: job.id, started: true });
  try {
    const result =
      job.kind === 'read'
        ? runReadQuery(db, job.sql, job.params, job.limits, started)
        : executeWrite(db, job.sql, job.params, started, maxBytes);
    send({ id: job.id, result });
  } catch (err) {
    const e = err as { rule?: string; message?: string };
    send({ id: job.id, error: { rule: e.rule, message: e.message ?? String(err) } });
  }
});
process.on('disconnect', () => process.exit(0));
send({ ready: true });
