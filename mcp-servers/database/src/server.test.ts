// Every database tool through a real MCP client (in-process transport), the SQL attacks through the query
// tool, the time and byte limits, the time budget of a call, and the write tool's opt-in and its limits.
// Timing: limits are checked by outcome (a query that never ends), never by how fast a machine answers.
// Over 300 lines: every tool and limit as a client sees them, in one place; the worker pool's own behaviour is in
// query-runner.test.ts, the rules' in sql-rules.test.ts.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MAX_RESPONSE_BYTES, toolMetrics } from '@claude-code-telemetry/mcp-common/instrument';
import { createTelemetry } from '@claude-code-telemetry/mcp-common/telemetry';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprint, freshDatabase, SQL_ATTACKS } from '../test/test-db.ts';
import { hideDatabasePath } from './db.ts';
import { QueryRunner } from './query-runner.ts';
import { createDatabaseServer } from './server.ts';

const spans = new InMemorySpanExporter();
const telemetry = createTelemetry({
  serviceName: 'mcp-database',
  serviceVersion: 'test',
  spanExporter: spans,
  env: {},
});
const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;

const ENDLESS = 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n';

async function connect(
  allowWrites: boolean,
  o: { timeoutMs?: number; toolTimeoutMs?: number; maxResultBytes?: number } = {},
) {
  const { file, db } = freshDatabase();
  const timeoutMs = o.timeoutMs ?? 5000;
  const runner = new QueryRunner({ file, timeoutMs, workers: 2 });
  const writer = allowWrites ? new QueryRunner({ file, mode: 'write', timeoutMs, workers: 1 }) : undefined;
  const server = createDatabaseServer(
    {
      db,
      runner,
      writer,
      maxRows: 50,
      maxResultBytes: o.maxResultBytes ?? 1024 * 1024,
      toolTimeoutMs: o.toolTimeoutMs ?? 120_000,
      maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
      redact: hideDatabasePath(file),
    },
    telemetry,
    toolMetrics(telemetry),
    {
      transport: 'http',
      sessionId: 'sess-db',
    },
  );
  const [a, b] = InMemoryTransport.createLinkedPair();
  await server.connect(b);
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(a);
  const call = async (name: string, args: Record<string, unknown> = {}) =>
    (await client.callTool({ name, arguments: args })) as CallToolResult;
  const close = async () => {
    runner.close();
    writer?.close();
    await client.close();
  };
  return { file, db, runner, writer, client, call, close };
}

describe('database tools, writes disabled (the default)', { timeout: 60_000 }, () => {
  let t: Awaited<ReturnType<typeof connect>>;
  beforeAll(async () => {
    t = await connect(false, { timeoutMs: 400 });
  });
  afterAll(() => t.close());

  it('lists the read tools only, each field described, read-only annotated', async () => {
    const { tools } = await t.client.listTools();
    expect(tools.map((x) => x.name).sort()).toEqual(['describe_table', 'list_tables', 'query']);
    for (const tool of tools) {
      expect(tool.annotations?.readOnlyHint, tool.name).toBe(true);
      for (const [field, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        expect((schema as { description?: string }).description, `${tool.name}.${field}`).toBeTruthy();
      }
    }
  });

  it('list_tables and describe_table show the demo schema', async () => {
    expect((await t.call('list_tables')).structuredContent).toEqual({
      tables: [
        { name: 'customers', type: 'table' },
        { name: 'orders', type: 'table' },
      ],
    });
    const orders = (await t.call('describe_table', { table: 'orders' })).structuredContent as {
      columns: { name: string; primaryKey: boolean; notNull: boolean }[];
      foreignKeys: unknown[];
      indexes: { name: string; columns: string[] }[];
    };
    expect(orders.columns.map((c) => c.name)).toEqual([
      'id',
      'customer_id',
      'product',
      'quantity',
      'price_cents',
      'created_at',
    ]);
    expect(orders.columns[0]).toMatchObject({ primaryKey: true });
    expect(orders.foreignKeys).toEqual([{ from: 'customer_id', table: 'customers', to: 'id' }]);
    expect(orders.indexes).toContainEqual({
      name: 'orders_customer',
      unique: false,
      origin: 'c',
      columns: ['customer_id'],
    });
    const unknown = await t.call('describe_table', { table: 'nope"; DROP TABLE orders; --' });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain('refused (unknown-table)');
  });

  it("bounds the lists: list_tables and an unknown table's error name a limited number of tables", async () => {
    const { file, db } = freshDatabase();
    db.transaction(() => {
      for (let i = 0; i < 1000; i++) db.exec(`CREATE TABLE t${String(i).padStart(4, '0')} (x)`);
    })();
    const runner = new QueryRunner({ file, timeoutMs: 5000, workers: 1 });
    const server = createDatabaseServer(
      {
        db,
        runner,
        maxRows: 50,
        maxResultBytes: 1024 * 1024,
        toolTimeoutMs: 120_000,
        maxResponseBytes: DEFAULT_MAX_RESPONSE_BYTES,
        redact: (m) => m,
      },
      telemetry,
      toolMetrics(telemetry),
      { transport: 'http' },
    );
    const [a, b] = InMemoryTransport.createLinkedPair();
    await server.connect(b);
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(a);
    try {
      const list = (await client.callTool({ name: 'list_tables', arguments: {} })) as CallToolResult;
      const listed = list.structuredContent as { tables: { name: string }[]; more: number };
      expect(listed.tables).toHaveLength(1000);
      expect(listed.more).toBe(2); // 1002 tables: customers, orders and the 1000 made here
      expect(text(list)).toMatch(/\.\.\. and 2 more: query sqlite_schema \(LIMIT, OFFSET\) to see them$/);
      const long = 'x'.repeat(5000);
      const unknown = (await client.callTool({
        name: 'describe_table',
        arguments: { table: long },
      })) as CallToolResult;
      const first20 = [
        'customers',
        'orders',
        ...Array.from({ length: 18 }, (_, i) => `t${String(i).padStart(4, '0')}`),
      ];
      expect(text(unknown)).toBe(
        `refused (unknown-table): no table or view named "${'x'.repeat(100)}..." (have: ${first20.join(', ')} and 982 more: see list_tables)`,
      );
    } finally {
      runner.close();
      await client.close();
    }
  });

  it('query binds parameters and reports truncation at the row limit', async () => {
    const r = await t.call('query', {
      sql: 'SELECT name FROM customers WHERE id > ? ORDER BY id',
      params: [1],
    });
    expect(r.structuredContent).toEqual({
      columns: ['name'],
      rows: [{ name: 'Grace Hopper' }, { name: 'Edsger Dijkstra' }],
      rowCount: 2,
      truncated: false,
    });
    const many = await t.call('query', {
      sql: 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x FROM n',
      maxRows: 1000,
    });
    expect(many.structuredContent).toMatchObject({ rowCount: 50, truncated: true });
  });

  it('stops a query over the time limit, says so, and answers the next one', async () => {
    const slow = await t.call('query', { sql: ENDLESS });
    expect(slow.isError).toBe(true);
    expect(text(slow)).toBe(
      'refused (query-timeout): the query ran over the time limit of 400 ms (DATABASE_QUERY_TIMEOUT_MS) and was stopped',
    );
    const next = await t.call('query', { sql: 'SELECT count(*) AS n FROM orders' });
    expect(next.structuredContent).toMatchObject({ rows: [{ n: 4 }] });
  });

  it('names the database by its file name only, never its place on the server', async () => {
    const r = await t.call('query', { sql: `SELECT * FROM "${t.file}"` });
    expect(text(r)).toBe('refused (sql-error): no such table: test.sqlite');
  });

  it.each(SQL_ATTACKS)('query %j %j -> isError naming %s', async (sql, params, rule) => {
    const r = await t.call('query', { sql, ...(params ? { params } : {}) });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(new RegExp(`^refused \\(${rule}\\)`));
  });

  it('an unregistered write tool is not callable', async () => {
    const r = await t.call('execute', { sql: 'DELETE FROM orders' });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/not found/i);
  });

  it('left the database exactly as seeded after all attacks', () => {
    const { db: pristine } = freshDatabase();
    expect(fingerprint(t.db)).toBe(fingerprint(pristine));
  });
});

describe('the byte limit of a query, through the tool', { timeout: 60_000 }, () => {
  let t: Awaited<ReturnType<typeof connect>>;
  beforeAll(async () => {
    t = await connect(true, { maxResultBytes: 64 * 1024 });
    t.db.exec(
      "CREATE TABLE files (id INTEGER PRIMARY KEY, data BLOB); INSERT INTO files (data) VALUES (zeroblob(30000000)), (x'01')",
    );
  });
  afterAll(() => t.close());

  it('a row holding a 30 MB blob: the value is summarized, the response stays small', async () => {
    const r = await t.call('query', { sql: 'SELECT id, data FROM files ORDER BY id' });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toMatchObject({
      rows: [
        { id: 1, data: { omitted: 'blob', bytes: 30_000_000 } },
        { id: 2, data: { base64: 'AQ==' } },
      ],
      truncated: false,
      omittedValues: 1,
    });
    expect(JSON.stringify(r).length).toBeLessThan(4 * 1024);
  });

  it('many rows: reading stops before 64 KiB, the text says which limit and how to narrow the query', async () => {
    const r = await t.call('query', {
      sql: "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT x, printf('%.*c', 10000, 'y') AS pad FROM n",
    });
    expect(r.structuredContent).toMatchObject({ truncated: true, limit: 'maxResultBytes', rowCount: 6 });
    expect(text(r)).toMatch(/^6 row\(s\) \(truncated\): stopped after 6 rows: .* size limit of 65536 bytes/);
    // The rows twice (text and structured content) and little else.
    expect(JSON.stringify(r).length).toBeLessThan(2 * 64 * 1024 + 4096);
  });
});

describe('the time budget of a tool call', { timeout: 60_000 }, () => {
  it('stops a call past its budget even when the query limit is longer, and kills the worker', async () => {
    const t = await connect(false, { timeoutMs: 600_000, toolTimeoutMs: 500 });
    try {
      // A worker ready first (outside any budget), so the query runs, rather than waits, when the budget ends.
      await t.runner.query('SELECT 1', undefined, { maxRows: 1, maxResultBytes: 100 });
      const before = t.runner.pids();
      const r = await t.call('query', { sql: ENDLESS });
      expect(text(r)).toBe(
        'refused (time-limit): query ran over the time budget of 500 ms per tool call (MCP_TOOL_TIMEOUT_MS) and was stopped',
      );
      const killed = before.filter((pid) => !t.runner.pids().includes(pid));
      expect(killed).toHaveLength(1);
    } finally {
      await t.close();
    }
  });
});

describe('database tools, writes enabled', { timeout: 60_000 }, () => {
  let t: Awaited<ReturnType<typeof connect>>;
  beforeAll(async () => {
    t = await connect(true);
  });
  afterAll(() => t.close());

  it('execute changes rows with bound parameters; queries see it', async () => {
    const r = await t.call('execute', {
      sql: 'INSERT INTO orders (customer_id, product, quantity, price_cents) VALUES (?, ?, ?, ?)',
      params: [3, 'Shortest path', 1, 500],
    });
    expect(r.structuredContent).toEqual({ changes: 1, lastInsertRowid: 5 });
    const q = await t.call('query', { sql: 'SELECT product FROM orders WHERE id = ?', params: [5] });
    expect(q.structuredContent).toMatchObject({ rows: [{ product: 'Shortest path' }] });
  });

  it('writes only the database file: VACUUM INTO, ATTACH, file PRAGMAs are refused and no other file appears', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'mcp-db-elsewhere-'));
    const copy = join(elsewhere, 'copy.db');
    const attached = join(elsewhere, 'attached.db');
    const before = fingerprint(t.db);
    const temp = t.db.pragma('temp_store_directory', { simple: true });
    for (const [sql, params, rule] of [
      [`VACUUM INTO '${copy}'`, undefined, 'vacuum-into-refused'],
      [`/* x */ vacuum\n  main   into '${copy}'`, undefined, 'vacuum-into-refused'],
      ['VACUUM INTO ?', [copy], 'vacuum-into-refused'],
      [`ATTACH DATABASE '${attached}' AS y`, undefined, 'attach-refused'],
      ['-- hi\nattach ? as y', [attached], 'attach-refused'],
      ['CREATE TABLE y.t (x)', undefined, 'sql-error'],
      [`PRAGMA temp_store_directory = '${elsewhere}'`, undefined, 'pragma-refused'],
    ] as const) {
      const r = await t.call('execute', { sql, ...(params ? { params } : {}) });
      expect(r.isError, sql).toBe(true);
      expect(text(r), sql).toMatch(new RegExp(`^refused \\(${rule}\\)`));
    }
    expect(existsSync(copy)).toBe(false);
    expect(existsSync(attached)).toBe(false);
    expect(fingerprint(t.db)).toBe(before);
    expect(t.db.pragma('temp_store_directory', { simple: true })).toBe(temp);
    // A plain VACUUM rewrites the database itself, and is allowed.
    expect((await t.call('execute', { sql: 'VACUUM' })).isError).toBeFalsy();
  });

  it('stops a write over the time limit, and the next write works', async () => {
    const w = await connect(true, { timeoutMs: 400 });
    try {
      w.db.exec('CREATE TABLE n (x)');
      const slow = await w.call('execute', {
        sql: `INSERT INTO n ${ENDLESS}`,
      });
      expect(text(slow)).toBe(
        'refused (query-timeout): the statement ran over the time limit of 400 ms (DATABASE_QUERY_TIMEOUT_MS) and was stopped',
      );
      expect(w.db.prepare('SELECT count(*) AS c FROM n').get()).toEqual({ c: 0 });
      const next = await w.call('execute', { sql: 'INSERT INTO n VALUES (1)' });
      expect(next.structuredContent).toMatchObject({ changes: 1 });
    } finally {
      await w.close();
    }
  });

  it('leaves nothing in the shared write connection: transactions, settings and TEMP objects are refused', async () => {
    const before = fingerprint(t.db);
    for (const [sql, rule] of [
      ['BEGIN', 'transaction-refused'],
      ['BEGIN IMMEDIATE', 'transaction-refused'],
      ['END', 'transaction-refused'],
      ['COMMIT', 'transaction-refused'],
      ['SAVEPOINT s', 'transaction-refused'],
      ['PRAGMA foreign_keys = OFF', 'pragma-refused'],
      ['PRAGMA query_only = 1', 'pragma-refused'],
      ['PRAGMA locking_mode = EXCLUSIVE', 'pragma-refused'],
      ['PRAGMA busy_timeout = 0', 'pragma-refused'],
      [
        'CREATE TEMP TRIGGER wipe AFTER INSERT ON main.orders BEGIN DELETE FROM main.orders; END',
        'temp-object-refused',
      ],
      ['CREATE VIEW leak AS SELECT file FROM pragma_database_list', 'pragma-refused'],
    ]) {
      const r = await t.call('execute', { sql });
      expect(r.isError, sql).toBe(true);
      expect(text(r), sql).toMatch(new RegExp(`^refused \\(${rule}\\)`));
    }
    expect(fingerprint(t.db)).toBe(before);
    // A later write is committed at once (another connection sees it: no transaction was left open), foreign
    // keys are still enforced, and no trigger deleted anything.
    const w = await t.call('execute', {
      sql: 'INSERT INTO orders (customer_id, product, quantity, price_cents) VALUES (1, ?, 1, 1)',
      params: ['after the attempts'],
    });
    expect(w.isError).toBeFalsy();
    expect(
      t.db.prepare('SELECT count(*) AS n FROM orders WHERE product = ?').get('after the attempts'),
    ).toEqual({
      n: 1,
    });
    const fk = await t.call('execute', {
      sql: "INSERT INTO orders (customer_id, product, quantity, price_cents) VALUES (999, 'x', 1, 1)",
    });
    expect(text(fk)).toBe('refused (sql-error): FOREIGN KEY constraint failed');
    await t.call('execute', { sql: 'DELETE FROM orders WHERE product = ?', params: ['after the attempts'] });
  });

  it('creates ordinary triggers (a body of several statements, CASE ... END inside), which then fire', async () => {
    const setup = [
      'CREATE TABLE order_log (product TEXT, size TEXT)',
      `CREATE TRIGGER log_order AFTER INSERT ON orders
         BEGIN
           INSERT INTO order_log VALUES (new.product, CASE WHEN new.quantity > 5 THEN 'big' ELSE 'small' END);
           UPDATE order_log SET product = upper(product) WHERE product = new.product;
         END;`,
      'CREATE TRIGGER unlog_order AFTER DELETE ON orders BEGIN DELETE FROM order_log WHERE product = upper(old.product); END',
    ];
    for (const sql of setup) {
      const r = await t.call('execute', { sql });
      expect(r.isError, `${sql}: ${text(r)}`).toBeFalsy();
    }
    const insert = 'INSERT INTO orders (customer_id, product, quantity, price_cents) VALUES (1, ?, ?, 1)';
    await t.call('execute', { sql: insert, params: ['trigger test', 7] });
    await t.call('execute', { sql: insert, params: ['trigger test 2', 1] });
    const log = await t.call('query', { sql: 'SELECT * FROM order_log ORDER BY product' });
    expect(log.structuredContent).toMatchObject({
      rows: [
        { product: 'TRIGGER TEST', size: 'big' },
        { product: 'TRIGGER TEST 2', size: 'small' },
      ],
    });
    await t.call('execute', { sql: "DELETE FROM orders WHERE product LIKE 'trigger test%'" });
    expect(t.db.prepare('SELECT count(*) AS n FROM order_log').get()).toEqual({ n: 0 });
    for (const sql of ['DROP TRIGGER log_order', 'DROP TRIGGER unlog_order', 'DROP TABLE order_log']) {
      expect((await t.call('execute', { sql })).isError, sql).toBeFalsy();
    }
  });

  it('queries leave the read workers as they were, and never show where the database is', async () => {
    for (const sql of [
      'PRAGMA locking_mode = EXCLUSIVE',
      'PRAGMA mmap_size = 268435456',
      'PRAGMA cache_size = 1',
      'PRAGMA database_list',
      'SELECT file FROM pragma_database_list',
    ]) {
      const r = await t.call('query', { sql });
      expect(text(r), sql).toMatch(/^refused \(pragma-refused\)/);
      expect(JSON.stringify(r)).not.toContain(t.file);
    }
    // Had a read worker kept an exclusive lock, this write would wait for it and fail.
    const w = await t.call('execute', { sql: 'UPDATE customers SET name = name' });
    expect(w.isError, text(w)).toBeFalsy();
  });

  it('still refuses ATTACH, extensions, row-returning statements and constraint violations, clearly', async () => {
    for (const [sql, rule] of [
      ["ATTACH '/tmp/other.sqlite' AS o", 'attach-refused'],
      ["SELECT load_extension('x')", 'extension-refused'],
      ['SELECT * FROM orders', 'not-a-write'],
      ["INSERT INTO orders (customer_id, product, quantity, price_cents) VALUES (1, 'x', 0, 1)", 'sql-error'],
    ]) {
      const r = await t.call('execute', { sql });
      expect(r.isError, sql).toBe(true);
      expect(text(r), sql).toMatch(new RegExp(`^refused \\(${rule}\\)`));
    }
  });

  it('each call is a span with the session id and outcome', async () => {
    spans.reset();
    await t.call('query', { sql: 'SELECT 1' });
    await t.call('query', { sql: 'DELETE FROM orders' });
    const [good, bad] = spans.getFinishedSpans();
    expect(good?.name).toBe('tools/call query');
    expect(good?.attributes).toMatchObject({
      'session.id': 'sess-db',
      'network.transport': 'tcp',
      'mcp.tool.outcome': 'success',
    });
    expect(bad?.attributes).toMatchObject({ 'mcp.tool.outcome': 'refused', 'error.type': 'write-refused' });
  });
});
