// atomicWrite: the new content or the old, never through a symlink, and nothing left behind when its call aborted.
import {
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atomicWrite } from './atomic-write.ts';
import { createSandbox, type Sandbox } from './path-rules.ts';
import { type Bound, openDirectory } from './sandbox-fd.ts';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'atomic-write-')));
let sandbox: Sandbox;
let folder: Bound;
beforeAll(async () => {
  sandbox = await createSandbox([dir]);
  folder = await openDirectory(sandbox, dir, '.');
});
afterAll(async () => {
  await folder?.fh.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('atomicWrite', () => {
  it('writes a new file, then replaces it, leaving no temp file', async () => {
    await atomicWrite(sandbox, folder, 'new.txt', 'one\n');
    await atomicWrite(sandbox, folder, 'new.txt', 'two\n');
    expect(readFileSync(join(dir, 'new.txt'), 'utf8')).toBe('two\n');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('replaces a symlink at the target itself, never the file it points to', async () => {
    writeFileSync(join(dir, 'pointed.txt'), 'kept\n');
    symlinkSync('pointed.txt', join(dir, 'link.txt'));
    await atomicWrite(sandbox, folder, 'link.txt', 'replaced\n');
    expect(lstatSync(join(dir, 'link.txt')).isFile()).toBe(true);
    expect(readFileSync(join(dir, 'link.txt'), 'utf8')).toBe('replaced\n');
    expect(readFileSync(join(dir, 'pointed.txt'), 'utf8')).toBe('kept\n');
  });

  it('takes one name, never a path: a name with / is refused before anything is written', async () => {
    const before = readdirSync(dir).sort();
    for (const name of ['../escape.txt', 'a/b', '..', '.', ''])
      await expect(atomicWrite(sandbox, folder, name, 'x')).rejects.toThrow('not a single path component');
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it('an aborted call changes nothing: no temp file, the target as it was', async () => {
    const target = join(dir, 'kept.txt');
    writeFileSync(target, 'before\n');
    const before = readdirSync(dir).sort();
    await expect(
      atomicWrite(sandbox, folder, 'kept.txt', 'after\n', AbortSignal.abort(new Error('over budget'))),
    ).rejects.toThrow('over budget');
    // Aborts at its second check, once the temp file is written: no rename, the temp file removed.
    let checks = 0;
    const late = {
      throwIfAborted() {
        if (++checks >= 2) throw new Error('over budget during the write');
      },
    } as unknown as AbortSignal;
    await expect(atomicWrite(sandbox, folder, 'kept.txt', 'after\n', late)).rejects.toThrow(
      'over budget during the write',
    );
    expect(readFileSync(target, 'utf8')).toBe('before\n');
    expect(readdirSync(dir).sort()).toEqual(before);
  });
});
