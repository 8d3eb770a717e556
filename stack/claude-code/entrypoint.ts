#!/usr/bin/env node
// The Claude Code container's entrypoint. Refuses to start a session whose telemetry would be lost (Claude Code
// ignores a broken setup silently), fixes the session id, then runs the session through the session wrapper.
//   entrypoint.ts [session]      run the session described by SESSION_* (set by `pnpm session`)
//   entrypoint.ts check          only check the telemetry environment
//   entrypoint.ts claude ARGS    run the CLI as is (e.g. `claude --version`)
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { recordPaths, SESSION_ID } from '../../scripts/lib/session/session-record.ts';
import { parseLimits } from './session-limits.ts';
import { runWrapped } from './session-wrapper.ts';
import {
  HOOK_EVENTS,
  hookCommand,
  MANAGED_SETTINGS,
  parseHooks,
  parseTelemetryConfig,
  planTelemetryConfig,
  type Settings,
  type TelemetryConfig,
  withHooks,
} from './telemetry-config.ts';
import { checkTelemetryEnv } from './telemetry-env.ts';

const SETTINGS = '/opt/claude-code-telemetry/stack/claude-code/settings.json';
const MCP_CONFIG = '/opt/claude-code-telemetry/stack/claude-code/mcp-config.json';
const ENV_HOOK = '/opt/claude-code-telemetry/stack/claude-code/env-hook.ts';
/** The session's own settings when they differ from the image's (hooks): HOME is a fresh tmpfs per session. */
const SESSION_SETTINGS = 'claude-code-telemetry-settings.json';
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

/**
 * Puts the session's telemetry configuration where SESSION_TELEMETRY_CONFIG says (telemetry-config.ts) and adds
 * the hooks when asked; returns the settings file to pass with --settings (the image's, or the session's own with
 * the hooks). Throws naming the file when a write fails or the managed settings path does not lead to it.
 */
function applyTelemetryConfig(config: TelemetryConfig, hooks: boolean, home: string): string {
  const stackSettings = JSON.parse(readFileSync(SETTINGS, 'utf8')) as Settings;
  const plan = planTelemetryConfig(config, process.env, stackSettings);
  const write = (file: string, value: Settings) => {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  };
  if (plan.userSettings) write(join(home, '.claude', 'settings.json'), plan.userSettings);
  if (plan.managedSettings) {
    // /etc/claude-code is a symlink (the Dockerfile's) into this session's /tmp: the image root is read-only.
    const target = readlinkOr(dirname(MANAGED_SETTINGS));
    mkdirSync(target, { recursive: true, mode: 0o755 });
    const text = `${JSON.stringify(plan.managedSettings, null, 2)}\n`;
    writeFileSync(join(target, 'managed-settings.json'), text, { mode: 0o644 });
    if (readFileSync(MANAGED_SETTINGS, 'utf8') !== text)
      throw new Error(`${MANAGED_SETTINGS} does not read back what was written to ${target}`);
  }
  for (const name of plan.removeFromEnv) delete process.env[name];
  if (!hooks) return SETTINGS;
  const file = join(home, SESSION_SETTINGS);
  write(file, withHooks(stackSettings, hookCommand(['node', ENV_HOOK, '/workspace'])));
  return file;
}

/** Where a symlink points (absolute), or the path itself when it is not one. */
function readlinkOr(path: string): string {
  try {
    const to = readlinkSync(path);
    return to.startsWith('/') ? to : join(dirname(path), to);
  } catch {
    return path;
  }
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
  let limits: ReturnType<typeof parseLimits>;
  let settings: string;
  // What the record says of the telemetry, and the secrets' hashes: from the environment as handed over, before
  // the telemetry variables may leave it for a settings file.
  const handedOver = { ...process.env };
  const home = process.env.HOME ?? '/home/node';
  try {
    limits = parseLimits(process.env);
    const config = parseTelemetryConfig(process.env.SESSION_TELEMETRY_CONFIG);
    const hooks = parseHooks(process.env.SESSION_HOOKS);
    settings = applyTelemetryConfig(config, hooks, home);
    if (config !== 'env' || hooks)
      say(
        `telemetry configured in ${config === 'env' ? 'the environment' : config === 'settings' ? join(home, '.claude/settings.json') : MANAGED_SETTINGS}${hooks ? `; hooks on ${HOOK_EVENTS.join(', ')}` : ''}`,
      );
  } catch (err) {
    say((err as Error).message);
    return EX_CONFIG;
  }
  const common = [
    '--session-id',
    sessionId,
    '--settings',
    settings,
    '--mcp-config',
    MCP_CONFIG,
    '--strict-mcp-config',
    ...(model ? ['--model', model] : []),
  ];
  const args =
    mode === 'headless' ? ['-p', prompt, '--output-format', 'stream-json', '--verbose', ...common] : common;
  if (mode === 'interactive') prepareInteractiveHome(process.env);
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
        protocol: check.enabled ? (handedOver.OTEL_EXPORTER_OTLP_PROTOCOL ?? null) : null,
        endpoint: check.enabled ? (handedOver.OTEL_EXPORTER_OTLP_ENDPOINT ?? null) : null,
      },
      startedAt: new Date().toISOString(),
    },
    secretEnv: handedOver,
    // Claude Code's config folder: CLAUDE_CONFIG_DIR, or ~/.claude.
    transcripts: join(process.env.CLAUDE_CONFIG_DIR ?? join(home, '.claude'), 'projects'),
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
