// Mints the credential of one session for the stack's services (MCP servers, session gateway, egress proxy). One
// format, one module: the services' own (mcp-servers/common/src/session-credential.ts, Node built-ins only), which
// verifies what this mints.
//   cct1.<base64url JSON {u: user, s: session id, e: expiry in ms, n?: network CIDR}>.<base64url HMAC-SHA256>
export { mintSessionCredential } from '../../../mcp-servers/common/src/session-credential.ts';
