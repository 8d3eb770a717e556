// The database tools: registration only. Reads go through the query runner (read-only connections in a pool of
// worker processes, with a time limit and a byte limit); the write tool exists only when writes are enabled and
// runs in a write worker. Each call has a time budget; errors never name the database's place on the server.
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
import { describeTable, listTables, MAX_LISTED } from './db.ts';
import type { QueryRunner } from './query-runner.ts';
import type { SqlParam } from './sql-rules.ts';

export const NAME = 'database';
export const VERSION = '0.1.0';

export interface DatabaseService {
  /** Connection for schema introspection. */
  db: Database.Database;
  /** Read-only queries. */
  runner: QueryRunner;
  /** Writes: registered as the execute tool when given (DATABASE_ALLOW_WRITES=1). */
  writer?: QueryRunner;
  /** Row cap of a query (DATABASE_MAX_ROWS). */
  maxRows: number;
  /** Byte cap of a query's rows as JSON (DATABASE_MAX_RESULT_BYTES). */
  maxResultBytes: number;
  /** Time budget of one tool call (MCP_TOOL_TIMEOUT_MS). */
  toolTimeoutMs: number;
  /** Largest tool result, as JSON bytes (MCP_MAX_RESPONSE_BYTES, read at start). */
  maxResponseBytes: number;
  /** Error messages as the client sees them (hideDatabasePath). */
  redact: (message: string) => string;
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
  const wrap = <A>(
    tool: string,
    fn: (args: A, signal: AbortSignal) => Promise<CallToolResult> | CallToolResult,
  ) =>
    instrumentTool<A>(telemetry, metrics, ctx, tool, async (args, signal) => fn(args, signal), {
      timeoutMs: svc.toolTimeoutMs,
      maxResponseBytes: svc.maxResponseBytes,
      redact: svc.redact,
    });

  server.registerTool(
    'list_tables',
    {
      title: 'List tables',
      description: `The tables and views of the database, by name (at most ${MAX_LISTED}).`,
      inputSchema: {},
      outputSchema: {
        tables: z.array(z.object({ name: z.string(), type: z.enum(['table', 'view']) })),
        more: z.number().optional().describe(`Tables and views not listed (after the first ${MAX_LISTED})`),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    wrap('list_tables', () => {
      const { tables, more } = listTables(svc.db);
      const lines = tables.map((t) => `${t.name} (${t.type})`);
      if (more) lines.push(`... and ${more} more: query sqlite_schema (LIMIT, OFFSET) to see them`);
      return ok({ tables, ...(more ? { more } : {}) }, lines.join('\n') || '(no tables)');
    }),
  );

  server.registerTool(
    'describe_table',
    {
      title: 'Describe table',
      description: `Columns (type, NOT NULL, default, primary key), foreign keys and indexes (at most ${MAX_LISTED}) of a table or view.`,
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
        moreIndexes: z.number().optional().describe(`Indexes not listed (after the first ${MAX_LISTED})`),
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
      description: `Run one read-only SQL statement that returns rows (SELECT, WITH, VALUES, EXPLAIN, or a read-only PRAGMA such as table_info) with bound parameters. At most ${svc.maxRows} rows and ${svc.maxResultBytes} bytes of rows as JSON: reading stops at either limit (truncated, limit and note say which and how to narrow the query); values too large to return come back as {omitted, bytes}. A time limit applies.`,
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
        columns: z.array(z.string()).describe('Column names, in order'),
        rows: z.array(z.record(z.string(), z.unknown())).describe('Rows as objects; blobs as {base64}'),
        rowCount: z.number().describe('Rows returned'),
        truncated: z.boolean().describe('Reading stopped at a limit: there may be more rows'),
        limit: z
          .enum(['maxRows', 'maxResultBytes'])
          .optional()
          .describe('The limit that stopped the reading'),
        omittedValues: z
          .number()
          .optional()
          .describe('Values too large to return, given as {omitted, bytes}'),
        note: z.string().optional().describe('What was cut, and how to narrow the query'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    wrap('query', async (a: { sql: string; params?: SqlParam[]; maxRows?: number }, signal) => {
      const limits = {
        maxRows: Math.min(a.maxRows ?? svc.maxRows, svc.maxRows),
        maxResultBytes: svc.maxResultBytes,
      };
      const r = await svc.runner.query(a.sql, a.params, limits, signal);
      // One row per line: as compact as the structured rows, so the response is about twice the byte limit.
      const head = `${r.rowCount} row(s)${r.truncated ? ' (truncated)' : ''}${r.note ? `: ${r.note}` : ''}`;
      return ok({ ...r }, [head, ...r.rows.map((row) => JSON.stringify(row))].join('\n'));
    }),
  );

  const writer = svc.writer;
  if (writer) {
    server.registerTool(
      'execute',
      {
        title: 'Write statement',
        description:
          'Run one SQL statement that changes the database (INSERT, UPDATE, DELETE, CREATE ...) with bound parameters; each call is a transaction of its own. Only the database file is written: ATTACH, DETACH, VACUUM INTO, extensions, transaction control (BEGIN, COMMIT, SAVEPOINT ...), TEMP objects and PRAGMAs other than user_version, application_id, optimize and incremental_vacuum are refused. A time limit and a database size limit apply.',
        inputSchema: { sql: z.string().describe('One SQL statement; use ? placeholders for values'), params },
        outputSchema: {
          changes: z.number().describe('Rows inserted, updated or deleted'),
          lastInsertRowid: z.number().describe('Rowid of the last row inserted'),
        },
        annotations: {
          readOnlyHint: false,
          destructiveHint: true,
          idempotentHint: false,
          openWorldHint: false,
        },
      },
      wrap('execute', async (a: { sql: string; params?: SqlParam[] }, signal) => {
        const r = await writer.execute(a.sql, a.params, signal);
        return ok({ ...r }, `${r.changes} row(s) changed`);
      }),
    );
  }
  return server;
}
