// The database file: created with demo tables and rows when new; schema introspection through SQLite's pragma
// table functions with bound names (never string-built SQL); the opt-in write path (run in the write worker, see
// query-runner.ts).
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

export function listTables(db: Database.Database) {
  return db
    .prepare(
      "SELECT name, type FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name",
    )
    .all() as { name: string; type: 'table' | 'view' }[];
}

export function describeTable(db: Database.Database, table: string) {
  const known = db
    .prepare("SELECT type FROM sqlite_schema WHERE type IN ('table', 'view') AND name = ?")
    .get(table) as { type: string } | undefined;
  if (!known) {
    const names = listTables(db).map((t) => t.name);
    throw new RuleError(
      'unknown-table',
      `no table or view named ${JSON.stringify(table)} (have: ${names.join(', ')})`,
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
    db.prepare('SELECT name, "unique", origin FROM pragma_index_list(?)').all(table) as {
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

/** Checks and runs a write; `onStart` is called when it is compiled and about to run (the time limit's start). */
export function executeWrite(
  db: Database.Database,
  sql: string,
  params: SqlParam[] | undefined,
  onStart?: () => void,
): WriteResult {
  const stmt = checkWrite(db, sql, params);
  onStart?.();
  try {
    const info = stmt.run(...bindable(params));
    return { changes: info.changes, lastInsertRowid: Number(info.lastInsertRowid) };
  } catch (err) {
    throw asParameterError(err) ?? new RuleError('sql-error', (err as Error).message);
  }
}
