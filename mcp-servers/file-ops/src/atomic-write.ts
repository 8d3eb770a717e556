// Writing a file so that a reader sees the old content or the new, never part of it, and so that nothing is written
// through a symlink nor outside the sandbox: write_file and edit_file (lib.ts) write a new temp file in the target's
// folder, opened and bound beforehand (sandbox-fd.ts), then rename it over the target, both named through the
// folder's descriptor: a folder swapped for a symlink meanwhile cannot redirect either.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Sandbox } from './path-rules.ts';
import { at, type Bound, openFileAt, sayError } from './sandbox-fd.ts';

/**
 * Atomic write of `name` in the bound folder `dir`: a new temp file (O_EXCL | O_NOFOLLOW, so never through a
 * symlink) beside it, then rename. A call whose `signal` aborted (its time budget ran out: the client was told it
 * was refused) does not rename: the temp file is removed and the target left as it was. `shown` names the target
 * in errors.
 */
export async function atomicWrite(
  sandbox: Sandbox,
  dir: Bound,
  name: string,
  content: string,
  signal?: AbortSignal,
  shown = name,
): Promise<void> {
  signal?.throwIfAborted();
  const target = at(dir, name);
  const tmpName = `.${name}.${randomBytes(6).toString('hex')}.tmp`;
  const tmp = at(dir, tmpName);
  const file = await openFileAt(
    sandbox,
    dir,
    tmpName,
    `the temp file of ${shown}`,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL,
    0o644,
  );
  try {
    await file.fh.writeFile(content, 'utf8');
    await file.fh.sync();
  } catch (err) {
    await file.fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await file.fh.close();
  try {
    signal?.throwIfAborted();
    // rename replaces a symlink at the target itself; it never writes through it.
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw sayError(err, shown, 'replace');
  }
}
