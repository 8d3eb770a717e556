// The bounded listing: at most `limit` names, sorted by code unit, described without following a symlink, and
// mapBounded's bound on the lstat calls in flight.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listEntries, mapBounded } from './list-entries.ts';

const dir = mkdtempSync(join(tmpdir(), 'list-entries-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('listEntries', () => {
  it('describes each entry, sorted by code unit (not locale order); a symlink is not followed', async () => {
    const d = join(dir, 'kinds');
    mkdirSync(join(d, 'b-dir'), { recursive: true });
    writeFileSync(join(d, 'a.txt'), 'hello');
    writeFileSync(join(d, 'B.txt'), '');
    symlinkSync('a.txt', join(d, 'c-link'));
    expect(await listEntries(d, 10)).toEqual({
      entries: [
        { name: 'B.txt', type: 'file', size: 0 },
        { name: 'a.txt', type: 'file', size: 5 },
        { name: 'b-dir', type: 'directory', size: 0 },
        { name: 'c-link', type: 'symlink', size: 0 },
      ],
      truncated: false,
    });
  });

  it('reads at most `limit` names, then says truncated', async () => {
    const d = join(dir, 'many');
    mkdirSync(d);
    for (let i = 0; i < 20; i++) writeFileSync(join(d, `f${i}`), '');
    const { entries, truncated } = await listEntries(d, 5);
    expect(truncated).toBe(true);
    expect(entries).toHaveLength(5);
    expect(entries.map((e) => e.name)).toEqual(entries.map((e) => e.name).sort());
    expect(await listEntries(d, 20)).toMatchObject({ truncated: false });
  });

  it('stops when its signal aborts', async () => {
    const d = join(dir, 'aborted');
    mkdirSync(d);
    writeFileSync(join(d, 'x'), '');
    await expect(listEntries(d, 10, AbortSignal.abort(new Error('over budget')))).rejects.toThrow(
      'over budget',
    );
  });
});

describe('mapBounded', () => {
  it('keeps the order, with at most `concurrency` calls in flight', async () => {
    let inFlight = 0;
    let most = 0;
    const out = await mapBounded([5, 1, 4, 2, 3, 0], 2, async (n) => {
      most = Math.max(most, ++inFlight);
      await new Promise((resolve) => setTimeout(resolve, n));
      inFlight--;
      return n * 10;
    });
    expect(out).toEqual([50, 10, 40, 20, 30, 0]);
    expect(most).toBe(2);
  });

  it('starts no call once its signal has aborted', async () => {
    let calls = 0;
    const abort = new AbortController();
    const run = mapBounded(
      [1, 2, 3, 4],
      1,
      async () => {
        calls++;
        abort.abort(new Error('over budget'));
      },
      abort.signal,
    );
    await expect(run).rejects.toThrow('over budget');
    expect(calls).toBe(1);
  });
});
