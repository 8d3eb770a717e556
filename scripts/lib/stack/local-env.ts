// stack/.env.local: generated secrets, the directories the stack writes to, and the ids that own them. Kept
// across runs (secrets are generated once), never committed, mode 0600.
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { repoRoot } from '../repo-root.ts';
import { formatEnvFile, parseEnvFile } from './env-file.ts';
import { envFiles } from './stack-files.ts';
import { TOPOLOGY_KEY, type Topology } from './topology.ts';
import { quotaEnforced, shareWorkspaces } from './workspace-quota.ts';

/** The uid the collector image runs as by default, and the uid of `node` in the project's Node images. */
export const COLLECTOR_UID = 10001;
export const NODE_UID = 1000;

export interface HostIds {
  uid: number;
  gid: number;
}

/** Values for .env.local: existing ones kept, secrets generated once, directories and ids filled in. */
export function planLocalEnv(
  existing: Record<string, string>,
  ids: HostIds,
  env: Record<string, string | undefined>,
  secret: (bytes: number) => string = (n) => randomBytes(n).toString('hex'),
): { values: Record<string, string>; generated: string[] } {
  const generated: string[] = [];
  const keep = (key: string, make: () => string) => {
    if (existing[key]) return existing[key];
    generated.push(key);
    return make();
  };
  // Files the collector writes belong to the user who runs the stack; as root, to the collector's own uid.
  const owner = ids.uid === 0 ? { uid: COLLECTOR_UID, gid: COLLECTOR_UID } : ids;
  return {
    values: {
      ...existing,
      MCP_AUTH_TOKEN: keep('MCP_AUTH_TOKEN', () => secret(24)),
      // Signs each session's own credential for the MCP servers (the sessions never see it).
      MCP_SESSION_SECRET: keep('MCP_SESSION_SECRET', () => secret(32)),
      GRAFANA_ADMIN_PASSWORD: keep('GRAFANA_ADMIN_PASSWORD', () => secret(16)),
      // The S3 gateway's root keys (scaled topology: pnpm export --to s3://...); never printed.
      S3_ACCESS_KEY_ID: keep('S3_ACCESS_KEY_ID', () => secret(10)),
      S3_SECRET_ACCESS_KEY: keep('S3_SECRET_ACCESS_KEY', () => secret(20)),
      TELEMETRY_DIR: resolve(env.TELEMETRY_DIR ?? existing.TELEMETRY_DIR ?? join(repoRoot, 'telemetry')),
      SESSIONS_DIR: resolve(env.SESSIONS_DIR ?? existing.SESSIONS_DIR ?? join(repoRoot, 'sessions')),
      // One folder per user: a session sees only its user's (mounted as its /workspace; file-ops confines it too).
      WORKSPACES_DIR: resolve(env.WORKSPACES_DIR ?? existing.WORKSPACES_DIR ?? join(repoRoot, 'workspaces')),
      // The collector's persistent sending queues: a folder of their own, so a full telemetry disk spares them.
      QUEUE_DIR: resolve(env.QUEUE_DIR ?? existing.QUEUE_DIR ?? join(repoRoot, 'queue')),
      // Each running session's hand-back folder (its transcripts, what it reports), apart from the records: a session
      // sees only its own, and pnpm session moves what it finds into the record when the session ends.
      SPOOL_DIR: resolve(env.SPOOL_DIR ?? existing.SPOOL_DIR ?? join(repoRoot, '.spool')),
      // Each user's workspace filesystem image (quotas, as root: workspace-quota.ts).
      WORKSPACE_IMAGES_DIR: resolve(
        env.WORKSPACE_IMAGES_DIR ?? existing.WORKSPACE_IMAGES_DIR ?? join(repoRoot, '.workspace-images'),
      ),
      WORKSPACE_QUOTA: env.WORKSPACE_QUOTA ?? existing.WORKSPACE_QUOTA ?? '1g',
      // How file-ops binds WORKSPACES_DIR: rslave where users' quota filesystems are mounted under it.
      WORKSPACES_PROPAGATION: quotaEnforced(env.WORKSPACE_QUOTA ?? existing.WORKSPACE_QUOTA)
        ? 'rslave'
        : 'rprivate',
      // Ended sessions by id: the services refuse their credentials (mounted read-only into them).
      SESSION_REVOKED_DIR: resolve(
        env.SESSION_REVOKED_DIR ?? existing.SESSION_REVOKED_DIR ?? join(repoRoot, '.revoked'),
      ),
      TELEMETRY_UID: String(owner.uid),
      TELEMETRY_GID: String(owner.gid),
    },
    generated,
  };
}

export function readLocalEnv(file = envFiles.local): Record<string, string> {
  return existsSync(file) ? parseEnvFile(readFileSync(file, 'utf8'), file) : {};
}

/** The ids of the user running this (root: 0). */
export function hostIds(): HostIds {
  return { uid: process.getuid?.() ?? NODE_UID, gid: process.getgid?.() ?? NODE_UID };
}

/**
 * The folders of the scaled topology's collectors (stack/compose.scaled.yaml): each gateway's file set under
 * TELEMETRY_DIR, each agent's and gateway's queue under QUEUE_DIR. Made by setup, with their owner, so that Docker
 * does not create them (as root) on a bind mount.
 */
export const GATEWAY_DIRS = ['gateway-1', 'gateway-2', 'gateway-3'];
export const QUEUE_SUBDIRS = ['agent-1', 'agent-2', ...GATEWAY_DIRS];

/**
 * Creates the telemetry and session folders of `values` and gives them to the containers that write them: as root,
 * to the collector's and the Claude Code container's uids; otherwise the session folder is opened to uid 1000.
 * Returns what it did, line by line. Used by `stack:setup` and by the e2e specs' ephemeral stack alike.
 */
export function prepareStackDirs(values: Record<string, string>, ids: HostIds = hostIds()): string[] {
  const said: string[] = [];
  const telemetryDir = values.TELEMETRY_DIR as string;
  const sessionsDir = values.SESSIONS_DIR as string;
  const queueDir = values.QUEUE_DIR as string;
  const workspacesDir = values.WORKSPACES_DIR as string;
  for (const dir of [telemetryDir, sessionsDir, queueDir, workspacesDir]) mkdirSync(dir, { recursive: true });
  const collectorDirs = [
    ...GATEWAY_DIRS.map((d) => join(telemetryDir, d)),
    ...QUEUE_SUBDIRS.map((d) => join(queueDir, d)),
  ];
  for (const dir of collectorDirs) mkdirSync(dir, { recursive: true });
  // The records are the host's alone (no container mounts them); the spool and the revoked list are only listed by
  // their owner (a session's spool folder is opened to the containers' uid 1000 one by one).
  for (const key of ['SPOOL_DIR', 'SESSION_REVOKED_DIR'] as const) {
    const dir = values[key];
    if (dir) mkdirSync(dir, { recursive: true, mode: 0o711 });
  }
  chmodSync(sessionsDir, 0o700);
  if (values.WORKSPACES_PROPAGATION === 'rslave') {
    shareWorkspaces(workspacesDir, values.WORKSPACE_QUOTA);
    said.push(
      `${workspacesDir}: a shared mount; each user's folder a ${values.WORKSPACE_QUOTA} filesystem of its own`,
    );
  } else
    said.push(
      `${workspacesDir}: plain folders, no quota (quotas need root and WORKSPACE_QUOTA other than off)`,
    );
  // Only its owner lists the users' folders; the containers' uid 1000 owns them (as root) or is let in (0711).
  if (ids.uid === 0) chownSync(workspacesDir, NODE_UID, NODE_UID);
  chmodSync(workspacesDir, ids.uid === 0 || ids.uid === NODE_UID ? 0o700 : 0o711);
  if (ids.uid === 0) {
    for (const dir of [telemetryDir, queueDir, ...collectorDirs])
      chownSync(dir, COLLECTOR_UID, COLLECTOR_UID);
    said.push(`${telemetryDir} and ${queueDir} owned by uid ${COLLECTOR_UID} (collector)`);
  }
  said.push(`${sessionsDir}: session records, written on the host only (mode 0700)`);
  return said;
}

function writeLocalEnv(file: string, values: Record<string, string>) {
  writeFileSync(
    file,
    formatEnvFile(values, [
      'Written by `pnpm stack:setup`: secrets and local paths. Never commit this file.',
    ]),
    { mode: 0o600 },
  );
  chmodSync(file, 0o600);
}

/** Writes .env.local and prepares the directories; returns what it did, line by line. */
export function setupLocalEnv(
  env: Record<string, string | undefined> = process.env,
  file = envFiles.local,
): string[] {
  const ids = hostIds();
  const { values, generated } = planLocalEnv(readLocalEnv(file), ids, env);
  const said: string[] = [];
  writeLocalEnv(file, values);
  said.push(generated.length ? `generated ${generated.join(', ')} in ${file}` : `${file}: secrets kept`);
  said.push(...prepareStackDirs(values, ids));
  said.push(`telemetry files: ${values.TELEMETRY_DIR}; session records: ${values.SESSIONS_DIR}`);
  return said;
}

/** Records the local stack's topology in .env.local (`pnpm stack:up --scaled | --single`); the rest is kept. */
export function writeLocalTopology(topology: Topology, file = envFiles.local): void {
  writeLocalEnv(file, { ...readLocalEnv(file), [TOPOLOGY_KEY]: topology });
}
