// Hook executions of a session (the `hooks` of Claude Code's settings), as Claude Code reports them (measured with
// 2.1.332; fixtures/otlp/hooks-*): a hook_registered event per configured hook event at start; then, each time a
// hook event fires with hooks to run, hook_execution_start and hook_execution_complete, with hook_event
// (PreToolUse, Stop, ...), hook_name (PreToolUse:Bash, SessionStart:startup, ...), num_hooks, num_success,
// num_blocking, num_non_blocking_error, num_cancelled and total_duration_ms. No hook spans were seen.
import type { EventRecord } from '../../sinks/otlp-records.ts';
import { type Latency, latency, num, type TimelineEntry } from './summary-values.ts';

export interface HookStats {
  /** Times a hook event fired with hooks to run (hook_execution_complete events). */
  executions: number;
  /** Hooks run (an execution runs every hook configured for its event). */
  hooks: number;
  succeeded: number;
  /** Hooks that blocked what they were hooked on (exit code 2, or a blocking decision). */
  blocking: number;
  /** Hooks that failed without blocking (any other non-zero exit). */
  errors: number;
  cancelled: number;
  duration: Latency;
}

export interface Hooks extends HookStats {
  /** hook_registered events: hook events with hooks configured, at start. */
  registered: number;
  /** Executions that started and never completed (the session ended, or their event was lost). */
  unfinished: number;
  byEvent: Record<string, HookStats>;
}

function stats(done: EventRecord[]): HookStats {
  const sum = (key: string) => done.reduce((s, e) => s + num(e.attrs[key]), 0);
  return {
    executions: done.length,
    hooks: sum('num_hooks'),
    succeeded: sum('num_success'),
    blocking: sum('num_blocking'),
    errors: sum('num_non_blocking_error'),
    cancelled: sum('num_cancelled'),
    duration: latency(done.map((e) => num(e.attrs.total_duration_ms))),
  };
}

/** The session's hook executions (its Claude Code events, of one session). */
export function hooksOf(events: EventRecord[]): Hooks {
  const done = events.filter((e) => e.name === 'hook_execution_complete');
  const started = events.filter((e) => e.name === 'hook_execution_start').length;
  const byEvent: Record<string, HookStats> = {};
  const eventOf = (e: EventRecord) => String(e.attrs.hook_event ?? 'unknown');
  for (const name of [...new Set(done.map(eventOf))].sort())
    byEvent[name] = stats(done.filter((e) => eventOf(e) === name));
  return {
    ...stats(done),
    registered: events.filter((e) => e.name === 'hook_registered').length,
    unfinished: Math.max(0, started - done.length),
    byEvent,
  };
}

export function hookTimeline(events: EventRecord[]): TimelineEntry[] {
  return events
    .filter((e) => e.name === 'hook_execution_complete')
    .map((e) => {
      const ms = num(e.attrs.total_duration_ms);
      const failed = num(e.attrs.num_non_blocking_error) + num(e.attrs.num_cancelled);
      const blocking = num(e.attrs.num_blocking);
      return {
        kind: 'hook' as const,
        name: String(e.attrs.hook_name ?? e.attrs.hook_event ?? 'hook'),
        start: e.time - ms,
        end: e.time,
        ok: failed === 0,
        detail: `${ms} ms, ${num(e.attrs.num_hooks)} hook(s): ${num(e.attrs.num_success)} succeeded${blocking ? `, ${blocking} blocking` : ''}${failed ? `, ${failed} failed or cancelled` : ''}`,
      };
    });
}
