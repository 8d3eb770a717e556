#!/usr/bin/env node
// The command hook SESSION_HOOKS=1 registers (telemetry-config.ts): appends one JSON line per hook run to
// <dir>/telemetry-hooks-<session id>.jsonl (dir: argv[2], default /workspace, which the host sees as the user's
// workspace) with the NAMES, never the values, of the telemetry variables
//   cli:  in the Claude Code process's own environment (/proc/<its pid>/environ: what it was started with), and
//   hook: in this hook's environment (what Claude Code hands its children: its own plus its settings' env block,
//         less every OTEL_* variable: 2.1.332 keeps those from its children, measured).
// So a session proves where its telemetry configuration came from: with SESSION_TELEMETRY_CONFIG=settings or
// managed, `cli` has none, and `hook` still has CLAUDE_CODE_ENABLE_TELEMETRY (from the settings file). Prints nothing (a SessionStart or UserPromptSubmit hook's
// output would become context) and exits 0 whatever happens (its failures are in the line it writes).
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isTelemetryVariable } from './telemetry-config.ts';

const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_STDIN = 1 << 20;

/** The parent pid and argv of a process, from /proc; undefined when it is gone or unreadable. */
function proc(pid: number): { ppid: number; argv: string[] } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return { ppid, argv };
  } catch {
    return undefined;
  }
}

/** The nearest ancestor that is the Claude Code CLI (the entrypoint starts it with --session-id as its own word). */
function cliPid(): number | undefined {
  let pid = process.ppid;
  for (let depth = 0; pid > 1 && depth < 16; depth++) {
    const p = proc(pid);
    if (!p) return undefined;
    if (p.argv.includes('--session-id')) return pid;
    pid = p.ppid;
  }
  return undefined;
}

const names = (entries: Iterable<string>) => [...new Set([...entries].filter(isTelemetryVariable))].sort();

function main(): void {
  const dir = process.argv[2] ?? '/workspace';
  let input: Record<string, unknown> = {};
  try {
    const raw = readFileSync(0).subarray(0, MAX_STDIN).toString('utf8');
    input = JSON.parse(raw) as Record<string, unknown>;
  } catch {
    // no or bad input: the line says so (no session id: nowhere to write but the fallback name)
  }
  const session =
    typeof input.session_id === 'string' && SESSION_ID.test(input.session_id) ? input.session_id : 'unknown';
  const line: Record<string, unknown> = {
    event: typeof input.hook_event_name === 'string' ? input.hook_event_name.slice(0, 64) : null,
    tool: typeof input.tool_name === 'string' ? input.tool_name.slice(0, 128) : null,
    hook: names(Object.keys(process.env)),
  };
  const pid = cliPid();
  if (pid === undefined) {
    line.cli = null;
    line.error = 'no Claude Code process (an ancestor with --session-id) found';
  } else {
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      line.cliPid = pid;
      line.cli = names(environ.split('\0').map((kv) => kv.slice(0, Math.max(0, kv.indexOf('=')))));
    } catch (err) {
      line.cli = null;
      line.error = `/proc/${pid}/environ: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`;
    }
  }
  appendFileSync(join(dir, `telemetry-hooks-${session}.jsonl`), `${JSON.stringify(line)}\n`);
}

try {
  main();
} catch (err) {
  process.stderr.write(`env-hook: ${(err as Error).message}\n`);
}
process.exit(0);
