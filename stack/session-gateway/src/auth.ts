// Who is asking: the session credential a session presents to the gateway, verified. Claude Code sends its
// ANTHROPIC_API_KEY as `x-api-key` and its ANTHROPIC_AUTH_TOKEN as `Authorization: Bearer`; either may carry the
// credential. The user and session id come from the signed payload only, bound to the session's network and dead
// once the session is revoked (mcp-common's session-credential.ts). A refusal names its reason by a small fixed
// kind (for the bounded log and the counters), never by the token.
import type { IncomingHttpHeaders } from 'node:http';
import {
  type SessionIdentity,
  verifySessionCredential,
} from '@claude-code-telemetry/mcp-common/session-credential';

export type RefusalKind =
  | 'missing'
  | 'malformed'
  | 'signature'
  | 'expired'
  | 'network'
  | 'revoked'
  | 'invalid';

export type AuthResult =
  | { ok: true; identity: SessionIdentity }
  | { ok: false; kind: RefusalKind; message: string };

export interface AuthContext {
  /** MCP_SESSION_SECRET: the same secret that signs the sessions' credentials. */
  secret: string;
  remoteAddress: string | undefined;
  revokedDir?: string;
  now?: number;
}

/** The longest credential read: a real one is about 200 characters. */
const MAX_TOKEN = 4096;

/** The credential of a request: `x-api-key`, else `Authorization: Bearer`; undefined when neither is there. */
export function presentedCredential(headers: IncomingHttpHeaders): string | undefined {
  const key = headers['x-api-key'];
  if (typeof key === 'string' && key.trim()) return key.trim();
  const auth = headers.authorization;
  if (typeof auth !== 'string') return undefined;
  // `Bearer%20…`: an OTLP exporter that did not URL-decode OTEL_EXPORTER_OTLP_HEADERS (the spec says to).
  const m = /^Bearer(?:\s+|%20)(\S+)\s*$/i.exec(auth);
  return m?.[1];
}

function kindOf(error: string): RefusalKind {
  if (error.includes('wrong signature')) return 'signature';
  if (error.includes('expired')) return 'expired';
  if (error.includes("outside its session's network")) return 'network';
  if (error.includes('has ended')) return 'revoked';
  if (error === 'not a session credential') return 'malformed';
  return 'invalid';
}

export function authenticate(headers: IncomingHttpHeaders, ctx: AuthContext): AuthResult {
  const token = presentedCredential(headers);
  if (!token)
    return {
      ok: false,
      kind: 'missing',
      message:
        'no session credential: send it as x-api-key (ANTHROPIC_API_KEY) or Authorization: Bearer (ANTHROPIC_AUTH_TOKEN)',
    };
  if (token.length > MAX_TOKEN)
    return { ok: false, kind: 'malformed', message: `session credential over ${MAX_TOKEN} characters` };
  const check = verifySessionCredential(ctx.secret, token, {
    remoteAddress: ctx.remoteAddress,
    ...(ctx.revokedDir ? { revokedDir: ctx.revokedDir } : {}),
    ...(ctx.now !== undefined ? { now: ctx.now } : {}),
  });
  if (!check.ok) return { ok: false, kind: kindOf(check.error), message: check.error };
  const { ok: _, ...identity } = check;
  return { ok: true, identity };
}
