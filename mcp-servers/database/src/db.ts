// The database file: created with demo tables and rows when new; schema introspection through SQLite's pragma
// table functions with bound names (never string-built SQL), each list bounded (the work runs on the server's event
// loop); the opt-in write path (run in the write worker, see query-runner.ts): a size limit on the database file,
// and nothing left behind in the shared connection (connection-rules.ts).
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import Database from 'better-sqlite3';
import { asParameterError, bindable, checkWriteStatement, type SqlParam } from './sql-rules.ts';

const SEED = [
  `CREATE TABLE customers (
     id INTEGER PRIMARY KEY,
     name TEXT NOT NULL,
     email TEXT NOT NULL UNIQUE,
     created_at TEXT NOT NULL DEFAULT (datetime('now')))`,
  `CREATE TABLE orders (
     id INTEGER PRIMARY KEY,
     customer_id INTEGER NOT NULL REFERENCES customers(id),
     product TEXT NOT NULL,
     quantity INTEGER NOT NULL CHECK (quantity > 0),
     price_cents INTEGER NOT NULL,
     created_at TEXT NOT NULL DEFAULT (datetime('now')))`,
  'CREATE INDEX orders_customer ON orders(customer_id)',
  `INSERT INTO customers (id, name, email, created_at) VALUES
     (1, 'Ada Lovelace', 'ada@example.com', '2026-01-05 09:00:00'),
     (2, 'Grace Hopper', 'grace@example.com', '2026-02-11 14:30:00'),
     (3, 'Edsger Dijkstra', 'edsger@example.com', '2026-03-20 08:15:00')`,
  `INSERT INTO orders (customer_id, product, quantity, price_cents, created_at) VALUES
     (1, 'Analytical Engine manual', 1, 4200, '2026-01-06 10:00:00'),
     (2, 'COBOL compiler', 2, 9900, '2026-02-12 11:00:00'),
     (2, 'Nanosecond wire', 10, 150, '2026-02-13 16:45:00'),
     (3, 'Semaphore kit', 3, 1250, '2026-03-21 09:30:00')`,
];

/**
 * Error messages never name the database's place on the server: its absolute path (as given and as resolved)
 * becomes its file name.
 */
export function hideDatabasePath(file: string, realFile: string = file): (message: string) => string {
  const name = basename(file);
  return (message) => message.replaceAll(realFile, name).replaceAll(file, name);
}

/** Opens (and on first use creates and seeds) the database file read-write. */
export function openDatabase(file: string): { db: Database.Database; created: boolean } {
  const created = !existsSync(file);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  if (created) {
    db.transaction(() => {
      for (const sql of SEED) db.exec(sql);
    })();
  }
  return { db, created };
}

/** list_tables lists at most this many tables and views; describe_table at most this many indexes. */
export const MAX_LISTED = 1000;
/** An unknown table's error names at most this many of the tables there are. */
export const MAX_NAMED_IN_ERROR = 20;

const TABLES = "FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'";

/** The first `limit` tables and views by name, and how many more there are. */
export function listTables(db: Database.Database, limit = MAX_LISTED) {
  const tables = db.prepare(`SELECT name, type ${TABLES} ORDER BY name LIMIT ?`).all(limit) as {
    name: string;
    type: 'table' | 'view';
  }[];
  const more =
    tables.length < limit
      ? 0
      : (db.prepare(`SELECT count(*) AS n ${TABLES}`).get() as { n: number }).n - limit;
  return { tables, more };
}

/** A name as an error quotes it: at most 100 characters. */
const quoteName = (name: string) => JSON.stringify(name.length > 100 ? `${name.slice(0, 100)}...` : name);

export function describeTable(db: Database.Database, table: string) {
  const known = db
    .prepare("SELECT type FROM sqlite_schema WHERE type IN ('table', 'view') AND name = ?")
    .get(table) as { type: string } | undefined;
  if (!known) {
    const { tables, more } = listTables(db, MAX_NAMED_IN_ERROR);
    const have = tables.map((t) => t.name).join(', ') + (more ? ` and ${more} more: see list_tables` : '');
    throw new RuleError(
      'unknown-table',
      `no table or view named ${quoteName(table)} (have: ${have || 'none'})`,
    );
  }
  const columns = db
    .prepare('SELECT cid, name, type, "notnull", dflt_value, pk FROM pragma_table_info(?)')
    .all(table) as {
    cid: number;
    name: string;
    type: string;
    notnull: number;
    dflt_value: string | null;
    pk: number;
  }[];
  const foreignKeys = db
    .prepare('SELECT "from", "table", "to" FROM pragma_foreign_key_list(?)')
    .all(table) as {
    from: string;
    table: string;
    to: string;
  }[];
  const indexes = (
    db.prepare('SELECT name, "unique", origin FROM pragma_index_list(?) LIMIT ?').all(table, MAX_LISTED) as {
      name: string;
      unique: number;
      origin: string;
    }[]
  ).map((ix) => ({
    name: ix.name,
    unique: ix.unique === 1,
    origin: ix.origin,
    columns: (db.prepare('SELECT name FROM pragma_index_info(?)').all(ix.name) as { name: string }[]).map(
      (c) => c.name,
    ),
  }));
  return {
    table,
    type: known.type,
    columns: columns.map((c) => ({
      name: c.name,
      type: c.type,
      notNull: c.notnull === 1,
      default: c.dflt_value,
      primaryKey: c.pk > 0,
    })),
    foreignKeys,
    indexes,
    ...(indexes.length === MAX_LISTED
      ? {
          moreIndexes:
            (db.prepare('SELECT count(*) AS n FROM pragma_index_list(?)').get(table) as { n: number }).n -
            MAX_LISTED,
        }
      : {}),
  };
}

/** The write tool's rules: those of every write (sql-rules.ts), and no rows returned. */
export function checkWrite(db: Database.Database, sql: string, params: SqlParam[] | undefined) {
  const stmt = checkWriteStatement(db, sql, params);
  if (stmt.reader) throw new RuleError('not-a-write', 'this statement returns rows: use the query tool');
  return stmt;
}

export interface WriteResult {
  changes: number;
  lastInsertRowid: number;
}

/** Default of DATABASE_MAX_BYTES: the database file's size limit. */
export const DEFAULT_MAX_DATABASE_BYTES = 1024 ** 3;

/**
 * Limits the database file to `maxBytes` on this (the write) connection: SQLite's max_page_count, so a write that
 * would grow the file past it fails with SQLITE_FULL and changes nothing. A file already larger keeps its size
 * (SQLite never sets the limit below the pages in use): it cannot grow. Returns the limit in bytes.
 */
export function limitDatabaseSize(db: Database.Database, maxBytes: number): number {
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  db.pragma(`max_page_count = ${Math.max(1, Math.floor(maxBytes / pageSize))}`);
  return maxBytes;
}

/**
 * Checks and runs a write; `onStart` is called when it is compiled and about to run (the time limit's start).
 * `maxBytes` is the size limit set with limitDatabaseSize, named in the error when a write would pass it.
 * Afterwards nothing may be left in the connection, shared by every client's writes: an open transaction is
 * rolled back and TEMP objects dropped, and the statement is reported as refused.
 */
export function executeWrite(
  db: Database.Database,
  sql: string,
  params: SqlParam[] | undefined,
  onStart?: () => void,
  maxBytes = DEFAULT_MAX_DATABASE_BYTES,
): WriteResult {
  const stmt = checkWrite(db, sql, params);
  onStart?.();
  let info: Database.RunResult;
  try {
    info = stmt.run(...bindable(params));
  } catch (err) {
    if ((err as { code?: string }).code === 'SQLITE_FULL') {
      throw new RuleError(
        'database-full',
        `the write would take the database past its size limit of ${maxBytes} bytes (DATABASE_MAX_BYTES), or the disk is full: it changed nothing; delete rows (then VACUUM) to make room`,
      );
    }
    throw asParameterError(err) ?? new RuleError('sql-error', (err as Error).message);
  } finally {
    leaveConnectionClean(db);
  }
  return { changes: info.changes, lastInsertRowid: Number(info.lastInsertRowid) };
}

/** Rolls back an open transaction and drops TEMP objects, then refuses the statement that left them. */
export function leaveConnectionClean(db: Database.Database): void {
  if (db.inTransaction) {
    db.exec('ROLLBACK');
    throw new RuleError(
      'transaction-refused',
      'the statement left a transaction open on the shared write connection: it was rolled back, and nothing it did was kept',
    );
  }
  const temp = db
    .prepare(
      "SELECT type, name FROM temp.sqlite_schema WHERE type IN ('trigger', 'view', 'table') ORDER BY type = 'table'",
    )
    .all() as { type: string; name: string }[];
  if (temp.length) {
    for (const t of temp) db.exec(`DROP ${t.type} IF EXISTS temp."${t.name.replaceAll('"', '""')}"`);
    throw new RuleError(
      'temp-object-refused',
      'the statement created TEMP objects in the shared write connection: they were dropped',
    );
  }
}
