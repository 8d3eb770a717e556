// Who may use the gateway: an attack table over the ways a request can present (or fail to present) a session
// credential. Only a credential signed with the gateway's secret, unexpired, from its session's network and not
// revoked passes, and the identity comes from its signed payload only.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { credential, SECRET } from '../test/test-support.ts';
import { authenticate, presentedCredential } from './auth.ts';

const revokedDir = mkdtempSync(join(tmpdir(), 'revoked-'));
mkdirSync(revokedDir, { recursive: true });
writeFileSync(join(revokedDir, 'ended-session'), '');
const good = credential({ network: '172.20.3.0/24' });
const ctx = { secret: SECRET, remoteAddress: '::ffff:172.20.3.7', revokedDir };

describe('authenticate: attack table', () => {
  const cases: [string, Record<string, string>, string | null, Partial<typeof ctx>?][] = [
    ['no credential at all', {}, 'missing'],
    ['an empty x-api-key', { 'x-api-key': '  ' }, 'missing'],
    ['Authorization that is not Bearer', { authorization: `Basic ${good}` }, 'missing'],
    ['a real Anthropic key instead of a credential', { 'x-api-key': 'sk-ant-api03-abcdef' }, 'malformed'],
    [
      'a credential signed with another secret',
      { 'x-api-key': credential({ secret: 'another-secret-0123456789', network: '172.20.3.0/24' }) },
      'signature',
    ],
    [
      'a payload changed after signing (user swapped)',
      {
        'x-api-key': good.replace(
          /^cct1\.[^.]+/,
          `cct1.${Buffer.from(JSON.stringify({ u: 'bob', s: 'session-1', e: Date.now() + 60_000, n: '172.20.3.0/24' })).toString('base64url')}`,
        ),
      },
      'signature',
    ],
    [
      'an expired credential',
      { 'x-api-key': credential({ ttlMs: -1000, network: '172.20.3.0/24' }) },
      'expired',
    ],
    ['from another network', { 'x-api-key': good }, 'network', { remoteAddress: '172.20.4.7' }],
    [
      'from an unknown address',
      { 'x-api-key': good },
      'network',
      { remoteAddress: undefined as unknown as string },
    ],
    [
      'of a revoked session',
      { 'x-api-key': credential({ session: 'ended-session', network: '172.20.3.0/24' }) },
      'revoked',
    ],
    ['oversized', { 'x-api-key': `cct1.${'a'.repeat(5000)}.b` }, 'malformed'],
    ['valid, as x-api-key', { 'x-api-key': good }, null],
    ['valid, as a bearer token', { authorization: `Bearer ${good}` }, null],
    [
      'valid bearer, whatever a forged x-api-key-less header says',
      { authorization: `Bearer ${good}`, 'x-claude-code-user': 'bob' },
      null,
    ],
  ];
  for (const [name, headers, kind, over] of cases)
    it(`${kind ? 'refuses' : 'accepts'} ${name}`, () => {
      const r = authenticate(headers, { ...ctx, ...over });
      if (kind === null) {
        expect(r).toMatchObject({ ok: true, identity: { user: 'alice', sessionId: 'session-1' } });
      } else {
        expect(r).toMatchObject({ ok: false, kind });
        // The refusal never repeats the token.
        if (!r.ok)
          for (const v of Object.values(headers)) if (v.length > 20) expect(r.message).not.toContain(v);
      }
    });

  it('prefers x-api-key over the bearer token', () => {
    expect(presentedCredential({ 'x-api-key': 'a', authorization: 'Bearer b' })).toBe('a');
    expect(presentedCredential({ authorization: 'bearer b' })).toBe('b');
  });
});
