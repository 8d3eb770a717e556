// What SQL a tool may run, decided by SQLite itself: the statement is compiled (prepare) and SQLite says
// whether it is a single statement, whether it writes (sqlite3_stmt_readonly) and whether it returns rows;
// its bytecode (EXPLAIN) says whether it attaches a database, writes a copy of it (VACUUM INTO) or loads an
// extension. Read-only queries also run on a read-only connection, so a write that slipped through still fails.
// One rule must act before SQLite compiles anything, because compiling some statements already acts
// (`PRAGMA temp_store_directory = '/x'` moves every connection's temporary files when it is prepared): statements
// that reach another file are refused from their tokens (sql-lexer.ts: comments, case and quoting do not hide
// them), and their bytecode is checked as well. Writes thus touch only the database file (and SQLite's own
// journal and temporary files).
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import type Database from 'better-sqlite3';
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

/** Compiles exactly one statement or throws a SqlRuleError. */
export function prepareOne(db: Database.Database, sql: string): Database.Statement {
  if (sql.trim() === '') throw new SqlRuleError('empty-sql', 'no SQL given');
  if (sql.length > MAX_SQL_LENGTH) {
    throw new SqlRuleError(
      'sql-too-long',
      `the SQL is ${sql.length} characters, over the limit of ${MAX_SQL_LENGTH}: use bound parameters for long values`,
    );
  }
  refuseOtherFiles(sql);
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

type Op = { opcode: string; p2: number; p4: string | null };

/**
 * Bytecode of the statement, to find what SQLite runs for ATTACH/DETACH, VACUUM INTO and load_extension.
 * EXPLAIN takes the same parameters as the statement, so the caller's values are bound (a wrong count is
 * refused here).
 */
function bytecode(db: Database.Database, sql: string, params: SqlParam[] | undefined): Op[] {
  try {
    return db.prepare(`EXPLAIN ${sql}`).all(...bindable(params)) as Op[];
  } catch (err) {
    throw asParameterError(err) ?? new SqlRuleError('sql-error', (err as Error).message);
  }
}

/** Refusals common to reads and writes, from the bytecode: another database file, or native code. */
function refuseAttachAndExtensions(db: Database.Database, sql: string, params: SqlParam[] | undefined): void {
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

/** A statement the write tool may run: one statement, not ATTACH/DETACH/VACUUM INTO, no extension loading. */
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
