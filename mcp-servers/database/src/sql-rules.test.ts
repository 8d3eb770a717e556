import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { runReadQuery } from './query.ts';
import { checkWriteStatement, SqlRuleError } from './sql-rules.ts';
import { fingerprint, freshDatabase, SQL_ATTACKS } from './test-db.ts';

const { file, db: rw } = freshDatabase();
const ro = new Database(file, { readonly: true, fileMustExist: true });

describe('read-only queries: SQL attacks are refused by SQLite, naming the rule', () => {
  const before = fingerprint(rw);

  it('has at least 15 attacks', () => {
    expect(SQL_ATTACKS.length).toBeGreaterThanOrEqual(15);
  });

  it.each(SQL_ATTACKS)('%j %j -> %s', (sql, params, rule) => {
    const err = (() => {
      try {
        return new Error(`accepted: ${JSON.stringify(runReadQuery(ro, sql, params, 10))}`);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SqlRuleError);
    expect((err as SqlRuleError).rule).toBe(rule);
  });

  it('left the database unchanged', () => {
    expect(fingerprint(rw)).toBe(before);
  });
});

describe('read-only queries that are allowed', () => {
  it('binds parameters: an injection attempt is a value, not SQL', () => {
    expect(runReadQuery(ro, 'SELECT * FROM customers WHERE name = ?', ["x' OR '1'='1"], 10).rowCount).toBe(0);
    expect(runReadQuery(ro, 'SELECT name FROM customers WHERE id = ?', [2], 10).rows).toEqual([
      { name: 'Grace Hopper' },
    ]);
  });

  it('stops reading at the row limit and says so, even for an endless query', () => {
    const endless = 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n';
    const r = runReadQuery(ro, endless, undefined, 3);
    expect(r).toMatchObject({ rowCount: 3, truncated: true, columns: ['x'] });
    expect(runReadQuery(ro, 'SELECT id FROM customers', undefined, 3).truncated).toBe(false);
  });

  it('allows read-only PRAGMA functions and a trailing semicolon or comment', () => {
    expect(runReadQuery(ro, 'PRAGMA table_info(customers)', undefined, 10).rowCount).toBe(4);
    expect(runReadQuery(ro, 'SELECT 1 AS one; -- done', undefined, 10).rows).toEqual([{ one: 1 }]);
  });

  it('a read-only connection refuses a write even without the statement check', () => {
    expect(() => ro.prepare('DELETE FROM orders').run()).toThrow(/readonly/);
  });
});

describe('the write path', () => {
  it('refuses ATTACH and extensions, and several statements', () => {
    for (const [sql, rule] of [
      ["ATTACH ':memory:' AS m", 'attach-refused'],
      ["SELECT load_extension('x')", 'extension-refused'],
      ['DELETE FROM orders; DELETE FROM customers', 'multiple-statements'],
    ]) {
      expect(() => checkWriteStatement(rw, sql as string), sql).toThrow(expect.objectContaining({ rule }));
    }
  });
});
