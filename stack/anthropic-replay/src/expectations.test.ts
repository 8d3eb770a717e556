import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { expectedTelemetry } from './expectations.ts';
import { parseSessionScript } from './session-script.ts';

describe('expectedTelemetry', () => {
  it('derives the demo session expectations from the script', () => {
    const file = fileURLToPath(new URL('../../../fixtures/sessions/demo.json', import.meta.url));
    const e = expectedTelemetry(parseSessionScript('demo', readFileSync(file, 'utf8')));
    expect(e).toEqual({
      modelCalls: 6,
      apiErrors: [],
      tokens: { input: 1835, output: 347, cacheRead: 18820, cacheCreation: 4070 },
      toolUses: ['Write', 'mcp__file-ops__read_file', 'mcp__database__query', 'Edit', 'Bash'],
      // Write of 6 lines ending in a newline counts 7 (observed with 2.1.197); the Edit replaces 1 line by 2.
      linesAdded: 9,
      linesRemoved: 1,
      processes: 1,
      compactions: 0,
      subagent: { modelCalls: 0, tokens: { input: 0, output: 0, cacheRead: 0, cacheCreation: 0 } },
      attempts: [],
    });
  });
});
