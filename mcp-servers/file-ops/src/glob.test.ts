import { describe, expect, it } from 'vitest';
import { compileGlob, GlobRuleError, MAX_PATTERN_LENGTH, MAX_WILDCARDS } from './glob.ts';

const matches = (pattern: string, name: string) => compileGlob(pattern)(name);

describe('compileGlob: * and ?, case-insensitive, whole names', () => {
  it.each([
    ['*.txt', 'hello.txt', true],
    ['*.TXT', 'hello.txt', true],
    ['*.txt', 'hello.txt.bak', false],
    ['h?llo.*', 'hello.md', true],
    ['h?llo.*', 'hllo.md', false],
    ['*', '', true],
    ['*', 'anything', true],
    ['?', '', false],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYYcZ', false],
    ['**', 'x', true],
    ['*a*', 'banana', true],
    ['*x*', 'banana', false],
    ['file[1].txt', 'file[1].txt', true], // brackets and dots are plain characters
    ['file[1].txt', 'file1.txt', false],
    ['a.c', 'abc', false],
    ['(x+)+y', '(x+)+y', true],
    ['ÉTÉ*', 'été.txt', true],
  ])('%j ~ %j -> %s', (pattern, name, expected) => {
    expect(matches(pattern, name)).toBe(expected);
  });
});

describe('compileGlob: bounded work, whatever the pattern', () => {
  it('matches a many-wildcard pattern against a 255-character name in linear-ish time', () => {
    // As a regular expression, `^.*a.*a.*a.*a.*a.*a.*a.*a.*b$` against 255 a's backtracks for hours.
    const name = 'a'.repeat(255);
    const patterns = [`${'*a'.repeat(8)}*b`, `${'*a'.repeat(MAX_WILDCARDS - 1)}*b`, `${'*?'.repeat(30)}*z`];
    const started = performance.now();
    for (let i = 0; i < 200; i++) for (const p of patterns) expect(matches(p, name)).toBe(false);
    // 600 matches; a generous bound that no busy machine reaches, and exponential backtracking never meets.
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('refuses a pattern over its bounds, naming the bound', () => {
    const refusal = (pattern: string) => {
      try {
        compileGlob(pattern);
      } catch (err) {
        return err;
      }
      return undefined;
    };
    const long = refusal('x'.repeat(MAX_PATTERN_LENGTH + 1));
    expect(long).toBeInstanceOf(GlobRuleError);
    expect(long).toMatchObject({
      rule: 'pattern-too-long',
      message: `the pattern is 256 characters, over the limit of ${MAX_PATTERN_LENGTH}`,
    });
    expect(refusal(`${'*a'.repeat(MAX_WILDCARDS + 1)}`)).toMatchObject({
      rule: 'too-many-wildcards',
      message: `the pattern has 33 * wildcards, over the limit of ${MAX_WILDCARDS}`,
    });
    expect(refusal('a/*.txt')).toMatchObject({ rule: 'bad-pattern' });
    expect(refusal('')).toMatchObject({ rule: 'bad-pattern' });
    // A run of stars counts once: 64 stars in a row are one wildcard.
    expect(refusal('*'.repeat(64))).toBeUndefined();
  });
});
