// Runs one read-only query on a read-only connection: the rules of sql-rules.ts, bound parameters, and a row
// limit that stops reading (not truncates afterwards), so an endless recursive query ends at the limit too.
import type Database from 'better-sqlite3';
import { asParameterError, bindable, checkReadQuery, type SqlParam } from './sql-rules.ts';

export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
  rowCount: number;
  truncated: boolean;
}

/** JSON has no BigInt or Buffer: integers beyond 2^53 become strings, blobs base64. */
function jsonSafe(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = typeof v === 'bigint' ? v.toString() : Buffer.isBuffer(v) ? { base64: v.toString('base64') } : v;
  }
  return out;
}

export function runReadQuery(
  db: Database.Database,
  sql: string,
  params: SqlParam[] | undefined,
  maxRows: number,
): QueryResult {
  const stmt = checkReadQuery(db, sql, params);
  const rows: Record<string, unknown>[] = [];
  let truncated = false;
  try {
    for (const row of stmt.iterate(...bindable(params)) as Iterable<Record<string, unknown>>) {
      if (rows.length === maxRows) {
        truncated = true;
        break;
      }
      rows.push(jsonSafe(row));
    }
  } catch (err) {
    throw asParameterError(err) ?? err;
  }
  return { columns: stmt.columns().map((c) => c.name), rows, rowCount: rows.length, truncated };
}
