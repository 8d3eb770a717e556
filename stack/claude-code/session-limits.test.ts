import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { limitHit, parseLimits, readLimitCounters } from './session-limits.ts';

describe('session limits', () => {
  it('reads the wall clock from SESSION_TIMEOUT_SECONDS and refuses nonsense, naming the variable', () => {
    expect(parseLimits({})).toEqual({ timeoutMs: 3_600_000, memory: null, processes: null });
    expect(
      parseLimits({ SESSION_TIMEOUT_SECONDS: '90', SESSION_MEMORY_LIMIT: '2g', SESSION_PIDS_LIMIT: '512' }),
    ).toEqual({
      timeoutMs: 90_000,
      memory: '2g',
      processes: '512',
    });
    for (const bad of ['0', '-5', 'soon', '99999999'])
      expect(() => parseLimits({ SESSION_TIMEOUT_SECONDS: bad })).toThrow(
        `SESSION_TIMEOUT_SECONDS=${bad}: not a number of seconds from 1 to 604800`,
      );
  });

  it('reads OOM kills and refused forks from cgroup v2 and v1 files, and nothing where there are none', () => {
    const v2 = mkdtempSync(join(tmpdir(), 'cg2-'));
    writeFileSync(join(v2, 'memory.events'), 'low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n');
    writeFileSync(join(v2, 'pids.events'), 'max 7\n');
    expect(readLimitCounters(v2)).toEqual({ oomKills: 2, pidsRefused: 7 });
    const v1 = mkdtempSync(join(tmpdir(), 'cg1-'));
    mkdirSync(join(v1, 'memory'));
    mkdirSync(join(v1, 'pids'));
    writeFileSync(join(v1, 'memory', 'memory.oom_control'), 'oom_kill_disable 0\nunder_oom 0\noom_kill 1\n');
    writeFileSync(join(v1, 'pids', 'pids.events'), 'max 0\n');
    expect(readLimitCounters(v1)).toEqual({ oomKills: 1, pidsRefused: 0 });
    expect(readLimitCounters(mkdtempSync(join(tmpdir(), 'cg0-')))).toEqual({
      oomKills: null,
      pidsRefused: null,
    });
  });

  it('judges which limit was hit: time first, then memory, then processes', () => {
    const zero = { oomKills: 0, pidsRefused: 0 };
    expect(limitHit(zero, zero, false)).toBeNull();
    expect(limitHit(zero, { oomKills: 1, pidsRefused: 3 }, true)).toBe('time');
    expect(limitHit(zero, { oomKills: 1, pidsRefused: 3 }, false)).toBe('memory');
    expect(limitHit(zero, { oomKills: 0, pidsRefused: 3 }, false)).toBe('processes');
    expect(
      limitHit({ oomKills: null, pidsRefused: null }, { oomKills: null, pidsRefused: null }, false),
    ).toBeNull();
  });
});
