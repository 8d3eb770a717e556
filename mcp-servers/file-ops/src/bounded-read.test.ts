// readAtMost never reads more than one byte past the limit, whatever fstat said: a file that grows while it is
// read (fstat said 0) costs limit + 1 bytes, not everything a writer appends.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAtMost } from './bounded-read.ts';

const dir = mkdtempSync(join(tmpdir(), 'bounded-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A "file" that never ends (a writer keeps appending), counting the bytes asked for. */
function endless() {
  let asked = 0;
  let reads = 0;
  return {
    handle: {
      read: async (buffer: Buffer, offset: number, length: number) => {
        asked += length;
        reads++;
        buffer.fill(0x61, offset, offset + length);
        return { bytesRead: length, buffer };
      },
    } as unknown as Parameters<typeof readAtMost>[0],
    asked: () => asked,
    reads: () => reads,
  };
}

describe('readAtMost', () => {
  it('an endless file that says it is empty: exactly limit + 1 bytes read, no more asked for', async () => {
    for (const limit of [0, 1, 100, 16 * 1024, 1024 * 1024]) {
      const f = endless();
      const buf = await readAtMost(f.handle, limit, 0);
      expect(buf.length, `limit ${limit}`).toBe(limit + 1);
      expect(f.asked(), `limit ${limit}`).toBe(limit + 1);
      expect(f.reads(), `limit ${limit}`).toBeLessThan(20); // grows by doubling, not byte by byte
    }
  });

  it('reads a real file whole, whatever size hint it gets, up to the limit', async () => {
    const content = Buffer.from('0123456789'.repeat(10_000)); // 100,000 bytes
    writeFileSync(join(dir, 'f'), content);
    const fh = await open(join(dir, 'f'));
    try {
      for (const hint of [0, 10, content.length, content.length * 2]) {
        expect((await readAtMost(fh, content.length, hint)).equals(content), `hint ${hint}`).toBe(true);
      }
      const over = await readAtMost(fh, 1000, 0);
      expect(over.length).toBe(1001);
      expect(over.equals(content.subarray(0, 1001))).toBe(true);
    } finally {
      await fh.close();
    }
  });
});
