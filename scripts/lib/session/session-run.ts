// Runs one Claude Code session in the stack: `docker compose run` of the claude-code service with the
// variables planSession chose. Secrets go by name (-e NAME), so their values never appear on a command line.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { $ } from 'zx';
import { repoRoot } from '../repo-root.ts';
import { composeArgs } from '../stack/compose.ts';
import { readLocalEnv } from '../stack/local-env.ts';
import { planSession, type ScriptInfo, type SessionOptions, type SessionPlan } from './session-plan.ts';
import { readSessionRecord, recordPaths, type SessionMetadata } from './session-record.ts';

export const sessionsFixtures = join(repoRoot, 'fixtures', 'sessions');

/** A script by name (fixtures/sessions/NAME.json) or by path; the replay server must serve it under that name. */
export function loadScriptInfo(nameOrFile: string): ScriptInfo {
  const file = nameOrFile.endsWith('.json')
    ? isAbsolute(nameOrFile)
      ? nameOrFile
      : join(process.cwd(), nameOrFile)
    : join(sessionsFixtures, `${nameOrFile}.json`);
  if (!existsSync(file))
    throw new Error(
      `no session script ${nameOrFile} (looked for ${file}; the scripts are in fixtures/sessions/)`,
    );
  if (!file.startsWith(`${sessionsFixtures}/`)) {
    throw new Error(`${file} is not in fixtures/sessions/: the scripted API serves only the scripts there`);
  }
  const json = JSON.parse(readFileSync(file, 'utf8')) as { prompt?: string; model?: string };
  const name = file.slice(sessionsFixtures.length + 1).replace(/\.json$/, '');
  return { name, prompt: json.prompt ?? '', model: json.model ?? 'claude-sonnet-4-5-20250929' };
}

export function composeRunArgs(
  plan: SessionPlan,
  extraEnv: Record<string, string> = {},
  o: { noDeps?: boolean } = {},
): string[] {
  const env = { ...plan.env, ...extraEnv };
  return [
    'run',
    '--rm',
    // compose run starts the services a session depends on when they are not running; a fault spec that stopped
    // one on purpose must keep it stopped.
    ...(o.noDeps ? ['--no-deps'] : []),
    ...(plan.mode === 'headless' ? ['-T'] : []),
    ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
    ...plan.passThrough.flatMap((k) => ['-e', k]),
    'claude-code',
  ];
}

export interface SessionOutcome {
  plan: SessionPlan;
  exitCode: number;
  metadata: SessionMetadata | null;
  dir: string;
  /** What the session printed, when run quiet. */
  output: string;
}

export async function runSession(
  o: SessionOptions,
  opts: {
    project?: string;
    /** Compose files applied over stack/compose.yaml (the specs' test override). */
    overrides?: string[];
    /** Variables in the container, besides the plan's. */
    extraEnv?: Record<string, string>;
    /** The environment of the `docker compose` process itself (interpolation: the specs' stack values). */
    composeEnv?: Record<string, string>;
    /** Leave stopped services stopped (compose run --no-deps). */
    noDeps?: boolean;
    /** Where the session records are (default: SESSIONS_DIR of stack/.env.local). */
    sessionsDir?: string;
    quiet?: boolean;
  } = {},
): Promise<SessionOutcome> {
  const plan = planSession(o, process.env, loadScriptInfo);
  if (plan.notice) process.stderr.write(`session: ${plan.notice}\n`);
  const sessionsDir = opts.sessionsDir ?? readLocalEnv().SESSIONS_DIR ?? join(repoRoot, 'sessions');
  const r = await $({
    nothrow: true,
    quiet: opts.quiet ?? false,
    env: { ...process.env, ...opts.composeEnv },
    stdio: plan.mode === 'interactive' ? 'inherit' : opts.quiet ? 'pipe' : ['ignore', 'inherit', 'inherit'],
  })`docker ${composeArgs(opts.project, opts.overrides)} ${composeRunArgs(plan, opts.extraEnv, { noDeps: opts.noDeps })}`;
  const metadata = readSessionRecord(sessionsDir, plan.sessionId);
  const { dir } = recordPaths(sessionsDir, plan.sessionId);
  return { plan, exitCode: r.exitCode ?? 1, metadata, dir, output: r.stdout + r.stderr };
}
