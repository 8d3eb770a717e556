import { describe, expect, it } from 'vitest';
import { formatEnvFile, parseEnvFile, required } from './env-file.ts';

describe('parseEnvFile', () => {
  it('reads KEY=VALUE lines, skips comments and blanks, unquotes', () => {
    expect(parseEnvFile('# c\n\nA=1\nB="two words"\nC=\'x\'\nD=v # trailing\nE=\n')).toEqual({
      A: '1',
      B: 'two words',
      C: 'x',
      D: 'v',
      E: '',
    });
  });

  it('names the file and line of a malformed entry', () => {
    expect(() => parseEnvFile('A=1\nnot an assignment\n', 'stack/x.env')).toThrow(
      'stack/x.env:2: expected KEY=VALUE, got: not an assignment',
    );
  });

  it('round-trips what formatEnvFile writes', () => {
    const text = formatEnvFile({ A: 'a:1', B: 'b' }, ['header']);
    expect(text).toBe('# header\nA=a:1\nB=b\n');
    expect(parseEnvFile(text)).toEqual({ A: 'a:1', B: 'b' });
  });

  it('required() names the missing key and the file', () => {
    expect(() => required({}, 'NODE_VERSION')).toThrow('stack/versions.env has no NODE_VERSION');
  });
});
