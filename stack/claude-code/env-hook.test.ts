import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const HOOK = join(import.meta.dirname, 'env-hook.ts');
const SESSION = '7a6f2c1e-0d1b-4c3a-9f8e-1234567890ab';
const SECRET = 'Bearer%20s3cr3t-value';

/**
 * Runs the hook as Claude Code would: a process started with `--session-id` (here a Node stand-in, with `cliEnv`)
 * runs it through a shell with `hookEnv` added (its settings' env block), the hook input on stdin.
 */
function runHook(cliEnv: Record<string, string>, hookEnv: Record<string, string>, input: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'env-hook-'));
  const cli = `
    const { execFileSync } = require('node:child_process');
    execFileSync('sh', ['-c', 'node "$0" "$1"', process.argv[1], process.argv[2]], {
      input: process.argv[3], env: { ...process.env, ...JSON.parse(process.argv[4]) }, stdio: ['pipe', 'inherit', 'inherit'],
    });`;
  const printed = execFileSync(
    process.execPath,
    ['-e', cli, HOOK, dir, JSON.stringify(input), JSON.stringify(hookEnv), '--session-id', SESSION],
    { env: { PATH: process.env.PATH ?? '', ...cliEnv }, encoding: 'utf8' },
  );
  expect(printed).toBe('');
  const files = readdirSync(dir);
  expect(files).toHaveLength(1);
  return readFileSync(join(dir, files[0] as string), 'utf8');
}

describe('env-hook', () => {
  it("lists the telemetry variables of the CLI's own environment and of the hook's, names only", () => {
    const text = runHook(
      { CLAUDE_CODE_ENABLE_TELEMETRY: '1', OTEL_EXPORTER_OTLP_HEADERS: `Authorization=${SECRET}` },
      { OTEL_METRICS_EXPORTER: 'otlp', OTEL_EXPORTER_OTLP_TRACES_HEADERS: SECRET },
      { session_id: SESSION, hook_event_name: 'PreToolUse', tool_name: 'Bash' },
    );
    expect(text).not.toContain('s3cr3t');
    expect(JSON.parse(text)).toMatchObject({
      event: 'PreToolUse',
      tool: 'Bash',
      cli: ['CLAUDE_CODE_ENABLE_TELEMETRY', 'OTEL_EXPORTER_OTLP_HEADERS'],
      hook: [
        'CLAUDE_CODE_ENABLE_TELEMETRY',
        'OTEL_EXPORTER_OTLP_HEADERS',
        'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
        'OTEL_METRICS_EXPORTER',
      ],
    });
  });

  it('writes an empty cli list when the CLI was started without telemetry variables', () => {
    const line = JSON.parse(
      runHook({}, { OTEL_LOGS_EXPORTER: 'otlp' }, { session_id: SESSION, hook_event_name: 'Stop' }),
    );
    expect(line).toMatchObject({ event: 'Stop', cli: [], hook: ['OTEL_LOGS_EXPORTER'] });
  });

  it('takes no path from its input: a session id that is not a UUID writes to the fallback name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'env-hook-'));
    execFileSync(process.execPath, [HOOK, dir], {
      input: JSON.stringify({ session_id: '../../etc/x', hook_event_name: 'Stop' }),
    });
    expect(readdirSync(dir)).toEqual(['telemetry-hooks-unknown.jsonl']);
    expect(JSON.parse(readFileSync(join(dir, 'telemetry-hooks-unknown.jsonl'), 'utf8'))).toMatchObject({
      cli: null,
      error: 'no Claude Code process (an ancestor with --session-id) found',
    });
  });
});
