// The environment native addons (better-sqlite3) are built in: node-gyp must use this Node's own headers, not
// fetch them from nodejs.org nor take a user npmrc's `nodedir`. The rule lives in one place, node-env.sh (the
// bootstrap and CI source it); this asks it, so TypeScript callers follow the same rule.
import { join } from 'node:path';
import { $ } from 'zx';
import { repoRoot } from '../repo-root.ts';

export const NODE_ENV_SH = join(repoRoot, 'scripts/lib/host/node-env.sh');

export async function nativeAddonEnv(env: NodeJS.ProcessEnv = process.env): Promise<NodeJS.ProcessEnv> {
  const r = await $({
    quiet: true,
    nothrow: true,
    env,
  })`bash -c ${'. "$0" >/dev/null 2>&1; printf %s "$npm_config_nodedir"'} ${NODE_ENV_SH}`;
  const nodedir = r.stdout.trim();
  return nodedir ? { ...env, npm_config_nodedir: nodedir } : { ...env };
}
