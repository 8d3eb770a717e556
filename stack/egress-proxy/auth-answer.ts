// The egress proxy's answer to one request of Squid's Basic auth helper protocol (squid.conf: auth_param basic,
// concurrency > 0, key_extras "%>a"):  CHANNEL USER PASSWORD CLIENT_ADDRESS   (USER and PASSWORD percent-encoded
// by Squid). The proxy user name is the session id, the password the session's credential (cct1..., minted by
// pnpm session): OK only when verifySessionCredential accepts the credential from that client address (bound to
// the session's network, not revoked, not expired) AND the credential's session is the user name. The verified
// user and session go back as the note cct_verified=USER/SESSION, which the access log writes (access-line.ts);
// a refusal sets the note to `none`, so a note of an earlier success never outlives it on Squid's cached user.
// Pure and total: any input (bytes, cut lines, missing fields) gets an answer, ERR with a reason; no reason ever
// holds the password.
import { statSync } from 'node:fs';
import { isIP } from 'node:net';
import {
  CREDENTIAL_SESSION_ID,
  verifySessionCredential,
} from '../../mcp-servers/common/src/session-credential.ts';
import { type Line, percentBytes } from './byte-lines.ts';

export interface AuthContext {
  /** MCP_SESSION_SECRET; without it (or with a short one) every request is refused. */
  secret: string | undefined;
  /** SESSION_REVOKED_DIR: when set it must be a readable folder, or every request is refused. */
  revokedDir?: string;
  now?: number;
}

/** The longest request line accepted (Squid's own helper buffer is 8 KiB). */
export const MAX_REQUEST_BYTES = 16 * 1024;
const MIN_SECRET = 16;
const CHANNEL = /^\d{1,10}$/;

/** A helper reply value: printable ASCII without quotes or backslashes, bounded, in quotes. */
const quoted = (s: string) => `"${s.replace(/[^A-Za-z0-9 .,:;/_()@+-]/g, '_').slice(0, 200)}"`;

function revokedDirProblem(dir: string): string | null {
  try {
    return statSync(dir).isDirectory() ? null : `the revoked-sessions path ${dir} is not a folder`;
  } catch {
    return `the revoked-sessions folder ${dir} is missing`;
  }
}

function verdict(
  fields: string[],
  ctx: AuthContext,
): { ok: true; note: string } | { ok: false; why: string } {
  if (fields.length < 3)
    return { ok: false, why: `expected USER PASSWORD CLIENT_ADDRESS, got ${fields.length} field(s)` };
  if (fields.length > 3) return { ok: false, why: `expected 3 fields, got ${fields.length}` };
  const [rawUser, rawPass, address] = fields as [string, string, string];
  const user = percentBytes(rawUser)?.toString('latin1') ?? null;
  const pass = percentBytes(rawPass)?.toString('latin1') ?? null;
  if (user === null || pass === null)
    return { ok: false, why: 'malformed percent-escape in the user or password' };
  if (!CREDENTIAL_SESSION_ID.test(user)) return { ok: false, why: 'the proxy user name is not a session id' };
  if (!isIP(address)) return { ok: false, why: 'no client address (key_extras "%>a")' };
  if (!ctx.secret || ctx.secret.length < MIN_SECRET)
    return { ok: false, why: `MCP_SESSION_SECRET is not set (or under ${MIN_SECRET} characters)` };
  if (ctx.revokedDir) {
    const problem = revokedDirProblem(ctx.revokedDir);
    if (problem) return { ok: false, why: problem };
  }
  const check = verifySessionCredential(ctx.secret, pass, {
    remoteAddress: address,
    ...(ctx.revokedDir ? { revokedDir: ctx.revokedDir } : {}),
    ...(ctx.now !== undefined ? { now: ctx.now } : {}),
  });
  if (!check.ok) return { ok: false, why: check.error };
  if (check.sessionId !== user)
    return { ok: false, why: 'the credential belongs to another session than the proxy user name' };
  return { ok: true, note: `${check.user}/${check.sessionId}` };
}

/** The reply line (without \n) to one request line. Never throws. */
export function answerAuthRequest(line: Line, ctx: AuthContext): string {
  const fields = line.text === '' ? [] : line.text.split(' ');
  const channel = CHANNEL.test(fields[0] ?? '') ? `${fields.shift()} ` : '';
  let v: ReturnType<typeof verdict>;
  try {
    v = line.cut
      ? { ok: false, why: `request line of ${line.bytes} bytes, over ${MAX_REQUEST_BYTES}` }
      : verdict(fields, ctx);
  } catch (err) {
    v = { ok: false, why: `internal error: ${(err as Error)?.name ?? 'unknown'}` };
  }
  return v.ok
    ? `${channel}OK cct_verified=${v.note}`
    : `${channel}ERR cct_verified=none message=${quoted(v.why)}`;
}
