// Runs one read-only query on a read-only connection: the rules of sql-rules.ts, bound parameters, and limits
// that stop reading (not truncate afterwards): a row limit, so an endless recursive query ends too, and a byte
// limit on the rows as JSON, with values too large to send summarized without being loaded (result-limits.ts).
import type Database from 'better-sqlite3';
import {
  byteLimitNote,
  guardedRow,
  guardedSql,
  jsonValue,
  omittedNote,
  type ResultLimits,
  rowLimitNote,
} from './result-limits.ts';
import { asParameterError, bindable, checkReadQuery, type SqlParam } from './sql-rules.ts';

export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
  rowCount: number;
  truncated: boolean;
  /** The limit that stopped the reading, when truncated. */
  limit?: 'maxRows' | 'maxResultBytes';
  /** Values replaced by {omitted, bytes}. */
  omittedValues?: number;
  /** What was cut and how to narrow the query. */
  note?: string;
}

/** The wrapped statement, when the query can be one (a SELECT, VALUES or WITH) and SQLite agrees. */
function prepareGuarded(
  db: Database.Database,
  sql: string,
  columns: number,
  maxResultBytes: number,
): Database.Statement | undefined {
  const guarded = guardedSql(sql, columns, maxResultBytes);
  if (!guarded) return undefined;
  try {
    const stmt = db.prepare(guarded);
    return stmt.readonly && stmt.reader && stmt.columns().length === 2 * columns ? stmt.raw(true) : undefined;
  } catch {
    return undefined; // PRAGMA, EXPLAIN: not a table expression
  }
}

/**
 * Checks and runs `sql`. `onStart` is called once the statement is compiled and about to run, so a caller's time
 * limit counts execution only.
 */
export function runReadQuery(
  db: Database.Database,
  sql: string,
  params: SqlParam[] | undefined,
  limits: ResultLimits,
  onStart?: () => void,
): QueryResult {
  const stmt = checkReadQuery(db, sql, params);
  const columns = stmt.columns().map((c) => c.name);
  const guarded = prepareGuarded(db, sql, columns.length, limits.maxResultBytes);
  const rows: Record<string, unknown>[] = [];
  let bytes = 2; // []
  let omittedValues = 0;
  let limit: QueryResult['limit'];
  onStart?.();
  try {
    const source = guarded
      ? (guarded.iterate(...bindable(params)) as Iterable<unknown[]>)
      : (stmt.iterate(...bindable(params)) as Iterable<Record<string, unknown>>);
    for (const raw of source) {
      if (rows.length === limits.maxRows) {
        limit = 'maxRows';
        break;
      }
      const { row, omitted } = Array.isArray(raw)
        ? guardedRow(raw, columns)
        : {
            row: Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, jsonValue(v)])),
            omitted: 0,
          };
      const size = Buffer.byteLength(JSON.stringify(row)) + (rows.length ? 1 : 0);
      if (bytes + size > limits.maxResultBytes) {
        limit = 'maxResultBytes';
        break;
      }
      bytes += size;
      omittedValues += omitted;
      rows.push(row);
    }
  } catch (err) {
    throw asParameterError(err) ?? err;
  }
  const notes = [
    limit === 'maxRows' ? rowLimitNote(limits.maxRows) : undefined,
    limit === 'maxResultBytes' ? byteLimitNote(rows.length, limits.maxResultBytes) : undefined,
    omittedValues ? omittedNote(omittedValues) : undefined,
  ].filter(Boolean);
  return {
    columns,
    rows,
    rowCount: rows.length,
    truncated: limit !== undefined,
    ...(limit ? { limit } : {}),
    ...(omittedValues ? { omittedValues } : {}),
    ...(notes.length ? { note: notes.join('; ') } : {}),
  };
}
