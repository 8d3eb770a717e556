// Which queries may use the worker kept for quick queries, and which waiting statement a free worker takes.
import { describe, expect, it } from 'vitest';
import { keepsReserve, pickWaiter, QUICK_MS, QuickQueries, reserveStopped } from './quick-queries.ts';

describe('keepsReserve', () => {
  it('keeps the last worker for quick queries in a read pool of 2 or more', () => {
    expect(keepsReserve('read', 2)).toBe(true);
    expect(keepsReserve('read', 1)).toBe(false);
    expect(keepsReserve('write', 2)).toBe(false);
  });
});

describe('pickWaiter', () => {
  const waiting = [{ quick: false }, { quick: true }, { quick: true }];

  it('gives a free worker to the first waiting while fewer than maxWorkers - 1 are busy', () => {
    expect(pickWaiter(waiting, 2, 4, true)).toEqual({ index: 0, onReserve: false });
  });

  it('gives the last worker only to the first quick query waiting, or to none', () => {
    expect(pickWaiter(waiting, 3, 4, true)).toEqual({ index: 1, onReserve: true });
    expect(pickWaiter([{ quick: false }], 3, 4, true)).toEqual({ index: -1, onReserve: true });
  });

  it('keeps no worker back in a pool without a reserve', () => {
    expect(pickWaiter(waiting, 3, 4, false)).toEqual({ index: 0, onReserve: false });
  });
});

describe('reserveStopped', () => {
  it('is query-busy, naming the short limit and the setting', () => {
    expect(reserveStopped(300, 2)).toMatchObject({
      rule: 'query-busy',
      message:
        'every other query worker was busy (1 of DATABASE_QUERY_WORKERS_MAX=2), so the query ran on the one kept for quick queries, which stops a query after 300 ms: it was stopped; try again when the slow queries are done',
    });
  });
});

describe('QuickQueries', () => {
  it('counts a straight-line query as quick, and SQL that ran in under quickMs last time', () => {
    const q = new QuickQueries();
    expect(q.isQuick('SELECT 1', undefined, true)).toBe(true);
    expect(q.isQuick('SELECT * FROM t', undefined, false)).toBe(false);
    q.ran('SELECT * FROM t', undefined, QUICK_MS - 1);
    expect(q.isQuick('SELECT * FROM t', undefined, false)).toBe(true);
    expect(q.isQuick('SELECT * FROM t', [], false)).toBe(true);
  });

  it('keys on the SQL and its bound values: the same SQL with other values is not known to be quick', () => {
    const q = new QuickQueries(100);
    const sql = 'SELECT * FROM orders WHERE product LIKE ?';
    q.ran(sql, ['x%'], 1);
    expect(q.isQuick(sql, ['x%'], false)).toBe(true);
    expect(q.isQuick(sql, ['%'], false)).toBe(false);
    expect(q.isQuick(sql, [1], false)).toBe(false);
    expect(q.isQuick(sql, undefined, false)).toBe(false);
    q.ran(sql, ['%'], 500);
    expect(q.isQuick(sql, ['x%'], false)).toBe(true);
    // Where the SQL ends and the values start is part of the key.
    q.ran('SELECT ?', ['a'], 1);
    expect(q.isQuick('SELECT ?,', ['a'], false)).toBe(false);
  });

  it('forgets a query that ran slow or was stopped', () => {
    const q = new QuickQueries(100);
    q.ran('a', undefined, 10);
    q.ran('a', undefined, 100);
    expect(q.isQuick('a', undefined, false)).toBe(false);
    q.ran('b', [1], 10);
    q.ran('b', [1], undefined);
    expect(q.isQuick('b', [1], false)).toBe(false);
  });

  it('remembers the latest ones only: a quick run again counts as the latest', () => {
    const q = new QuickQueries(100, 2);
    q.ran('a', undefined, 1);
    q.ran('b', undefined, 1);
    q.ran('a', undefined, 1);
    q.ran('c', undefined, 1);
    expect(['a', 'b', 'c'].filter((sql) => q.isQuick(sql, undefined, false))).toEqual(['a', 'c']);
  });
});
