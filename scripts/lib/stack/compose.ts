// The one way scripts invoke Docker Compose for the stack: its compose files and its three env files.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { $, type ProcessPromise } from 'zx';
import { readEnvFile } from './env-file.ts';
import { envFiles, stackDir } from './stack-files.ts';
import { localTopology, type Topology, topologyFiles } from './topology.ts';

export { envFiles, stackDir };

/** Which stack compose talks to, when not the local one of stack/.env.local. */
export interface ComposeTarget {
  project?: string;
  /** Compose files over stack/compose.yaml (an ephemeral stack's overlay and override). */
  overrides?: string[];
  /**
   * Read the local stack's .images.env and .env.local (default), and follow its topology (STACK_TOPOLOGY). False
   * for a stack whose values all come from `env` (an ephemeral stack's, so nothing of the local stack's settings,
   * its topology included, reaches it) or a check with made-up ones.
   */
  localEnv?: boolean;
}

/** The local stack's topology, as stack/.env.local says (single without one). */
export function localStackTopology(file = envFiles.local): Topology {
  return localTopology(existsSync(file) ? readEnvFile(file) : {}, file);
}

/**
 * The compose files, in order, each once: stack/compose.yaml, the local topology's overlay (localEnv only), then
 * the overrides. A file named twice (an ephemeral scaled stack's overlay, which the local topology names too) would
 * be merged twice by compose, its lists doubled: only its first place counts.
 */
export function composeFiles(overrides: string[] = [], topology: Topology = 'single'): string[] {
  const files = [join(stackDir, 'compose.yaml'), ...topologyFiles(topology), ...overrides].map((f) =>
    resolve(stackDir, f),
  );
  return [...new Set(files)];
}

/**
 * `docker compose` arguments for the stack: files (see composeFiles), env files (later ones win), project name.
 * `topology` is the local stack's unless given; a stack that does not read the local env (localEnv false) gets none
 * from it: its overrides name every file it has.
 */
export function composeArgs(
  project?: string,
  overrides: string[] = [],
  localEnv = true,
  topology: Topology = localEnv ? localStackTopology() : 'single',
): string[] {
  const args = ['compose', ...composeFiles(overrides, topology).flatMap((f) => ['-f', f])];
  args.push('--env-file', envFiles.versions);
  if (localEnv)
    for (const file of [envFiles.images, envFiles.local]) if (existsSync(file)) args.push('--env-file', file);
  if (project) args.push('-p', project);
  return args;
}

export function compose(
  args: string[],
  opts: ComposeTarget & {
    /** Interpolation values over this process's environment (an ephemeral stack's composeEnv). */
    env?: Record<string, string | undefined>;
    quiet?: boolean;
    nothrow?: boolean;
    /** Milliseconds before the process is killed. */
    timeout?: number;
    /** The topology to talk to (default: the local stack's, when localEnv). */
    topology?: Topology;
  } = {},
): ProcessPromise {
  const localEnv = opts.localEnv ?? true;
  return $({
    quiet: opts.quiet ?? false,
    nothrow: opts.nothrow ?? false,
    stdio: opts.quiet ? 'pipe' : 'inherit',
    env: { ...process.env, ...opts.env },
    ...(opts.timeout ? { timeout: opts.timeout } : {}),
  })`docker ${composeArgs(opts.project, opts.overrides, localEnv, opts.topology ?? (localEnv ? localStackTopology() : 'single'))} ${args}`;
}

/**
 * The ids of a service's running containers (none: it is not running). A failed `docker compose ps` (no engine, a
 * broken compose file, a missing variable) throws, naming the service: it is never taken for "not running".
 */
export async function serviceContainers(
  service: string,
  target: ComposeTarget & { env?: Record<string, string | undefined> } = {},
  /** How compose is run (a unit test gives its own answers). */
  run: (
    args: string[],
    opts: Parameters<typeof compose>[1],
  ) => PromiseLike<{ exitCode: number | null; stdout: string; stderr: string }> = compose,
): Promise<string[]> {
  const r = await run(['ps', '-q', service], { ...target, quiet: true, nothrow: true });
  if (r.exitCode !== 0)
    throw new Error(
      `docker compose ps ${service} failed (exit ${r.exitCode}): ${r.stderr.trim().split('\n').slice(-3).join(' ') || 'no output'}`,
    );
  return r.stdout.split('\n').filter(Boolean);
}
