import { existsSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareUserWorkspace } from './prepare-user-workspace.ts';

describe('prepareUserWorkspace', () => {
  it("makes the user's folder under the workspaces, and only for a user name", () => {
    const dir = mkdtempSync(join(tmpdir(), 'workspaces-'));
    const ids = { uid: process.getuid?.() ?? 1000, gid: process.getgid?.() ?? 1000 };
    const made = prepareUserWorkspace(dir, 'alice@example.org', ids);
    expect(made).toBe(join(dir, 'alice@example.org'));
    expect(statSync(made).isDirectory()).toBe(true);
    expect(prepareUserWorkspace(dir, 'alice@example.org', ids)).toBe(made);
    for (const bad of ['.', '..', '../x', 'a/b', '', 'x'.repeat(65)]) {
      expect(() => prepareUserWorkspace(dir, bad, ids)).toThrow(
        `not a user name for a workspace: ${JSON.stringify(bad)}`,
      );
    }
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});
