import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { fingerprint, freshDatabase } from '../test/test-db.ts';
import { runReadQuery } from './query.ts';
import { guardedSql, MAX_GUARDED_COLUMNS } from './result-limits.ts';

const { file, db: rw } = freshDatabase();
rw.exec(`CREATE TABLE files (id INTEGER PRIMARY KEY, name TEXT, data BLOB, body TEXT);
  INSERT INTO files (name, data, body) VALUES
    ('small', x'0102', 'hi'),
    ('huge blob', zeroblob(20000000), 'ok'),
    ('huge text', NULL, printf('%.*c', 3000000, 'x')),
    ('after', x'03', 'bye');`);
const ro = new Database(file, { readonly: true, fileMustExist: true });
const KiB = 1024;

describe('the byte limit: reading stops before the rows pass it', { timeout: 60_000 }, () => {
  const before = fingerprint(rw);

  it('stops at the row that would pass the limit, says which limit and how to narrow the query', () => {
    const r = runReadQuery(
      ro,
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x, printf('%.*c', 1000, 'y') AS pad FROM n",
      undefined,
      { maxRows: 500, maxResultBytes: 16 * KiB },
    );
    expect(r).toMatchObject({ truncated: true, limit: 'maxResultBytes' });
    expect(r.rowCount).toBeGreaterThan(10);
    expect(r.rowCount).toBeLessThan(17);
    expect(Buffer.byteLength(JSON.stringify(r.rows))).toBeLessThanOrEqual(16 * KiB);
    expect(r.note).toBe(
      `stopped after ${r.rowCount} rows: the next row would take the result past the size limit of ${16 * KiB} bytes (DATABASE_MAX_RESULT_BYTES): select fewer or smaller columns (length(col), substr(col, 1, 200)) or fewer rows (WHERE, LIMIT)`,
    );
  });

  it('summarizes a value too large to return, without loading it, and goes on with the next rows', () => {
    const r = runReadQuery(ro, 'SELECT name, data, body FROM files ORDER BY id', undefined, {
      maxRows: 500,
      maxResultBytes: 64 * KiB,
    });
    expect(r.rows).toEqual([
      { name: 'small', data: { base64: 'AQI=' }, body: 'hi' },
      { name: 'huge blob', data: { omitted: 'blob', bytes: 20_000_000 }, body: 'ok' },
      { name: 'huge text', data: null, body: { omitted: 'text', bytes: 3_000_000 } },
      { name: 'after', data: { base64: 'Aw==' }, body: 'bye' },
    ]);
    expect(r).toMatchObject({ truncated: false, omittedValues: 2 });
    expect(r.note).toContain('2 value(s) too large to return were replaced by {omitted: type, bytes}');
  });

  it('never loads a huge stored value: a 100 MB blob is measured from its record header, not read', () => {
    rw.exec(
      'CREATE TABLE big (id INTEGER PRIMARY KEY, b BLOB); INSERT INTO big (b) VALUES (zeroblob(100000000))',
    );
    const rss = process.memoryUsage().rss;
    const r = runReadQuery(ro, 'SELECT b, 1 AS one FROM big', undefined, {
      maxRows: 10,
      maxResultBytes: 64 * KiB,
    });
    expect(r.rows).toEqual([{ b: { omitted: 'blob', bytes: 100_000_000 }, one: 1 }]);
    // Reading it would take 100 MB in SQLite and 100 MB more as a Buffer.
    expect(process.memoryUsage().rss - rss).toBeLessThan(50 * 1024 * 1024);
    rw.exec('DROP TABLE big');
  });

  it('a huge computed value is summarized too (SQLite computes it, JavaScript never holds it)', () => {
    const r = runReadQuery(ro, 'SELECT zeroblob(50000000) AS z, 1 AS one', undefined, {
      maxRows: 10,
      maxResultBytes: 64 * KiB,
    });
    expect(r.rows).toEqual([{ z: { omitted: 'blob', bytes: 50_000_000 }, one: 1 }]);
  });

  it('keeps order, duplicate column names, bound parameters and a trailing comment as the plain query has them', () => {
    const plain = { maxRows: 500, maxResultBytes: 1024 * KiB };
    const cases: [string, (string | number)[] | undefined][] = [
      ['SELECT name FROM customers ORDER BY name DESC', undefined],
      [
        'SELECT c.id, o.id FROM customers c JOIN orders o ON o.customer_id = c.id ORDER BY o.id DESC',
        undefined,
      ],
      ['SELECT name FROM customers WHERE id > ? ORDER BY id; -- trailing', [1]],
      ['VALUES (1, 2), (3, 4)', undefined],
      ['PRAGMA table_info(customers)', undefined], // not a table expression: runs as it is
      ['EXPLAIN QUERY PLAN SELECT * FROM orders WHERE id = ?', [1]], // nor this
    ];
    for (const [sql, params] of cases) {
      const expected = ro.prepare(sql.replace(/; -- trailing$/, '')).all(...(params ?? [])) as Record<
        string,
        unknown
      >[];
      expect(runReadQuery(ro, sql, params, plain).rows, sql).toEqual(expected);
    }
  });

  it('guards a query that names the old fixed wrapper, in a string or as its own table', () => {
    const limits = { maxRows: 10, maxResultBytes: 64 * KiB };
    const omitted = { omitted: 'blob', bytes: 50_000_000 };
    expect(
      runReadQuery(ro, "SELECT '__mcp_result_guard__' AS s, zeroblob(50000000) AS z", undefined, limits).rows,
    ).toEqual([{ s: '__mcp_result_guard__', z: omitted }]);
    expect(
      runReadQuery(
        ro,
        'WITH "__mcp_result_guard__"(z) AS (SELECT zeroblob(50000000)) SELECT z FROM "__mcp_result_guard__"',
        undefined,
        limits,
      ).rows,
    ).toEqual([{ z: omitted }]);
  });

  it(`refuses a query of more than ${MAX_GUARDED_COLUMNS} columns (the wrapper would need more than SQLite's 2000), never running it unguarded`, () => {
    const columns = (n: number) =>
      `SELECT zeroblob(50000000) AS big, ${Array.from({ length: n - 1 }, (_, i) => `${i} AS c${i}`).join(', ')}`;
    const limits = { maxRows: 10, maxResultBytes: 64 * KiB };
    expect(() => runReadQuery(ro, columns(MAX_GUARDED_COLUMNS + 1), undefined, limits)).toThrow(
      expect.objectContaining({
        rule: 'too-many-columns',
        message: `the query returns ${MAX_GUARDED_COLUMNS + 1} columns, over the limit of ${MAX_GUARDED_COLUMNS}: select fewer columns`,
      }),
    );
    // At the limit it runs, wrapped: the blob is summarized.
    const r = runReadQuery(ro, columns(MAX_GUARDED_COLUMNS), undefined, limits);
    expect(r.rows[0]?.big).toEqual({ omitted: 'blob', bytes: 50_000_000 });
    expect(r.columns).toHaveLength(MAX_GUARDED_COLUMNS);
  });

  it('left the database unchanged', () => {
    expect(fingerprint(rw)).toBe(before);
  });
});

describe('guardedSql', () => {
  it('wraps the statement on lines of its own, without its tail, with a value and a marker per column', () => {
    const sql = guardedSql('SELECT a, b FROM t; -- x', 2, 100);
    expect(sql).toContain('AS (\nSELECT a, b FROM t\n)');
    expect(sql?.match(/CASE WHEN/g)).toHaveLength(4);
  });

  it('names the wrapper afresh for each call, so no statement can name it', () => {
    const name = (sql: string) => /^WITH "([^"]+)"/.exec(sql)?.[1];
    const a = name(guardedSql('SELECT 1', 1, 100));
    const b = name(guardedSql('SELECT 1', 1, 100));
    expect(a).toMatch(/^__mcp_guard_[0-9a-f]{24}$/);
    expect(b).not.toBe(a);
  });
});
