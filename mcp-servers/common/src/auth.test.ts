import { describe, expect, it } from 'vitest';
import { checkBearer, validateToken } from './auth.ts';

const token = 't'.repeat(40);

describe('checkBearer', () => {
  it('accepts the right token, case-insensitive scheme', () => {
    expect(checkBearer(`Bearer ${token}`, token)).toEqual({ ok: true });
    expect(checkBearer(`bearer ${token}`, token)).toEqual({ ok: true });
  });

  it('refuses a missing, malformed or wrong token with 401 and a reason', () => {
    expect(checkBearer(undefined, token)).toEqual({
      ok: false,
      status: 401,
      error: 'missing Authorization: Bearer token',
    });
    expect(checkBearer(`Basic ${token}`, token)).toMatchObject({
      ok: false,
      error: 'Authorization header is not a Bearer token',
    });
    expect(checkBearer('Bearer ', token)).toMatchObject({ ok: false, status: 401 });
    expect(checkBearer(`Bearer ${token}x`, token)).toEqual({
      ok: false,
      status: 401,
      error: 'wrong bearer token',
    });
    expect(checkBearer(`Bearer ${token.slice(1)}`, token)).toMatchObject({ error: 'wrong bearer token' });
  });
});

describe('validateToken', () => {
  it('requires a token of 32+ characters, naming the variable', () => {
    expect(() => validateToken(undefined, 'MCP_AUTH_TOKEN')).toThrow('MCP_AUTH_TOKEN is not set');
    expect(() => validateToken('short', 'MCP_AUTH_TOKEN')).toThrow(
      'MCP_AUTH_TOKEN is 5 characters: use at least 32',
    );
    expect(validateToken(token, 'MCP_AUTH_TOKEN')).toBe(token);
  });
});
