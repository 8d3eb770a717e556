import { describe, expect, it } from 'vitest';
import {
  isBranchName,
  isProjectName,
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

describe('the project and branch a credential carries', () => {
  it('verify to them, signed like the user: a session cannot swap its project', () => {
    const withProject = { ...id, project: 'acme/widgets', branch: 'feature/x-1.2' };
    const token = mintSessionCredential(secret, withProject);
    expect(verifySessionCredential(secret, token, 1_000)).toEqual({ ok: true, ...withProject });
    const [p, , mac] = token.split('.');
    const forged = `${p}.${Buffer.from(JSON.stringify({ u: id.user, s: id.sessionId, e: id.expiresAt, p: 'other/repo' })).toString('base64url')}.${mac}`;
    expect(verifySessionCredential(secret, forged, 1_000)).toEqual({
      ok: false,
      error: 'session credential with a wrong signature',
    });
  });

  it('refuse a signed project or branch that breaks its rule, saying which', () => {
    const badProject = mintSessionCredential(secret, { ...id, project: 'a"b' });
    expect(verifySessionCredential(secret, badProject, 1_000)).toEqual({
      ok: false,
      error: 'session credential with a malformed project',
    });
    const badBranch = mintSessionCredential(secret, { ...id, branch: 'x;project=y' });
    expect(verifySessionCredential(secret, badBranch, 1_000)).toEqual({
      ok: false,
      error: 'session credential with a malformed branch',
    });
  });
});

describe('the project and branch rules', () => {
  it('take owner/repo names and refuse syntax, paths and oversize', () => {
    for (const name of ['acme/widgets', 'a', 'my.repo_x-1', 'gitlab/group/sub/repo', 'x'.repeat(128)])
      expect(isProjectName(name), JSON.stringify(name)).toBe(true);
    for (const name of [
      '',
      'x'.repeat(129),
      '/abs',
      'a/',
      'a//b',
      '../etc',
      'a/../b',
      '.hidden',
      '-opt',
      'a b',
      'a"b',
      "a'b",
      'a;b',
      'a,b',
      'a=b',
      'a\nb',
      'a\u0000',
      'é',
      '{x}',
      7,
      null,
    ])
      expect(isProjectName(name), JSON.stringify(name)).toBe(false);
  });

  it('take common branch names and refuse the rest', () => {
    for (const name of ['main', 'feature/x-1.2', 'release+hotfix', 'v1.0', 'x'.repeat(128)])
      expect(isBranchName(name), JSON.stringify(name)).toBe(true);
    for (const name of ['', '-x', '/x', 'a..b', 'a b', 'a"b', 'a;b', 'a\n', 'x'.repeat(129), 'é', undefined])
      expect(isBranchName(name), JSON.stringify(name)).toBe(false);
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
