// For tests: start a server's index.ts as a child process on HTTP (port 0) and learn its URL from its log.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

/** The official MCP Inspector's CLI (`mcp-inspector --cli ...`), with a throwaway catalog file. */
export function inspector(args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(join(repoRoot, 'node_modules/.bin/mcp-inspector'), ['--cli', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, MCP_CATALOG_PATH: join(mkdtempSync(join(tmpdir(), 'inspector-')), 'mcp.json') },
  });
  return { status: r.status, out: r.stdout, err: r.stderr };
}

export interface SpawnedServer {
  url: string;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<void>;
}

export async function spawnHttpServer(
  entry: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 15_000,
) {
  const child = spawn(process.execPath, [entry, '--transport', 'http', '--port', '0', ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${entry} not serving after ${timeoutMs} ms:\n${err}`)),
      timeoutMs,
    );
    const onData = () => {
      const m = /serving MCP at (http:\/\/\S+)\/mcp/.exec(err);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited ${code} before serving:\n${err}`));
    });
  });
  return {
    url,
    child,
    stderr: () => err,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  } satisfies SpawnedServer;
}

/**
 * Starts a server's index.ts over stdio, sends one line of `bytes` bytes (over the SDK's 10 MiB limit when
 * large), and resolves with how the process ended.
 */
export function sendOversizedLine(
  entry: string,
  args: string[],
  bytes: number,
  timeoutMs = 60_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const child = spawn(process.execPath, [entry, ...args], {
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  child.stdout?.resume();
  child.stdin?.on('error', () => {}); // the server may exit before it has read everything
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} still running ${timeoutMs} ms after an oversized line:\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
    // Once it is serving, so the line reaches the MCP transport, not a process still starting.
    const send = () => {
      if (!/serving MCP over stdio/.test(stderr)) return;
      child.stderr?.off('data', send);
      const chunk = Buffer.alloc(1024 * 1024, 'x');
      for (let sent = 0; sent < bytes; sent += chunk.length) child.stdin?.write(chunk);
      child.stdin?.write('\n');
    };
    child.stderr?.on('data', send);
  });
}

/** An OTLP/HTTP JSON receiver on 127.0.0.1 that keeps what it is sent, to check spans leave the process. */
export async function otlpSink() {
  const { createServer } = await import('node:http');
  const bodies: { path: string; body: unknown }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        bodies.push({ path: req.url ?? '', body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
      } catch {
        bodies.push({ path: req.url ?? '', body: null });
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    /** Spans received: name and attributes flattened to plain values. */
    spans(): { name: string; attributes: Record<string, unknown> }[] {
      type AnyValue = { stringValue?: string; intValue?: string; boolValue?: boolean; doubleValue?: number };
      type OtlpSpan = { name: string; attributes?: { key: string; value: AnyValue }[] };
      return bodies
        .filter((b) => b.path === '/v1/traces')
        .flatMap((b) =>
          (
            (b.body as { resourceSpans?: { scopeSpans?: { spans?: OtlpSpan[] }[] }[] })?.resourceSpans ?? []
          ).flatMap((rs) => (rs.scopeSpans ?? []).flatMap((ss) => ss.spans ?? [])),
        )
        .map((s) => ({
          name: s.name,
          attributes: Object.fromEntries(
            (s.attributes ?? []).map((a) => [
              a.key,
              a.value.stringValue ?? a.value.intValue ?? a.value.boolValue ?? a.value.doubleValue,
            ]),
          ),
        }));
    },
    metricNames(): string[] {
      type M = { resourceMetrics?: { scopeMetrics?: { metrics?: { name: string }[] }[] }[] };
      return bodies
        .filter((b) => b.path === '/v1/metrics')
        .flatMap((b) =>
          ((b.body as M)?.resourceMetrics ?? []).flatMap((rm) =>
            (rm.scopeMetrics ?? []).flatMap((sm) => sm.metrics ?? []),
          ),
        )
        .map((m) => m.name);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A raw HTTP request, so a test can send the headers fetch forbids (Host). */
export async function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const { request } = await import('node:http');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** The JSON-RPC body of an `initialize` request, for raw HTTP tests. */
export const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/**
 * A reverse proxy on 127.0.0.1 that adds `Authorization: Bearer TOKEN` to every request and passes everything
 * else through unchanged (Host and Origin included, so the server's own checks see what the client sent; bodies
 * and event streams piped both ways). For clients that cannot send a token, such as the MCP conformance suite:
 * the server under test keeps requiring one, as shipped.
 */
export async function tokenProxy(
  target: string,
  token: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const { createServer, request } = await import('node:http');
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const out = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, authorization: `Bearer ${token}` },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${e.message}`);
    });
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The official MCP conformance suite's result for one server scenario. */
export interface ConformanceResult {
  scenario: string;
  status: number | null;
  out: string;
}

/** Runs `conformance server --url URL --scenario S` (the official suite, pinned in package.json). */
export async function conformance(
  url: string,
  scenario: string,
  timeoutMs = 120_000,
): Promise<ConformanceResult> {
  const { spawn } = await import('node:child_process');
  const child = spawn(
    join(repoRoot, 'node_modules/.bin/conformance'),
    ['server', '--url', url, '--scenario', scenario],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const status = await new Promise<number | null>((resolve) => child.once('close', resolve));
  clearTimeout(timer);
  return { scenario, status, out };
}
