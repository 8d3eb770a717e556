// The HTTP front door in process: refused requests are logged in summary, a 403 names no allowed host, no client
// header turns a call's telemetry off, and one client's connections are bounded.
import { connect } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INITIALIZE, rawRequest } from '../test/testing.ts';
import { type RunningHttpServer, SLOW_CLIENT_BOUNDS, startHttpServer } from './http-server.ts';
import type { CallContext } from './instrument.ts';

const token = 'k'.repeat(40);
const lines: string[] = [];
let server: RunningHttpServer;
const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

beforeAll(async () => {
  server = await startHttpServer({
    name: 'test',
    version: '0',
    host: '127.0.0.1',
    port: 0,
    token,
    allowedHosts: ['localhost', '127.0.0.1', 'secret-internal-name'],
    allowedOrigins: ['http://secret-origin.example'],
    createMcpServer: () => {
      throw new Error('a refused request never reaches MCP');
    },
    log: (line) => lines.push(line),
    refusalLogIntervalMs: 300,
  });
});
afterAll(() => server.close());

const waitFor = async (what: string, check: () => boolean) => {
  const deadline = Date.now() + 30_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`no ${what} after 30000 ms; log:\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

describe('refused requests are logged in summary', { timeout: 60_000 }, () => {
  it('40 wrong tokens: the first logged as it comes, the other 39 in one summary line', async () => {
    lines.length = 0;
    for (let i = 0; i < 40; i++) {
      const r = await rawRequest(`${server.url}/mcp`, {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${'x'.repeat(40)}` },
        body: INITIALIZE,
      });
      expect(r.status).toBe(401);
    }
    await waitFor('summary line', () => lines.some((l) => l.includes('more like this (auth)')));
    const auth = lines.filter((l) => l.includes('wrong bearer token'));
    // Two lines if all 40 fell in one interval; a slow machine may cross an interval boundary: still a few.
    expect(auth.length).toBeLessThanOrEqual(4);
    expect(auth[0]).toBe('refused POST /mcp from 127.0.0.1: wrong bearer token');
    const counted = auth
      .map((l) => /^(\d+) more like this \(auth\)/.exec(l)?.[1])
      .reduce((sum, n) => sum + Number(n ?? 1), 0);
    expect(counted).toBe(40);
    expect(lines.join('\n')).not.toContain('x'.repeat(40)); // the token sent is never logged
  });

  it('a 403 names the refused Host and the setting, never the allowed hosts or origins', async () => {
    lines.length = 0;
    const r = await rawRequest(`${server.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, host: 'rebind.example', authorization: `Bearer ${token}` },
      body: INITIALIZE,
    });
    expect(r.status).toBe(403);
    expect(JSON.parse(r.body)).toMatchObject({
      error: { message: "Host rebind.example is not allowed: add it to the server's MCP_ALLOWED_HOSTS" },
    });
    const origin = await rawRequest(`${server.url}/mcp`, {
      method: 'POST',
      headers: { ...headers, origin: 'http://evil.example', authorization: `Bearer ${token}` },
      body: INITIALIZE,
    });
    expect(origin.status).toBe(403);
    for (const body of [r.body, origin.body, lines.join('\n')]) {
      expect(body).not.toContain('secret-internal-name');
      expect(body).not.toContain('secret-origin.example');
    }
  });
});

describe("a call's telemetry", { timeout: 60_000 }, () => {
  // Issue 23: `X-Claude-Code-Telemetry: 0` once switched the servers' spans and metrics off for a request.
  const attempts: Record<string, string>[] = [
    {},
    { 'x-claude-code-telemetry': '0' },
    { 'x-claude-code-telemetry': 'false' },
    { 'x-claude-code-telemetry': '' },
  ];
  it.each(attempts)('is on whatever the client sends (%o)', async (extra) => {
    const contexts: CallContext[] = [];
    const s = await startHttpServer({
      name: 'test',
      version: '0',
      host: '127.0.0.1',
      port: 0,
      token,
      allowedHosts: ['127.0.0.1'],
      allowedOrigins: [],
      createMcpServer: (ctx) => {
        contexts.push(ctx);
        return new McpServer({ name: 't', version: '0' });
      },
      log: () => {},
    });
    try {
      const r = await rawRequest(`${s.url}/mcp`, {
        method: 'POST',
        headers: { ...headers, authorization: `Bearer ${token}`, ...extra },
        body: INITIALIZE,
      });
      expect(r.status).toBe(200);
      expect(contexts).toHaveLength(1);
      expect(contexts[0]?.telemetry).not.toBe(false);
    } finally {
      await s.close();
    }
  });
});

describe("one client's connections", { timeout: 60_000 }, () => {
  it('past maxConnectionsPerClient are reset, while the ones held are served and others still get in', async () => {
    const log: string[] = [];
    const s = await startHttpServer({
      name: 'test',
      version: '0',
      host: '0.0.0.0',
      port: 0,
      token,
      allowedHosts: ['127.0.0.1'],
      allowedOrigins: [],
      createMcpServer: () => new McpServer({ name: 't', version: '0' }),
      log: (l) => log.push(l),
      maxConnectionsPerClient: 2,
    });
    const port = Number(new URL(s.url).port);
    const sockets: ReturnType<typeof connect>[] = [];
    // A health request on a new connection, kept open: the answer's status line, or 'reset' when closed unanswered.
    const open = (localAddress: string) =>
      new Promise<string>((resolve) => {
        const socket = connect({ port, host: '127.0.0.1', localAddress });
        sockets.push(socket);
        socket.on('error', () => {});
        socket.once('data', (d: Buffer) => resolve(d.toString().split('\r\n')[0] ?? ''));
        socket.once('close', () => resolve('reset'));
        socket.on('connect', () => socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
      });
    try {
      expect(s.server.headersTimeout).toBe(SLOW_CLIENT_BOUNDS.headersTimeout);
      expect(s.server.requestTimeout).toBe(SLOW_CLIENT_BOUNDS.requestTimeout);
      expect(await Promise.all([open('127.0.0.1'), open('127.0.0.1')])).toEqual([
        'HTTP/1.1 200 OK',
        'HTTP/1.1 200 OK',
      ]);
      expect(await open('127.0.0.1')).toBe('reset');
      expect(await open('127.0.0.2')).toBe('HTTP/1.1 200 OK');
      expect(s.connections.refused).toBe(1);
      expect(log).toEqual([
        'refused a connection from 127.0.0.1: it holds 2 open already, the most one client may (MCP_MAX_CONNECTIONS_PER_CLIENT)',
      ]);
    } finally {
      for (const socket of sockets) socket.destroy();
      await s.close();
    }
  });
});
