// The attack table of sandbox-fd.ts: what a folder swapped for a symlink AFTER path-rules.ts checked it could make
// a path lead to. Each path here is handed to the primitives as if it had passed that check, and must be refused
// once opened, with an error naming the path as the client gave it and never where it led. Then FIFOs and devices
// through the tools, and the start-up refusal without /proc/self/fd.
import { execFileSync, spawnSync } from 'node:child_process';
import { constants, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTree } from '../test/test-tree.ts';
import { DEFAULT_LIMITS, editFile, type FileOps, readTextFile, writeTextFile } from './lib.ts';
import { createSandbox, PathRuleError, type Sandbox } from './path-rules.ts';
import {
  at,
  type Bound,
  insideRoots,
  openDirectory,
  openDirectoryAt,
  openFileAt,
  openParent,
  requireProcFd,
} from './sandbox-fd.ts';

const tree = makeTree();
mkdirSync(join(tree.outside, 'sub'));
let sandbox: Sandbox;
let rootDir: Bound;
beforeAll(async () => {
  sandbox = await createSandbox([tree.root]);
  rootDir = await openDirectory(sandbox, tree.root, '.');
});
afterAll(() => rootDir?.fh.close());

const R = () => tree.root;
const RDONLY = constants.O_RDONLY | constants.O_NONBLOCK;
/** [what, the path as the client gave it, the open, the rule]. */
const ATTACKS: [string, string, () => Promise<unknown>, string][] = [
  [
    'a symlink in the middle, to a folder outside',
    'link-out/sub',
    () => openDirectory(sandbox, `${R()}/link-out/sub`, 'link-out/sub'),
    'symlink-escape',
  ],
  [
    'the folder itself swapped for a symlink outside',
    'link-out',
    () => openDirectory(sandbox, `${R()}/link-out`, 'link-out'),
    'symlink-escape',
  ],
  [
    'a symlink to /proc/self, then a folder in it',
    'link-proc/fd',
    () => openDirectory(sandbox, `${R()}/link-proc/fd`, 'link-proc/fd'),
    'symlink-escape',
  ],
  [
    '/proc/self/environ: the folder of the file',
    'link-proc/environ',
    () => openParent(sandbox, `${R()}/link-proc/environ`, 'link-proc/environ'),
    'symlink-escape',
  ],
  [
    'a symlink to a sibling user folder sharing the prefix',
    'link-evil/secret.txt',
    () => openParent(sandbox, `${R()}/link-evil/secret.txt`, 'link-evil/secret.txt'),
    'symlink-escape',
  ],
  [
    'a sibling user folder, opened itself',
    'link-evil',
    () => openDirectory(sandbox, `${R()}/link-evil`, 'link-evil'),
    'symlink-escape',
  ],
  [
    'a symlink up and out (../../..)',
    'nested/deeper/link-up/outside',
    () => openDirectory(sandbox, `${R()}/nested/deeper/link-up/outside`, 'nested/deeper/link-up/outside'),
    'symlink-escape',
  ],
  [
    '.. out of the root',
    'sub/../..',
    () => openDirectory(sandbox, `${R()}/sub/../..`, 'sub/../..'),
    'symlink-escape',
  ],
  ['an absolute path outside', '/etc', () => openDirectory(sandbox, '/etc', '/etc'), 'symlink-escape'],
  [
    '/ through a symlink',
    'link-slash/etc',
    () => openDirectory(sandbox, `${R()}/link-slash/etc`, 'link-slash/etc'),
    'symlink-escape',
  ],
  [
    'the devices through a symlink: /dev/null',
    'link-dev/null',
    () => openParent(sandbox, `${R()}/link-dev/null`, 'link-dev/null'),
    'symlink-escape',
  ],
  [
    'a file swapped for a symlink outside',
    'link-file',
    () => openFileAt(sandbox, rootDir, 'link-file', 'link-file', RDONLY),
    'symlink-escape',
  ],
  [
    'a file swapped for a symlink inside: not followed either',
    'link-inside',
    () => openFileAt(sandbox, rootDir, 'link-inside', 'link-inside', RDONLY),
    'symlink-escape',
  ],
  [
    'a folder swapped for a symlink, opened through its bound parent',
    'link-out',
    () => openDirectoryAt(sandbox, rootDir, 'link-out', 'link-out'),
    'symlink-escape',
  ],
  ['a folder gone meanwhile', 'gone', () => openDirectory(sandbox, `${R()}/gone`, 'gone'), 'not-found'],
  [
    'a folder replaced by a file',
    'hello.txt',
    () => openDirectory(sandbox, `${R()}/hello.txt`, 'hello.txt'),
    'not-a-directory',
  ],
];

describe('sandbox-fd refuses, once opened, where a swapped path leads', () => {
  it.each(ATTACKS)('%s: %s -> %s', async (_what, shown, attempt, rule) => {
    const err = await attempt().then(
      (b) => {
        void (b as Bound).fh?.close();
        return new Error(`accepted ${shown}`);
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(PathRuleError);
    expect((err as PathRuleError).rule).toBe(rule);
    expect((err as Error).message).toContain(shown);
    // Never where it led: neither the outside folders nor /proc.
    for (const where of [tree.outside, tree.evil, '/proc/', '/dev/'])
      expect((err as Error).message).not.toContain(where);
  });

  it('binds what is inside, to its real path; a root itself only as a folder', async () => {
    const file = await openFileAt(sandbox, rootDir, 'hello.txt', 'hello.txt', RDONLY);
    expect(file.real).toBe(join(tree.root, 'hello.txt'));
    expect(await file.fh.readFile('utf8')).toBe('hello\n');
    await file.fh.close();
    const sub = await openDirectoryAt(sandbox, rootDir, 'sub', 'sub');
    expect(sub.real).toBe(join(tree.root, 'sub'));
    await sub.fh.close();
    expect(rootDir.real).toBe(tree.root);
    await expect(openParent(sandbox, tree.root, '.')).rejects.toMatchObject({ rule: 'root-itself' });
  });

  it('takes a single name inside a bound folder, never a path', () => {
    for (const name of ['', '.', '..', '../outside', 'sub/x', 'a\0b'])
      expect(() => at(rootDir, name), JSON.stringify(name)).toThrow('not a single path component');
    expect(at(rootDir, 'x')).toBe(`/proc/self/fd/${rootDir.fh.fd}/x`);
  });

  it('compares real paths as strings: a sibling sharing the prefix is outside', () => {
    const roots = ['/ws/alice'];
    expect(insideRoots(roots, '/ws/alice/x', false)).toBe(true);
    expect(insideRoots(roots, '/ws/alice', false)).toBe(false);
    expect(insideRoots(roots, '/ws/alice', true)).toBe(true);
    expect(insideRoots(roots, '/ws/alice-evil/x', true)).toBe(false);
    expect(insideRoots(roots, '/ws/bob/x', true)).toBe(false);
    expect(insideRoots(roots, '/proc/123/environ', true)).toBe(false);
    expect(insideRoots(['/'], '/anything', false)).toBe(true);
  });

  it('refuses a folder whose real path the kernel cannot give (past PATH_MAX): unverifiable', async () => {
    const name = 'd'.repeat(250);
    const script = `for (let i = 0; i < 20; i++) { fs.mkdirSync('${name}'); process.chdir('${name}'); }`;
    const made = spawnSync(process.execPath, ['-e', script], { cwd: tree.root });
    expect(made.status, made.stderr.toString()).toBe(0);
    let dir = await openDirectoryAt(sandbox, rootDir, name, name);
    let err: unknown;
    for (let i = 1; i < 20 && !err; i++) {
      const next = await openDirectoryAt(sandbox, dir, name, `deep ${i}`).catch((e: unknown) => {
        err = e;
        return dir;
      });
      if (next !== dir) await dir.fh.close();
      dir = next;
    }
    await dir.fh.close();
    spawnSync('rm', ['-rf', join(tree.root, name)]);
    expect(err).toBeInstanceOf(PathRuleError);
    expect((err as PathRuleError).rule).toBe('unverifiable');
    expect((err as Error).message).toMatch(/^where deep \d+ was opened cannot be checked \(ENAMETOOLONG\)/);
  });
});

describe('FIFOs and devices inside the sandbox, through the tools', () => {
  let ops: FileOps;
  let device = false;
  beforeAll(() => {
    ops = { sandbox, limits: DEFAULT_LIMITS };
    execFileSync('mkfifo', [join(tree.root, 'pipe')]);
    // A device node needs CAP_MKNOD; without it, only the FIFO is tried (and the test says so).
    device = spawnSync('mknod', [join(tree.root, 'null-device'), 'c', '1', '3']).status === 0;
    if (!device) console.log('mknod refused here: the device rows are not run');
  });

  it.each(['pipe', 'null-device'])(
    '%s: read, edit and write refused (not-a-file), nothing opened or replaced',
    async (name) => {
      if (name === 'null-device' && !device) return;
      for (const attempt of [
        () => readTextFile(ops, name),
        () => editFile(ops, name, [{ oldText: 'a', newText: 'b' }], false),
        () => writeTextFile(ops, name, 'x'),
      ]) {
        await expect(attempt()).rejects.toMatchObject({
          rule: 'not-a-file',
          message: expect.stringContaining(name),
        });
      }
      // A FIFO opened through the fd layer with O_NONBLOCK returns at once (no writer needed): inside, so bound.
      const fifo = await openFileAt(sandbox, rootDir, name, name, RDONLY);
      expect((await fifo.fh.stat()).isFile()).toBe(false);
      await fifo.fh.close();
    },
  );

  it('the outside secret is as it was', () => {
    expect(readFileSync(join(tree.outside, 'secret.txt'), 'utf8')).toBe('secret');
  });
});

describe('requireProcFd', () => {
  it('refuses to start without /proc/self/fd, saying why', () => {
    expect(() => requireProcFd('/no/such/proc/self/fd')).toThrow(
      '/no/such/proc/self/fd does not exist: mcp-file-ops binds each file operation to its sandbox through it, so it runs on Linux with /proc mounted only',
    );
    expect(() => requireProcFd()).not.toThrow();
  });
});
