// What SQL a tool may run, decided by SQLite itself: the statement is compiled (prepare) and SQLite says
// whether it is a single statement, whether it writes (sqlite3_stmt_readonly) and whether it returns rows;
// its bytecode (EXPLAIN) says whether it attaches a database or loads an extension. No keyword matching.
// Read-only queries also run on a read-only connection, so a write that slipped through still fails.
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import type Database from 'better-sqlite3';

export type SqlRule =
  | 'empty-sql'
  | 'multiple-statements'
  | 'sql-error'
  | 'attach-refused'
  | 'extension-refused'
  | 'write-refused'
  | 'not-a-query'
  | 'bad-parameters';

export class SqlRuleError extends RuleError<SqlRule> {}

export type SqlParam = string | number | boolean | null;

/** Compiles exactly one statement or throws a SqlRuleError. */
export function prepareOne(db: Database.Database, sql: string): Database.Statement {
  if (sql.trim() === '') throw new SqlRuleError('empty-sql', 'no SQL given');
  try {
    return db.prepare(sql);
  } catch (err) {
    const message = (err as Error).message;
    if (/more than one statement/i.test(message)) {
      throw new SqlRuleError('multiple-statements', 'one statement per call: the SQL holds more than one');
    }
    if (/does not contain any statements|contains no statements/i.test(message)) {
      throw new SqlRuleError('empty-sql', 'the SQL holds no statement (only comments or semicolons)');
    }
    throw new SqlRuleError('sql-error', message);
  }
}

/**
 * Bytecode of the statement, to find the functions SQLite runs for ATTACH/DETACH and load_extension. EXPLAIN
 * takes the same parameters as the statement, so the caller's values are bound (a wrong count is refused here).
 */
function calledFunctions(db: Database.Database, sql: string, params: SqlParam[] | undefined): string[] {
  let rows: { opcode: string; p4: string | null }[];
  try {
    rows = db.prepare(`EXPLAIN ${sql}`).all(...bindable(params)) as typeof rows;
  } catch (err) {
    throw asParameterError(err) ?? new SqlRuleError('sql-error', (err as Error).message);
  }
  return rows.filter((r) => /Function/.test(r.opcode) && r.p4).map((r) => String(r.p4).toLowerCase());
}

/** Refusals common to reads and writes: another database file, or native code. */
function refuseAttachAndExtensions(db: Database.Database, sql: string, params: SqlParam[] | undefined): void {
  const fns = calledFunctions(db, sql, params);
  if (fns.some((f) => f.startsWith('sqlite_attach') || f.startsWith('sqlite_detach'))) {
    throw new SqlRuleError(
      'attach-refused',
      'ATTACH and DETACH are refused: only the configured database is served',
    );
  }
  if (fns.some((f) => f.startsWith('load_extension'))) {
    throw new SqlRuleError('extension-refused', 'loading SQLite extensions is refused');
  }
}

/** A statement the read-only query tool may run: one statement, read-only per SQLite, returning rows. */
export function checkReadQuery(db: Database.Database, sql: string, params?: SqlParam[]): Database.Statement {
  const stmt = prepareOne(db, sql);
  refuseAttachAndExtensions(db, sql, params);
  if (!stmt.readonly) {
    throw new SqlRuleError(
      'write-refused',
      'this statement writes, and queries are read-only (writes need the execute tool, enabled with DATABASE_ALLOW_WRITES=1)',
    );
  }
  if (!stmt.reader)
    throw new SqlRuleError('not-a-query', 'this statement returns no rows: only queries are run here');
  return stmt;
}

/** A statement the write tool may run: one statement, not ATTACH/DETACH, no extension loading. */
export function checkWriteStatement(
  db: Database.Database,
  sql: string,
  params?: SqlParam[],
): Database.Statement {
  const stmt = prepareOne(db, sql);
  refuseAttachAndExtensions(db, sql, params);
  return stmt;
}

/** Parameters bound to `?` placeholders; booleans become 0/1 (SQLite has no boolean type). */
export function bindable(params: SqlParam[] | undefined): (string | number | null)[] {
  return (params ?? []).map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

/** better-sqlite3's errors for a wrong number or kind of bound values, as a rule. */
export function asParameterError(err: unknown): SqlRuleError | undefined {
  const message = (err as Error)?.message ?? '';
  return /parameter|bind/i.test(message) && err instanceof RangeError
    ? new SqlRuleError('bad-parameters', message)
    : undefined;
}
