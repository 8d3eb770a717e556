// The host's door to the session identity: the credential it mints for a session, and the user, project and branch
// rules. One format, one rule each, one module: the services' own (mcp-servers/common/src/session-credential.ts,
// Node built-ins only), which verifies what this mints; the host writes neither again.
//   cct1.<base64url JSON {u: user, s: session id, e: expiry in ms, n?: network CIDR, p?: project, b?: branch}>
//       .<base64url HMAC-SHA256>
export {
  BRANCH_NAME_RULE,
  isBranchName,
  isProjectName,
  isUserName,
  mintSessionCredential,
  PROJECT_NAME,
  PROJECT_NAME_RULE,
  USER_NAME,
  USER_NAME_RULE,
} from '../../../mcp-servers/common/src/session-credential.ts';
