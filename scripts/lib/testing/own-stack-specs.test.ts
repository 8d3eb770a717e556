// A spec that starts a stack of its own must run in the e2e-own-stack or e2e-long project (OWN_STACK_SPECS,
// LONG_SPECS in vitest.config.ts), and one there must start its own: otherwise `pnpm test` runs it in the shared lane, beside
// the shared stack's specs, or a spec that needs the shared stack finds none (the own-stack project provides none).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LONG_SPECS, OWN_STACK_SPECS } from '../../../vitest.config.ts';
import { repoRoot } from '../repo-root.ts';

const specs = readdirSync(join(repoRoot, 'specs'))
  .filter((f) => f.endsWith('.spec.ts'))
  .map((f) => `specs/${f}`);
const text = (f: string) => readFileSync(join(repoRoot, f), 'utf8');
const startsOwnStack = (f: string) => /\bstartEphemeralStack\s*\(/.test(text(f));
const usesSharedStack = (f: string) =>
  /from '\.\/support\/stack\.ts'/.test(text(f)) && /\bstack\(\)/.test(text(f));

const ownStack = [...OWN_STACK_SPECS, ...LONG_SPECS];

describe('OWN_STACK_SPECS and LONG_SPECS', () => {
  it('see the specs', () => {
    expect(specs.length).toBeGreaterThan(20);
    for (const f of ownStack) expect(specs, `${f} is not a spec file`).toContain(f);
  });

  it('hold every spec that starts a stack of its own, and only those, each once', () => {
    expect(specs.filter(startsOwnStack).sort()).toEqual([...ownStack].sort());
    expect(new Set(ownStack).size).toBe(ownStack.length);
  });

  it('hold no spec that reads the shared stack', () => {
    expect(ownStack.filter(usesSharedStack)).toEqual([]);
  });
});
