// The one way scripts invoke Docker Compose for the stack: the compose file and its three env files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { $, type ProcessPromise } from 'zx';
import { envFiles, stackDir } from './stack-files.ts';

export { envFiles, stackDir };

/** Which stack compose talks to, when not the local one of stack/.env.local. */
export interface ComposeTarget {
  project?: string;
  /** Compose files over stack/compose.yaml (an ephemeral stack's override). */
  overrides?: string[];
  /**
   * Read the local stack's .images.env and .env.local (default). False for a stack whose values all come from
   * `env` (an ephemeral stack's, so nothing of the local stack's settings reaches it) or a check with made-up ones.
   */
  localEnv?: boolean;
}

/** `docker compose` arguments for the stack: file (+ overrides), env files (later ones win), project name. */
export function composeArgs(project?: string, overrides: string[] = [], localEnv = true): string[] {
  const args = [
    'compose',
    '-f',
    join(stackDir, 'compose.yaml'),
    ...overrides.flatMap((f) => ['-f', f]),
    '--env-file',
    envFiles.versions,
  ];
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
  } = {},
): ProcessPromise {
  return $({
    quiet: opts.quiet ?? false,
    nothrow: opts.nothrow ?? false,
    stdio: opts.quiet ? 'pipe' : 'inherit',
    env: { ...process.env, ...opts.env },
    ...(opts.timeout ? { timeout: opts.timeout } : {}),
  })`docker ${composeArgs(opts.project, opts.overrides, opts.localEnv)} ${args}`;
}
