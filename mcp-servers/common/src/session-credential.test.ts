import { describe, expect, it } from 'vitest';
import {
  isSessionCredential,
  isUserName,
  mintSessionCredential,
  verifySessionCredential,
} from './session-credential.ts';

const secret = 's'.repeat(64);
const id = { user: 'alice', sessionId: '7c0e8d5e-6a0b-4a43-9d0e-2f8b6c1d9a11', expiresAt: 2_000_000_000_000 };

describe('session credentials', () => {
  it('verify to the user and session they were minted for', () => {
    const token = mintSessionCredential(secret, id);
    expect(isSessionCredential(token)).toBe(true);
    expect(verifySessionCredential(secret, token, 1_000)).toEqual({ ok: true, ...id });
  });

  it('refuse a forged user, another secret, an expired one, and junk, each saying why', () => {
    const token = mintSessionCredential(secret, id);
    const [p, , mac] = token.split('.');
    const forged = `${p}.${Buffer.from(JSON.stringify({ u: 'bob', s: id.sessionId, e: id.expiresAt })).toString('base64url')}.${mac}`;
    expect(verifySessionCredential(secret, forged)).toEqual({
      ok: false,
      error: 'session credential with a wrong signature',
    });
    expect(verifySessionCredential('t'.repeat(64), token)).toEqual({
      ok: false,
      error: 'session credential with a wrong signature',
    });
    expect(verifySessionCredential(secret, token, id.expiresAt + 1)).toEqual({
      ok: false,
      error: 'session credential expired',
    });
    expect(verifySessionCredential(secret, 'cct1.x')).toEqual({
      ok: false,
      error: 'not a session credential',
    });
    expect(verifySessionCredential(secret, 'Bearer-ish')).toEqual({
      ok: false,
      error: 'not a session credential',
    });
    const badUser = mintSessionCredential(secret, { ...id, user: '../bob' });
    expect(verifySessionCredential(secret, badUser)).toEqual({
      ok: false,
      error: 'session credential without a valid user',
    });
  });

  it('refuse a user that is no user name: the dot folders too, though their characters pass', () => {
    for (const user of ['.', '..']) {
      const token = mintSessionCredential(secret, { ...id, user });
      expect(verifySessionCredential(secret, token, 1_000)).toEqual({
        ok: false,
        error: 'session credential without a valid user',
      });
    }
  });
});

describe('the user-name rule', () => {
  it('takes 1-64 letters, digits or . _ @ -, and refuses . and .. and anything else', () => {
    for (const name of ['alice', 'a', 'x'.repeat(64), 'bob@example.org', 'a.b_c-d', '...', '.a', 'a..'])
      expect(isUserName(name), JSON.stringify(name)).toBe(true);
    for (const name of [
      '',
      '.',
      '..',
      'x'.repeat(65),
      'a b',
      'a/b',
      '../bob',
      'é',
      'a\n',
      'a=b',
      'a,b',
      7,
      null,
    ])
      expect(isUserName(name), JSON.stringify(name)).toBe(false);
  });
});
