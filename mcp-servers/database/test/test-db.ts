// Test fixtures: a fresh seeded database file, a fingerprint of everything in it, and the SQL attack table.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from '../src/db.ts';

export function freshDatabase(): { file: string; db: Database.Database } {
  const file = join(mkdtempSync(join(tmpdir(), 'mcp-db-')), 'test.sqlite');
  return { file, db: openDatabase(file).db };
}

/** Settings of a connection that a statement could change for the next one (connection-rules.ts). */
export function connectionSettings(db: Database.Database): Record<string, unknown> {
  const names = ['busy_timeout', 'cache_size', 'foreign_keys', 'locking_mode', 'mmap_size', 'query_only'];
  return Object.fromEntries(names.map((n) => [n, db.pragma(n, { simple: true })]));
}

/** Schema and every row of every table: equal fingerprints mean an unchanged database. */
export function fingerprint(db: Database.Database): string {
  const schema = db.prepare('SELECT type, name, sql FROM sqlite_schema ORDER BY name').all() as {
    name: string;
    type: string;
  }[];
  const rows = schema
    .filter((s) => s.type === 'table')
    .map((s) => [s.name, db.prepare(`SELECT * FROM "${s.name.replaceAll('"', '""')}" ORDER BY rowid`).all()]);
  return JSON.stringify({ schema, rows });
}

/** [sql, params, rule]: each must be refused by the read-only query tool with this rule. */
export const SQL_ATTACKS: [string, (string | number | null)[] | undefined, string][] = [
  ['DROP TABLE customers', undefined, 'write-refused'],
  ['DELETE FROM customers', undefined, 'write-refused'],
  ["UPDATE customers SET email = 'attacker@example.com'", undefined, 'write-refused'],
  ["INSERT INTO customers (name, email) VALUES ('x', 'y')", undefined, 'write-refused'],
  ["INSERT INTO customers (name, email) VALUES ('x', 'y') RETURNING *", undefined, 'write-refused'],
  ["REPLACE INTO customers VALUES (1, 'x', 'y', 'z')", undefined, 'write-refused'],
  ['WITH x AS (SELECT 1) DELETE FROM orders', undefined, 'write-refused'],
  ['CREATE TABLE pwned (x)', undefined, 'write-refused'],
  ['CREATE TEMP TABLE t AS SELECT * FROM customers', undefined, 'write-refused'],
  ["VACUUM INTO '/tmp/stolen-copy.sqlite'", undefined, 'vacuum-into-refused'],
  ["vAcUuM/**/main\n\tInTo '/tmp/stolen-copy.sqlite'", undefined, 'vacuum-into-refused'],
  ['VACUUM INTO ?', ['/tmp/stolen-copy.sqlite'], 'vacuum-into-refused'],
  ["EXPLAIN VACUUM INTO '/tmp/stolen-copy.sqlite'", undefined, 'vacuum-into-refused'],
  ["PRAGMA temp_store_directory = '/tmp'", undefined, 'pragma-refused'],
  ['PRAGMA main."TEMP_STORE_DIRECTORY" = \'/tmp\'', undefined, 'pragma-refused'],
  ["PRAGMA 'temp_store_directory'", undefined, 'pragma-refused'],
  ['PRAGMA journal_mode = DELETE', undefined, 'pragma-refused'],
  // Settings of the shared connection (they act when compiled): refused from the tokens.
  ['PRAGMA locking_mode = EXCLUSIVE', undefined, 'pragma-refused'],
  ['PRAGMA busy_timeout = 1', undefined, 'pragma-refused'],
  ['pragma CACHE_SIZE(1)', undefined, 'pragma-refused'],
  ['PRAGMA mmap_size = 268435456', undefined, 'pragma-refused'],
  ['PRAGMA query_only = 1', undefined, 'pragma-refused'],
  ['PRAGMA foreign_keys = OFF', undefined, 'pragma-refused'],
  ['PRAGMA main.user_version = 7', undefined, 'pragma-refused'],
  ['EXPLAIN PRAGMA cache_size = 1', undefined, 'pragma-refused'],
  ['SELECT * FROM pragma_cache_size', undefined, 'pragma-refused'],
  // The database's absolute path.
  ['PRAGMA database_list', undefined, 'pragma-refused'],
  ['SELECT file FROM pragma_database_list', undefined, 'pragma-refused'],
  ["SELECT file FROM 'pragma_database_list'", undefined, 'pragma-refused'],
  ['SELECT file FROM "PRAGMA_DATABASE_LIST"', undefined, 'pragma-refused'],
  ['BEGIN IMMEDIATE', undefined, 'transaction-refused'],
  ['SAVEPOINT s', undefined, 'transaction-refused'],
  ['COMMIT', undefined, 'transaction-refused'],
  ['SELECT 1; DROP TABLE customers', undefined, 'multiple-statements'],
  ['SELECT * FROM customers; DELETE FROM orders', undefined, 'multiple-statements'],
  ["ATTACH DATABASE '/etc/passwd' AS x", undefined, 'attach-refused'],
  ["ATTACH ':memory:' AS scratch", undefined, 'attach-refused'],
  ["-- a comment\n/* another */ aTtAcH\n DATABASE '/tmp/y.db' AS y", undefined, 'attach-refused'],
  ['ATTACH ? AS y', ['/tmp/y.db'], 'attach-refused'],
  ['DETACH DATABASE main', undefined, 'attach-refused'],
  ["SELECT load_extension('/tmp/evil.so')", undefined, 'extension-refused'],
  ['PRAGMA writable_schema = ON', undefined, 'pragma-refused'],
  ["SELECT writefile('/tmp/x', 'y')", undefined, 'sql-error'],
  ['SELEC * FROM customers', undefined, 'sql-error'],
  ['', undefined, 'empty-sql'],
  ['-- only a comment', undefined, 'empty-sql'],
  ['SELECT * FROM customers WHERE id = ?', [1, 2], 'bad-parameters'],
];
