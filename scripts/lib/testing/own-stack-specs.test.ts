// A spec that starts a stack of its own must run in the e2e-own-stack project (OWN_STACK_SPECS in
// vitest.config.ts), and one there must start its own: otherwise `pnpm test` runs it in the shared lane, beside
// the shared stack's specs, or a spec that needs the shared stack finds none (the own-stack project provides none).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OWN_STACK_SPECS } from '../../../vitest.config.ts';
import { repoRoot } from '../repo-root.ts';

const specs = readdirSync(join(repoRoot, 'specs'))
  .filter((f) => f.endsWith('.spec.ts'))
  .map((f) => `specs/${f}`);
const text = (f: string) => readFileSync(join(repoRoot, f), 'utf8');
const startsOwnStack = (f: string) => /\bstartEphemeralStack\s*\(/.test(text(f));
const usesSharedStack = (f: string) =>
  /from '\.\/support\/stack\.ts'/.test(text(f)) && /\bstack\(\)/.test(text(f));

describe('OWN_STACK_SPECS', () => {
  it('sees the specs', () => {
    expect(specs.length).toBeGreaterThan(20);
    for (const f of OWN_STACK_SPECS) expect(specs, `${f} is not a spec file`).toContain(f);
  });

  it('holds every spec that starts a stack of its own, and only those', () => {
    expect(specs.filter(startsOwnStack).sort()).toEqual([...OWN_STACK_SPECS].sort());
  });

  it('holds no spec that reads the shared stack', () => {
    expect(OWN_STACK_SPECS.filter(usesSharedStack)).toEqual([]);
  });
});
