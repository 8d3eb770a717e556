import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadSessionScripts } from './session-script.ts';

describe('fixtures/sessions', () => {
  it('every session script is valid, and the demo exists', () => {
    const { scripts, invalid } = loadSessionScripts(
      fileURLToPath(new URL('../../../fixtures/sessions', import.meta.url)),
    );
    expect(Object.fromEntries(invalid)).toEqual({});
    expect([...scripts.keys()]).toContain('demo');
  });
});
