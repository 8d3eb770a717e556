import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeTree, PATH_ATTACKS } from '../test/test-tree.ts';
import {
  createSandbox,
  displayPath,
  isWithin,
  lexicalResolve,
  PathRuleError,
  redactRoots,
  resolveInSandbox,
  type Sandbox,
  userSandbox,
} from './path-rules.ts';

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
    // The message names the input as given, never the roots (unless the input did).
    if (!input.includes(tree.base)) expect((err as Error).message).not.toContain(tree.base);
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

describe('redactRoots: errors never show where the roots are', () => {
  const two: Sandbox = { roots: ['/srv/work', '/srv/work/nested/other', '/data'] };

  it('rewrites paths inside a root relative to it, the first root plain, others labelled', () => {
    expect(redactRoots(two, "ENOENT: no such file or directory, open '/srv/work/a/b.txt'")).toBe(
      "ENOENT: no such file or directory, open 'a/b.txt'",
    );
    expect(redactRoots(two, 'EACCES: permission denied, scandir /srv/work')).toBe(
      'EACCES: permission denied, scandir .',
    );
    expect(redactRoots(two, 'rename /srv/work/x -> /data/y/z')).toBe('rename x -> [root 3]/y/z');
    expect(redactRoots(two, "open '/srv/work/nested/other/f'")).toBe("open '[root 2]/f'");
  });

  it('leaves a sibling sharing a prefix, and anything else, alone', () => {
    expect(redactRoots(two, "open '/srv/work-evil/secret'")).toBe("open '/srv/work-evil/secret'");
    expect(redactRoots(two, '/etc/passwd is outside the allowed roots')).toBe(
      '/etc/passwd is outside the allowed roots',
    );
  });
});

describe('displayPath: results name paths relative to their root', () => {
  const roots: Sandbox = { roots: ['/srv/work', '/srv/work/nested/other', '/data'] };

  it('the first root plain, the others as [root N], the innermost root winning', () => {
    expect(displayPath(roots, '/srv/work')).toBe('.');
    expect(displayPath(roots, '/srv/work/a/b.txt')).toBe('a/b.txt');
    expect(displayPath(roots, '/data')).toBe('[root 3]');
    expect(displayPath(roots, '/data/y/z')).toBe('[root 3]/y/z');
    expect(displayPath(roots, '/srv/work/nested/other/f')).toBe('[root 2]/f');
    expect(displayPath(roots, '/srv/work/nested/f')).toBe('nested/f');
  });

  it('never shows a root, even for a path outside them all (last component only)', () => {
    expect(displayPath(roots, '/srv/work-evil/secret')).toBe('secret');
  });

  it('every name it gives leads back to the same path', () => {
    for (const p of ['/srv/work', '/srv/work/a/b.txt', '/data', '/data/y/z', '/srv/work/nested/other/f']) {
      expect(lexicalResolve(roots, displayPath(roots, p)), p).toBe(p);
    }
  });

  it('[root N] is only a label for an existing root after the first; it cannot climb out', () => {
    expect(lexicalResolve(roots, '[root 3]/../srv/work/x')).toBe('/srv/work/x'); // inside a root: allowed
    expect(() => lexicalResolve(roots, '[root 3]/../etc/passwd')).toThrow(PathRuleError);
    expect(() => lexicalResolve(roots, '[root 2]/../../../../etc')).toThrow('outside the allowed roots');
    expect(lexicalResolve(roots, '[root 1]/x')).toBe('/srv/work/[root 1]/x');
    expect(lexicalResolve(roots, '[root 4]/x')).toBe('/srv/work/[root 4]/x');
    expect(lexicalResolve({ roots: ['/srv/work'] }, '[root 2]/x')).toBe('/srv/work/[root 2]/x');
    expect(lexicalResolve(roots, '[root 3]x')).toBe('/srv/work/[root 3]x');
  });
});

describe('userSandbox', () => {
  it("confines a user's session to the user's folder of the first root, which must exist", async () => {
    const root = mkdtempSync(join(tmpdir(), 'workspaces-'));
    mkdirSync(join(root, 'alice'));
    mkdirSync(join(root, 'bob'));
    symlinkSync(join(root, 'bob'), join(root, 'mallory'));
    const base = await createSandbox([root]);
    const alice = await userSandbox(base, 'alice');
    expect(alice.roots).toEqual([join(base.roots[0] as string, 'alice')]);
    await expect(resolveInSandbox(alice, '../bob/secret.txt', { mustExist: false })).rejects.toThrow();
    await expect(
      resolveInSandbox(alice, join(base.roots[0] as string, 'bob'), { mustExist: false }),
    ).rejects.toThrow();
    await expect(userSandbox(base, 'carol')).rejects.toThrow(
      'no workspace for user carol: it is created when a session of carol starts',
    );
    await expect(userSandbox(base, 'mallory')).rejects.toThrow('no workspace for user mallory');
    await expect(userSandbox(base, '..')).rejects.toThrow('not a user name: ".."');
    await expect(userSandbox(base, 'a/b')).rejects.toThrow('not a user name');
  });
});
