#!/usr/bin/env node
// The Claude Code container's entrypoint. Refuses to start a session whose telemetry would be lost (Claude Code
// ignores a broken setup silently), fixes the session id, then runs the session through the session wrapper.
//   entrypoint.ts [session]      run the session described by SESSION_* (set by `pnpm session`)
//   entrypoint.ts check          only check the telemetry environment
//   entrypoint.ts claude ARGS    run the CLI as is (e.g. `claude --version`)
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordPaths, SESSION_ID } from '../../scripts/lib/session/session-record.ts';
import { parseLimits } from './session-limits.ts';
import { runWrapped } from './session-wrapper.ts';
import { checkTelemetryEnv } from './telemetry-env.ts';

const SETTINGS = '/opt/claude-code-telemetry/stack/claude-code/settings.json';
const MCP_CONFIG = '/opt/claude-code-telemetry/stack/claude-code/mcp-config.json';
/** The session's spool (mounted by pnpm session): what the wrapper hands back to the host's recorder. */
const SESSIONS_DIR = process.env.SESSIONS_DIR ?? '/spool';
/** sysexits.h EX_CONFIG: the environment is wrong, not the program. */
const EX_CONFIG = 78;

const say = (line: string) => process.stderr.write(`entrypoint: ${line}\n`);

/**
 * A fresh container HOME makes the interactive CLI run its first-start onboarding, which checks connectivity to
 * Anthropic (absent offline) and asks to trust the folder and approve the API key. Record those answers, as a
 * user who had set Claude Code up would have them: onboarding done, /workspace trusted, this key approved.
 */
function prepareInteractiveHome(env: NodeJS.ProcessEnv): void {
  const file = join(env.HOME ?? '/home/node', '.claude.json');
  if (existsSync(file)) return;
  const key = env.ANTHROPIC_API_KEY ?? '';
  const state = {
    hasCompletedOnboarding: true,
    theme: 'dark',
    projects: { '/workspace': { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true } },
    ...(key ? { customApiKeyResponses: { approved: [key.slice(-20)], rejected: [] } } : {}),
  };
  writeFileSync(file, JSON.stringify(state), { mode: 0o600 });
}

async function main(): Promise<number> {
  const [verb = 'session', ...rest] = process.argv.slice(2);
  if (verb === 'claude') {
    const r = spawnSync('claude', rest, { stdio: 'inherit' });
    return r.status ?? 1;
  }
  const check = checkTelemetryEnv(process.env);
  for (const w of check.warnings) say(`warning: ${w}`);
  if (check.problems.length) {
    say(
      `refusing to start: the telemetry setup would lose this session's data:\n${check.problems.map((p) => `  - ${p}`).join('\n')}`,
    );
    return EX_CONFIG;
  }
  if (verb === 'check') {
    say(check.enabled ? 'telemetry environment ok' : 'telemetry off');
    return 0;
  }
  if (verb !== 'session') {
    say(`unknown command ${verb}: use session, check, or claude ARGS`);
    return 64;
  }

  const sessionId = process.env.CLAUDE_CODE_SESSION_ID || randomUUID();
  if (!SESSION_ID.test(sessionId)) {
    say(`CLAUDE_CODE_SESSION_ID=${sessionId} is not a UUID`);
    return 64;
  }
  process.env.CLAUDE_CODE_SESSION_ID = sessionId; // the MCP config sends it to the servers in a header
  const mode = process.env.SESSION_MODE === 'interactive' ? 'interactive' : 'headless';
  const prompt = process.env.SESSION_PROMPT ?? '';
  if (mode === 'headless' && !prompt) {
    say('SESSION_PROMPT is empty: a headless session needs a prompt');
    return 64;
  }
  const model = process.env.SESSION_MODEL || null;
  const common = [
    '--session-id',
    sessionId,
    '--settings',
    SETTINGS,
    '--mcp-config',
    MCP_CONFIG,
    '--strict-mcp-config',
    ...(model ? ['--model', model] : []),
  ];
  const args =
    mode === 'headless' ? ['-p', prompt, '--output-format', 'stream-json', '--verbose', ...common] : common;
  if (mode === 'interactive') prepareInteractiveHome(process.env);
  let limits: ReturnType<typeof parseLimits>;
  try {
    limits = parseLimits(process.env);
  } catch (err) {
    say((err as Error).message);
    return EX_CONFIG;
  }
  const version = spawnSync('claude', ['--version'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const meta = await runWrapped({
    dir: SESSIONS_DIR,
    command: 'claude',
    args,
    metadata: {
      sessionId,
      mode,
      api: process.env.SESSION_API ?? 'scripted',
      script: process.env.SESSION_SCRIPT || null,
      model,
      user: process.env.SESSION_USER || null,
      claudeVersion: version,
      telemetry: {
        enabled: check.enabled,
        protocol: check.enabled ? (process.env.OTEL_EXPORTER_OTLP_PROTOCOL ?? null) : null,
        endpoint: check.enabled ? (process.env.OTEL_EXPORTER_OTLP_ENDPOINT ?? null) : null,
      },
      startedAt: new Date().toISOString(),
    },
    secretEnv: process.env,
    // Claude Code's config folder: CLAUDE_CONFIG_DIR, or ~/.claude.
    transcripts: join(
      process.env.CLAUDE_CONFIG_DIR ?? join(process.env.HOME ?? '/home/node', '.claude'),
      'projects',
    ),
    limits,
  });
  // The host's recorder takes this as the session's report, and sends the session_limit event itself.
  if (meta.limit) say(`session ${sessionId}: ended by ${meta.limit.description}`);
  say(
    `session ${sessionId} ${meta.status} in ${meta.durationMs} ms (exit ${meta.exitCode}); handed back in ${recordPaths(SESSIONS_DIR, sessionId).dir}`,
  );
  return meta.exitCode ?? 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    say(`error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
