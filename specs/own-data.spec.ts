// Recipe: the specs run on data of their own. Every folder of the e2e stack (telemetry, records, queues, the users'
// workspaces and their quota images, spools, revoked credentials) is under its own temporary folder, apart from the
// local stack's (stack/.env.local, or the defaults `pnpm stack:setup` would pick), so `pnpm test` beside a running
// stack never writes there: a session of the specs makes its user's workspace and record in the specs' folders,
// and the local stack's folders gain nothing of the specs' (global-setup.ts checks the whole run again at the end).
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { leftBySpecs, listFolders, localStackFolders, stackFolders } from './support/local-stack-folders.ts';
import { runStackSession, stack } from './support/stack.ts';

/** Whether `inner` is `outer` or inside it. */
const within = (inner: string, outer: string) => !relative(outer, inner).startsWith('..');

describe("the specs' own data", () => {
  it("keeps every folder of the e2e stack in its own data folder, none in or over the local stack's", () => {
    const e2eStack = stack();
    const local = localStackFolders();
    const specs = stackFolders(e2eStack.composeEnv);
    // The same folders as a stack of the user's: none forgotten (it would fall back to the local default).
    expect(Object.keys(specs)).toEqual(expect.arrayContaining(Object.keys(local)));
    expect(Object.keys(specs).length).toBeGreaterThanOrEqual(7);
    for (const [key, dir] of Object.entries(specs)) {
      expect(within(dir, e2eStack.dataDir), `${key} ${dir} in ${e2eStack.dataDir}`).toBe(true);
      for (const [localKey, localDir] of Object.entries(local)) {
        expect(within(dir, localDir), `${key} ${dir} inside the local ${localKey} ${localDir}`).toBe(false);
        expect(within(localDir, dir), `the local ${localKey} ${localDir} inside ${key} ${dir}`).toBe(false);
      }
    }
  });

  it("puts a session's workspace and record in the specs' folders; the local stack's gain nothing of theirs", async () => {
    const e2eStack = stack();
    const user = `own-data-${randomBytes(3).toString('hex')}`;
    const run = await runStackSession(e2eStack, { script: 'demo', user });
    expect(run.exitCode, run.output.slice(-1500)).toBe(0);
    const local = localStackFolders();
    const specs = stackFolders(e2eStack.composeEnv);
    // Where this session's things are, and are not.
    expect(existsSync(join(specs.WORKSPACES_DIR as string, user))).toBe(true);
    expect(existsSync(join(specs.SESSIONS_DIR as string, run.plan.sessionId))).toBe(true);
    expect(existsSync(join(specs.SESSION_REVOKED_DIR as string, run.plan.sessionId))).toBe(true);
    expect(existsSync(join(local.WORKSPACES_DIR as string, user))).toBe(false);
    expect(existsSync(join(local.SESSIONS_DIR as string, run.plan.sessionId))).toBe(false);
    // Nothing of any spec so far (the warm-up's user among them) came to the local stack's folders.
    const theirs = listFolders(specs);
    expect(theirs.WORKSPACES_DIR).toEqual(expect.arrayContaining(['warmup', user]));
    expect(leftBySpecs(inject('localStackBefore'), listFolders(local), theirs)).toEqual([]);
  });
});
