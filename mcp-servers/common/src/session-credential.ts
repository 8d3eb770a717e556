// Per-session credentials and the session's identity: what the stack's services (MCP servers, the session gateway,
// the egress proxy) trust to decide whose session a request belongs to. The one home of the credential's format and
// of the user-name rule, for the host too: `pnpm session` checks --user and mints a credential with this module
// (through scripts/lib/session/) and hands it to that session's container only; the services hold the secret
// (MCP_SESSION_SECRET) and verify it. The user and session id come from the signed payload, never from a header
// the client could set. Node built-ins only: the egress proxy's image copies this file as it is.
//   cct1.<base64url JSON {u: user, s: session id, e: expiry in ms, n?: network CIDR, p?: project, b?: git branch}>
//       .<base64url HMAC-SHA256>
// The project and branch (`pnpm session --project/--branch`, or the workspace's git remote and HEAD) are the host's
// word, signed here like the user: the gateway stamps them on every signal, whatever the session sent itself.
// A credential dies with its session: its expiry is the session's wall clock (plus a margin), the host marks the
// session revoked when it ends (a file named after the session id in SESSION_REVOKED_DIR), and it is bound to the
// session's own network: a request from any other address is refused.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { join } from 'node:path';

export interface SessionIdentity {
  user: string;
  sessionId: string;
  expiresAt: number;
  /** The session's own network (CIDR, e.g. 172.20.3.0/24): the only source addresses it is good from. */
  network?: string;
  /** The session's project (PROJECT_NAME), e.g. owner/repo: stamped as `project` on every signal. */
  project?: string;
  /** The session's git branch (BRANCH_NAME): stamped as `git.branch` on every signal. */
  branch?: string;
}

export type CredentialCheck = ({ ok: true } & SessionIdentity) | { ok: false; error: string };

export interface VerifyContext {
  now?: number;
  /** The request's source address (req.socket.remoteAddress); required when the credential names a network. */
  remoteAddress?: string;
  /** The folder of revoked sessions (SESSION_REVOKED_DIR): a file named after a session id revokes it. */
  revokedDir?: string;
}

const PREFIX = 'cct1';
/**
 * A session's user, everywhere one is named (`pnpm session --user`, the credential, the workspace folder, the
 * budgets, the export): 1-64 letters, digits or . _ @ -, and not `.` or `..` (it names a folder).
 */
export const USER_NAME = /^(?!\.\.?$)[A-Za-z0-9._@-]{1,64}$/;
/** USER_NAME in words, for the errors that refuse a name. */
export const USER_NAME_RULE = '1-64 letters, digits or . _ @ - (not . or ..)';
export const isUserName = (name: unknown): name is string => typeof name === 'string' && USER_NAME.test(name);
/**
 * A session's project, everywhere one is named (`pnpm session --project`, the credential, the `project` label,
 * `pnpm export --project`): 1-128 letters, digits or . _ - / (owner/repo), starting with a letter or digit, no
 * `..`, `//` or trailing `/`. Nothing a label, a LogsQL or PromQL literal, a header or a path could take as syntax
 * (no quote, space, `;`, `,`, `=`, control character).
 */
export const PROJECT_NAME = /^(?!.*\.\.)(?!.*\/\/)(?!.*\/$)[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/;
export const PROJECT_NAME_RULE =
  '1-128 letters, digits or . _ - / (starting with a letter or digit; no .., // or trailing /)';
export const isProjectName = (name: unknown): name is string =>
  typeof name === 'string' && PROJECT_NAME.test(name);
/**
 * A session's git branch as it is labelled (`git.branch`): 1-128 letters, digits or . _ - / +, starting with a
 * letter or digit, no `..` (git refuses it too). A branch git allows but this does not is left unlabelled.
 */
export const BRANCH_NAME = /^(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._/+-]{0,127}$/;
export const BRANCH_NAME_RULE = '1-128 letters, digits or . _ - / + (starting with a letter or digit; no ..)';
export const isBranchName = (name: unknown): name is string =>
  typeof name === 'string' && BRANCH_NAME.test(name);
/**
 * A session id as the services take one (a credential's, the MCP servers' session header, the egress proxy's user
 * name; pnpm session's are UUIDs): 1-128 letters, digits or . _ : - (never a /).
 */
export const CREDENTIAL_SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** A bound credential's network: an IPv4 or IPv6 prefix. */
const CIDR = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/;

const sign = (secret: string, payload: string) =>
  createHmac('sha256', secret).update(`${PREFIX}.${payload}`).digest('base64url');

/** Whether a bearer token looks like a session credential (rather than the server's own token). */
export const isSessionCredential = (token: string) => token.startsWith(`${PREFIX}.`);

export function mintSessionCredential(secret: string, id: SessionIdentity): string {
  const payload = Buffer.from(
    JSON.stringify({
      u: id.user,
      s: id.sessionId,
      e: id.expiresAt,
      ...(id.network ? { n: id.network } : {}),
      ...(id.project ? { p: id.project } : {}),
      ...(id.branch ? { b: id.branch } : {}),
    }),
  ).toString('base64url');
  return `${PREFIX}.${payload}.${sign(secret, payload)}`;
}

/** An address as Node reports it (`::ffff:172.20.0.3` for IPv4 on a dual-stack socket), plain. */
export function plainAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? (m[1] as string) : address;
}

/** Whether `address` lies in `cidr`; false for anything malformed. */
export function inNetwork(address: string, cidr: string): boolean {
  const m = CIDR.exec(cidr);
  const ip = plainAddress(address);
  if (!m) return false;
  const [, base, bits] = m as unknown as [string, string, string];
  const family = isIPv4(base) ? 'ipv4' : isIPv6(base) ? 'ipv6' : null;
  if (!family || (family === 'ipv4' ? !isIPv4(ip) : !isIPv6(ip))) return false;
  const prefix = Number(bits);
  if (prefix > (family === 'ipv4' ? 32 : 128)) return false;
  const list = new BlockList();
  list.addSubnet(base, prefix, family);
  return list.check(ip, family);
}

export function verifySessionCredential(
  secret: string,
  token: string,
  ctx: VerifyContext | number = {},
): CredentialCheck {
  const c: VerifyContext = typeof ctx === 'number' ? { now: ctx } : ctx;
  const now = c.now ?? Date.now();
  const [prefix, payload, mac, ...rest] = token.split('.');
  if (prefix !== PREFIX || !payload || !mac || rest.length)
    return { ok: false, error: 'not a session credential' };
  const want = Buffer.from(sign(secret, payload));
  const got = Buffer.from(mac);
  if (want.length !== got.length || !timingSafeEqual(want, got))
    return { ok: false, error: 'session credential with a wrong signature' };
  let body: { u?: unknown; s?: unknown; e?: unknown; n?: unknown; p?: unknown; b?: unknown };
  try {
    body = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, error: 'session credential with an unreadable payload' };
  }
  if (!isUserName(body.u)) return { ok: false, error: 'session credential without a valid user' };
  if (typeof body.s !== 'string' || !CREDENTIAL_SESSION_ID.test(body.s))
    return { ok: false, error: 'session credential without a valid session id' };
  if (typeof body.e !== 'number' || body.e <= now) return { ok: false, error: 'session credential expired' };
  if (body.p !== undefined && !isProjectName(body.p))
    return { ok: false, error: 'session credential with a malformed project' };
  if (body.b !== undefined && !isBranchName(body.b))
    return { ok: false, error: 'session credential with a malformed branch' };
  if (body.n !== undefined) {
    if (typeof body.n !== 'string' || !CIDR.test(body.n))
      return { ok: false, error: 'session credential with a malformed network' };
    if (!c.remoteAddress || !inNetwork(c.remoteAddress, body.n))
      return {
        ok: false,
        error: `session credential used from ${c.remoteAddress ? plainAddress(c.remoteAddress) : 'an unknown address'}, outside its session's network`,
      };
  }
  if (c.revokedDir && existsSync(join(c.revokedDir, body.s)))
    return { ok: false, error: 'session credential of a session that has ended' };
  return {
    ok: true,
    user: body.u,
    sessionId: body.s,
    expiresAt: body.e,
    ...(typeof body.n === 'string' ? { network: body.n } : {}),
    ...(typeof body.p === 'string' ? { project: body.p } : {}),
    ...(typeof body.b === 'string' ? { branch: body.b } : {}),
  };
}
