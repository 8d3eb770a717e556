// The per-session limits a session container runs under, and how the wrapper tells which one ended a session.
// CPU, memory and process count are the engine's (compose: cpus, mem_limit, pids_limit); the wall clock is the
// wrapper's (SESSION_TIMEOUT_SECONDS). The kernel says nothing to the program it kills, so the wrapper reads the
// container's cgroup counters before and after: an OOM kill or a refused fork shows there (cgroup v1 and v2).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type LimitKind = 'time' | 'memory' | 'processes';

export interface SessionLimits {
  /** Wall-clock limit of the session, in ms (SESSION_TIMEOUT_SECONDS). */
  timeoutMs: number;
  /** As configured, for the record and the event (SESSION_MEMORY_LIMIT, SESSION_PIDS_LIMIT). */
  memory: string | null;
  processes: string | null;
}

export function parseLimits(env: Record<string, string | undefined>): SessionLimits {
  const raw = env.SESSION_TIMEOUT_SECONDS ?? '3600';
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 7 * 24 * 3600)
    throw new Error(`SESSION_TIMEOUT_SECONDS=${raw}: not a number of seconds from 1 to 604800`);
  return {
    timeoutMs: Math.round(seconds * 1000),
    memory: env.SESSION_MEMORY_LIMIT || null,
    processes: env.SESSION_PIDS_LIMIT || null,
  };
}

export interface LimitCounters {
  /** Processes the kernel killed for memory in this container's cgroup. */
  oomKills: number | null;
  /** Forks refused at the process limit. */
  pidsRefused: number | null;
}

/** `key value` lines (memory.events, pids.events, memory.oom_control) as numbers. */
export function parseCounters(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

const read = (file: string) => (existsSync(file) ? parseCounters(readFileSync(file, 'utf8')) : null);

/** The container's counters, from cgroup v2 (memory.events, pids.events) or v1 (memory/, pids/). */
export function readLimitCounters(root = '/sys/fs/cgroup'): LimitCounters {
  const mem = read(join(root, 'memory.events')) ?? read(join(root, 'memory', 'memory.oom_control'));
  const pids = read(join(root, 'pids.events')) ?? read(join(root, 'pids', 'pids.events'));
  return { oomKills: mem?.oom_kill ?? null, pidsRefused: pids?.max ?? null };
}

/** Which limit ended (or crippled) the session, judged from the wall clock and the counters' change. */
export function limitHit(before: LimitCounters, after: LimitCounters, timedOut: boolean): LimitKind | null {
  if (timedOut) return 'time';
  if ((after.oomKills ?? 0) > (before.oomKills ?? 0)) return 'memory';
  if ((after.pidsRefused ?? 0) > (before.pidsRefused ?? 0)) return 'processes';
  return null;
}

export function describeLimit(kind: LimitKind, l: SessionLimits): string {
  if (kind === 'time') return `the wall-clock limit of ${l.timeoutMs / 1000} s (SESSION_TIMEOUT_SECONDS)`;
  if (kind === 'memory') return `the memory limit of ${l.memory ?? 'the container'} (SESSION_MEMORY_LIMIT)`;
  return `the process limit of ${l.processes ?? 'the container'} (SESSION_PIDS_LIMIT)`;
}
