// Bearer-token check for the Streamable HTTP transport. The token comes from the environment; the comparison
// takes the same time whatever the guess (hashes compared with timingSafeEqual).
import { createHash, timingSafeEqual } from 'node:crypto';

export type AuthResult = { ok: true } | { ok: false; status: 401; error: string };

const digest = (s: string) => createHash('sha256').update(s).digest();

export function checkBearer(authorization: string | undefined, token: string): AuthResult {
  if (!authorization) return { ok: false, status: 401, error: 'missing Authorization: Bearer token' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m?.[1]) return { ok: false, status: 401, error: 'Authorization header is not a Bearer token' };
  if (!timingSafeEqual(digest(m[1]), digest(token)))
    return { ok: false, status: 401, error: 'wrong bearer token' };
  return { ok: true };
}

/** A token too short to resist guessing is a configuration error, reported at startup. */
export function validateToken(token: string | undefined, variable: string): string {
  if (!token)
    throw new Error(`${variable} is not set: the HTTP transport needs a bearer token (32+ characters)`);
  if (token.length < 32) throw new Error(`${variable} is ${token.length} characters: use at least 32`);
  return token;
}
