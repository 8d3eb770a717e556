// The one way scripts invoke Docker Compose for the stack: the compose file and its three env files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { $, type ProcessPromise } from 'zx';
import { envFiles, stackDir } from './stack-files.ts';

export { envFiles, stackDir };

/** `docker compose` arguments for the stack: file (+ overrides), env files (later ones win), project name. */
export function composeArgs(project?: string, overrides: string[] = []): string[] {
  const args = [
    'compose',
    '-f',
    join(stackDir, 'compose.yaml'),
    ...overrides.flatMap((f) => ['-f', f]),
    '--env-file',
    envFiles.versions,
  ];
  for (const file of [envFiles.images, envFiles.local]) if (existsSync(file)) args.push('--env-file', file);
  if (project) args.push('-p', project);
  return args;
}

export function compose(
  args: string[],
  opts: { project?: string; quiet?: boolean; nothrow?: boolean } = {},
): ProcessPromise {
  return $({
    quiet: opts.quiet ?? false,
    nothrow: opts.nothrow ?? false,
    stdio: opts.quiet ? 'pipe' : 'inherit',
  })`docker ${composeArgs(opts.project)} ${args}`;
}
