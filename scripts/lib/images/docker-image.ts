// Docker's side of an image build: does an image exist, and `docker build` of a prepared context, with the host's
// CA bundle handed over as a BuildKit secret (never stored in a layer): where HTTPS goes through an intercepting
// proxy, the host trusts its CA and builds that fetch from the npm registry must too.
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import type { Log } from '../progress.ts';
import { withProgress } from '../progress.ts';
import { repoRoot } from '../repo-root.ts';

export async function imageExists(ref: string): Promise<boolean> {
  return (await $({ nothrow: true, quiet: true })`docker image inspect ${ref}`).exitCode === 0;
}

/** The CA bundle the host trusts, if any (NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, Debian's bundle). */
export function hostCaBundle(env: NodeJS.ProcessEnv = process.env): string | null {
  for (const file of [env.NODE_EXTRA_CA_CERTS, env.SSL_CERT_FILE, '/etc/ssl/certs/ca-certificates.crt'])
    if (file && existsSync(file)) return file;
  return null;
}

/** `docker build` of ctx with the Dockerfile at `dockerfile` (repo-relative); the log goes beside it. */
export async function dockerBuild(
  ref: string,
  dockerfile: string,
  buildArgs: Record<string, string>,
  ctx: string,
  log: Log,
): Promise<void> {
  cpSync(join(repoRoot, dockerfile), join(ctx, 'Dockerfile'));
  const args = Object.entries(buildArgs).flatMap(([k, v]) => ['--build-arg', `${k}=${v}`]);
  const ca = hostCaBundle();
  if (ca) args.push('--secret', `id=ca-bundle,src=${ca}`);
  const logFile = join(ctx, 'docker-build.log');
  const build = await withProgress(
    `docker build ${ref}`,
    () => $({ nothrow: true, quiet: true })`docker build ${args} -t ${ref} ${ctx}`,
    log,
  );
  writeFileSync(logFile, build.stdout + build.stderr);
  if (build.exitCode !== 0) {
    const tail = (build.stdout + build.stderr).trim().split('\n').slice(-15).join('\n    ');
    throw new Error(`docker build of ${ref} failed (exit ${build.exitCode}); log: ${logFile}\n    ${tail}`);
  }
}
