// The smoke list's promise: every command the README names is run by CI, either as a phase of .ci/run or by
// `node scripts/smoke.ts`; every verb's and benchmark's --help is in the list; CI runs the smoke and every
// benchmark's quick mode where the stack is (or is not) up; a failing command is a failure.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../repo-root.ts';
import { renderStream } from '../session/stream-render.ts';
import { chooseGroup, cmdline, smokeCommands, verdict } from './commands.ts';

const read = (f: string) => readFileSync(join(repoRoot, f), 'utf8');
const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
const benches = readdirSync(join(repoRoot, 'scripts/bench'))
  .filter((f) => f.endsWith('.ts'))
  .map((f) => f.slice(0, -3));
const list = smokeCommands(scripts, benches);
const lines = list.map(cmdline);
const ci = read('.ci/run');

/** README commands CI does not run, and why. */
const NOT_RUN: Record<string, string> = {
  format: 'rewrites files; `pnpm lint` runs the same checks',
  doctor: "pnpm's own built-in; the README says to use `pnpm run doctor`",
  install: "pnpm's own",
  'test:unit': 'part of `pnpm test`',
  'test:e2e': 'part of `pnpm test`',
  'test:scaled': 'part of `pnpm test` (lane scaled)',
};

describe('smoke list', () => {
  it('has the --help of every verb in package.json and of every benchmark', () => {
    for (const [name, body] of Object.entries(scripts))
      if (/^node scripts\//.test(body) && name !== 'bootstrap')
        expect(lines.some((l) => l.endsWith(`${name} --help`))).toBe(true);
    for (const b of benches) expect(lines).toContain(`pnpm bench ${b} --help`);
    expect(benches).toEqual(expect.arrayContaining(['e2e', 'export', 'load', 'mcp', 'gateway']));
  });

  it("has the issue's commands, in the right group", () => {
    const needs = (l: string) => list.find((c) => cmdline(c) === l)?.needs;
    expect(needs('pnpm compat --dry-run')).toBe('checkout');
    expect(needs('pnpm usage --help')).toBe('checkout');
    expect(needs('pnpm export list')).toBe('stack');
    expect(needs('pnpm stack:status')).toBe('stack');
  });

  it('every `pnpm X` the README names is run by .ci/run or by the smoke', () => {
    const named = new Set(
      [...read('README.md').matchAll(/`(?:sudo )?pnpm (?:run )?([a-z][\w:-]*)/g)].map((m) => m[1] as string),
    );
    const uncovered = [...named].filter(
      (n) =>
        !NOT_RUN[n] &&
        !new RegExp(`pnpm (run )?${n}\\b`).test(ci) &&
        !lines.some((l) => new RegExp(`^pnpm (run )?${n}\\b`).test(l)),
    );
    expect(uncovered).toEqual([]);
  });

  it('wants a session read as a person reads it, and --json as the raw stream (on recorded streams)', () => {
    const rendered = list.find((c) => cmdline(c) === 'pnpm session --script demo --user smoke');
    const json = list.find((c) => cmdline(c) === 'pnpm session --script hooks --user smoke --json');
    const demo = read('fixtures/streams/demo.jsonl');
    const hooks = read('fixtures/streams/hooks.jsonl');
    expect(rendered && verdict(rendered, 0, renderStream(demo))).toBeNull();
    expect(rendered && verdict(rendered, 0, demo)).toMatch(/lacks/);
    expect(json && verdict(json, 0, hooks)).toBeNull();
    expect(json && verdict(json, 0, renderStream(hooks))).toMatch(/lacks/);
  });

  it('chooses a group: --stack, --no-stack, or all', () => {
    expect(chooseGroup(list, true).every((c) => c.needs === 'stack')).toBe(true);
    expect(chooseGroup(list, false).every((c) => c.needs === 'checkout')).toBe(true);
    expect(chooseGroup(list, undefined)).toHaveLength(list.length);
    expect(chooseGroup(list, true).length + chooseGroup(list, false).length).toBe(list.length);
  });

  it.each([
    [0, 'Usage: pnpm x', null],
    [1, 'Usage: pnpm x', 'exit 1'],
    [null, '', 'exit signal'],
    [0, 'nothing useful', 'its output lacks /usage/i'],
  ])('a --help that exits %s saying %j: %s', (code, output, want) => {
    const c = list.find((x) => cmdline(x) === 'pnpm usage --help');
    expect(c && verdict(c, code, output)).toBe(want);
  });
});

describe('.ci/run', () => {
  const at = (pattern: RegExp) => {
    const i = ci.split('\n').findIndex((l) => pattern.test(l) && !l.trimStart().startsWith('#'));
    expect(i, `no line of .ci/run matches ${pattern}`).toBeGreaterThanOrEqual(0);
    return i;
  };

  it("runs the stack's smoke while its stack is up, the rest without", () => {
    const check = at(/^phase stack-check /);
    const down = at(/^phase stack-down /);
    const stackSmoke = at(/scripts\/smoke\.ts --stack\b/);
    expect(stackSmoke).toBeGreaterThan(check);
    expect(stackSmoke).toBeLessThan(down);
    expect(at(/scripts\/smoke\.ts --no-stack\b/)).toBeGreaterThan(at(/^phase install /));
  });

  it("runs every benchmark's quick mode, after the images are built", () => {
    const images = at(/^phase images /);
    for (const b of benches) expect(at(new RegExp(`bench ${b} --quick`))).toBeGreaterThan(images);
  });
});
