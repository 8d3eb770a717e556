// The egress proxy's auth helper: OK only for a valid credential of exactly the session named, from that
// session's network; ERR with a reason (never the password) for anything else, whatever the bytes. The helper
// process itself is run too: hostile input never ends it, every line gets its answer, in order.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mintSessionCredential } from '../../mcp-servers/common/src/session-credential.ts';
import { type AuthContext, answerAuthRequest } from './auth-answer.ts';
import { lineSplitter } from './byte-lines.ts';

const secret = 'a-test-secret-of-enough-length-0123456789';
const id = '7c0e8d5e-6a0b-4a43-9d0e-2f8b6c1d9a11';
const other = '0b7f4e2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b';
const revokedDir = mkdtempSync(join(tmpdir(), 'revoked-'));
const ctx: AuthContext = { secret, revokedDir };
const hour = () => Date.now() + 3600_000;
const cred = (o: { user?: string; session?: string; expiresAt?: number; network?: string } = {}) =>
  mintSessionCredential(secret, {
    user: o.user ?? 'alice',
    sessionId: o.session ?? id,
    expiresAt: o.expiresAt ?? hour(),
    network: o.network ?? '172.20.3.0/24',
  });
/** A request line as Squid writes it (user and password percent-encoded). */
const req = (user: string, pass: string, address = '172.20.3.7', channel = '0') =>
  [channel, encodeURIComponent(user), encodeURIComponent(pass), address].filter((x) => x !== '').join(' ');
const answer = (text: string, c: AuthContext = ctx) =>
  answerAuthRequest({ text, cut: false, bytes: text.length }, c);

describe('the egress auth helper answer', () => {
  it('accepts a valid credential of the session named, from its network, with the verified note', () => {
    expect(answer(req(id, cred()))).toBe(`0 OK cct_verified=alice/${id}`);
    expect(answer(req(id, cred(), '172.20.3.7', '17'))).toBe(`17 OK cct_verified=alice/${id}`);
  });

  const password = cred();
  const refused: [string, string, RegExp, AuthContext?][] = [
    ['another session named', req(other, password), /another session/],
    [
      'a credential from outside its network',
      req(id, password, '172.20.4.7'),
      /outside its session.s network/,
    ],
    ['no client address', `0 ${id} ${encodeURIComponent(password)}`, /expected USER PASSWORD CLIENT_ADDRESS/],
    ['a client address that is not one', req(id, password, 'evil'), /no client address/],
    ['a wrong signature', req(id, `${password.slice(0, -2)}xx`), /wrong signature/],
    ['an expired credential', req(id, cred({ expiresAt: Date.now() - 1 })), /expired/],
    ['a password that is no credential', req(id, 'session'), /not a session credential/],
    ['a user name that is no session id', req('alice+x', password), /not a session id/],
    ['a malformed percent-escape', `0 ${id}%zz ${encodeURIComponent(password)} 172.20.3.7`, /percent-escape/],
    [
      'spaces, quotes, newlines in the name',
      req('a b"c\nd\\', password),
      /expected 3 fields|not a session id/,
    ],
    ['invalid UTF-8', `0 %FF%FE%C0 ${encodeURIComponent(password)} 172.20.3.7`, /not a session id/],
    ['a 64 KiB name', req('n'.repeat(64 * 1024), password), /not a session id/],
    ['an empty line', '', /got 0 field/],
    ['only a channel', '5', /got 0 field/],
    ['extra fields', `${req(id, password)} extra`, /expected 3 fields/],
    ['no secret configured', req(id, password), /MCP_SESSION_SECRET is not set/, { secret: undefined }],
    ['a short secret', req(id, password), /MCP_SESSION_SECRET is not set/, { secret: 'short' }],
    [
      'a missing revoked folder',
      req(id, password),
      /folder .* is missing/,
      { secret, revokedDir: '/nonexistent' },
    ],
  ];
  it.each(refused)('refuses %s, with a reason and without the password', (_, text, why, c) => {
    const out = answer(text, c ?? ctx);
    expect(out).toMatch(/^(\d+ )?ERR cct_verified=none message="[^"\n]*"$/);
    expect(out).toMatch(why);
    expect(out).not.toContain(password.split('.')[2] as string);
  });

  it('refuses a session once its id is in the revoked folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'revoked-'));
    expect(answer(req(id, cred()), { secret, revokedDir: dir })).toMatch(/ OK /);
    writeFileSync(join(dir, id), '');
    expect(answer(req(id, cred()), { secret, revokedDir: dir })).toMatch(/ERR .*has ended/);
  });

  it('refuses a cut line, keeping its channel', () => {
    expect(answerAuthRequest({ text: '3 xxxx', cut: true, bytes: 1 << 20 }, ctx)).toMatch(
      /^3 ERR .*1048576 bytes, over 16384/,
    );
  });

  it('never throws on random bytes', () => {
    for (let i = 0; i < 2000; i++) {
      const text = Buffer.from(Array.from({ length: (i % 80) + 1 }, () => Math.floor(Math.random() * 256)))
        .toString('latin1')
        .replace(/\n/g, ' ');
      expect(answer(text)).toMatch(/ERR /);
    }
  });
});

describe('the egress auth helper process', () => {
  it('answers every line in order, ERR for hostile ones, and stays up', async () => {
    mkdirSync(revokedDir, { recursive: true });
    const helper = spawn(process.execPath, [join(import.meta.dirname, 'auth-helper.ts')], {
      env: { ...process.env, MCP_SESSION_SECRET: secret, SESSION_REVOKED_DIR: revokedDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const replies: string[] = [];
    const split = lineSplitter(1 << 20);
    helper.stdout.on('data', (c: Buffer) => replies.push(...split.push(c).map((l) => l.text)));
    let stderr = '';
    helper.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const inputs = [
      Buffer.from(`${req(id, cred(), '172.20.3.7', '1')}\n`),
      Buffer.from([0x32, 0x20, 0xff, 0x00, 0xfe, 0x0a]), // 2, then bytes
      Buffer.concat([Buffer.from('3 '), Buffer.alloc(1 << 20, 0x41), Buffer.from('\n')]), // a 1 MiB line
      Buffer.from('4\n'),
      Buffer.from(`5 ${id} %zz 172.20.3.7\n`),
      Buffer.from(`${req(id, cred(), '172.20.3.7', '6')}\n`),
    ];
    for (const b of inputs) helper.stdin.write(b);
    const deadline = Date.now() + 10_000;
    while (replies.length < inputs.length && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(replies.map((r) => r.split(' ').slice(0, 2).join(' '))).toEqual([
      '1 OK',
      '2 ERR',
      '3 ERR',
      '4 ERR',
      '5 ERR',
      '6 OK',
    ]);
    expect(helper.exitCode).toBeNull();
    expect(stderr).not.toContain(cred().split('.')[2] as string);
    helper.stdin.end();
    const code = await new Promise((r) => helper.on('exit', r));
    expect(code).toBe(0);
  });
});
