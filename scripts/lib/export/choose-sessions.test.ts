import { describe, expect, it } from 'vitest';
import { chooseSessions } from './choose-sessions.ts';
import type { KnownSession } from './session-index.ts';
import { UnknownSessionError } from './staging.ts';

const known = (id: string, start: number | null, end: number | null): KnownSession => ({
  id,
  start,
  end,
  durationMs: null,
  costUsd: 0,
  tokens: 0,
  modelCalls: 0,
  status: null,
  inTelemetry: true,
  recorded: false,
});
const list = [known('a', 1_000, 2_000), known('b', 5_000, 9_000), known('c', 3_000, null)];

describe('chooseSessions', () => {
  it('takes explicit ids as given, even unknown ones (the export then says which are unknown)', () => {
    expect(chooseSessions(list, { sessions: ['x', 'a'] }, 'here')).toEqual({ ids: ['x', 'a'] });
  });

  it('--all: every known session; none known is an error naming where it looked', () => {
    expect(chooseSessions(list, { all: true }, 'here').ids).toEqual(['a', 'b', 'c']);
    expect(() => chooseSessions([], { all: true }, 'telemetry: /t')).toThrow(UnknownSessionError);
    expect(() => chooseSessions([], { all: true }, 'telemetry: /t')).toThrow(/telemetry: \/t/);
  });

  it('--since: sessions active (ended, or started when still open) within the window', () => {
    expect(chooseSessions(list, { sinceMs: 7_000 }, 'here', 10_000).ids).toEqual(['b', 'c']);
    expect(() => chooseSessions(list, { sinceMs: 10, sinceText: '10ms' }, 'here', 100_000)).toThrow(
      /no session active in the last 10ms/,
    );
  });

  it('by default the latest session (the order session-record.ts defines), and says so', () => {
    expect(chooseSessions(list, {}, 'here')).toEqual({
      ids: ['b'],
      note: 'no --session given: the latest one, b',
    });
    expect(() => chooseSessions([], {}, 'here')).toThrow(/run `pnpm session` first/);
  });
});
