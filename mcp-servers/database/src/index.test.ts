// The database server as shipped (index.ts in a child process): stdio and Streamable HTTP with the SDK client
// and the official MCP Inspector CLI, the write tool's opt-in through the environment, OTLP spans, and a stdio
// transport failure ending the process. Processes start slowly on a busy machine: the time-outs are generous.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  INITIALIZE,
  inspector,
  otlpSink,
  rawRequest,
  sendOversizedLine,
  spawnHttpServer,
} from '@claude-code-telemetry/mcp-common/test/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
const token = 'z'.repeat(40);
const dbFile = () => join(mkdtempSync(join(tmpdir(), 'mcp-db-cli-')), 'demo.sqlite');

describe('database server over stdio', { timeout: 300_000 }, () => {
  it('creates the demo database and answers the SDK client', async () => {
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [entry, '--db', dbFile()],
        stderr: 'pipe',
      }),
    );
    const r = (await client.callTool({
      name: 'query',
      arguments: { sql: 'SELECT count(*) AS n FROM customers' },
    })) as CallToolResult;
    expect(r.structuredContent).toMatchObject({ rows: [{ n: 3 }] });
    await client.close();
  });

  it('the official MCP Inspector (CLI) lists and calls the tools; writes only when enabled', () => {
    const file = dbFile();
    const list = inspector(['node', entry, '--db', file, '--method', 'tools/list']);
    expect(list.status, list.err).toBe(0);
    expect((JSON.parse(list.out) as { tools: { name: string }[] }).tools.map((t) => t.name).sort()).toEqual([
      'describe_table',
      'list_tables',
      'query',
    ]);
    const call = inspector([
      'node',
      entry,
      '--db',
      file,
      '--method',
      'tools/call',
      '--tool-name',
      'describe_table',
      '--tool-arg',
      'table=customers',
    ]);
    expect(call.status, call.err).toBe(0);
    expect(JSON.parse(call.out)).toMatchObject({ structuredContent: { table: 'customers' } });
    const writable = inspector([
      '-e',
      'DATABASE_ALLOW_WRITES=1',
      'node',
      entry,
      '--db',
      file,
      '--method',
      'tools/list',
    ]);
    expect(writable.status, writable.err).toBe(0);
    expect((JSON.parse(writable.out) as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain(
      'execute',
    );
  });
});

describe('database server over Streamable HTTP', { timeout: 300_000 }, () => {
  it('needs the token, serves the SDK client and the Inspector, and exports spans with the session id', async () => {
    const sink = await otlpSink();
    const server = await spawnHttpServer(
      entry,
      ['--db', dbFile()],
      { MCP_AUTH_TOKEN: token, OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint, OTEL_BSP_SCHEDULE_DELAY: '100' },
      60_000,
    );
    try {
      const noToken = await rawRequest(`${server.url}/mcp`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
        body: INITIALIZE,
      });
      expect(noToken.status).toBe(401);
      const client = new Client({ name: 'test', version: '1' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
          requestInit: {
            headers: { authorization: `Bearer ${token}`, 'x-claude-code-session-id': 'sess-db-http' },
          },
        }),
      );
      const r = (await client.callTool({
        name: 'query',
        arguments: { sql: 'DELETE FROM orders' },
      })) as CallToolResult;
      expect(r.isError).toBe(true);
      await client.close();
      const list = inspector([
        `${server.url}/mcp`,
        '--transport',
        'http',
        '--header',
        `Authorization: Bearer ${token}`,
        '--method',
        'tools/list',
      ]);
      expect(list.status, list.err).toBe(0);
      const deadline = Date.now() + 60_000;
      while (
        !sink.spans().some((s) => s.attributes['session.id'] === 'sess-db-http') &&
        Date.now() < deadline
      ) {
        await new Promise((res) => setTimeout(res, 100));
      }
      expect(sink.spans().find((s) => s.attributes['session.id'] === 'sess-db-http')).toMatchObject({
        name: 'tools/call query',
        attributes: { 'error.type': 'write-refused', 'mcp.tool.outcome': 'refused' },
      });
    } finally {
      await server.stop();
      await sink.close();
    }
  });
});

describe('database server: a stdio transport failure', { timeout: 120_000 }, () => {
  it('a line over the 10 MiB message limit is logged and ends the server with status 1, workers included', async () => {
    const r = await sendOversizedLine(entry, ['--db', dbFile()], 11 * 1024 * 1024);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stdio transport error: ReadBuffer exceeded maximum size of 10485760 bytes');
    expect(r.stderr).toContain('stdio transport closed after: ReadBuffer exceeded maximum size');
    expect(r.stderr).toContain('exiting with status 1');
  });
});

describe('database server: settings', { timeout: 120_000 }, () => {
  it('lists MCP_MAX_RESPONSE_BYTES in --help, and refuses to start on a bad value, naming it', () => {
    const help = spawnSync(process.execPath, [entry, '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stderr).toMatch(/MCP_MAX_RESPONSE_BYTES +largest tool result, as JSON \(default 4194304\)/);
    const file = dbFile();
    const bad = spawnSync(process.execPath, [entry, '--db', file], {
      encoding: 'utf8',
      env: { ...process.env, MCP_MAX_RESPONSE_BYTES: '4MB' },
    });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('MCP_MAX_RESPONSE_BYTES must be a positive integer, not 4MB');
    expect(existsSync(file)).toBe(false); // stopped before anything started
  });
});
