// A wait's failure says what was awaited and for how long, once: waitFor adds "after N ms", so no caller writes it
// into its own message (they read "after 20000 ms after 20000 ms" when they did).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './repo-root.ts';
import { waitFor } from './wait-for.ts';

/** The .ts files under a folder of the repository (no node_modules). */
function sources(dir: string): string[] {
  return readdirSync(join(repoRoot, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.parentPath.includes('node_modules'))
    .map((e) => join(e.parentPath, e.name));
}

describe('waitFor', () => {
  it('fails naming what it waited for and how long, once, with the last error', async () => {
    let n = 0;
    const failure = await waitFor(
      'the answer never came',
      async () => {
        n++;
        throw new Error(`probe ${n} refused`);
      },
      { timeoutMs: 60, intervalMs: 10 },
    ).catch((e: Error) => e.message);
    expect(failure).toMatch(/^the answer never came after 60 ms \(last error: probe \d+ refused\)$/);
    expect(n).toBeGreaterThan(1);
  });

  it('returns the first value the probe gives', async () => {
    let n = 0;
    expect(await waitFor('three probes', async () => (++n === 3 ? n : undefined), { intervalMs: 1 })).toBe(3);
  });

  it('is never told "after N ms" by a caller (it says so itself)', () => {
    const doubled: string[] = [];
    for (const file of [...sources('specs'), ...sources('scripts')])
      for (const m of readFileSync(file, 'utf8').matchAll(/waitFor(?:<[^>]*>)?\(\s*(`[^`]*`|'[^']*')/g))
        if (/after \S+ ?ms\W*$/.test(m[1] as string)) doubled.push(`${file}: ${m[1]}`);
    expect(doubled).toEqual([]);
  });
});
