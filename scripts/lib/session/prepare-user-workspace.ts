// A session's workspace: the folder of its user under WORKSPACES_DIR, which the session gets as /workspace and the
// file-ops server confines its calls to. Made when a session of that user starts (`pnpm session`, the specs), owned
// by the containers' uid 1000, on a quota filesystem of its own where quotas are on (workspace-quota.ts). The
// stack's own folders (the workspaces' parent among them) are stack/local-env.ts's.
import { chmodSync, chownSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type HostIds, hostIds, NODE_UID } from '../stack/local-env.ts';
import { mountUserQuota, quotaEnforced } from '../stack/workspace-quota.ts';
import { isUserName } from './session-credential.ts';

/**
 * The workspace folder of one user (WORKSPACES_DIR/<user>), created for the containers' uid 1000 when missing. A
 * session of that user gets it as /workspace; the file-ops server confines that session's calls to it.
 */
export function prepareUserWorkspace(
  workspacesDir: string,
  user: string,
  ids: HostIds = hostIds(),
  quota?: { imagesDir?: string; size?: string },
): string {
  if (!isUserName(user)) throw new Error(`not a user name for a workspace: ${JSON.stringify(user)}`);
  const dir = join(workspacesDir, user);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (ids.uid === 0) chownSync(dir, NODE_UID, NODE_UID);
    else if (ids.uid !== NODE_UID) chmodSync(dir, 0o777); // the containers' uid 1000 must write it
  }
  if (quota?.imagesDir && quotaEnforced(quota.size))
    mountUserQuota({ dir, imagesDir: quota.imagesDir, user, quota: quota.size ?? '1g', uid: NODE_UID });
  return dir;
}
