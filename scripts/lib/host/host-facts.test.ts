import { describe, expect, it } from 'vitest';
import { firstLine, parseOsRelease } from './host-facts.ts';

describe('parseOsRelease', () => {
  it('reads quoted and bare values', () => {
    const os = parseOsRelease(
      'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_CODENAME=bookworm\n\n# c\n',
    );
    expect(os).toEqual({
      PRETTY_NAME: 'Debian GNU/Linux 12 (bookworm)',
      ID: 'debian',
      VERSION_CODENAME: 'bookworm',
    });
  });
});

describe('firstLine', () => {
  it('skips blank lines and trims', () => {
    expect(firstLine('\n  Cannot connect \nmore')).toBe('Cannot connect');
    expect(firstLine('  \n')).toBeNull();
  });
});
