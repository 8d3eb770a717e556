import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  HOOK_EVENTS,
  hookCommand,
  isTelemetryVariable,
  parseHooks,
  parseTelemetryConfig,
  planTelemetryConfig,
  telemetryVariables,
  withHooks,
} from './telemetry-config.ts';

/** What a session container is handed (stack/compose.yaml and pnpm session), the credential's headers included. */
const env = {
  HOME: '/home/node',
  PATH: '/usr/bin',
  ANTHROPIC_BASE_URL: 'http://session-gateway:8080',
  CLAUDE_CODE_SESSION_ID: '7a6f2c1e-0d1b-4c3a-9f8e-1234567890ab',
  CLAUDE_CODE_MAX_RETRIES: '0',
  CLAUDE_CODE_ENABLE_TELEMETRY: '1',
  CLAUDE_CODE_ENHANCED_TELEMETRY_BETA: '1',
  OTEL_METRICS_EXPORTER: 'otlp',
  OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
  OTEL_EXPORTER_OTLP_HEADERS: 'Authorization=Bearer%20tok',
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'Authorization=Bearer%20tok',
  OTEL_RESOURCE_ATTRIBUTES: 'user.name=alice',
  SESSION_TELEMETRY_CONFIG: 'settings',
};
const stackSettings = { permissions: { allow: ['Read'], deny: ['WebFetch'] } };

describe('parseTelemetryConfig', () => {
  it('takes env, settings and managed; unset or empty is env', () => {
    for (const v of ['env', 'settings', 'managed'] as const) expect(parseTelemetryConfig(v)).toBe(v);
    expect(parseTelemetryConfig(undefined)).toBe('env');
    expect(parseTelemetryConfig('')).toBe('env');
  });

  it.each([
    'Settings',
    'managed ',
    ' env',
    'user',
    'settings.json',
    '/etc/claude-code/managed-settings.json',
    '../managed',
    'env,settings',
    'managed\nenv',
    '"env"',
  ])('refuses %j, naming the variable and the choices', (value) => {
    expect(() => parseTelemetryConfig(value)).toThrow(
      `SESSION_TELEMETRY_CONFIG=${JSON.stringify(value)} is not one of env, settings, managed`,
    );
  });
});

describe('parseHooks', () => {
  it('is on for 1 only, off for 0 or unset, and refuses anything else', () => {
    expect(parseHooks('1')).toBe(true);
    for (const v of [undefined, '', '0']) expect(parseHooks(v)).toBe(false);
    for (const v of ['true', 'yes', ' 1', '2'])
      expect(() => parseHooks(v)).toThrow(`SESSION_HOOKS=${JSON.stringify(v)} is not 1 or 0`);
  });
});

describe('telemetry variables', () => {
  it('are every OTEL_* and the CLI telemetry switches, nothing else of Claude Code', () => {
    for (const n of [
      'OTEL_EXPORTER_OTLP_HEADERS',
      'OTEL_LOGS_EXPORTER',
      'OTEL_RESOURCE_ATTRIBUTES',
      'CLAUDE_CODE_ENABLE_TELEMETRY',
      'CLAUDE_CODE_ENHANCED_TELEMETRY_BETA',
      'CLAUDE_CODE_OTEL_FLUSH_TIMEOUT_MS',
    ])
      expect(isTelemetryVariable(n), n).toBe(true);
    for (const n of [
      'CLAUDE_CODE_SESSION_ID',
      'CLAUDE_CODE_MAX_RETRIES',
      'SESSION_TELEMETRY_CONFIG',
      'otel_exporter_otlp_headers',
      'MY_OTEL_X',
      'OTEL_',
      'CLAUDE_CODE_ENABLE_TELEMETRY_X',
      'ANTHROPIC_BASE_URL',
    ])
      expect(isTelemetryVariable(n), n).toBe(false);
    expect(Object.keys(telemetryVariables({ ...env, OTEL_TRACES_EXPORTER: undefined }))).toEqual([
      'CLAUDE_CODE_ENABLE_TELEMETRY',
      'CLAUDE_CODE_ENHANCED_TELEMETRY_BETA',
      'OTEL_EXPORTER_OTLP_HEADERS',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
      'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
      'OTEL_METRICS_EXPORTER',
      'OTEL_RESOURCE_ATTRIBUTES',
    ]);
  });
});

describe('planTelemetryConfig', () => {
  const telemetry = telemetryVariables(env);

  it('env: nothing moves', () => {
    expect(planTelemetryConfig('env', env, stackSettings)).toEqual({ config: 'env', removeFromEnv: [] });
  });

  it("settings: every telemetry variable, headers included, goes to the user's settings with the stack's", () => {
    const plan = planTelemetryConfig('settings', env, stackSettings);
    expect(plan.removeFromEnv).toEqual(Object.keys(telemetry));
    expect(plan.userSettings).toEqual({ ...stackSettings, env: telemetry });
    expect(plan.managedSettings).toBeUndefined();
  });

  it("settings: an env block already there keeps its other variables; the session's telemetry wins", () => {
    const base = { ...stackSettings, env: { FOO: 'bar', OTEL_METRICS_EXPORTER: 'console' } };
    expect(planTelemetryConfig('settings', env, base).userSettings?.env).toEqual({
      FOO: 'bar',
      ...telemetry,
    });
  });

  it('managed: the env block alone in the managed settings', () => {
    const plan = planTelemetryConfig('managed', env, stackSettings);
    expect(plan.removeFromEnv).toEqual(Object.keys(telemetry));
    expect(plan.managedSettings).toEqual({ env: telemetry });
    expect(plan.userSettings).toBeUndefined();
  });

  // Values are data: whatever they hold, the settings file (JSON) gives back exactly the value the CLI would
  // have had in its environment, and nothing else becomes a key.
  it.each([
    ['quotes', 'user.name=a"b\'c'],
    ['a newline', 'x=1\n"env": {"OTEL_TRACES_EXPORTER": "none"}'],
    ['backslashes', 'C:\\new\\"path\\u0000'],
    ['JSON', '{"env":{"CLAUDE_CODE_ENABLE_TELEMETRY":"0"}}'],
    ['unicode and control characters', 'é\u2028\u0007\t'],
    ['an empty value', ''],
  ])('a value with %s round-trips through the settings file exactly', (_, value) => {
    for (const config of ['settings', 'managed'] as const) {
      const plan = planTelemetryConfig(config, { ...env, OTEL_RESOURCE_ATTRIBUTES: value }, stackSettings);
      const file = JSON.parse(JSON.stringify(plan.userSettings ?? plan.managedSettings)) as {
        env: Record<string, string>;
      };
      expect(file.env.OTEL_RESOURCE_ATTRIBUTES).toBe(value);
      expect(Object.keys(file.env)).toEqual(Object.keys(telemetry));
    }
  });
});

describe('hooks', () => {
  it('register one command hook per event, every tool for the tool events, over the stack settings', () => {
    const s = withHooks(stackSettings, 'node /x.ts') as {
      hooks: Record<string, unknown>;
      permissions: unknown;
    };
    expect(Object.keys(s.hooks)).toEqual([...HOOK_EVENTS]);
    expect(HOOK_EVENTS).toHaveLength(5);
    expect(s.permissions).toEqual(stackSettings.permissions);
    expect(s.hooks.PreToolUse).toEqual([
      { matcher: '*', hooks: [{ type: 'command', command: 'node /x.ts', timeout: 30 }] },
    ]);
    expect(s.hooks.Stop).toEqual([{ hooks: [{ type: 'command', command: 'node /x.ts', timeout: 30 }] }]);
  });

  it('quote every word of the command for the shell', () => {
    const words = ['node', "/it's here.ts", '$(id)', 'a b;c', '`x`', 'new\nline'];
    const echoed = execFileSync('sh', ['-c', `printf '%s\\0' ${hookCommand(words)}`], { encoding: 'utf8' });
    expect(echoed.split('\0').slice(0, -1)).toEqual(words);
  });
});
