// What SQL a tool may run, decided by SQLite itself: the statement is compiled (prepare) and SQLite says
// whether it is a single statement, whether it writes (sqlite3_stmt_readonly) and whether it returns rows;
// its bytecode (EXPLAIN) says whether it attaches a database, writes a copy of it (VACUUM INTO) or loads an
// extension. Read-only queries also run on a read-only connection, so a write that slipped through still fails.
// One rule must act before SQLite compiles anything, because compiling some statements already acts
// (`PRAGMA temp_store_directory = '/x'` moves every connection's temporary files when it is prepared): statements
// that reach another file are refused from their tokens (sql-lexer.ts: comments, case and quoting do not hide
// them), and their bytecode is checked as well. Writes thus touch only the database file (and SQLite's own
// journal and temporary files). What would stay in a shared connection (a transaction, a setting) is refused by
// connection-rules.ts, from the tokens too.
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import type Database from 'better-sqlite3';
import { refuseConnectionState } from './connection-rules.ts';
import { MAX_GUARDED_COLUMNS, runsUnguarded } from './result-limits.ts';
import { statements, type Token, tokenize } from './sql-lexer.ts';

export type SqlRule =
  | 'empty-sql'
  | 'sql-too-long'
  | 'vacuum-into-refused'
  | 'pragma-refused'
  | 'multiple-statements'
  | 'sql-error'
  | 'attach-refused'
  | 'extension-refused'
  | 'write-refused'
  | 'not-a-query'
  | 'too-many-columns'
  | 'bad-parameters';

export class SqlRuleError extends RuleError<SqlRule> {}

export type SqlParam = string | number | boolean | null;

/** Longer SQL is refused before it is compiled (compiling runs on the server's event loop). */
export const MAX_SQL_LENGTH = 100_000;

/** PRAGMAs that point SQLite at another folder; they act when compiled. */
const FILE_PRAGMAS = new Set(['temp_store_directory', 'data_store_directory']);

const isWord = (t: Token | undefined, ...words: string[]) => t?.kind === 'word' && words.includes(t.value);

/**
 * Statements that open a file other than the database, refused from their tokens, before SQLite sees them:
 * ATTACH and DETACH, VACUUM INTO, and the PRAGMAs that move SQLite's files. Every statement of the text is
 * checked (a second statement is refused later anyway, but never compiled first).
 */
export function refuseOtherFiles(sql: string): void {
  for (const stmt of statements(tokenize(sql))) {
    let i = 0;
    if (isWord(stmt[i], 'explain')) i += isWord(stmt[i + 1], 'query') && isWord(stmt[i + 2], 'plan') ? 3 : 1;
    const first = stmt[i];
    if (isWord(first, 'attach', 'detach')) {
      throw new SqlRuleError(
        'attach-refused',
        'ATTACH and DETACH are refused: only the configured database is served',
      );
    }
    if (isWord(first, 'vacuum') && stmt.slice(i + 1).some((t) => isWord(t, 'into'))) {
      throw new SqlRuleError(
        'vacuum-into-refused',
        'VACUUM INTO writes a copy of the database to another file: refused (plain VACUUM is allowed)',
      );
    }
    if (isWord(first, 'pragma')) {
      // PRAGMA [schema.]name: the name may be a word, a quoted name or even a string.
      const dotted = stmt[i + 2]?.kind === 'punct' && stmt[i + 2]?.value === '.';
      const name = stmt[i + (dotted ? 3 : 1)];
      if (name && name.kind !== 'punct' && FILE_PRAGMAS.has(name.value.toLowerCase())) {
        throw new SqlRuleError(
          'pragma-refused',
          `PRAGMA ${name.value.toLowerCase()} points SQLite at another folder: refused`,
        );
      }
    }
  }
}

/**
 * Compiles exactly one statement or throws a SqlRuleError (or a ConnectionRuleError: what `tool`, `read` for
 * queries or `write` for execute, may not leave in its shared connection).
 */
export function prepareOne(db: Database.Database, sql: string, tool: 'read' | 'write'): Database.Statement {
  if (sql.trim() === '') throw new SqlRuleError('empty-sql', 'no SQL given');
  if (sql.length > MAX_SQL_LENGTH) {
    throw new SqlRuleError(
      'sql-too-long',
      `the SQL is ${sql.length} characters, over the limit of ${MAX_SQL_LENGTH}: use bound parameters for long values`,
    );
  }
  refuseOtherFiles(sql);
  refuseConnectionState(sql, tool);
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

type Op = { addr: number; opcode: string; p2: number; p4: string | null };

/**
 * Bytecode of the statement, to find what SQLite runs for ATTACH/DETACH, VACUUM INTO and load_extension; of an
 * EXPLAIN statement, the bytecode of the statement it explains (SQLite has no EXPLAIN EXPLAIN). EXPLAIN takes the
 * same parameters as the statement, so the caller's values are bound (a wrong count is refused here).
 */
function bytecode(db: Database.Database, sql: string, params: SqlParam[] | undefined): Op[] {
  const tokens = tokenize(sql);
  let i = 0;
  if (isWord(tokens[i], 'explain'))
    i += isWord(tokens[i + 1], 'query') && isWord(tokens[i + 2], 'plan') ? 3 : 1;
  const explained = i > 0 && tokens[i] ? sql.slice(tokens[i]?.start) : sql;
  try {
    return db.prepare(`EXPLAIN ${explained}`).all(...bindable(params)) as Op[];
  } catch (err) {
    throw asParameterError(err) ?? new SqlRuleError('sql-error', (err as Error).message);
  }
}

/**
 * Refusals common to reads and writes, from the bytecode: another database file, or native code. Returns the
 * bytecode.
 */
function refuseAttachAndExtensions(db: Database.Database, sql: string, params: SqlParam[] | undefined): Op[] {
  const ops = bytecode(db, sql, params);
  const fns = ops.filter((r) => /Function/.test(r.opcode) && r.p4).map((r) => String(r.p4).toLowerCase());
  if (fns.some((f) => f.startsWith('sqlite_attach') || f.startsWith('sqlite_detach'))) {
    throw new SqlRuleError(
      'attach-refused',
      'ATTACH and DETACH are refused: only the configured database is served',
    );
  }
  // Vacuum's P2 names the register holding the INTO file; 0 is a plain VACUUM of the database itself.
  if (ops.some((r) => r.opcode === 'Vacuum' && r.p2 !== 0)) {
    throw new SqlRuleError(
      'vacuum-into-refused',
      'VACUUM INTO writes a copy of the database to another file: refused (plain VACUUM is allowed)',
    );
  }
  if (fns.some((f) => f.startsWith('load_extension'))) {
    throw new SqlRuleError('extension-refused', 'loading SQLite extensions is refused');
  }
  return ops;
}

/** Opcodes that go back to repeat: stepping a cursor or a sorter, a coroutine, a subroutine call. */
const LOOP_OPCODES = new Set([
  'Next',
  'Prev',
  'SorterNext',
  'VNext',
  'RowSetNext',
  'RowSetRead',
  'Yield',
  'Gosub',
]);

/**
 * Whether the bytecode runs straight through: no loop opcode and no jump back, except the jump from the
 * statement's prologue (after Init's target) to its body. Such a statement reads no table row by row: SELECT 1, a
 * lookup by key, count(*). It can still be slow (randomblob(1e9)): the runner gives it a short time limit where it
 * matters (query-runner.ts).
 */
export function straightLine(ops: Op[]): boolean {
  const prologue = ops[0]?.opcode === 'Init' ? ops[0].p2 : Number.POSITIVE_INFINITY;
  return ops.every(
    (op) => !LOOP_OPCODES.has(op.opcode) && !(op.opcode === 'Goto' && op.p2 <= op.addr && op.addr < prologue),
  );
}

/**
 * A statement the read-only query tool may run: one statement, read-only per SQLite, returning rows, and no more
 * columns than the result guard can wrap; `straightLine` says whether its bytecode has no loop.
 */
export function inspectReadQuery(
  db: Database.Database,
  sql: string,
  params?: SqlParam[],
): { stmt: Database.Statement; straightLine: boolean } {
  const stmt = prepareOne(db, sql, 'read');
  const ops = refuseAttachAndExtensions(db, sql, params);
  if (!stmt.readonly) {
    throw new SqlRuleError(
      'write-refused',
      'this statement writes, and queries are read-only (writes need the execute tool, enabled with DATABASE_ALLOW_WRITES=1)',
    );
  }
  if (!stmt.reader)
    throw new SqlRuleError('not-a-query', 'this statement returns no rows: only queries are run here');
  const columns = stmt.columns().length;
  if (columns > MAX_GUARDED_COLUMNS && !runsUnguarded(sql)) {
    throw new SqlRuleError(
      'too-many-columns',
      `the query returns ${columns} columns, over the limit of ${MAX_GUARDED_COLUMNS}: select fewer columns`,
    );
  }
  return { stmt, straightLine: straightLine(ops) };
}

/** inspectReadQuery's statement. */
export function checkReadQuery(db: Database.Database, sql: string, params?: SqlParam[]): Database.Statement {
  return inspectReadQuery(db, sql, params).stmt;
}

/** A statement the write tool may run: one statement, not ATTACH/DETACH/VACUUM INTO, no extension loading. */
export function checkWriteStatement(
  db: Database.Database,
  sql: string,
  params?: SqlParam[],
): Database.Statement {
  const stmt = prepareOne(db, sql, 'write');
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
