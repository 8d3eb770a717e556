// Quick mode's promises: a quick run says it is not a measurement, never judges a goal (a missed one does not fail
// it), and a full run still does.
import { describe, expect, it } from 'vitest';
import { goalVerdict, isQuick, QUICK_NOTICE, quickBanner, sized } from './quick.ts';

describe('quick mode', () => {
  it('the banner says it is not a measurement, with the sizes', () => {
    expect(quickBanner('2 sessions')).toContain(QUICK_NOTICE);
    expect(quickBanner('2 sessions')).toContain('2 sessions');
    expect(QUICK_NOTICE).toBe('quick mode: not a measurement');
  });

  it.each([
    [true, false, 'met', false],
    [false, false, 'NOT met', true],
    [true, true, `not judged (${QUICK_NOTICE})`, false],
    [false, true, `not judged (${QUICK_NOTICE})`, false],
  ])('goal met %s, quick %s: %s', (met, quick, text, failsRun) => {
    expect(goalVerdict(met, quick)).toEqual({ text, failsRun });
  });

  it.each([
    [{ quick: true }, true],
    [{ quick: 'true' }, true],
    [{ quick: false }, false],
    [{}, false],
    [{ quick: 'no' }, false],
  ])('isQuick(%o) = %s', (argv, want) => {
    expect(isQuick(argv)).toBe(want);
  });

  it('sized: the value given, else the quick or the full default', () => {
    expect(sized(undefined, false, 1, 0.05)).toBe('1');
    expect(sized(undefined, true, 1, 0.05)).toBe('0.05');
    expect(sized(2, true, 1, 0.05)).toBe('2');
  });
});
