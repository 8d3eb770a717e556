import { RuleError } from '@claude-code-telemetry/mcp-common/tool-result';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { connectionSettings, fingerprint, freshDatabase, SQL_ATTACKS } from '../test/test-db.ts';
import { runReadQuery } from './query.ts';
import { checkWriteStatement, inspectReadQuery, MAX_SQL_LENGTH, refuseOtherFiles } from './sql-rules.ts';

const { file, db: rw } = freshDatabase();
const ro = new Database(file, { readonly: true, fileMustExist: true });
const limits = (maxRows: number) => ({ maxRows, maxResultBytes: 1024 * 1024 });
const tempDirectory = () => rw.pragma('temp_store_directory', { simple: true });

describe('read-only queries: SQL attacks are refused by SQLite, naming the rule', () => {
  const before = fingerprint(rw);
  const tempBefore = tempDirectory();
  const settingsBefore = connectionSettings(ro);

  it('has at least 15 attacks', () => {
    expect(SQL_ATTACKS.length).toBeGreaterThanOrEqual(15);
  });

  it.each(SQL_ATTACKS)('%j %j -> %s', (sql, params, rule) => {
    const err = (() => {
      try {
        return new Error(`accepted: ${JSON.stringify(runReadQuery(ro, sql, params, limits(10)))}`);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(RuleError);
    expect((err as RuleError).rule).toBe(rule);
  });

  it('left the database unchanged, the connection as it was, and SQLite putting its temporary files where it did', () => {
    expect(fingerprint(rw)).toBe(before);
    expect(connectionSettings(ro)).toEqual(settingsBefore);
    expect(tempDirectory()).toBe(tempBefore);
  });
});

describe('read-only queries that are allowed', () => {
  it('binds parameters: an injection attempt is a value, not SQL', () => {
    expect(
      runReadQuery(ro, 'SELECT * FROM customers WHERE name = ?', ["x' OR '1'='1"], limits(10)).rowCount,
    ).toBe(0);
    expect(runReadQuery(ro, 'SELECT name FROM customers WHERE id = ?', [2], limits(10)).rows).toEqual([
      { name: 'Grace Hopper' },
    ]);
  });

  it('stops reading at the row limit and says so, even for an endless query', () => {
    const endless = 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n';
    const r = runReadQuery(ro, endless, undefined, limits(3));
    expect(r).toMatchObject({ rowCount: 3, truncated: true, limit: 'maxRows', columns: ['x'] });
    expect(r.note).toContain('row limit of 3 rows');
    expect(runReadQuery(ro, 'SELECT id FROM customers', undefined, limits(3)).truncated).toBe(false);
  });

  it('allows read-only PRAGMA functions and a trailing semicolon or comment', () => {
    expect(runReadQuery(ro, 'PRAGMA table_info(customers)', undefined, limits(10)).rowCount).toBe(4);
    expect(runReadQuery(ro, 'SELECT 1 AS one; -- done', undefined, limits(10)).rows).toEqual([{ one: 1 }]);
  });

  it('a read-only connection refuses a write even without the statement check', () => {
    expect(() => ro.prepare('DELETE FROM orders').run()).toThrow(/readonly/);
  });
});

describe('the write path', () => {
  it('refuses ATTACH, VACUUM INTO, file PRAGMAs and extensions, and several statements', () => {
    const tempBefore = tempDirectory();
    for (const [sql, rule] of [
      ["ATTACH ':memory:' AS m", 'attach-refused'],
      ["VACUUM INTO '/tmp/copy.sqlite'", 'vacuum-into-refused'],
      ["PRAGMA temp_store_directory = '/tmp'", 'pragma-refused'],
      ["SELECT load_extension('x')", 'extension-refused'],
      ['DELETE FROM orders; DELETE FROM customers', 'multiple-statements'],
      ["DELETE FROM orders; PRAGMA temp_store_directory = '/tmp'", 'pragma-refused'],
    ]) {
      expect(() => checkWriteStatement(rw, sql as string), sql).toThrow(expect.objectContaining({ rule }));
    }
    expect(tempDirectory()).toBe(tempBefore);
    expect(checkWriteStatement(rw, 'VACUUM').readonly).toBe(false); // a plain VACUUM rewrites only the database
  });

  it('refuses transactions, PRAGMA settings and TEMP objects before compiling them: the connection keeps its settings', () => {
    const settings = connectionSettings(rw);
    const before = fingerprint(rw);
    for (const [sql, rule] of [
      ['BEGIN IMMEDIATE', 'transaction-refused'],
      ['SAVEPOINT s', 'transaction-refused'],
      ['PRAGMA foreign_keys = OFF', 'pragma-refused'],
      ['PRAGMA query_only = 1', 'pragma-refused'],
      ['PRAGMA locking_mode = EXCLUSIVE', 'pragma-refused'],
      ['PRAGMA busy_timeout = 1', 'pragma-refused'],
      ['PRAGMA cache_size = 1', 'pragma-refused'],
      ['PRAGMA mmap_size = 1048576', 'pragma-refused'],
      [
        'CREATE TEMP TRIGGER t AFTER INSERT ON main.orders BEGIN DELETE FROM main.customers; END',
        'temp-object-refused',
      ],
      ['CREATE VIEW leak AS SELECT file FROM pragma_database_list', 'pragma-refused'],
    ]) {
      expect(() => checkWriteStatement(rw, sql as string), sql).toThrow(expect.objectContaining({ rule }));
    }
    expect(connectionSettings(rw)).toEqual(settings);
    expect(fingerprint(rw)).toBe(before);
    expect(rw.inTransaction).toBe(false);
  });

  it('counts a trigger, its body of several statements included, as one statement', () => {
    const trigger =
      'CREATE TRIGGER tr AFTER INSERT ON orders BEGIN UPDATE customers SET name = CASE WHEN new.quantity > 1 THEN name ELSE name END; DELETE FROM customers WHERE 0; END';
    expect(checkWriteStatement(rw, trigger).readonly).toBe(false);
    expect(checkWriteStatement(rw, `${trigger};`).readonly).toBe(false);
    expect(() => checkWriteStatement(rw, `${trigger}; DELETE FROM orders`)).toThrow(
      expect.objectContaining({ rule: 'multiple-statements' }),
    );
  });

  it('refuses SQL over the length limit before compiling it, naming the limit', () => {
    const sql = `SELECT '${'x'.repeat(MAX_SQL_LENGTH)}'`;
    expect(() => checkWriteStatement(rw, sql)).toThrow(
      `the SQL is ${sql.length} characters, over the limit of ${MAX_SQL_LENGTH}: use bound parameters for long values`,
    );
  });
});

describe('queries that cannot loop (straight-line bytecode), for the worker kept for quick queries', () => {
  it.each([
    ['SELECT 1', true],
    ['SELECT * FROM customers WHERE id = ?', true],
    ['SELECT count(*) FROM orders', true],
    ['SELECT length(randomblob(10)) WHERE 1 IN (1, 2, 3)', true],
    ['PRAGMA table_info(customers)', true],
    ['SELECT * FROM customers', false],
    ['SELECT * FROM orders ORDER BY price_cents', false],
    ['SELECT (SELECT max(price_cents) FROM orders)', false],
    ['VALUES (1), (2)', false],
    ['WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n', false],
  ])('%j: %s', (sql, expected) => {
    const params = sql.includes('?') ? [1] : undefined;
    expect(inspectReadQuery(ro, sql, params).straightLine).toBe(expected);
  });
});

describe('refuseOtherFiles: from the tokens, before SQLite compiles anything', () => {
  it.each([
    ["ATTACH 'x.db' AS x", 'attach-refused'],
    ["  attach/* hidden */'x.db' as x", 'attach-refused'],
    ['DeTaCh x', 'attach-refused'],
    ["EXPLAIN QUERY PLAN VACUUM INTO 'x'", 'vacuum-into-refused'],
    ["VACUUM -- comment\n INTO 'x'", 'vacuum-into-refused'],
    ['VACUUM "main" INTO \'x\'', 'vacuum-into-refused'],
    ["PRAGMA [temp_store_directory] = '/tmp'", 'pragma-refused'],
    ["PRAGMA `data_store_directory` = '/tmp'", 'pragma-refused'],
    ["pragma main . temp_store_directory='/tmp'", 'pragma-refused'],
    ["SELECT 1; ATTACH 'x.db' AS x", 'attach-refused'],
  ])('%j -> %s', (sql, rule) => {
    expect(() => refuseOtherFiles(sql)).toThrow(expect.objectContaining({ rule }));
  });

  it.each([
    'VACUUM',
    "SELECT 'ATTACH' AS attach, 'VACUUM INTO' AS \"into\"",
    "SELECT * FROM customers WHERE name = 'x; ATTACH y AS z'",
    '-- ATTACH x AS y\nSELECT 1',
    'PRAGMA table_info(customers)',
    'PRAGMA temp_store',
  ])('leaves %j alone', (sql) => {
    expect(() => refuseOtherFiles(sql)).not.toThrow();
  });
});
