// server.ts's bounds on clients' connections, over real sockets on loopback (127.0.0.2 is a second client): one
// address holds at most maxConnectionsPerClient connections on the HTTP and gRPC servers together, an idle gRPC
// connection is closed, and a client dribbling its headers is cut off while a model answer older than every
// timeout goes on streaming.
import type { ServerResponse } from 'node:http';
import { connect as connectHttp2 } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { credential, startGateway, upstreamServer } from '../test/test-support.ts';
import { startOtlpGrpc } from './otlp-grpc.ts';
import { createOtlpIngest } from './otlp-http.ts';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A health request on a new connection, kept open: the answer's status line, or 'reset' when closed unanswered. */
function health(url: string, localAddress = '127.0.0.1'): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ port: Number(new URL(url).port), host: '127.0.0.1', localAddress });
    cleanup.push(() => socket.destroy());
    socket.on('error', () => {});
    socket.once('data', (d: Buffer) => resolve(d.toString().split('\r\n')[0] ?? ''));
    socket.once('close', () => resolve('reset'));
    socket.on('connect', () => socket.write('GET /health HTTP/1.1\r\nHost: gateway\r\n\r\n'));
  });
}

const closed = (what: string, s: { once(e: 'close', f: () => void): unknown }) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not closed in 15 s`)), 15_000);
    s.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });

const noUpstream = 'http://127.0.0.1:9';

describe("one client's connections to the gateway", () => {
  it('are bounded on HTTP and gRPC together; another address still gets in; an idle gRPC connection is closed', async () => {
    const logs: string[] = [];
    const g = await startGateway({
      upstream: noUpstream,
      maxConnectionsPerClient: 3,
      log: (l) => logs.push(l),
    });
    cleanup.push(() => g.close());
    const ingest = createOtlpIngest({ env: {}, log: () => {} });
    const grpc = await startOtlpGrpc({
      secret: 's'.repeat(32),
      ingest,
      host: '127.0.0.1',
      port: 0,
      log: () => {},
    });
    cleanup.push(
      () => grpc.close(),
      () => ingest.close(),
    );
    g.gateway.guard(grpc.server, 1000);

    const session = connectHttp2(`http://127.0.0.1:${grpc.port}`);
    session.on('error', () => {});
    cleanup.push(() => session.destroy());
    await new Promise<void>((resolve) => session.once('connect', () => resolve()));
    expect(await Promise.all([health(g.url), health(g.url)])).toEqual(['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    expect(g.gateway.connections.open('127.0.0.1')).toBe(3);
    expect(await health(g.url)).toBe('reset');
    expect(await health(g.url, '127.0.0.2')).toBe('HTTP/1.1 200 OK');
    expect(g.gateway.connections.refused).toBe(1);
    expect(logs.filter((l) => l.includes('refused a connection'))).toEqual([
      'session-gateway: refused a connection from 127.0.0.1: it holds 3 open already, the most one client may (GATEWAY_MAX_CONNECTIONS_PER_CLIENT)',
    ]);
    // The gRPC connection sends nothing: closed by the gateway after its idle time, and its slot is free again.
    await closed('the idle gRPC connection', session);
    expect(await health(g.url)).toBe('HTTP/1.1 200 OK');
  });

  it('cuts off a client dribbling its headers, while a model answer older than the timeouts streams on', async () => {
    let release: () => void = () => {};
    const upstream = await upstreamServer(async (req, res: ServerResponse) => {
      for await (const _ of req);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: ping\ndata: {"type":"ping"}\n\n');
      await new Promise<void>((r) => (release = r));
      res.end('event: message_stop\ndata: {"type":"message_stop"}\n\n');
    });
    cleanup.push(() => upstream.close());
    const g = await startGateway({ upstream: upstream.url, headersTimeoutMs: 1000, requestTimeoutMs: 1000 });
    cleanup.push(() => g.close());
    const started = Date.now();
    const r = await fetch(`${g.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': credential() },
      body: '{"stream":true}',
    });
    expect(r.status).toBe(200);
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    const text = new TextDecoder();
    let got = text.decode((await reader.read()).value);
    expect(got).toContain('ping');

    const slow: Socket = connect({ port: Number(new URL(g.url).port), host: '127.0.0.1' });
    cleanup.push(() => slow.destroy());
    slow.on('error', () => {});
    let answer = '';
    slow.on('data', (d: Buffer) => {
      answer += d.toString();
    });
    slow.on('connect', () => slow.write('POST /v1/messages HTTP/1.1\r\nHost: gateway\r\n'));
    await closed('the connection dribbling its headers', slow);
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    // The answer has been streaming for longer than both timeouts: it is not cut off.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    release();
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      got += text.decode(chunk.value);
    expect(got).toContain('message_stop');
  });
});
