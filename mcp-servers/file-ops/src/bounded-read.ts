// Reading a file without trusting its size: fstat says 0 for a file that is growing (or one the kernel makes up,
// like /proc), and readFile() then reads until end of file, however far that is. readAtMost reads at most
// limit + 1 bytes, so a caller knows "over the limit" without reading more than one byte past it.
import type { FileHandle } from 'node:fs/promises';

/** First read size when the file claims to be empty or small. */
const MIN_CHUNK = 16 * 1024;

/**
 * The bytes of `handle` from its start up to end of file or `limit + 1` bytes, whichever comes first. The buffer
 * starts at the size fstat gave (`sizeHint`) plus one and doubles, never past limit + 1.
 */
export async function readAtMost(
  handle: Pick<FileHandle, 'read'>,
  limit: number,
  sizeHint = 0,
): Promise<Buffer> {
  const cap = limit + 1;
  let buf = Buffer.allocUnsafe(Math.min(cap, Math.max(sizeHint + 1, MIN_CHUNK)));
  let total = 0;
  for (;;) {
    if (total === buf.length) {
      if (buf.length === cap) break;
      const bigger = Buffer.allocUnsafe(Math.min(cap, buf.length * 2));
      buf.copy(bigger, 0, 0, total);
      buf = bigger;
    }
    const { bytesRead } = await handle.read(buf, total, buf.length - total, total);
    if (bytesRead === 0) break;
    total += bytesRead;
  }
  return buf.subarray(0, total);
}
