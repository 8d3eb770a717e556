import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cached, goSources, sha256 } from './input-stamp.ts';

describe('input stamps', () => {
  it('builds once, then skips while inputs and output stay; rebuilds when either changes', async () => {
    const ctx = mkdtempSync(join(tmpdir(), 'stamp-'));
    let builds = 0;
    const build = async () => {
      builds++;
      writeFileSync(join(ctx, 'out'), String(builds));
    };
    expect(await cached(ctx, 'out', ['go1.26', 'v1'], build)).toBe('built');
    expect(await cached(ctx, 'out', ['go1.26', 'v1'], build)).toBe('cached');
    expect(await cached(ctx, 'out', ['go1.26', 'v2'], build)).toBe('built');
    rmSync(join(ctx, 'out'));
    expect(await cached(ctx, 'out', ['go1.26', 'v2'], build)).toBe('built');
    expect(builds).toBe(3);
  });

  it('does not stamp a failed build', async () => {
    const ctx = mkdtempSync(join(tmpdir(), 'stamp-'));
    await expect(
      cached(ctx, 'out', ['x'], async () => {
        writeFileSync(join(ctx, 'out'), 'half');
        throw new Error('compile error');
      }),
    ).rejects.toThrow('compile error');
    let built = false;
    expect(
      await cached(ctx, 'out', ['x'], async () => {
        built = true;
      }),
    ).toBe('built');
    expect(built).toBe(true);
  });

  it('hashes parts with separators, and Go sources by name and content', () => {
    expect(sha256(['ab', 'c'])).not.toBe(sha256(['a', 'bc']));
    const dir = mkdtempSync(join(tmpdir(), 'gomod-'));
    writeFileSync(join(dir, 'main.go'), 'package main');
    writeFileSync(join(dir, 'go.mod'), 'module x');
    writeFileSync(join(dir, 'README.md'), 'ignored');
    const before = sha256(goSources(dir));
    writeFileSync(join(dir, 'README.md'), 'still ignored');
    expect(sha256(goSources(dir))).toBe(before);
    writeFileSync(join(dir, 'main.go'), 'package main // changed');
    expect(sha256(goSources(dir))).not.toBe(before);
  });
});
