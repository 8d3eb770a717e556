// `docker compose` on an ephemeral stack (the specs' or a fault spec's own), through the one compose invocation
// (scripts/lib/stack/compose.ts): its project, its compose files and its values only, never the local stack's
// .env.local. `execIn` runs a command in one of its services; `nodeIn` a Node script whose last line is JSON.
import type { ProcessOutput, ProcessPromise } from 'zx';
import { compose } from '../../scripts/lib/stack/compose.ts';
import type { EphemeralStack } from '../../scripts/lib/testing/ephemeral-stack.ts';

/** What compose needs of a stack: the specs' shared one (StackInfo) or a spec's own (EphemeralStack). */
export type ComposedStack = Pick<EphemeralStack, 'project' | 'overrides' | 'composeEnv'>;

/** `docker compose ARGS` on the stack, quiet; never throws (check exitCode). */
export function composeIn(
  stack: ComposedStack,
  args: string[],
  o: { timeoutMs?: number } = {},
): ProcessPromise {
  return compose(args, {
    project: stack.project,
    overrides: stack.overrides,
    localEnv: false,
    env: stack.composeEnv,
    quiet: true,
    nothrow: true,
    timeout: o.timeoutMs,
  });
}

/** Runs a command in a service's container (`compose exec -T`); throws naming the service and the command. */
export async function execIn(
  stack: ComposedStack,
  service: string,
  command: string[],
): Promise<ProcessOutput> {
  const r = await composeIn(stack, ['exec', '-T', service, ...command]);
  if (r.exitCode !== 0)
    throw new Error(
      `${command.join(' ').slice(0, 120)} in ${service} of ${stack.project} failed (exit ${r.exitCode}): ${r.stderr.trim().slice(-800)}`,
    );
  return r;
}

/** Runs an ES module script with Node in a service's container; its last stdout line, parsed as JSON. */
export async function nodeIn<T>(stack: ComposedStack, service: string, script: string): Promise<T> {
  const r = await execIn(stack, service, ['node', '--input-type=module', '-e', script]);
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`the script in ${service} of ${stack.project} printed no JSON: ${r.stdout.slice(-1500)}`);
  }
}
