// The database tools: registration only. Reads go through the query runner (read-only connection in a child
// process with a time limit); the write tool exists only when writes are enabled.
import {
  type CallContext,
  instrumentTool,
  type ToolMetrics,
} from '@claude-code-telemetry/mcp-common/instrument';
import type { Telemetry } from '@claude-code-telemetry/mcp-common/telemetry';
import { ok } from '@claude-code-telemetry/mcp-common/tool-result';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { describeTable, executeWrite, listTables } from './db.ts';
import type { QueryRunner } from './query-runner.ts';
import type { SqlParam } from './sql-rules.ts';

export const NAME = 'database';
export const VERSION = '0.1.0';

export interface DatabaseService {
  /** Read-write connection: schema introspection and, when enabled, writes. */
  db: Database.Database;
  runner: QueryRunner;
  allowWrites: boolean;
  maxRows: number;
}

const params = z
  .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .optional()
  .describe('Values bound to the ? placeholders, in order (never spliced into the SQL text)');

export function createDatabaseServer(
  svc: DatabaseService,
  telemetry: Telemetry,
  metrics: ToolMetrics,
  ctx: CallContext,
) {
  const server = new McpServer({ name: NAME, version: VERSION });
  const wrap = <A>(tool: string, fn: (args: A) => Promise<CallToolResult> | CallToolResult) =>
    instrumentTool<A>(telemetry, metrics, ctx, tool, async (args) => fn(args));

  server.registerTool(
    'list_tables',
    {
      title: 'List tables',
      description: 'The tables and views of the database.',
      inputSchema: {},
      outputSchema: { tables: z.array(z.object({ name: z.string(), type: z.enum(['table', 'view']) })) },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    wrap('list_tables', () => {
      const tables = listTables(svc.db);
      return ok({ tables }, tables.map((t) => `${t.name} (${t.type})`).join('\n') || '(no tables)');
    }),
  );

  server.registerTool(
    'describe_table',
    {
      title: 'Describe table',
      description:
        'Columns (type, NOT NULL, default, primary key), foreign keys and indexes of a table or view.',
      inputSchema: { table: z.string().min(1).describe('Name of the table or view') },
      outputSchema: {
        table: z.string(),
        type: z.string(),
        columns: z.array(
          z.object({
            name: z.string(),
            type: z.string(),
            notNull: z.boolean(),
            default: z.string().nullable(),
            primaryKey: z.boolean(),
          }),
        ),
        foreignKeys: z.array(z.object({ from: z.string(), table: z.string(), to: z.string() })),
        indexes: z.array(
          z.object({
            name: z.string(),
            unique: z.boolean(),
            origin: z.string(),
            columns: z.array(z.string()),
          }),
        ),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    wrap('describe_table', ({ table }: { table: string }) => {
      const d = describeTable(svc.db, table);
      const lines = d.columns.map(
        (c) =>
          `${c.name} ${c.type}${c.primaryKey ? ' PRIMARY KEY' : ''}${c.notNull ? ' NOT NULL' : ''}${c.default !== null ? ` DEFAULT ${c.default}` : ''}`,
      );
      return ok(d, lines.join('\n'));
    }),
  );

  server.registerTool(
    'query',
    {
      title: 'Read-only query',
      description: `Run one read-only SQL statement that returns rows (SELECT, WITH, read-only PRAGMA) with bound parameters. At most ${svc.maxRows} rows (truncated is set when there were more); a time limit applies.`,
      inputSchema: {
        sql: z.string().describe('One SQL statement; use ? placeholders for values'),
        params,
        maxRows: z
          .number()
          .int()
          .positive()
          .optional()
          .describe(`Return at most this many rows (cap ${svc.maxRows})`),
      },
      outputSchema: {
        columns: z.array(z.string()),
        rows: z.array(z.record(z.string(), z.unknown())),
        rowCount: z.number(),
        truncated: z.boolean(),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    wrap('query', async (a: { sql: string; params?: SqlParam[]; maxRows?: number }) => {
      const r = await svc.runner.run(a.sql, a.params, Math.min(a.maxRows ?? svc.maxRows, svc.maxRows));
      const text = `${r.rowCount} row(s)${r.truncated ? ' (truncated)' : ''}\n${JSON.stringify(r.rows, null, 1)}`;
      return ok({ ...r }, text);
    }),
  );

  if (svc.allowWrites) {
    server.registerTool(
      'execute',
      {
        title: 'Write statement',
        description:
          'Run one SQL statement that changes the database (INSERT, UPDATE, DELETE, CREATE ...) with bound parameters. ATTACH and extensions are refused.',
        inputSchema: { sql: z.string().describe('One SQL statement; use ? placeholders for values'), params },
        outputSchema: { changes: z.number(), lastInsertRowid: z.number() },
        annotations: {
          readOnlyHint: false,
          destructiveHint: true,
          idempotentHint: false,
          openWorldHint: false,
        },
      },
      wrap('execute', (a: { sql: string; params?: SqlParam[] }) => {
        const r = executeWrite(svc.db, a.sql, a.params);
        return ok(r, `${r.changes} row(s) changed`);
      }),
    );
  }
  return server;
}
