// What a statement may leave in a shared connection, decided from its tokens: transactions, PRAGMAs, TEMP objects.
// The same statements through the tools, with checks that the connections kept their settings: server.test.ts.
import { describe, expect, it } from 'vitest';
import { READ_PRAGMAS, refuseConnectionState, WRITE_PRAGMAS } from './connection-rules.ts';

const refusal = (sql: string, tool: 'read' | 'write') => {
  try {
    refuseConnectionState(sql, tool);
    return undefined;
  } catch (err) {
    return err as { rule: string; message: string };
  }
};

describe('refuseConnectionState', () => {
  it.each([
    'BEGIN',
    'begin immediate transaction',
    '/* x */ BEGIN EXCLUSIVE',
    'COMMIT',
    'END TRANSACTION',
    'ROLLBACK',
    'ROLLBACK TO s',
    'SAVEPOINT s',
    'RELEASE s',
    'EXPLAIN BEGIN',
    'DELETE FROM orders; BEGIN',
    'END',
    'CREATE TRIGGER tr AFTER INSERT ON orders BEGIN SELECT 1; END; COMMIT',
    'CREATE TRIGGER tr AFTER INSERT ON orders BEGIN SELECT 1; END; BEGIN',
  ])('refuses transaction control %j in both tools', (sql) => {
    for (const tool of ['read', 'write'] as const) {
      expect(refusal(sql, tool)?.rule, `${tool}: ${sql}`).toBe('transaction-refused');
    }
    expect(refusal(sql, 'write')?.message).toMatch(/is refused: each call runs as a transaction of its own/);
  });

  it.each([
    'PRAGMA foreign_keys = OFF',
    'PRAGMA query_only = 1',
    'PRAGMA locking_mode = EXCLUSIVE',
    'PRAGMA busy_timeout = 1',
    'PRAGMA cache_size = 1',
    'PRAGMA "mmap_size" = 1',
    'PRAGMA main.synchronous = OFF',
    'PRAGMA recursive_triggers = 1',
    'PRAGMA journal_mode = DELETE',
    'PRAGMA defer_foreign_keys = 1',
    "PRAGMA temp_store = 'MEMORY'",
    'PRAGMA table_info(orders)',
    'PRAGMA database_list',
  ])('execute refuses %j: it would stay in the shared write connection', (sql) => {
    const err = refusal(sql, 'write');
    expect(err?.rule).toBe('pragma-refused');
    expect(err?.message).toContain(`writes may run only PRAGMA ${[...WRITE_PRAGMAS].join(', ')}`);
  });

  it.each([
    'PRAGMA user_version = 3',
    'PRAGMA main.application_id = 42',
    'PRAGMA optimize',
    'PRAGMA incremental_vacuum(10)',
    'INSERT INTO orders SELECT * FROM orders',
    "CREATE TABLE t (x); -- TEMP in a comment, 'temp.x' in a string",
    "CREATE VIEW v AS SELECT * FROM pragma_table_info('orders')",
    'CREATE TRIGGER tr AFTER INSERT ON orders BEGIN UPDATE customers SET name = name; DELETE FROM t; END',
    'create trigger tr after insert on orders when new.quantity > 1 begin update t set x = case when new.quantity > 9 then 1 else 0 end; insert into t values (1); end;',
    "INSERT INTO t VALUES ('pragma_x'), ('pragma_database_list')",
    "UPDATE t SET a = 'x', b = 'pragma_busy_timeout' WHERE c IN ('pragma_x', 'y')",
  ])('execute allows %j', (sql) => {
    expect(refusal(sql, 'write')).toBeUndefined();
  });

  it.each([
    'CREATE TEMP TABLE t (x)',
    'create temporary view v as select 1',
    'CREATE TEMP TRIGGER t AFTER INSERT ON main.orders BEGIN DELETE FROM main.customers; END',
    'CREATE TABLE temp.t (x)',
    'CREATE INDEX "temp".i ON t (x)',
    'CREATE TRIGGER IF NOT EXISTS [TEMP] . t AFTER INSERT ON orders BEGIN SELECT 1; END',
  ])('execute refuses the TEMP object %j', (sql) => {
    expect(refusal(sql, 'write')?.rule).toBe('temp-object-refused');
  });

  it.each([
    'PRAGMA user_version = 3',
    'PRAGMA user_version(3)',
    'PRAGMA page_size = 512',
    'PRAGMA foreign_keys = OFF',
    'PRAGMA cache_size',
    'PRAGMA database_list',
    'PRAGMA main.database_list',
    "PRAGMA 'database_list'",
    'EXPLAIN PRAGMA busy_timeout = 1',
    'SELECT * FROM pragma_database_list',
    'SELECT * FROM main.pragma_database_list AS d',
    'SELECT * FROM [pragma_busy_timeout]',
    "SELECT * FROM 'PRAGMA_DATABASE_LIST'",
    'SELECT * FROM "pragma_database_list"',
    'SELECT * FROM orders JOIN main."pragma_database_list" ON 1',
    "SELECT * FROM orders AS o, 'pragma_database_list' WHERE 1",
    "SELECT * FROM orders JOIN customers ON 1, 'pragma_database_list'",
    "SELECT * FROM ('pragma_busy_timeout'(1))",
    "SELECT 1 WHERE 1 IN 'pragma_busy_timeout'",
    "SELECT 'x' UNION SELECT file FROM orders, [pragma_database_list]",
  ])('a query refuses %j', (sql) => {
    expect(refusal(sql, 'read')?.rule).toBe('pragma-refused');
  });

  it.each([
    'PRAGMA table_info(customers)',
    'PRAGMA main.table_xinfo("customers")',
    'PRAGMA index_list = orders',
    'PRAGMA foreign_key_check',
    'PRAGMA integrity_check(10)',
    'PRAGMA user_version',
    'PRAGMA journal_mode',
    'SELECT name FROM pragma_table_info(?) JOIN pragma_index_list(?)',
    "SELECT 'BEGIN', 'PRAGMA cache_size = 1' AS x",
    'EXPLAIN QUERY PLAN SELECT * FROM orders',
    "SELECT 'pragma_database_list', 'pragma_x' AS y",
    "SELECT a, 'pragma_busy_timeout' FROM orders WHERE b = 'pragma_x' ORDER BY a, 'pragma_y'",
    "SELECT a IS DISTINCT FROM b, 'pragma_x' FROM (SELECT 1 AS a, 'pragma_y' AS b)",
    "SELECT * FROM orders WHERE product IN ('x', 'pragma_database_list')",
  ])('a query allows %j', (sql) => {
    expect(refusal(sql, 'read')).toBeUndefined();
  });

  it('names the PRAGMAs a query may run', () => {
    expect(refusal('PRAGMA cache_size = 1', 'read')?.message).toBe(
      `PRAGMA cache_size is refused: queries may run only the read-only PRAGMAs ${[...READ_PRAGMAS].join(', ')}`,
    );
    expect(refusal('PRAGMA user_version = 1', 'read')?.message).toBe(
      'PRAGMA user_version with a value sets it, and queries only read: run PRAGMA user_version alone',
    );
  });
});
