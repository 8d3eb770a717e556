// edit_file's rules as a pure module: the count and size of the edits, exact-once matching, the result's size.
import { describe, expect, it } from 'vitest';
import { applyEdits, checkEdits, EditRuleError, MAX_EDITS } from './edits.ts';

const rule = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(EditRuleError);
    return { rule: (err as EditRuleError).rule, message: (err as Error).message };
  }
  throw new Error('no rule broken');
};

describe('checkEdits', () => {
  it(`allows ${MAX_EDITS} edits, refuses one more`, () => {
    const e = { oldText: 'a', newText: 'b' };
    expect(() => checkEdits(Array(MAX_EDITS).fill(e), 1000)).not.toThrow();
    expect(rule(() => checkEdits(Array(MAX_EDITS + 1).fill(e), 1000))).toEqual({
      rule: 'too-many-edits',
      message: `${MAX_EDITS + 1} edits, over the limit of ${MAX_EDITS} per call (use write_file for a larger change)`,
    });
  });

  it('counts oldText and newText of every edit, in UTF-8 bytes', () => {
    expect(() => checkEdits([{ oldText: 'ab', newText: 'cd' }], 4)).not.toThrow();
    expect(rule(() => checkEdits([{ oldText: 'é', newText: 'abc' }], 4))).toEqual({
      rule: 'too-large',
      message: 'the edits are 5 bytes (oldText + newText), over the write limit of 4 bytes',
    });
  });
});

describe('applyEdits', () => {
  it('applies edits in order, each on the result of the ones before', () => {
    expect(
      applyEdits(
        'one two three',
        [
          { oldText: 'two', newText: '2' },
          { oldText: 'one 2', newText: '1+2' },
        ],
        'f',
        100,
      ),
    ).toBe('1+2 three');
  });

  it('refuses an oldText that is missing, empty or not unique (overlapping counts), naming the edit', () => {
    expect(rule(() => applyEdits('abc', [{ oldText: 'x', newText: '' }], 'f.txt', 100))).toEqual({
      rule: 'edit-not-found',
      message: 'edit 1: oldText not found in f.txt',
    });
    expect(rule(() => applyEdits('abc', [{ oldText: '', newText: 'x' }], 'f.txt', 100)).rule).toBe(
      'edit-not-found',
    );
    expect(rule(() => applyEdits('aaa', [{ oldText: 'aa', newText: 'b' }], 'f.txt', 100))).toEqual({
      rule: 'edit-ambiguous',
      message: 'edit 1: oldText occurs more than once in f.txt; add context',
    });
  });

  it('refuses a result over the write limit, however small each edit', () => {
    expect(rule(() => applyEdits(`${'x'.repeat(10)}y`, [{ oldText: 'y', newText: 'é' }], 'f', 11))).toEqual({
      rule: 'too-large',
      message: 'f would be 12 bytes after the edits, over the write limit of 11 bytes',
    });
  });
});
