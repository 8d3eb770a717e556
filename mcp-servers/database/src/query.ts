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
  runsUnguarded,
} from './result-limits.ts';
import { asParameterError, bindable, checkReadQuery, type SqlParam, SqlRuleError } from './sql-rules.ts';

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

/**
 * The wrapped statement; undefined for PRAGMA and EXPLAIN, which run as they are. Any other query that SQLite
 * will not run wrapped is refused: it never runs without the guard.
 */
function prepareGuarded(
  db: Database.Database,
  sql: string,
  columns: number,
  maxResultBytes: number,
): Database.Statement | undefined {
  if (runsUnguarded(sql)) return undefined;
  const refuse = (why: string) =>
    new SqlRuleError(
      'sql-error',
      `the query cannot run under the result size guard, so it is refused: ${why}`,
    );
  let stmt: Database.Statement;
  try {
    stmt = db.prepare(guardedSql(sql, columns, maxResultBytes));
  } catch (err) {
    throw refuse((err as Error).message);
  }
  if (!(stmt.readonly && stmt.reader && stmt.columns().length === 2 * columns)) {
    throw refuse('SQLite compiled the wrapped query differently');
  }
  return stmt.raw(true);
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
