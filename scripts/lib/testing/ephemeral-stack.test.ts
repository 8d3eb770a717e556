// An ephemeral stack's folder goes with it: its users' filesystems (mounted under its workspaces, as root) are
// unmounted first, so removing its files never reaches into a mount, and none stays behind. Real mounts (tmpfs),
// so it runs as root only, as the quotas do.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mountsUnder, removeDataDir } from './ephemeral-stack.ts';

const root = process.getuid?.() === 0;

describe.skipIf(!root)('removeDataDir', () => {
  it('unmounts the shared workspaces and each user filesystem under it, then removes the folder', () => {
    const base = mkdtempSync(join(tmpdir(), 'cct-stack-'));
    const workspaces = join(base, 'workspaces');
    const alice = join(workspaces, 'alice');
    mkdirSync(alice, { recursive: true });
    // As stack:setup and a session make them: the workspaces a shared bind of itself, a user's a filesystem.
    execFileSync('mount', ['--bind', workspaces, workspaces]);
    execFileSync('mount', ['--make-shared', workspaces]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', alice]);
    writeFileSync(join(alice, 'notes.txt'), 'x\n');
    expect(mountsUnder(base).sort()).toEqual([workspaces, alice].sort());
    removeDataDir(base);
    expect(mountsUnder(base)).toEqual([]);
    expect(existsSync(base)).toBe(false);
  });

  it('removes a folder with nothing mounted in it', () => {
    const base = mkdtempSync(join(tmpdir(), 'cct-stack-'));
    writeFileSync(join(base, 'file'), 'x');
    removeDataDir(base);
    expect(existsSync(base)).toBe(false);
  });
});
