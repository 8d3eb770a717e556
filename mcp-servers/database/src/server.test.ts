// Every database tool through a real MCP client (in-process transport), the SQL attacks through the query
// tool, the time limit, and the write tool's opt-in.
import { toolMetrics } from '@claude-code-telemetry/mcp-common/instrument';
import { createTelemetry } from '@claude-code-telemetry/mcp-common/telemetry';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueryRunner } from './query-runner.ts';
import { createDatabaseServer } from './server.ts';
import { fingerprint, freshDatabase, SQL_ATTACKS } from './test-db.ts';

const spans = new InMemorySpanExporter();
const telemetry = createTelemetry({
  serviceName: 'mcp-database',
  serviceVersion: 'test',
  spanExporter: spans,
  env: {},
});
const text = (r: CallToolResult) => (r.content[0] as { text: string }).text;

async function connect(allowWrites: boolean, timeoutMs = 5000) {
  const { file, db } = freshDatabase();
  const runner = new QueryRunner(file, timeoutMs);
  const server = createDatabaseServer(
    { db, runner, allowWrites, maxRows: 50 },
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
  return { db, runner, client, call };
}

describe('database tools, writes disabled (the default)', () => {
  let t: Awaited<ReturnType<typeof connect>>;
  beforeAll(async () => {
    t = await connect(false, 400);
  });
  afterAll(async () => {
    t.runner.close();
    await t.client.close();
  });

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
    const slow = await t.call('query', {
      sql: 'WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n',
    });
    expect(slow.isError).toBe(true);
    expect(text(slow)).toBe(
      'refused (query-timeout): the query ran over the time limit of 400 ms and was stopped',
    );
    const next = await t.call('query', { sql: 'SELECT count(*) AS n FROM orders' });
    expect(next.structuredContent).toMatchObject({ rows: [{ n: 4 }] });
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

describe('database tools, writes enabled', () => {
  let t: Awaited<ReturnType<typeof connect>>;
  beforeAll(async () => {
    t = await connect(true);
  });
  afterAll(async () => {
    t.runner.close();
    await t.client.close();
  });

  it('execute changes rows with bound parameters; queries see it', async () => {
    const r = await t.call('execute', {
      sql: 'INSERT INTO orders (customer_id, product, quantity, price_cents) VALUES (?, ?, ?, ?)',
      params: [3, 'Shortest path', 1, 500],
    });
    expect(r.structuredContent).toEqual({ changes: 1, lastInsertRowid: 5 });
    const q = await t.call('query', { sql: 'SELECT product FROM orders WHERE id = ?', params: [5] });
    expect(q.structuredContent).toMatchObject({ rows: [{ product: 'Shortest path' }] });
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
