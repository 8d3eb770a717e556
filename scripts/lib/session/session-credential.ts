// Mints the credential of one session for the stack's services (MCP servers, session gateway, egress proxy): they
// trust its signed user and session id (not the headers the client sends). The format is the servers' own
// (mcp-servers/common/src/session-credential.ts verifies it; the isolation spec proves the two agree):
//   cct1.<base64url JSON {u: user, s: session id, e: expiry in ms, n?: network CIDR}>.<base64url HMAC-SHA256>
import { createHmac } from 'node:crypto';

export function mintSessionCredential(
  secret: string,
  id: { user: string; sessionId: string; expiresAt: number; network?: string },
): string {
  const payload = Buffer.from(
    JSON.stringify({
      u: id.user,
      s: id.sessionId,
      e: id.expiresAt,
      ...(id.network ? { n: id.network } : {}),
    }),
  ).toString('base64url');
  const mac = createHmac('sha256', secret).update(`cct1.${payload}`).digest('base64url');
  return `cct1.${payload}.${mac}`;
}
