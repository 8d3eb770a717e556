// The edit preview's diff: one hunk with context, and cut (saying so) past its size limit.
import { describe, expect, it } from 'vitest';
import { MAX_DIFF_CHARS, unifiedDiff } from './unified-diff.ts';

describe('unifiedDiff', () => {
  it('one hunk with three lines of context; nothing for no change', () => {
    const before = 'a\nb\nc\nd\ne\nf\ng\nh\n';
    expect(unifiedDiff('f.txt', before, before.replace('e', 'E'))).toEqual({
      diff: '--- f.txt\n+++ f.txt\n@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n',
      truncated: false,
    });
    expect(unifiedDiff('f.txt', before, before)).toEqual({ diff: '', truncated: false });
  });

  it(`is cut at ${MAX_DIFF_CHARS} characters by default, with a last line saying what the edit does`, () => {
    const before = 'x\n'.repeat(200_000);
    const { diff, truncated } = unifiedDiff('big.txt', before, before.toUpperCase());
    expect(truncated).toBe(true);
    const lines = diff.trimEnd().split('\n');
    expect(lines.slice(0, 4)).toEqual(['--- big.txt', '+++ big.txt', '@@ -1,200001 +1,200001 @@', '-x']);
    expect(lines.at(-1)).toBe(
      `\\ diff cut at ${MAX_DIFF_CHARS} characters: the edit removes 200000 lines and adds 200000 from line 1`,
    );
    expect(diff.length - (lines.at(-1)?.length ?? 0)).toBeLessThanOrEqual(MAX_DIFF_CHARS + 1);
  });

  it('a smaller cap, and a diff that fits exactly is whole', () => {
    const whole = unifiedDiff('f', 'a\n', 'b\n').diff;
    expect(unifiedDiff('f', 'a\n', 'b\n', { maxChars: whole.length })).toEqual({
      diff: whole,
      truncated: false,
    });
    expect(unifiedDiff('f', 'a\n', 'b\n', { maxChars: whole.length - 1 }).truncated).toBe(true);
  });
});
