// The connection limit on real sockets over loopback: under the cap a connection is served, over it reset at once;
// a closed connection frees its slot; two addresses (127.0.0.1 and 127.0.0.2, both loopback on Linux) are counted
// apart; HTTP/2 is refused the same way; the server's total is a backstop; the log names each address once.
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect as connectHttp2, createServer as createHttp2Server } from 'node:http2';
import { type AddressInfo, connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type ConnectionLimit, connectionLimit } from './connection-limit.ts';

const settings = { perClient: 'TEST_PER_CLIENT', total: 'TEST_TOTAL' };
const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function served(limit: ConnectionLimit): Promise<{ server: Server; port: number }> {
  const server = createHttpServer((_req, res) => res.end('ok'));
  limit.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '0.0.0.0', resolve));
  cleanup.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    () => limit.close(),
  );
  return { server, port: (server.address() as AddressInfo).port };
}

interface Attempt {
  socket: Socket;
  outcome: 'served' | 'refused';
}

/** One keep-alive request on a new connection: 'served' with an answer, 'refused' when closed without one. */
function attempt(port: number, localAddress = '127.0.0.1'): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    cleanup.push(() => socket.destroy());
    let answer = '';
    const timer = setTimeout(
      () => reject(new Error(`no answer and no close from 127.0.0.1:${port} in 10 s`)),
      10_000,
    );
    socket.on('error', () => {});
    socket.on('data', (d: Buffer) => {
      answer += d.toString();
      if (answer.endsWith('ok')) {
        clearTimeout(timer);
        resolve({ socket, outcome: 'served' });
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ socket, outcome: 'refused' });
    });
    socket.on('connect', () => socket.write('GET / HTTP/1.1\r\nHost: test\r\n\r\n'));
  });
}

const outcomes = (as: Attempt[]) => as.map((a) => a.outcome);
const closed = (s: Socket) =>
  new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', resolve)));

/** Polls `check` (bounded): the server sees a closed socket a moment after the client closed it. */
async function until(what: string, check: () => boolean) {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not so after 10 s`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('connectionLimit', () => {
  it('serves up to the cap per address, resets the rest at once, and logs each address once per interval', async () => {
    const lines: string[] = [];
    const limit = connectionLimit({
      perClient: 3,
      total: 100,
      settings,
      service: 'test-service',
      log: (l) => lines.push(l),
    });
    const { port } = await served(limit);
    const first = await Promise.all([1, 2, 3].map(() => attempt(port)));
    expect(outcomes(first)).toEqual(['served', 'served', 'served']);
    expect(limit.open('127.0.0.1')).toBe(3);
    const extra = [];
    for (let i = 0; i < 5; i++) extra.push(await attempt(port));
    expect(outcomes(extra)).toEqual(Array(5).fill('refused'));
    expect(limit.refused).toBe(5);
    // The held ones still serve.
    first[0]?.socket.write('GET / HTTP/1.1\r\nHost: test\r\n\r\n');
    expect(await new Promise((r) => first[0]?.socket.once('data', (d: Buffer) => r(d.toString())))).toMatch(
      /^HTTP\/1\.1 200/,
    );
    // A second address is counted apart: 127.0.0.2 has its own 3.
    const other = await Promise.all([1, 2, 3, 4].map(() => attempt(port, '127.0.0.2')));
    expect(outcomes(other)).toEqual(['served', 'served', 'served', 'refused']);
    expect(limit.open('127.0.0.2')).toBe(3);
    expect(limit.clients).toBe(2);
    limit.close();
    expect(lines).toEqual([
      'test-service: refused a connection from 127.0.0.1: it holds 3 open already, the most one client may (TEST_PER_CLIENT)',
      'test-service: refused a connection from 127.0.0.2: it holds 3 open already, the most one client may (TEST_PER_CLIENT)',
      '4 more like this (connections of 127.0.0.1) in the last 60 s, latest: test-service: refused a connection from 127.0.0.1: it holds 3 open already, the most one client may (TEST_PER_CLIENT)',
    ]);
  });

  it('frees a slot when a connection closes, from either side', async () => {
    const limit = connectionLimit({ perClient: 2, total: 100, settings, service: 'test', log: () => {} });
    const { server, port } = await served(limit);
    const held = await Promise.all([1, 2].map(() => attempt(port)));
    expect(outcomes(held)).toEqual(['served', 'served']);
    expect((await attempt(port)).outcome).toBe('refused');
    held[0]?.socket.destroy();
    await until('the client-closed slot is free', () => limit.open('127.0.0.1') === 1);
    const next = await attempt(port);
    expect(next.outcome).toBe('served');
    // The server closing its idle connections frees them too.
    server.closeIdleConnections();
    await Promise.all([held[1], next].map((a) => closed(a?.socket as Socket)));
    await until('every slot is free', () => limit.clients === 0);
    expect(outcomes(await Promise.all([1, 2].map(() => attempt(port))))).toEqual(['served', 'served']);
  });

  it('counts one address across every server it is attached to, HTTP/2 included', async () => {
    const limit = connectionLimit({ perClient: 2, total: 100, settings, service: 'test', log: () => {} });
    const { port } = await served(limit);
    const h2 = createHttp2Server();
    h2.on('stream', (stream) => stream.respond({ ':status': 200 }, { endStream: true }));
    limit.attach(h2);
    await new Promise<void>((resolve) => h2.listen(0, '127.0.0.1', resolve));
    cleanup.push(() => new Promise<void>((resolve) => h2.close(() => resolve())));
    const h2url = `http://127.0.0.1:${(h2.address() as AddressInfo).port}`;
    const call = () =>
      new Promise<string>((resolve) => {
        const session = connectHttp2(h2url);
        cleanup.push(() => session.destroy());
        session.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
        const req = session.request({ ':path': '/' });
        req.on('error', () => {});
        req.on('response', (h) => resolve(String(h[':status'])));
      });
    // One HTTP/2 session (kept open) and one HTTP/1.1 connection: the address is at its 2.
    expect(await call()).toBe('200');
    expect((await attempt(port)).outcome).toBe('served');
    expect(limit.open('127.0.0.1')).toBe(2);
    expect((await attempt(port)).outcome).toBe('refused');
    expect(await call()).toMatch(/^ERR_HTTP2|^ECONNRESET$/);
    expect(limit.refused).toBe(2);
  });

  it('drops connections past the total of a server, whoever opens them, and logs that', async () => {
    const lines: string[] = [];
    const limit = connectionLimit({
      perClient: 10,
      total: 3,
      settings,
      service: 'test',
      log: (l) => lines.push(l),
    });
    const { server, port } = await served(limit);
    expect(server.maxConnections).toBe(3);
    const a = await Promise.all([1, 2].map(() => attempt(port)));
    const b = await attempt(port, '127.0.0.2');
    expect(outcomes([...a, b])).toEqual(['served', 'served', 'served']);
    expect((await attempt(port, '127.0.0.3')).outcome).toBe('refused');
    expect(limit.dropped).toBe(1);
    expect(limit.refused).toBe(0);
    expect(lines).toEqual([
      'test: dropped a connection from 127.0.0.3: the server holds 3 already, the most it may (TEST_TOTAL)',
    ]);
  });

  it('names the setting when a bound is not a positive integer', () => {
    expect(() => connectionLimit({ perClient: 0, total: 1, settings, service: 't', log: () => {} })).toThrow(
      'TEST_PER_CLIENT must be a positive integer, not 0',
    );
    expect(() =>
      connectionLimit({ perClient: 1, total: 1.5, settings, service: 't', log: () => {} }),
    ).toThrow('TEST_TOTAL must be a positive integer, not 1.5');
  });
});
