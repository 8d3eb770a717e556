// Runs one Claude Code session in the stack: `docker compose run` of the claude-code service with the
// variables planSession chose. Secrets go by name (-e NAME), so their values never appear on a command line.
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { $ } from 'zx';
import { repoRoot } from '../repo-root.ts';
import { composeArgs } from '../stack/compose.ts';
import { prepareUserWorkspace, readLocalEnv } from '../stack/local-env.ts';
import { mintSessionCredential } from './session-credential.ts';
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

/** A session's credential for the MCP servers is good for this long (at most; the session's wall clock ends it sooner). */
const CREDENTIAL_TTL_MS = 7 * 24 * 3600 * 1000;

/** The user whose workspace a session gets: its --user, or `default`. */
export const workspaceUser = (plan: SessionPlan) => plan.env.SESSION_USER ?? 'default';

export interface SessionRun {
  /** `docker compose` arguments after the files and project: run --rm ... claude-code. */
  args: string[];
  /** Secrets for the `docker compose` process, handed to the container by name (never on a command line). */
  secretEnv: Record<string, string>;
  /** The host folder mounted as the session's /workspace. */
  workspace: string;
}

/**
 * How to run a planned session: its user's workspace (created if missing) as /workspace, its own credential for
 * the MCP servers (signed with MCP_SESSION_SECRET of the stack's values), and the plan's variables.
 */
export function prepareSessionRun(
  plan: SessionPlan,
  stackValues: Record<string, string | undefined>,
  o: { extraEnv?: Record<string, string>; noDeps?: boolean } = {},
): SessionRun {
  const secret = stackValues.MCP_SESSION_SECRET;
  const workspaces = stackValues.WORKSPACES_DIR;
  if (!secret || !workspaces)
    throw new Error('no MCP_SESSION_SECRET or WORKSPACES_DIR in stack/.env.local: run pnpm stack:setup');
  const user = workspaceUser(plan);
  const workspace = prepareUserWorkspace(workspaces, user);
  const token = mintSessionCredential(secret, {
    user,
    sessionId: plan.sessionId,
    expiresAt: Date.now() + CREDENTIAL_TTL_MS,
  });
  const env = { ...plan.env, ...o.extraEnv };
  return {
    args: [
      'run',
      '--rm',
      // compose run starts the services a session depends on when they are not running; a fault spec that stopped
      // one on purpose must keep it stopped.
      ...(o.noDeps ? ['--no-deps'] : []),
      ...(plan.mode === 'headless' ? ['-T'] : []),
      '-v',
      `${workspace}:/workspace`,
      ...Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`]),
      ...[...plan.passThrough, 'MCP_SESSION_TOKEN'].flatMap((k) => ['-e', k]),
      'claude-code',
    ],
    secretEnv: { MCP_SESSION_TOKEN: token },
    workspace,
  };
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
  const stackValues = opts.composeEnv ?? readLocalEnv();
  const sessionsDir = opts.sessionsDir ?? stackValues.SESSIONS_DIR ?? join(repoRoot, 'sessions');
  const run = prepareSessionRun(plan, stackValues, { extraEnv: opts.extraEnv, noDeps: opts.noDeps });
  const r = await $({
    nothrow: true,
    quiet: opts.quiet ?? false,
    env: { ...process.env, ...opts.composeEnv, ...run.secretEnv },
    stdio: plan.mode === 'interactive' ? 'inherit' : opts.quiet ? 'pipe' : ['ignore', 'inherit', 'inherit'],
  })`docker ${composeArgs(opts.project, opts.overrides)} ${run.args}`;
  const metadata = readSessionRecord(sessionsDir, plan.sessionId);
  const { dir } = recordPaths(sessionsDir, plan.sessionId);
  return { plan, exitCode: r.exitCode ?? 1, metadata, dir, output: r.stdout + r.stderr };
}
