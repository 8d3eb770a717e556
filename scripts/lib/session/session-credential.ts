// The host's door to the session identity: the credential it mints for a session and the user-name rule. One format,
// one rule, one module: the services' own (mcp-servers/common/src/session-credential.ts, Node built-ins only),
// which verifies what this mints; the host writes neither again.
//   cct1.<base64url JSON {u: user, s: session id, e: expiry in ms, n?: network CIDR}>.<base64url HMAC-SHA256>
export {
  isUserName,
  mintSessionCredential,
  USER_NAME,
  USER_NAME_RULE,
} from '../../../mcp-servers/common/src/session-credential.ts';
