import { describe, expect, it } from 'vitest';
import { planSession } from '../../session/session-plan.ts';
import { chooseSessions, UnknownSessionError, USER_NAME } from './choose-sessions.ts';
import type { KnownSession } from './session-index.ts';

const known = (
  id: string,
  start: number | null,
  end: number | null,
  user: string | null = null,
  project: string | null = null,
): KnownSession => ({
  id,
  start,
  end,
  durationMs: null,
  costUsd: 0,
  tokens: 0,
  modelCalls: 0,
  status: null,
  user,
  project,
  inTelemetry: true,
  recorded: false,
});
const list = [known('a', 1_000, 2_000), known('b', 5_000, 9_000), known('c', 3_000, null)];
const X = 'aaaaaaaa-1111-4111-8111-111111111111';
const Y = 'bbbbbbbb-2222-4222-8222-222222222222';

describe('chooseSessions', () => {
  it('takes explicit ids as given, even unknown ones (the export then says which are unknown)', () => {
    expect(chooseSessions(list, { sessions: [X, Y] }, 'here')).toEqual({
      ids: [X, Y],
      selection: { by: 'session' },
    });
  });

  it('takes only session ids: an id becomes a path and a file name', () => {
    for (const bad of ['a', '../../etc', `${X}/..`, `${X}\u001b[2J`, ''])
      expect(() => chooseSessions(list, { sessions: [X, bad] }, 'here'), bad).toThrow(
        /--session takes a session id \(a UUID, as `pnpm export list` shows\), not /,
      );
  });

  it('never takes a session starting in the future (a record or telemetry could claim any time) as the latest', () => {
    const now = 1_000_000_000;
    const lying = [...list, known('future', now + 3_600_000, null), known('unknown', null, null)];
    const r = chooseSessions(lying, {}, 'here', now);
    expect(r.ids).toEqual(['b']);
    expect(r.note).toMatch(
      /^no --session given: the latest one, b; passed over: future \(it starts .*, in the future \(more than 5 min ahead of this host's clock\)\), unknown \(its start time is unknown\)$/,
    );
    expect(() => chooseSessions([known('future', now + 3_600_000, null)], {}, 'here', now)).toThrow(
      /no session known can be the latest; passed over: future .*: name one with --session/,
    );
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
      selection: { by: 'latest' },
      note: 'no --session given: the latest one, b',
    });
    expect(() => chooseSessions([], {}, 'here')).toThrow(/run `pnpm session` first/);
  });

  it('records --since in the selection: as given, and the instant it meant', () => {
    expect(chooseSessions(list, { sinceMs: 7_000, sinceText: '7s' }, 'here', 10_000).selection).toEqual({
      by: 'filter',
      since: { duration: '7s', from: new Date(3_000).toISOString() },
    });
  });
});

describe('chooseSessions --user', () => {
  const users = [
    known('a1', 1_000, 2_000, 'alice'),
    known('b1', 3_000, 4_000, 'bob'),
    known('a2', 5_000, 9_000, 'alice'),
    known('n1', 6_000, 7_000),
  ];

  it("takes every session of the user, and only the user's; --all changes nothing", () => {
    expect(chooseSessions(users, { user: 'alice' }, 'here')).toEqual({
      ids: ['a1', 'a2'],
      selection: { by: 'filter', user: 'alice' },
    });
    expect(chooseSessions(users, { user: 'bob', all: true }, 'here').ids).toEqual(['b1']);
  });

  it('with --since: the sessions of the user active in the window, both in the selection', () => {
    const r = chooseSessions(users, { user: 'alice', sinceMs: 7_000, sinceText: '7s' }, 'here', 10_000);
    expect(r.ids).toEqual(['a2']);
    expect(r.selection).toEqual({
      by: 'filter',
      user: 'alice',
      since: { duration: '7s', from: new Date(3_000).toISOString() },
    });
    expect(() =>
      chooseSessions(users, { user: 'bob', sinceMs: 1_000, sinceText: '1s' }, 'here', 10_000),
    ).toThrow(/no session of user "bob" active in the last 1s/);
  });

  it('a user with no sessions is an error naming the user and the users known', () => {
    const run = () => chooseSessions(users, { user: 'carol' }, 'telemetry: /t');
    expect(run).toThrow(UnknownSessionError);
    expect(run).toThrow('no sessions of user "carol" known (telemetry: /t); users known: alice, bob');
    expect(() => chooseSessions(list, { user: 'carol' }, 'here')).toThrow(
      /no session known has a user \(pnpm session --user NAME sets one\)/,
    );
  });

  it('goes without --session, which names sessions outright', () => {
    expect(() => chooseSessions(users, { user: 'alice', sessions: ['b1'] }, 'here')).toThrow(
      /--session names the sessions outright: it goes without --user/,
    );
  });

  it('takes the names `pnpm session --user` takes, and refuses the others', () => {
    expect(() => chooseSessions(users, { user: 'al ice' }, 'here')).toThrow(
      '--user must be 1-64 letters, digits or . _ @ - (not . or ..), not "al ice"',
    );
    const script = () => ({ name: 'demo', prompt: 'hi', model: 'claude-sonnet-4-5' });
    for (const name of [
      'alice',
      'a.b_c-d@example.org',
      'x'.repeat(64),
      'x'.repeat(65),
      '',
      'a b',
      'é',
      'a/b',
      'a=b',
      'a,b',
    ]) {
      const session = (() => {
        try {
          planSession({ user: name }, {}, script);
          return true;
        } catch {
          return false;
        }
      })();
      expect(USER_NAME.test(name), JSON.stringify(name)).toBe(session);
    }
  });
});

describe('chooseSessions --project', () => {
  const sessions = [
    known('p1', 1_000, 2_000, 'alice', 'acme/widgets'),
    known('p2', 5_000, 9_000, 'bob', 'acme/widgets'),
    known('p3', 3_000, 4_000, 'alice', 'acme/other'),
    known('p4', 3_000, 4_000, 'alice'),
  ];
  it("takes exactly the project's sessions; with --user and --since, their intersection", () => {
    expect(chooseSessions(sessions, { project: 'acme/widgets' }, 'here')).toEqual({
      ids: ['p1', 'p2'],
      selection: { by: 'filter', project: 'acme/widgets' },
    });
    expect(chooseSessions(sessions, { project: 'acme/widgets', user: 'alice' }, 'here').ids).toEqual(['p1']);
    expect(
      chooseSessions(sessions, { project: 'acme/widgets', sinceMs: 2_000, sinceText: '2s' }, 'here', 10_000)
        .ids,
    ).toEqual(['p2']);
  });
  it('an unknown project is an error naming the projects known; a malformed one says the rule', () => {
    expect(() => chooseSessions(sessions, { project: 'acme/nope' }, 'here')).toThrow(
      'no sessions of project "acme/nope" known (here); projects known: acme/other, acme/widgets',
    );
    expect(() => chooseSessions(sessions, { project: 'acme/nope' }, 'here')).toThrow(UnknownSessionError);
    expect(() => chooseSessions(sessions, { project: 'a"b' }, 'here')).toThrow('--project must be 1-128');
    expect(() => chooseSessions(sessions, { project: 'acme/widgets', sessions: [X] }, 'here')).toThrow(
      /goes without --project/,
    );
  });
});
