import { describe, expect, it } from 'vitest';
import { capRefusal, parseCaps } from './session-network.ts';

describe('session caps', () => {
  const caps = { perUser: 2, total: 3 };
  // `running` includes the session asking (its network exists when the caps are judged).
  it.each([
    { running: ['alice'], user: 'alice', refused: null },
    { running: ['alice', 'alice'], user: 'alice', refused: null },
    {
      running: ['alice', 'alice', 'alice'],
      user: 'alice',
      refused: /user alice already runs 2 session\(s\).*SESSION_MAX_PER_USER=2/,
    },
    { running: ['alice', 'bob', 'carol'], user: 'carol', refused: null },
    {
      running: ['alice', 'bob', 'carol', 'dave'],
      user: 'dave',
      refused: /the stack already runs 3 session\(s\).*SESSION_MAX_TOTAL=3/,
    },
  ])('$running for $user', ({ running, user, refused }) => {
    const r = capRefusal(running, user, caps);
    if (refused === null) expect(r).toBeNull();
    else expect(r).toMatch(refused);
  });

  it('reads the caps from the environment, with defaults, and refuses nonsense', () => {
    expect(parseCaps({})).toEqual({ perUser: 3, total: 16 });
    expect(parseCaps({ SESSION_MAX_PER_USER: '1', SESSION_MAX_TOTAL: '4' })).toEqual({
      perUser: 1,
      total: 4,
    });
    expect(() => parseCaps({ SESSION_MAX_PER_USER: '0' })).toThrow(
      'SESSION_MAX_PER_USER=0: not a whole number',
    );
    expect(() => parseCaps({ SESSION_MAX_TOTAL: 'lots' })).toThrow('SESSION_MAX_TOTAL=lots');
  });
});
