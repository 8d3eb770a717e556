import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cacheFile, loadCached, runsOf, saveCached, selectRuns } from './compat-cache.ts';
import { complete, run } from './compat-test-data.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'compat-cache-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const cell = { kind: 'demo', protocol: 'grpc', config: 'env' };

describe('the compat cache', () => {
  it('keeps the measured runs of a release, not the unmeasured ones, and reads them back', () => {
    const dir = tmp();
    expect(loadCached(dir, '2.1.332')).toBeNull();
    saveCached(dir, {
      release: '2.1.332',
      imageSeconds: 3,
      runs: [
        run('2.1.332', complete(), { attempt: 1 }),
        run('2.1.332', undefined, { attempt: 2, unmeasured: 'the session never started' }),
      ],
    });
    const back = loadCached(dir, '2.1.332');
    expect(back?.runs.map((r) => r.attempt)).toEqual([1]);
    expect(runsOf(back, cell)).toHaveLength(1);
    expect(runsOf(back, { ...cell, config: 'managed' })).toHaveLength(0);
  });

  it('names a file that is not a cache and how to get past it', () => {
    const dir = tmp();
    writeFileSync(cacheFile(dir, '2.1.1'), '{"release":"2.1.2","runs":[]}');
    expect(() => loadCached(dir, '2.1.1')).toThrow(/holds no runs of 2.1.1: remove it or run with --fresh/);
    writeFileSync(cacheFile(dir, '2.1.1'), 'not json');
    expect(() => loadCached(dir, '2.1.1')).toThrow(/is not a compat cache/);
    expect(() => cacheFile(dir, '../x')).toThrow(/named by a release/);
    expect(readFileSync(cacheFile(dir, '2.1.1'), 'utf8')).toBe('not json');
  });

  it('reports the planned cells only, at most N measured runs each, in attempt order', () => {
    const input = {
      release: '2.1.332',
      imageSeconds: 0,
      runs: [
        run('2.1.332', complete(), { attempt: 3 }),
        run('2.1.332', complete(), { attempt: 1 }),
        run('2.1.332', complete(), { attempt: 2 }),
        run('2.1.332', complete(), { session: 'hooks' }),
      ],
    };
    expect(selectRuns(input, [cell], 2).runs.map((r) => `${r.session} ${r.attempt}`)).toEqual([
      'demo 1',
      'demo 2',
    ]);
  });
});
