// The write path in one process: the size limit of the database file, and the check after each write that
// nothing was left in the shared connection (the rules of connection-rules.ts refuse such statements before; this
// is the net under them). Through the write worker and the tools: query-runner.test.ts, server.test.ts.
import { describe, expect, it } from 'vitest';
import { fingerprint, freshDatabase } from '../test/test-db.ts';
import { executeWrite, leaveConnectionClean, limitDatabaseSize } from './db.ts';

describe('the write connection', () => {
  it('a write past the size limit fails as database-full, naming the limit, and changes nothing', () => {
    const { db } = freshDatabase();
    db.exec('CREATE TABLE blobs (b BLOB)');
    const limit = limitDatabaseSize(db, 256 * 1024);
    const before = fingerprint(db);
    expect(() =>
      executeWrite(db, 'INSERT INTO blobs VALUES (zeroblob(300000))', undefined, undefined, limit),
    ).toThrow(
      expect.objectContaining({
        rule: 'database-full',
        message: expect.stringContaining('past its size limit of 262144 bytes (DATABASE_MAX_BYTES)'),
      }),
    );
    expect(fingerprint(db)).toBe(before);
    expect(executeWrite(db, 'INSERT INTO blobs VALUES (zeroblob(1000))', undefined)).toMatchObject({
      changes: 1,
    });
  });

  it('rolls back a transaction left open and refuses', () => {
    const { db } = freshDatabase();
    const before = fingerprint(db);
    db.exec("BEGIN; DELETE FROM orders; INSERT INTO customers (name, email) VALUES ('x', 'x@example.com')");
    expect(() => leaveConnectionClean(db)).toThrow(
      expect.objectContaining({
        rule: 'transaction-refused',
        message:
          'the statement left a transaction open on the shared write connection: it was rolled back, and nothing it did was kept',
      }),
    );
    expect(db.inTransaction).toBe(false);
    expect(fingerprint(db)).toBe(before);
  });

  it('drops TEMP objects and refuses', () => {
    const { db } = freshDatabase();
    db.exec(
      'CREATE TEMP TABLE scratch (x); CREATE TEMP VIEW v AS SELECT 1; CREATE TEMP TRIGGER wipe AFTER INSERT ON main.orders BEGIN DELETE FROM main.customers; END',
    );
    expect(() => leaveConnectionClean(db)).toThrow(expect.objectContaining({ rule: 'temp-object-refused' }));
    expect(db.prepare('SELECT count(*) AS n FROM temp.sqlite_schema').get()).toEqual({ n: 0 });
    expect(() => leaveConnectionClean(db)).not.toThrow();
  });
});
