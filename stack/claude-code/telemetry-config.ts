// Where a session's telemetry configuration lives, as users set it up: in the CLI's environment (`env`, the
// stack's default), in the `env` block of the user's ~/.claude/settings.json (`settings`), or in the `env` block of
// the managed settings, /etc/claude-code/managed-settings.json (`managed`). SESSION_TELEMETRY_CONFIG picks one; for
// settings and managed every telemetry variable leaves the CLI's environment and goes to that file, so a session
// proves Claude Code reads it from there. Also the command hooks SESSION_HOOKS=1 adds to the session's settings:
// each runs env-hook.ts, which lists the telemetry variables in the CLI's own environment (names only).
// Pure: the entrypoint does the file writes (and tests cover every decision here).

export const TELEMETRY_CONFIGS = ['env', 'settings', 'managed'] as const;
export type TelemetryConfig = (typeof TELEMETRY_CONFIGS)[number];

/** The hook events SESSION_HOOKS=1 registers a command hook for (one hook_registered event each). */
export const HOOK_EVENTS = ['SessionStart', 'UserPromptSubmit', 'PreToolUse', 'PostToolUse', 'Stop'] as const;

/** Where Claude Code reads managed settings on Linux (a symlink into a per-session folder: see the Dockerfile). */
export const MANAGED_SETTINGS = '/etc/claude-code/managed-settings.json';

/**
 * A telemetry variable: every OpenTelemetry one (OTEL_*, the exporters' headers included) and Claude Code's own
 * telemetry switches (CLAUDE_CODE_ENABLE_TELEMETRY, CLAUDE_CODE_ENHANCED_TELEMETRY_BETA, CLAUDE_CODE_OTEL_*).
 */
export const TELEMETRY_VARIABLE =
  /^(OTEL_[A-Z0-9_]+|CLAUDE_CODE_(ENABLE_TELEMETRY|ENHANCED_TELEMETRY_BETA|OTEL_[A-Z0-9_]+))$/;

export const isTelemetryVariable = (name: string): boolean => TELEMETRY_VARIABLE.test(name);

/** SESSION_TELEMETRY_CONFIG's value; unset or empty is `env`. Throws naming the variable and the choices. */
export function parseTelemetryConfig(value: string | undefined): TelemetryConfig {
  if (value === undefined || value === '') return 'env';
  if ((TELEMETRY_CONFIGS as readonly string[]).includes(value)) return value as TelemetryConfig;
  throw new Error(
    `SESSION_TELEMETRY_CONFIG=${JSON.stringify(value)} is not one of ${TELEMETRY_CONFIGS.join(', ')}`,
  );
}

/** SESSION_HOOKS's value: 1 on, 0 or unset off. Throws naming the variable. */
export function parseHooks(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === '0') return false;
  if (value === '1') return true;
  throw new Error(`SESSION_HOOKS=${JSON.stringify(value)} is not 1 or 0`);
}

/** The telemetry variables of an environment (set ones only), by name, sorted. */
export function telemetryVariables(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of Object.keys(env).sort()) {
    const value = env[name];
    if (value !== undefined && isTelemetryVariable(name)) out[name] = value;
  }
  return out;
}

export type Settings = Record<string, unknown>;

export interface TelemetryConfigPlan {
  config: TelemetryConfig;
  /** Names to delete from the CLI's environment (none for `env`). */
  removeFromEnv: string[];
  /** The user's ~/.claude/settings.json, when it changes (`settings`): the stack's settings and the env block. */
  userSettings?: Settings;
  /** /etc/claude-code/managed-settings.json (`managed`): the env block alone. */
  managedSettings?: Settings;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What the entrypoint does for a configuration path. `base` is the settings the user's file is merged with (the
 * stack's); an `env` block already there keeps its other variables, the telemetry ones win.
 */
export function planTelemetryConfig(
  config: TelemetryConfig,
  env: Record<string, string | undefined>,
  base: Settings,
): TelemetryConfigPlan {
  const telemetry = telemetryVariables(env);
  const removeFromEnv = config === 'env' ? [] : Object.keys(telemetry);
  if (config === 'settings') {
    const current = isObject(base.env) ? base.env : {};
    return { config, removeFromEnv, userSettings: { ...base, env: { ...current, ...telemetry } } };
  }
  if (config === 'managed') return { config, removeFromEnv, managedSettings: { env: telemetry } };
  return { config, removeFromEnv };
}

/** A hook command for Claude Code's settings: a shell command line, every word single-quoted. */
export function hookCommand(argv: string[]): string {
  return argv.map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
}

/** The settings with one command hook per HOOK_EVENTS entry, each running `command` (tools: every tool). */
export function withHooks(settings: Settings, command: string): Settings {
  const hook = { type: 'command', command, timeout: 30 };
  const hooks: Record<string, unknown[]> = {};
  for (const event of HOOK_EVENTS)
    hooks[event] = [
      event === 'PreToolUse' || event === 'PostToolUse' ? { matcher: '*', hooks: [hook] } : { hooks: [hook] },
    ];
  return { ...settings, hooks };
}
