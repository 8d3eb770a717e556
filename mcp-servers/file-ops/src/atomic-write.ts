// Writing a file so that a reader sees the old content or the new, never part of it, and so that nothing is written
// through a symlink: write_file and edit_file (lib.ts) write a new temp file beside the target, then rename it over.
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * Atomic write: a new temp file (O_EXCL, so never through a symlink) in the target's folder, then rename. A call
 * whose `signal` aborted (its time budget ran out: the client was told it was refused) does not rename: the temp
 * file is removed and the target left as it was.
 */
export async function atomicWrite(target: string, content: string, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(
    tmp,
    constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
    0o644,
  );
  try {
    await fh.writeFile(content, 'utf8');
    await fh.sync();
  } catch (err) {
    await fh.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await fh.close();
  try {
    signal?.throwIfAborted();
    // rename replaces a symlink at the target itself; it never writes through it.
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
