// Per-user workspace quotas: as root, each user's folder of WORKSPACES_DIR is an ext4 filesystem of its own (a
// sparse image file of WORKSPACE_QUOTA bytes in WORKSPACE_IMAGES_DIR, loop-mounted nosuid,nodev), so a session that
// fills its workspace gets "No space left on device" there and nowhere else: the records, the telemetry files and
// the collector's queues are on other filesystems. WORKSPACES_DIR itself is made a shared mount, and the file-ops
// server binds it with rslave propagation, so it sees each user's filesystem as the user's session does.
// Not root: no mounts, the folders are plain (unbounded), and `pnpm stack:setup` says so.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** A size as mount and truncate take it: 512m, 2g. `off` turns quotas off. */
export const QUOTA_SIZE = /^[1-9]\d*[mg]$/i;

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });

/** The mount points of this mount namespace, with their propagation ("shared:N" among the optional fields). */
export function mountPoints(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const line of mountinfo.split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (f.length < 7 || sep < 6) continue;
    const point = (f[4] as string).replace(/\\(\d{3})/g, (_, o: string) =>
      String.fromCharCode(Number.parseInt(o, 8)),
    );
    out.set(
      point,
      f.slice(6, sep).some((x) => x.startsWith('shared:')),
    );
  }
  return out;
}

export const quotaEnforced = (quota: string | undefined) =>
  process.getuid?.() === 0 && (quota ?? '1g').toLowerCase() !== 'off';

/**
 * Makes WORKSPACES_DIR a shared mount point (a bind of itself), so users' filesystems mounted under it later reach
 * the file-ops container (rslave). Returns the propagation compose must use for that bind.
 */
export function shareWorkspaces(dir: string, quota: string | undefined): 'rslave' | 'rprivate' {
  if (!quotaEnforced(quota)) return 'rprivate';
  const abs = resolve(dir);
  const mounts = mountPoints();
  if (!mounts.has(abs)) run('mount', ['--bind', abs, abs]);
  if (!mountPoints().get(abs)) run('mount', ['--make-shared', abs]);
  return 'rslave';
}

/**
 * Mounts `user`'s quota filesystem on `dir` (WORKSPACES_DIR/<user>), creating its image on first use; what the
 * folder held before is copied in. A no-op when quotas are off or it is mounted already.
 */
export function mountUserQuota(o: {
  dir: string;
  imagesDir: string;
  user: string;
  quota: string;
  uid: number;
}): string {
  if (!QUOTA_SIZE.test(o.quota))
    throw new Error(`WORKSPACE_QUOTA=${o.quota}: not a size like 512m or 2g, or off`);
  const dir = resolve(o.dir);
  if (mountPoints().has(dir)) return `${dir}: quota filesystem mounted`;
  mkdirSync(o.imagesDir, { recursive: true, mode: 0o700 });
  const image = join(o.imagesDir, `${o.user}.ext4`);
  if (!existsSync(image)) {
    run('truncate', ['-s', o.quota, image]);
    run('mkfs.ext4', ['-q', '-F', '-m', '0', '-E', `root_owner=${o.uid}:${o.uid}`, image]);
    if (readdirSync(dir).length > 0) {
      // The folder's files so far move into the new filesystem.
      const tmp = mkdtempSync(join(o.imagesDir, 'fill-'));
      run('mount', ['-o', 'loop,nosuid,nodev', image, tmp]);
      try {
        run('cp', ['-a', `${dir}/.`, tmp]);
      } finally {
        run('umount', [tmp]);
        rmdirSync(tmp);
      }
    }
  }
  run('mount', ['-o', 'loop,nosuid,nodev', image, dir]);
  return `${dir}: quota filesystem of ${o.quota} mounted`;
}

/** Unmounts every mount at or under `dir`, deepest first (the ephemeral stacks' teardown). */
export function unmountUnder(dir: string): string[] {
  const abs = resolve(dir);
  const points = [...mountPoints().keys()]
    .filter((p) => p === abs || p.startsWith(`${abs}/`))
    .sort((a, b) => b.length - a.length);
  const done: string[] = [];
  for (const p of points) {
    try {
      run('umount', [p]);
      done.push(p);
    } catch {
      run('umount', ['-l', p]);
      done.push(`${p} (lazily)`);
    }
  }
  return done;
}
