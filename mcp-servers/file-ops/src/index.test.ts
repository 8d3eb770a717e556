// The server as shipped (index.ts in a child process) over both transports: the SDK client over stdio and
// Streamable HTTP, auth and Host/Origin refusals (and their summarized log), spans leaving over OTLP, the official
// MCP Inspector CLI, and a stdio transport failure ending the process. Processes start slowly on a busy machine:
// the time-outs are generous.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  INITIALIZE,
  inspector,
  otlpSink,
  rawRequest,
  type SpawnedServer,
  sendOversizedLine,
  spawnHttpServer,
} from '@claude-code-telemetry/mcp-common/test/testing';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const entry = fileURLToPath(new URL('./index.ts', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'file-ops-root-'));
writeFileSync(join(root, 'hello.txt'), 'hello over the wire\n');
// 1 MiB of control characters: 12 MiB as a result (6 bytes each, twice), over the SDK client's 10 MiB line limit.
writeFileSync(join(root, 'controls.txt'), '\u0001'.repeat(1024 * 1024));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const token = 'x'.repeat(48);
const accept = 'application/json, text/event-stream';

describe('stdio transport', { timeout: 300_000 }, () => {
  it('serves the SDK client, with the session id from the environment', async () => {
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [entry, '--root', root],
        env: { PATH: process.env.PATH ?? '', CLAUDE_CODE_SESSION_ID: 'sess-stdio' },
        stderr: 'pipe',
      }),
    );
    const r = (await client.callTool({
      name: 'read_file',
      arguments: { path: 'hello.txt' },
    })) as CallToolResult;
    expect(r.structuredContent).toMatchObject({ content: 'hello over the wire\n' });
    await client.close();
  });

  it('refuses a result over the response limit instead of sending a line the client cannot read, and goes on', async () => {
    const client = new Client({ name: 'test', version: '1' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [entry, '--root', root],
      env: { PATH: process.env.PATH ?? '' },
      stderr: 'pipe',
    });
    let transportError: Error | undefined;
    await client.connect(transport);
    client.onerror = (err) => {
      transportError = err;
    };
    const big = (await client.callTool({
      name: 'read_file',
      arguments: { path: 'controls.txt' },
    })) as CallToolResult;
    expect(big.isError).toBe(true);
    expect((big.content[0] as { text: string }).text).toMatch(
      /^refused \(response-too-large\): the result of read_file is \d+ bytes as JSON, over the response limit of 4194304 bytes/,
    );
    const r = (await client.callTool({
      name: 'list_directory',
      arguments: { path: '.' },
    })) as CallToolResult;
    expect(r.structuredContent).toMatchObject({ path: '.', truncated: false });
    expect(transportError).toBeUndefined();
    await client.close();
  });

  it('the official MCP Inspector (CLI) lists and calls the tools', () => {
    const list = inspector(['node', entry, '--root', root, '--method', 'tools/list']);
    expect(list.status, list.err).toBe(0);
    expect((JSON.parse(list.out) as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain(
      'edit_file',
    );
    const call = inspector([
      'node',
      entry,
      '--root',
      root,
      '--method',
      'tools/call',
      '--tool-name',
      'read_file',
      '--tool-arg',
      'path=hello.txt',
    ]);
    expect(call.status, call.err).toBe(0);
    expect(JSON.parse(call.out)).toMatchObject({ structuredContent: { content: 'hello over the wire\n' } });
  });
});

describe('Streamable HTTP transport', { timeout: 300_000 }, () => {
  let server: SpawnedServer;
  let sink: Awaited<ReturnType<typeof otlpSink>>;
  beforeAll(async () => {
    sink = await otlpSink();
    server = await spawnHttpServer(
      entry,
      ['--root', root],
      {
        MCP_AUTH_TOKEN: token,
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.endpoint,
        OTEL_BSP_SCHEDULE_DELAY: '100',
        OTEL_METRIC_EXPORT_INTERVAL: '200',
      },
      60_000,
    );
  }, 90_000);
  afterAll(async () => {
    await server?.stop();
    await sink?.close();
  });

  it('answers /health without auth', async () => {
    const res = await fetch(`${server.url}/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok', name: 'file-ops', version: '0.1.0' });
  });

  it('refuses a missing or wrong bearer token with 401', async () => {
    const headers = { 'content-type': 'application/json', accept };
    const none = await rawRequest(`${server.url}/mcp`, { method: 'POST', headers, body: INITIALIZE });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toBe('Bearer');
    expect(none.body).toContain('missing Authorization: Bearer token');
    const wrong = await rawRequest(`${server.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, authorization: `Bearer ${'y'.repeat(48)}` },
      body: INITIALIZE,
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toContain('wrong bearer token');
    expect(server.stderr()).not.toContain('y'.repeat(48)); // tokens never logged
  });

  it('logs a flood of failed logins in summary: one line, not one per request', async () => {
    const headers = { 'content-type': 'application/json', accept, authorization: `Bearer ${'w'.repeat(48)}` };
    const before = server.stderr().split('\n').length;
    for (let i = 0; i < 50; i++) {
      const r = await rawRequest(`${server.url}/mcp`, { method: 'POST', headers, body: INITIALIZE });
      expect(r.status).toBe(401);
    }
    // At most the first of an interval and a summary (if an interval ended meanwhile), however many came.
    const lines = server
      .stderr()
      .split('\n')
      .slice(before - 1);
    expect(lines.filter((l) => l.includes('wrong bearer token')).length).toBeLessThanOrEqual(2);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });

  it('refuses a Host or Origin it does not serve (DNS rebinding) with 403, even with the token', async () => {
    const headers = { 'content-type': 'application/json', accept, authorization: `Bearer ${token}` };
    const host = await rawRequest(`${server.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, host: 'attacker.example:80' },
      body: INITIALIZE,
    });
    expect(host.status).toBe(403);
    expect(host.body).toContain('Host attacker.example is not allowed');
    expect(host.body).not.toMatch(/localhost|127\.0\.0\.1/); // the allowed hosts are not listed
    const origin = await rawRequest(`${server.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, origin: 'http://attacker.example' },
      body: INITIALIZE,
    });
    expect(origin.status).toBe(403);
  });

  it('refuses GET (stateless server), bad JSON, and unknown routes clearly', async () => {
    const auth = { authorization: `Bearer ${token}`, accept };
    expect((await rawRequest(`${server.url}/mcp`, { headers: auth })).status).toBe(405);
    const bad = await rawRequest(`${server.url}/mcp`, { method: 'POST', headers: auth, body: '{not json' });
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('not valid JSON');
    expect((await rawRequest(`${server.url}/nope`, {})).status).toBe(404);
  });

  it('serves the SDK client with the token; the span carries the session id from the header and reaches OTLP', async () => {
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
        requestInit: {
          headers: { authorization: `Bearer ${token}`, 'x-claude-code-session-id': 'sess-http-1' },
        },
      }),
    );
    const r = (await client.callTool({
      name: 'read_file',
      arguments: { path: 'hello.txt' },
    })) as CallToolResult;
    expect(r.structuredContent).toMatchObject({ content: 'hello over the wire\n' });
    await client.close();
    const deadline = Date.now() + 60_000;
    let span: { name: string; attributes: Record<string, unknown> } | undefined;
    while (!span && Date.now() < deadline) {
      span = sink
        .spans()
        .find((s) => s.name === 'tools/call read_file' && s.attributes['session.id'] === 'sess-http-1');
      if (!span) await new Promise((r) => setTimeout(r, 100));
    }
    expect(
      span,
      'no tools/call read_file span for sess-http-1 reached the OTLP sink after 60000 ms',
    ).toBeDefined();
    expect(span?.attributes).toMatchObject({ 'network.transport': 'tcp', 'mcp.tool.outcome': 'success' });
    const metricDeadline = Date.now() + 60_000;
    while (!sink.metricNames().includes('mcp.server.tool.calls') && Date.now() < metricDeadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(sink.metricNames()).toEqual(
      expect.arrayContaining(['mcp.server.tool.calls', 'mcp.server.operation.duration']),
    );
  });

  it('the official MCP Inspector (CLI) lists and calls the tools over HTTP with the token', () => {
    const target = [`${server.url}/mcp`, '--transport', 'http', '--header', `Authorization: Bearer ${token}`];
    const list = inspector([...target, '--method', 'tools/list']);
    expect(list.status, list.err).toBe(0);
    expect((JSON.parse(list.out) as { tools: unknown[] }).tools).toHaveLength(7);
    const call = inspector([
      ...target,
      '--method',
      'tools/call',
      '--tool-name',
      'list_directory',
      '--tool-arg',
      'path=.',
    ]);
    expect(call.status, call.err).toBe(0);
    expect(JSON.parse(call.out)).toMatchObject({
      structuredContent: {
        path: '.',
        entries: [
          { name: 'controls.txt', type: 'file' },
          { name: 'hello.txt', type: 'file' },
        ],
      },
    });
  });
});

describe('a stdio transport failure', { timeout: 120_000 }, () => {
  it('a line over the 10 MiB message limit is logged and ends the server with status 1', async () => {
    const r = await sendOversizedLine(entry, ['--root', root], 11 * 1024 * 1024);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('stdio transport error: ReadBuffer exceeded maximum size of 10485760 bytes');
    expect(r.stderr).toContain('exiting with status 1');
  });
});

describe('startup errors', { timeout: 120_000 }, () => {
  it('refuses to serve HTTP without a token, and a root that does not exist, saying why', () => {
    const noToken = spawnSync(
      process.execPath,
      [entry, '--transport', 'http', '--port', '0', '--root', root],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '' },
      },
    );
    expect(noToken.status).toBe(1);
    expect(noToken.stderr).toContain('MCP_AUTH_TOKEN is not set');
    const noRoot = spawnSync(process.execPath, [entry, '--root', join(root, 'missing')], {
      encoding: 'utf8',
    });
    expect(noRoot.status).toBe(1);
    expect(noRoot.stderr).toContain('does not exist');
  });
});
