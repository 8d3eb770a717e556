// The query runner's pool: slow queries hold up only their own workers, the rules answer before any worker, a
// query over its limit kills and replaces its worker, and the next query is not charged for the new worker's
// start. No assertion counts milliseconds: each checks what happened, so a busy machine only makes it slower.
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fingerprint, freshDatabase } from '../test/test-db.ts';
import type { QueryResult } from './query.ts';
import { QueryRunner, type QueryRunnerOptions } from './query-runner.ts';

const ENDLESS = 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n';
const limits = { maxRows: 50, maxResultBytes: 1024 * 1024 };
const runners: QueryRunner[] = [];
/** A runner; a fixed pool of `workers` unless maxWorkers says otherwise. */
const runner = (o: Omit<QueryRunnerOptions, 'file'> & { file?: string }) => {
  const r = new QueryRunner({ file: freshDatabase().file, maxWorkers: o.workers, ...o });
  runners.push(r);
  return r;
};
afterEach(() => {
  for (const r of runners.splice(0)) r.close();
});

/** Settles to 'pending' if `p` has not settled by the time `other` has. */
const stateWhen = async (p: Promise<unknown>, other: Promise<unknown>) =>
  Promise.race([
    p.then(
      () => 'fulfilled',
      () => 'rejected',
    ),
    other.then(() => 'pending'),
  ]);

describe('a pool of query workers', { timeout: 120_000 }, () => {
  it('answers a quick query while slow queries occupy other workers', async () => {
    const r = runner({ timeoutMs: 600_000, workers: 3 });
    const slow = [r.query(ENDLESS, undefined, limits), r.query(ENDLESS, undefined, limits)];
    const quick = r.query('SELECT 1 AS one', undefined, limits);
    expect(await quick).toMatchObject({ rows: [{ one: 1 }] });
    for (const s of slow) expect(await stateWhen(s, quick)).toBe('pending');
    r.close();
    for (const s of slow) await expect(s).rejects.toThrow(/query worker exited/);
  });

  it('starts a spare when every worker is busy: a quick query is not held up by slow ones; the extra retires', async () => {
    const r = runner({ timeoutMs: 600_000, workers: 1, maxWorkers: 3, retireAfterMs: 200 });
    const slow = [r.query(ENDLESS, undefined, limits), r.query(ENDLESS, undefined, limits)];
    for (const s of slow) s.catch(() => {});
    const quick = r.query('SELECT 1 AS one', undefined, limits);
    expect(await quick).toMatchObject({ rows: [{ one: 1 }] });
    for (const s of slow) expect(await stateWhen(s, quick)).toBe('pending');
    expect(r.pids().length, 'never more than maxWorkers').toBeLessThanOrEqual(3);
    r.close();
    // Without slow work, extra workers retire down to `workers`.
    const calm = runner({ timeoutMs: 600_000, workers: 1, maxWorkers: 3, retireAfterMs: 200 });
    await Promise.all([1, 2, 3].map(() => calm.query('SELECT 1', undefined, limits)));
    for (let i = 0; i < 300 && calm.pids().length > 1; i++) await new Promise((r) => setTimeout(r, 100));
    expect(calm.pids(), 'the extra workers retired within 30 s').toHaveLength(1);
  });

  it('keeps the last worker for quick queries: more slow queries than workers do not hold up a quick one', async () => {
    // quickMs: a query that ran in under 60 s counts as quick, so a busy machine cannot make it look slow.
    const r = runner({ timeoutMs: 600_000, workers: 1, maxWorkers: 3, quickMs: 60_000 });
    await r.whenReady();
    // A query that reads rows one by one, quick when it last ran: remembered.
    const names = 'SELECT name FROM customers ORDER BY name';
    expect(((await r.query(names, undefined, limits)) as QueryResult).rowCount).toBe(3);
    // More slow queries than maxWorkers, each with a 10-minute limit.
    const slow = [1, 2, 3, 4].map(() => r.query(ENDLESS, undefined, limits));
    for (const s of slow) s.catch(() => {});
    // A query that cannot loop (SELECT 1), and the remembered one, answer without waiting for a time limit.
    const quick = r.query('SELECT 1 AS one', undefined, limits);
    expect(await quick).toMatchObject({ rows: [{ one: 1 }] });
    expect(((await r.query(names, undefined, limits)) as QueryResult).rowCount).toBe(3);
    for (const s of slow) expect(await stateWhen(s, quick)).toBe('pending');
    expect(r.pids().length, 'never more than maxWorkers').toBeLessThanOrEqual(3);
  });

  it('gives the worker kept for quick queries only to the same SQL with the same values, and stops it there at its short limit once it turns out slow (query-busy)', async () => {
    const { file, db } = freshDatabase();
    db.exec('CREATE TABLE scale (v INTEGER); INSERT INTO scale VALUES (1)');
    const r = runner({
      file,
      timeoutMs: 600_000,
      workers: 1,
      maxWorkers: 2,
      maxWaitMs: 500,
      quickLimitMs: 300,
      quickMs: 60_000,
    });
    await r.whenReady();
    const upTo =
      'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < ? * (SELECT v FROM scale)) SELECT count(*) AS c FROM n';
    expect(await r.query(upTo, [10], limits)).toMatchObject({ rows: [{ c: 10 }] }); // remembered as quick
    const slow = r.query(ENDLESS, undefined, limits); // the first worker, for 10 minutes
    slow.catch(() => {});
    // Other values: not known to be quick, so it waits for the busy worker, not for the one kept for quick queries.
    await expect(r.query(upTo, [1e15], limits)).rejects.toMatchObject({
      rule: 'query-busy',
      message:
        '1 of the 2 query workers (DATABASE_QUERY_WORKERS_MAX; the last is kept for quick queries) stayed busy for 500 ms: try again',
    });
    // The same SQL and values, slow now that its table changed: it takes the reserve, which stops it. The reserve
    // (the spare started when the first worker became busy) must have started first: a busy machine starts it late.
    for (let i = 0; i < 600 && r.readyWorkers() < 2; i++) await new Promise((done) => setTimeout(done, 100));
    expect(r.readyWorkers(), 'the worker kept for quick queries started within 60 s').toBe(2);
    db.prepare('UPDATE scale SET v = ?').run(1e14);
    await expect(r.query(upTo, [10], limits)).rejects.toMatchObject({
      rule: 'query-busy',
      message:
        'every other query worker was busy (1 of DATABASE_QUERY_WORKERS_MAX=2), so the query ran on the one kept for quick queries, which stops a query after 300 ms: it was stopped; try again when the slow queries are done',
    });
    expect(await stateWhen(slow, Promise.resolve())).toBe('pending');
  });

  it.skipIf(!existsSync('/proc/self/status'))(
    'kills a worker whose memory passes the limit while it runs a statement (memory-limit), and replaces it',
    async () => {
      const maxWorkerRssBytes = 200 * 1024 * 1024;
      const r = runner({ timeoutMs: 600_000, workers: 1, maxWorkerRssBytes });
      await r.whenReady();
      const [pid] = r.pids();
      // 300 MB strings, one after another, forever: only the memory limit stops it.
      const hog =
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT sum(length(printf('%.*c', 300000000, 'x'))) FROM n";
      const err = await r.query(hog, undefined, limits).catch((e: unknown) => e);
      expect(err).toMatchObject({ rule: 'memory-limit' });
      expect((err as Error).message).toMatch(
        /^the query took its worker's memory to \d+ bytes, past the limit of 209715200 bytes \(DATABASE_WORKER_MAX_RSS_BYTES\), and was stopped/,
      );
      expect(await r.query('SELECT 2 AS two', undefined, limits)).toMatchObject({ rows: [{ two: 2 }] });
      expect(r.pids()).not.toContain(pid);
      expect(() => process.kill(pid as number, 0)).toThrow(); // the old worker is gone
    },
  );

  it('refuses a statement by the rules at once, even with every worker busy', async () => {
    const r = runner({ timeoutMs: 600_000, workers: 1 });
    const slow = r.query(ENDLESS, undefined, limits);
    slow.catch(() => {});
    // The only worker is busy for 10 minutes: an answer now can only come from the rules, in this process.
    await expect(r.query('DELETE FROM orders', undefined, limits)).rejects.toMatchObject({
      rule: 'write-refused',
    });
    await expect(r.query("VACUUM INTO '/tmp/x.db'", undefined, limits)).rejects.toMatchObject({
      rule: 'vacuum-into-refused',
    });
  });

  it('a query over its time limit is killed and reported; its worker is replaced; the next query is not charged for the start', async () => {
    const r = runner({ timeoutMs: 300, workers: 1 });
    const first = r.query('SELECT 1 AS one', undefined, limits);
    expect(await first).toMatchObject({ rows: [{ one: 1 }] });
    const [pid] = r.pids();
    // Queued behind the slow one: runs on the replacement, whose start-up is not in its 300 ms.
    const slow = r.query(ENDLESS, undefined, limits);
    const next = r.query('SELECT count(*) AS n FROM orders', undefined, limits);
    await expect(slow).rejects.toMatchObject({
      rule: 'query-timeout',
      message: 'the query ran over the time limit of 300 ms (DATABASE_QUERY_TIMEOUT_MS) and was stopped',
    });
    expect(((await next) as QueryResult).rows).toEqual([{ n: 4 }]);
    expect(r.pids()).toHaveLength(1);
    expect(r.pids()).not.toContain(pid);
    expect(() => process.kill(pid as number, 0)).toThrow(); // the old worker is gone
  });

  it('a query waiting longer than maxWaitMs for a worker is refused, naming the setting', async () => {
    const r = runner({ timeoutMs: 600_000, workers: 1, maxWaitMs: 200 });
    // The worker has started (on a busy machine that takes longer than maxWaitMs, which a query sent earlier would
    // count), then is kept busy.
    await r.whenReady();
    await r.query('SELECT 1', undefined, limits);
    const slow = r.query(ENDLESS, undefined, limits);
    slow.catch(() => {});
    await expect(r.query('SELECT 1', undefined, limits)).rejects.toMatchObject({
      rule: 'query-busy',
      message: 'all 1 query workers (DATABASE_QUERY_WORKERS_MAX) stayed busy for 200 ms: try again',
    });
  });

  it('a query that waits past maxWaitMs for a worker still starting says so and names the worker', async () => {
    // No Node process starts within 1 ms: the query waits for a starting worker, whatever the machine's load.
    const r = runner({ timeoutMs: 600_000, workers: 1, maxWaitMs: 1 });
    const [pid] = r.pids();
    await expect(r.query('SELECT 1', undefined, limits)).rejects.toThrow(
      `no query worker could start within 1 ms (workers: ${pid} starting); see the server's log`,
    );
    await r.whenReady();
    expect(await r.query('SELECT 2 AS two', undefined, limits)).toMatchObject({ rows: [{ two: 2 }] });
  });

  it('an aborted call leaves the queue, or kills its worker when running', async () => {
    const r = runner({ timeoutMs: 600_000, workers: 1 });
    await r.query('SELECT 1', undefined, limits);
    const [pid] = r.pids();
    const running = new AbortController();
    const waiting = new AbortController();
    const slow = r.query(ENDLESS, undefined, limits, running.signal);
    const queued = r.query('SELECT 2', undefined, limits, waiting.signal);
    waiting.abort(new Error('client went away'));
    await expect(queued).rejects.toThrow('client went away');
    running.abort(new Error('over budget'));
    await expect(slow).rejects.toThrow('over budget');
    expect(r.pids()).not.toContain(pid);
    expect(await r.query('SELECT 3 AS three', undefined, limits)).toMatchObject({ rows: [{ three: 3 }] });
  });

  it('refuses a write past the database size limit (database-full, naming DATABASE_MAX_BYTES); nothing changes', async () => {
    const { file, db } = freshDatabase();
    db.exec('CREATE TABLE blobs (b BLOB)');
    const maxDatabaseBytes = 512 * 1024;
    const w = runner({ file, mode: 'write', timeoutMs: 600_000, workers: 1, maxDatabaseBytes });
    expect(await w.execute('INSERT INTO blobs VALUES (zeroblob(100000))', undefined)).toMatchObject({
      changes: 1,
    });
    const before = fingerprint(db);
    await expect(w.execute('INSERT INTO blobs SELECT zeroblob(1000000)', undefined)).rejects.toMatchObject({
      rule: 'database-full',
      message: `the write would take the database past its size limit of ${maxDatabaseBytes} bytes (DATABASE_MAX_BYTES), or the disk is full: it changed nothing; delete rows (then VACUUM) to make room`,
    });
    expect(fingerprint(db)).toBe(before);
    // Small writes again and again: they stop at the limit.
    let refused: unknown;
    for (let i = 0; i < 100 && !refused; i++) {
      await w.execute('INSERT INTO blobs VALUES (zeroblob(40000))', undefined).catch((e: unknown) => {
        refused = e;
      });
    }
    expect(refused).toMatchObject({ rule: 'database-full' });
    const pages =
      (db.pragma('page_count', { simple: true }) as number) *
      (db.pragma('page_size', { simple: true }) as number);
    expect(pages).toBeLessThanOrEqual(maxDatabaseBytes);
    // The writer goes on: a delete makes room.
    expect((await w.execute('DELETE FROM blobs', undefined)).changes).toBeGreaterThan(1);
  });

  it('a worker inside an endless query ends when the server dies without closing it (SIGKILL)', async () => {
    const { file } = freshDatabase();
    const script = join(dirname(file), 'server.mjs');
    writeFileSync(
      script,
      `const { QueryRunner } = await import(${JSON.stringify(new URL('./query-runner.ts', import.meta.url).href)});
       const r = new QueryRunner({ file: ${JSON.stringify(file)}, timeoutMs: 600000, workers: 1, maxWorkers: 1 });
       await r.query('SELECT 1', undefined, { maxRows: 1, maxResultBytes: 1000 });
       r.query(${JSON.stringify(ENDLESS)}, undefined, { maxRows: 1, maxResultBytes: 1000 }).catch(() => {});
       setTimeout(() => console.log(JSON.stringify(r.pids())), 500);`,
    );
    const server = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const pids = await new Promise<number[]>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the server printed no worker pids in 60000 ms')),
        60_000,
      );
      server.stdout.once('data', (d: Buffer) => {
        clearTimeout(timer);
        resolve(JSON.parse(d.toString()));
      });
    });
    expect(pids).toHaveLength(1);
    server.kill('SIGKILL');
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const deadline = Date.now() + 60_000;
    while (pids.some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(pids.filter(alive), 'workers still running 60 s after their server was killed').toEqual([]);
  });
});
