// e2e global setup: make sure the stack's images exist before any spec runs, so `pnpm test` works on a fresh
// machine by itself. `pnpm stack:images` is cached: with nothing changed it takes seconds.
// Offline unless STACK_IMAGES says otherwise: tests never try to pull from a registry on their own.
import { join } from 'node:path';
import { $ } from 'zx';
import { repoRoot } from '../scripts/lib/repo-root.ts';

export default async function setup(): Promise<void> {
  const mode = process.env.STACK_IMAGES ?? 'offline';
  const started = Date.now();
  const r = await $({
    nothrow: true,
    quiet: true,
    env: { ...process.env, STACK_IMAGES: mode },
  })`node ${join(repoRoot, 'scripts/images.ts')}`;
  if (r.exitCode !== 0) {
    throw new Error(
      `pnpm stack:images failed (exit ${r.exitCode}):\n${(r.stdout + r.stderr).trim().split('\n').slice(-20).join('\n')}`,
    );
  }
  console.log(`e2e setup: images ready (${mode}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
