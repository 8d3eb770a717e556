// The access line cannot be forged by any byte of a name or URL, and no line can crash its parser. Lines are built
// the way Squid 6 builds them: squidEscape below is Squid's `%#` encoding (lib/rfc1738.c, rfc1738_escape: a-z A-Z
// 0-9 kept; space and below, %, the RFC 1738 unsafe characters, 0x7f and non-ASCII as %XX).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCESS_LOGFORMAT, egressLogsRequest, parseAccessLine } from './access-line.ts';
import { lineSplitter } from './byte-lines.ts';

const id = '7c0e8d5e-6a0b-4a43-9d0e-2f8b6c1d9a11';
const other = '0b7f4e2a-1c3d-4e5f-8a9b-0c1d2e3f4a5b';

function squidEscape(value: Buffer | string): string {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  if (!bytes.length) return '-';
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    const unsafe = b <= 0x20 || b >= 0x7f || '<>"#{}|\\^~[]`\'%'.includes(c);
    out += unsafe ? `%${b.toString(16).toUpperCase().padStart(2, '0')}` : c;
  }
  return out;
}

interface Fields {
  client?: string;
  method?: string;
  status?: number;
  squid?: string;
  claimed?: Buffer | string;
  note?: string;
  url?: Buffer | string;
}
const line = (f: Fields = {}) =>
  [
    'egress1',
    '1764403200.123',
    f.client ?? '172.20.0.5',
    squidEscape(f.method ?? 'CONNECT'),
    String(f.status ?? 200),
    squidEscape(f.squid ?? 'TCP_TUNNEL'),
    '160.79.104.10',
    f.claimed === undefined ? id : squidEscape(f.claimed),
    f.note === undefined ? `alice/${id}` : squidEscape(f.note),
    squidEscape(f.url ?? 'api.anthropic.com:443'),
  ].join(' ');

/** Splits like the daemon does (bytes, \n), then parses every line. */
function parseStream(text: string) {
  const s = lineSplitter(1024 * 1024);
  const lines = [...s.push(Buffer.from(`${text}\n`, 'latin1'))];
  return lines.map((l) => parseAccessLine(l.text));
}

describe('the egress access line', () => {
  it('is the logformat squid.conf writes', () => {
    const conf = readFileSync(join(import.meta.dirname, 'squid.conf'), 'utf8');
    expect(conf.split('\n')).toContain(ACCESS_LOGFORMAT);
    expect(conf).toMatch(/^acl allowlist dstdomain -n /m);
  });

  it('parses an allowed CONNECT of a verified session: user and session from the helper note', () => {
    expect(parseAccessLine(line())).toEqual({
      ok: true,
      attempt: {
        timeMs: 1764403200123,
        user: 'alice',
        sessionId: id,
        authenticated: true,
        claimedUser: null,
        client: '172.20.0.5',
        method: 'CONNECT',
        target: 'api.anthropic.com:443',
        host: 'api.anthropic.com',
        status: 200,
        squidStatus: 'TCP_TUNNEL',
        decision: 'allowed',
      },
    });
  });

  it('marks a refused request denied, and one without credentials unauthenticated', () => {
    const denied = parseAccessLine(
      line({ method: 'GET', url: 'http://10.1.2.3:8080/x', status: 403, squid: 'TCP_DENIED' }),
    );
    expect(denied).toMatchObject({
      ok: true,
      attempt: { user: 'alice', sessionId: id, authenticated: true, host: '10.1.2.3', decision: 'denied' },
    });
    const anonymous = parseAccessLine(line({ claimed: '', note: '', status: 407, squid: 'TCP_DENIED' }));
    expect(anonymous).toMatchObject({
      ok: true,
      attempt: { user: null, sessionId: null, authenticated: false, claimedUser: null, status: 407 },
    });
  });

  it('takes a note as verified only when it is USER/SESSION by the session identity rules', () => {
    for (const note of [
      `../${id}`,
      `./${id}`,
      `a/b/${id}`,
      `/${id}`,
      'alice/',
      `al ice/${id}`,
      `${'x'.repeat(65)}/${id}`,
    ])
      expect(parseAccessLine(line({ note })), note).toMatchObject({
        ok: true,
        attempt: { user: null, sessionId: null, authenticated: false },
      });
    expect(parseAccessLine(line({ note: `a.b@c/${id}` }))).toMatchObject({
      attempt: { user: 'a.b@c', sessionId: id, authenticated: true },
    });
  });

  // Each hostile value in the claimed name (and the URL): one line, one attempt, unauthenticated, the value kept
  // escaped, every other field intact.
  const hostile: [string, Buffer | string][] = [
    ['a malformed percent-escape', 'x%zz'],
    [
      'spaces forging a line of its own',
      `bob 1.0 - GET http://evil/ 200 TCP_TUNNEL - alice alice/${id} http://x/`,
    ],
    ['quotes', 'a"b"c'],
    [
      'a newline and a fake second line',
      `x\nLegress1 1764403200.123 172.20.0.9 CONNECT 200 TCP_TUNNEL - ${id}`,
    ],
    ['carriage return and tab', 'x\r\ty'],
    ['backslashes', 'a\\"b\\n'],
    ['invalid UTF-8', Buffer.from([0x61, 0xff, 0xfe, 0xc0, 0xaf, 0xed, 0xa0, 0x80])],
    ['a 64 KiB name', 'n'.repeat(64 * 1024)],
    ['the shape of a verified note', `alice/${id}`],
    ['NUL-free control bytes', Buffer.from([1, 2, 0x1b, 0x7f])],
  ];
  it.each(hostile)('keeps %s in a claimed name to one unauthenticated attempt', (_, claimed) => {
    const parsed = parseStream(line({ claimed, note: 'none', status: 407, squid: 'TCP_DENIED' }));
    expect(parsed).toHaveLength(1);
    const p = parsed[0];
    if (!p?.ok) throw new Error(`not parsed: ${JSON.stringify(p)}`);
    expect(p.attempt).toMatchObject({
      authenticated: false,
      user: null,
      sessionId: null,
      status: 407,
      decision: 'denied',
      client: '172.20.0.5',
      target: 'api.anthropic.com:443',
    });
    expect(p.attempt.claimedUser).toBeTruthy();
    expect(p.attempt.claimedUser?.length).toBeLessThan(400);
    expect(p.attempt.claimedUser).toMatch(/^[\x20-\x7e…()0-9a-z ]+$/);
  });
  it.each(hostile)('keeps %s in a URL to one attempt of its own session', (_, url) => {
    const parsed = parseStream(line({ method: 'GET', url, status: 403, squid: 'TCP_DENIED' }));
    expect(parsed).toHaveLength(1);
    expect(parsed[0]).toMatchObject({ ok: true, attempt: { user: 'alice', sessionId: id, status: 403 } });
    const target = parsed[0]?.ok ? parsed[0].attempt.target : '';
    expect(target.length).toBeLessThan(2200);
    expect(target).toMatch(/^[\x20-\x7e…()0-9a-z ]+$/);
  });

  it('tells requests Squid could not read, and clients that left, from allowed ones', () => {
    const tooLarge = line({ method: 'GET', status: 431, squid: 'NONE_NONE', claimed: '', note: '' });
    expect(parseAccessLine(tooLarge.replace(/\S+$/, 'error:request-too-large'))).toMatchObject({
      ok: true,
      attempt: { decision: 'invalid', status: 431, authenticated: false, host: '' },
    });
    expect(parseAccessLine(line({ status: 0, squid: 'NONE_NONE_ABORTED', note: '' }))).toMatchObject({
      ok: true,
      attempt: { decision: 'aborted' },
    });
    expect(parseAccessLine(line({ status: 503, squid: 'NONE_NONE' }))).toMatchObject({
      ok: true,
      attempt: { decision: 'allowed', authenticated: true },
    });
  });

  it('trusts the helper note only for the session named, and not on a 407', () => {
    const elsewhere = parseAccessLine(line({ note: `mallory/${other}` }));
    expect(elsewhere).toMatchObject({
      ok: true,
      attempt: { authenticated: false, user: null, sessionId: null },
    });
    const refused = parseAccessLine(line({ status: 407, squid: 'TCP_DENIED' }));
    expect(refused).toMatchObject({ ok: true, attempt: { authenticated: false, user: null } });
    const noteNone = parseAccessLine(line({ note: 'none' }));
    expect(noteNone).toMatchObject({ ok: true, attempt: { authenticated: false, claimedUser: id } });
  });

  // Lines Squid would never write with this format (a raw field, a broken escape, a cut line): reported, with a
  // bounded, escaped excerpt, never thrown, never half-read.
  const broken: [string, string][] = [
    ['a raw %zz (the old format)', `egress1 1764403200.123 172.20.0.5 CONNECT 200 TCP_TUNNEL - x%zz - a:443`],
    [
      'the old space-separated format',
      `1764403200.123 alice+${id} 172.20.0.5 CONNECT a:443 200 TCP_TUNNEL -`,
    ],
    ['an extra field (a raw space)', `${line()} extra`],
    ['a missing field', line().split(' ').slice(0, 9).join(' ')],
    ['two spaces', line().replace(' ', '  ')],
    ['a raw quote', line().replace('CONNECT', 'CON"NECT')],
    ['a raw byte over 0x7e', line().replace('CONNECT', 'CON\xffNECT')],
    ['a bad time', line().replace('1764403200.123', '1e9')],
    ['a bad client address', line().replace('172.20.0.5', '172.20.0.500')],
    ['a bad status', line().replace(' 200 ', ' 2000 ')],
    ['another tag', line().replace('egress1', 'egress2')],
    ['an empty line', ''],
    ['a 2 MiB line', 'x'.repeat(2 * 1024 * 1024)],
  ];
  it.each(broken)('reports %s as unparsed, without throwing', (_, text) => {
    const p = parseAccessLine(text);
    expect(p.ok).toBe(false);
    if (p.ok) return;
    expect(p.unparsed.error).toBeTruthy();
    expect(p.unparsed.excerpt.length).toBeLessThan(400);
    expect(p.unparsed.excerpt).toMatch(/^[\x20-\x7e…]*$/);
  });

  it('never throws on random bytes, and reads back any claimed name exactly', () => {
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(Array.from({ length: (i % 64) + 1 }, () => Math.floor(Math.random() * 256)));
      expect(() => parseAccessLine(bytes.toString('latin1'))).not.toThrow();
      const p = parseAccessLine(line({ claimed: bytes, note: 'none', status: 407 }));
      expect(p.ok, bytes.toString('hex')).toBe(true);
    }
  });

  it('becomes a claude_code_telemetry.egress event: verified user and session, authenticated or not', () => {
    const lines = [
      parseAccessLine(
        line({ method: 'GET', url: 'http://10.1.2.3:8080/x', status: 403, squid: 'TCP_DENIED' }),
      ),
      parseAccessLine(line({ claimed: 'eve 200', note: 'none', status: 407, squid: 'TCP_DENIED' })),
      parseAccessLine('garbage'),
    ];
    const req = egressLogsRequest(lines) as {
      resourceLogs: {
        scopeLogs: { logRecords: { attributes: { key: string; value: Record<string, unknown> }[] }[] }[];
      }[];
    };
    const records = (req.resourceLogs[0]?.scopeLogs[0]?.logRecords ?? []).map((r) =>
      Object.fromEntries(r.attributes.map((x) => [x.key, Object.values(x.value)[0]])),
    );
    expect(records[0]).toMatchObject({
      'event.name': 'claude_code_telemetry.egress',
      'session.id': id,
      'user.name': 'alice',
      'egress.authenticated': true,
      decision: 'denied',
      host: '10.1.2.3',
      status: '403',
    });
    expect(records[1]).toMatchObject({ 'egress.authenticated': false, 'egress.claimed_user': 'eve 200' });
    expect(records[1]).not.toHaveProperty('session.id');
    expect(records[1]).not.toHaveProperty('user.name');
    expect(records[2]).toMatchObject({
      'event.name': 'claude_code_telemetry.egress',
      decision: 'unparsed',
      'egress.authenticated': false,
      'egress.excerpt': '"garbage"',
    });
  });
});
