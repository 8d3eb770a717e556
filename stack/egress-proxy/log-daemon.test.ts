// The log daemon as Squid runs it (a process reading commands on stdin), sending to a real HTTP server standing in
// for the collector: every line becomes exactly one event, lines it cannot parse included; killing its sender
// (the parser) loses nothing and never ends the daemon, whose death would take Squid down.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const id = '7c0e8d5e-6a0b-4a43-9d0e-2f8b6c1d9a11';
const line = (n: number) =>
  `Legress1 1764403200.123 172.20.0.5 GET 403 TCP_DENIED - ${id} alice/${id} http://h${n}.example/\n`;

type Attrs = Record<string, unknown>;
let server: Server;
const events: Attrs[] = [];
let daemon: ChildProcess;
let stderr = '';

async function until<T>(what: string, f: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}; daemon stderr:\n${stderr.slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const senderPids = () => [...stderr.matchAll(/sender started \(pid (\d+)\)/g)].map((m) => Number(m[1]));
const hosts = () => events.map((e) => e.host);
const count = (host: string) => hosts().filter((h) => h === host).length;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const j = JSON.parse(body) as {
        resourceLogs: { scopeLogs: { logRecords: { attributes: { key: string; value: Attrs }[] }[] }[] }[];
      };
      for (const r of j.resourceLogs[0]?.scopeLogs[0]?.logRecords ?? [])
        events.push(Object.fromEntries(r.attributes.map((a) => [a.key, Object.values(a.value)[0]])));
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  daemon = spawn(process.execPath, [join(import.meta.dirname, 'log-daemon.ts'), '/tmp/access.log'], {
    env: { ...process.env, EGRESS_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  daemon.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString('latin1');
  });
  await until('the first sender', () => (senderPids().length ? true : undefined));
});
afterAll(() => {
  daemon?.kill('SIGKILL');
  server?.close();
});

describe('the egress log daemon', { timeout: 30_000 }, () => {
  it('turns every line into one event, a line it cannot parse into an event saying so', async () => {
    daemon.stdin?.write(`${line(1)}F\nR\n`);
    daemon.stdin?.write(Buffer.from([0x4c, 0x25, 0x7a, 0x7a, 0x20, 0xff, 0x0a])); // L%zz <0xff>
    daemon.stdin?.write(Buffer.concat([Buffer.from('L'), Buffer.alloc(2 << 20, 0x78), Buffer.from('\n')]));
    daemon.stdin?.write(line(2));
    await until('4 events', () => (events.length >= 4 ? true : undefined));
    await new Promise((r) => setTimeout(r, 1500));
    expect(count('h1.example')).toBe(1);
    expect(count('h2.example')).toBe(1);
    const unparsed = events.filter((e) => e.decision === 'unparsed');
    expect(unparsed).toHaveLength(2);
    expect(unparsed.map((e) => String(e['egress.error']))).toEqual([
      expect.stringMatching(/fields/),
      expect.stringMatching(/2097152 bytes, cut/),
    ]);
    for (const u of unparsed) expect(String(u['egress.excerpt']).length).toBeLessThan(400);
    expect(events.find((e) => e.host === 'h1.example')).toMatchObject({
      'user.name': 'alice',
      'session.id': id,
      'egress.authenticated': true,
    });
    // Its copy on stderr is escaped and bounded too.
    expect(stderr).toContain('access: "%zz \\u00ff"');
    expect(stderr).not.toContain('x'.repeat(5000));
  });

  it('survives its sender being killed, twice, and loses no line', async () => {
    const first = senderPids().at(-1) as number;
    process.kill(first, 'SIGKILL');
    await until('a restarted sender', () => (senderPids().length >= 2 ? true : undefined));
    daemon.stdin?.write(line(3));
    await until('the event of line 3', () => (count('h3.example') ? true : undefined));

    // Killed right after lines reach it, before it sends (it batches each second): the next one sends them.
    daemon.stdin?.write(line(4) + line(5));
    await new Promise((r) => setTimeout(r, 200));
    process.kill(senderPids().at(-1) as number, 'SIGKILL');
    await until('lines 4 and 5 after the second restart', () =>
      count('h4.example') && count('h5.example') ? true : undefined,
    );
    await new Promise((r) => setTimeout(r, 1500));
    expect([1, 2, 3, 4, 5].map((n) => count(`h${n}.example`))).toEqual([1, 1, 1, 1, 1]);
    expect(daemon.exitCode).toBeNull();
    expect(senderPids().length).toBe(3);
    expect(stderr).toMatch(/sender \(pid \d+\) exited \(SIGKILL\); restarting/);
  });

  it('exits, cleanly, only when Squid closes it (SIGTERM, stdin closed), after sending what it holds', async () => {
    daemon.stdin?.write(line(6));
    daemon.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 200));
    expect(daemon.exitCode).toBeNull();
    daemon.stdin?.end();
    const code = await until('the daemon to exit', () => daemon.exitCode ?? undefined, 10_000);
    expect(code).toBe(0);
    expect(count('h6.example')).toBe(1);
  });
});
