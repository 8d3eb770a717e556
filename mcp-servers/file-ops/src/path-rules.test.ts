import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSandbox, isWithin, PathRuleError, resolveInSandbox, type Sandbox } from './path-rules.ts';
import { makeTree, PATH_ATTACKS } from './test-tree.ts';

const tree = makeTree();
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await createSandbox([tree.root]);
});

describe('resolveInSandbox refuses path attacks, naming the rule', () => {
  it('has at least 20 attacks', () => {
    expect(PATH_ATTACKS(tree).length).toBeGreaterThanOrEqual(20);
  });

  it.each(PATH_ATTACKS(tree))('%j (must exist: %s) -> %s', async (input, mustExist, rule) => {
    const err = await resolveInSandbox(sandbox, input, { mustExist }).then(
      (p) => new Error(`accepted ${JSON.stringify(input)} as ${p}`),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PathRuleError);
    expect((err as PathRuleError).rule).toBe(rule);
  });
});

describe('resolveInSandbox accepts what is inside', () => {
  it('resolves relative and absolute paths inside the root', async () => {
    expect(await resolveInSandbox(sandbox, 'hello.txt', { mustExist: true })).toBe(
      join(tree.root, 'hello.txt'),
    );
    expect(await resolveInSandbox(sandbox, join(tree.root, 'sub/../hello.txt'), { mustExist: true })).toBe(
      join(tree.root, 'hello.txt'),
    );
  });

  it('follows a symlink that stays inside, to its real path', async () => {
    expect(await resolveInSandbox(sandbox, 'link-inside', { mustExist: true })).toBe(
      join(tree.root, 'hello.txt'),
    );
  });

  it('places a new file under its nearest existing ancestor', async () => {
    expect(await resolveInSandbox(sandbox, 'sub/a/b/new.txt', { mustExist: false })).toBe(
      join(tree.root, 'sub/a/b/new.txt'),
    );
  });

  it('refuses the root itself unless allowed', async () => {
    await expect(resolveInSandbox(sandbox, '.', { mustExist: true })).rejects.toMatchObject({
      rule: 'root-itself',
    });
    expect(await resolveInSandbox(sandbox, '.', { mustExist: true, allowRoot: true })).toBe(tree.root);
  });

  it('knows a sibling prefix is not inside', () => {
    expect(isWithin('/workspace', '/workspace-evil/x')).toBe(false);
    expect(isWithin('/workspace', '/workspace/x')).toBe(true);
    expect(isWithin('/workspace', '/workspace')).toBe(true);
    expect(isWithin('/workspace', '/workspace/..x')).toBe(true);
  });

  it('refuses a missing root at startup, with its path', async () => {
    await expect(createSandbox([join(tree.base, 'nope')])).rejects.toThrow(
      `root directory ${join(tree.base, 'nope')} does not exist`,
    );
    await expect(createSandbox([])).rejects.toThrow('no root directory configured');
  });
});
