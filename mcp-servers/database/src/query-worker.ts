// A child process that runs read-only queries for the server, so a query over its time limit can be stopped
// for certain: the server kills this process (SQLite cannot be interrupted from JavaScript mid-statement).
// Protocol over the IPC channel: { id, sql, params, maxRows } -> { id, result } | { id, error: { rule?, message } }.
import Database from 'better-sqlite3';
import { runReadQuery } from './query.ts';
import type { SqlParam } from './sql-rules.ts';

const file = process.argv[2];
if (!file || !process.send) {
  process.stderr.write('query-worker: needs a database file argument and an IPC channel\n');
  process.exit(2);
}
const db = new Database(file, { readonly: true, fileMustExist: true });

process.on('message', (msg: { id: number; sql: string; params?: SqlParam[]; maxRows: number }) => {
  try {
    const result = runReadQuery(db, msg.sql, msg.params, msg.maxRows);
    process.send?.({ id: msg.id, result });
  } catch (err) {
    const e = err as { rule?: string; message?: string };
    process.send?.({ id: msg.id, error: { rule: e.rule, message: e.message ?? String(err) } });
  }
});
process.on('disconnect', () => process.exit(0));
