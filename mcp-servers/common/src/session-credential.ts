// Per-session credentials: what an MCP server trusts to decide whose session a call belongs to. `pnpm session`
// mints one when a session starts (scripts/lib/session/session-credential.ts, the same format) and hands it to
// that session's container only; the servers hold the secret (MCP_SESSION_SECRET) and verify it. The user and
// session id come from the signed payload, never from a header the client could set.
//   cct1.<base64url JSON {u: user, s: session id, e: expiry in ms since the epoch}>.<base64url HMAC-SHA256>
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface SessionIdentity {
  user: string;
  sessionId: string;
  expiresAt: number;
}

export type CredentialCheck = ({ ok: true } & SessionIdentity) | { ok: false; error: string };

const PREFIX = 'cct1';
/** A session's user, as `pnpm session --user` takes it: 1-64 letters, digits or . _ @ -. */
export const USER_NAME = /^[A-Za-z0-9._@-]{1,64}$/;
const SESSION = /^[A-Za-z0-9._:-]{1,128}$/;

const sign = (secret: string, payload: string) =>
  createHmac('sha256', secret).update(`${PREFIX}.${payload}`).digest('base64url');

/** Whether a bearer token looks like a session credential (rather than the server's own token). */
export const isSessionCredential = (token: string) => token.startsWith(`${PREFIX}.`);

export function mintSessionCredential(secret: string, id: SessionIdentity): string {
  const payload = Buffer.from(JSON.stringify({ u: id.user, s: id.sessionId, e: id.expiresAt })).toString(
    'base64url',
  );
  return `${PREFIX}.${payload}.${sign(secret, payload)}`;
}

export function verifySessionCredential(secret: string, token: string, now = Date.now()): CredentialCheck {
  const [prefix, payload, mac, ...rest] = token.split('.');
  if (prefix !== PREFIX || !payload || !mac || rest.length)
    return { ok: false, error: 'not a session credential' };
  const want = Buffer.from(sign(secret, payload));
  const got = Buffer.from(mac);
  if (want.length !== got.length || !timingSafeEqual(want, got))
    return { ok: false, error: 'session credential with a wrong signature' };
  let body: { u?: unknown; s?: unknown; e?: unknown };
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, error: 'session credential with an unreadable payload' };
  }
  if (typeof body.u !== 'string' || !USER_NAME.test(body.u))
    return { ok: false, error: 'session credential without a valid user' };
  if (typeof body.s !== 'string' || !SESSION.test(body.s))
    return { ok: false, error: 'session credential without a valid session id' };
  if (typeof body.e !== 'number' || body.e <= now) return { ok: false, error: 'session credential expired' };
  return { ok: true, user: body.u, sessionId: body.s, expiresAt: body.e };
}
