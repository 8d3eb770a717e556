// Test fixtures: a fresh seeded database file, a fingerprint of everything in it, and the SQL attack table.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openDatabase } from './db.ts';

export function freshDatabase(): { file: string; db: Database.Database } {
  const file = join(mkdtempSync(join(tmpdir(), 'mcp-db-')), 'test.sqlite');
  return { file, db: openDatabase(file).db };
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
  ['PRAGMA journal_mode = DELETE', undefined, 'write-refused'],
  ['BEGIN IMMEDIATE', undefined, 'write-refused'],
  ['SELECT 1; DROP TABLE customers', undefined, 'multiple-statements'],
  ['SELECT * FROM customers; DELETE FROM orders', undefined, 'multiple-statements'],
  ["ATTACH DATABASE '/etc/passwd' AS x", undefined, 'attach-refused'],
  ["ATTACH ':memory:' AS scratch", undefined, 'attach-refused'],
  ["-- a comment\n/* another */ aTtAcH\n DATABASE '/tmp/y.db' AS y", undefined, 'attach-refused'],
  ['ATTACH ? AS y', ['/tmp/y.db'], 'attach-refused'],
  ['DETACH DATABASE main', undefined, 'attach-refused'],
  ["SELECT load_extension('/tmp/evil.so')", undefined, 'extension-refused'],
  ['PRAGMA writable_schema = ON', undefined, 'not-a-query'],
  ["SELECT writefile('/tmp/x', 'y')", undefined, 'sql-error'],
  ['SELEC * FROM customers', undefined, 'sql-error'],
  ['', undefined, 'empty-sql'],
  ['-- only a comment', undefined, 'empty-sql'],
  ['SELECT * FROM customers WHERE id = ?', [1, 2], 'bad-parameters'],
];
