// What `node scripts/smoke.ts` runs: every command the README names that CI does not run otherwise (.ci/run), as a
// user types it, so that none of them breaks unnoticed between the releases that quote them. Two groups: the
// commands that need nothing but the checkout (`--help` of every verb and benchmark, dry runs, listings), and the
// ones that need the stack up (status, a session, its usage, the export's listing). The list is derived from
// package.json's scripts and the benchmarks' folder, so a new verb is covered the day it is added; smoke.test.ts
// checks that every command the README names is in .ci/run or here.
import { DONE_LINE } from '../session/stream-render.ts';

export type Needs = 'checkout' | 'stack';

export interface SmokeCommand {
  /** The command line, as the README writes it. */
  argv: string[];
  needs: Needs;
  /** What its output must contain besides a zero exit status (a `--help` prints its usage). */
  expect?: RegExp;
}

export const cmdline = (c: SmokeCommand): string => c.argv.join(' ');

const USAGE = /usage/i;

/** package.json scripts that are not verbs of ours, or are run as they are by .ci/run. */
const NOT_VERBS = new Set([
  'lint',
  'format',
  'typecheck',
  'test:unit',
  'test:e2e',
  'test:scaled',
  'bootstrap',
]);

/**
 * The smoke list. `scripts`: package.json's scripts; `benches`: the names of scripts/bench/*.ts.
 * The stack group runs in this order: a session first, so that `pnpm usage` and `pnpm export list` have one.
 */
export function smokeCommands(scripts: Record<string, string>, benches: string[]): SmokeCommand[] {
  const verbs = Object.keys(scripts)
    .filter((name) => !NOT_VERBS.has(name) && /^node scripts\/[\w-]+\.ts\b/.test(scripts[name] ?? ''))
    .sort();
  // `pnpm doctor` is pnpm's own built-in: ours is `pnpm run doctor` (README).
  const run = (name: string) => (name === 'doctor' ? ['pnpm', 'run', name] : ['pnpm', name]);
  const help: SmokeCommand[] = [
    ...verbs.map((v) => ({ argv: [...run(v), '--help'], needs: 'checkout' as const, expect: USAGE })),
    ...[...benches].sort().map((b) => ({
      argv: ['pnpm', 'bench', b, '--help'],
      needs: 'checkout' as const,
      expect: /pnpm bench/,
    })),
    // verbs without a package.json script: the bootstrap (both entries) and the SSH forced command
    { argv: ['bash', 'scripts/bootstrap.sh', '--help'], needs: 'checkout', expect: USAGE },
    { argv: ['node', 'scripts/bootstrap.ts', '--help'], needs: 'checkout', expect: USAGE },
    { argv: ['node', 'scripts/ssh-session.ts', '--help'], needs: 'checkout', expect: USAGE },
  ];
  const checkout: SmokeCommand[] = [
    { argv: ['bash', 'scripts/bootstrap.sh', '--dry-run'], needs: 'checkout' },
    { argv: ['pnpm', 'stack:setup', '--dry-run'], needs: 'checkout' },
    { argv: ['pnpm', 'stack:images', '--list'], needs: 'checkout', expect: /otel-collector/ },
    { argv: ['pnpm', 'compat', '--dry-run'], needs: 'checkout', expect: /would write/ },
    { argv: ['pnpm', 'ssh:setup', '--dry-run'], needs: 'checkout' },
    { argv: ['node', 'stack/grafana/dashboard.ts', '--check'], needs: 'checkout', expect: /up to date/ },
  ];
  const stack: SmokeCommand[] = [
    { argv: ['pnpm', 'stack:status'], needs: 'stack', expect: /otel-collector/ },
    // Rendered for a person by default (the closing line of tokens and cost), the raw stream-json with --json.
    { argv: ['pnpm', 'session', '--script', 'demo', '--user', 'smoke'], needs: 'stack', expect: DONE_LINE },
    {
      argv: ['pnpm', 'session', '--script', 'hooks', '--user', 'smoke', '--json'],
      needs: 'stack',
      // The CLI's result event, as it printed it (its keys come in no fixed order).
      expect: /^\{.*"type":"result"/m,
    },
    { argv: ['pnpm', 'usage', '--user', 'smoke'], needs: 'stack', expect: /smoke/ },
    { argv: ['pnpm', 'export', 'list'], needs: 'stack' },
    { argv: ['pnpm', 'export', '--user', 'smoke', '--dry-run'], needs: 'stack' },
    { argv: ['pnpm', 'stack:logs', 'session-gateway'], needs: 'stack' },
  ];
  return [...help, ...checkout, ...stack];
}

/** Which of the list to run: `--stack` only the stack's, `--no-stack` only the others, neither all. */
export function chooseGroup(all: SmokeCommand[], stackFlag: boolean | undefined): SmokeCommand[] {
  if (stackFlag === undefined) return all;
  return all.filter((c) => (c.needs === 'stack') === stackFlag);
}

/** A command's verdict: a zero exit status and, where asked, the expected text in its output. */
export function verdict(c: SmokeCommand, exitCode: number | null, output: string): string | null {
  if (exitCode !== 0) return `exit ${exitCode ?? 'signal'}`;
  if (c.expect && !c.expect.test(output)) return `its output lacks ${c.expect}`;
  return null;
}
