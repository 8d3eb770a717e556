// A query runner's settings: the defaults, and what a write runner always has.
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_DATABASE_BYTES } from './db.ts';
import { QUICK_MS } from './quick-queries.ts';
import { runnerSettings } from './runner-options.ts';
import { DEFAULT_MAX_WORKER_RSS_BYTES } from './worker-memory.ts';

describe('runnerSettings', () => {
  it('fills in the defaults of a read runner', () => {
    expect(runnerSettings({ file: 'f', timeoutMs: 5000, workers: 4 })).toEqual({
      mode: 'read',
      file: 'f',
      timeoutMs: 5000,
      workers: 4,
      maxWorkers: 8,
      maxWaitMs: 30_000,
      retireAfterMs: 30_000,
      quickLimitMs: 1000,
      quickMs: QUICK_MS,
      maxWorkerRssBytes: DEFAULT_MAX_WORKER_RSS_BYTES,
      maxDatabaseBytes: DEFAULT_MAX_DATABASE_BYTES,
      log: undefined,
    });
  });

  it('keeps maxWorkers at least workers, and the quick limit at most the time limit', () => {
    const s = runnerSettings({ file: 'f', timeoutMs: 200, workers: 4, maxWorkers: 2, quickLimitMs: 500 });
    expect(s).toMatchObject({ maxWorkers: 4, quickLimitMs: 200 });
  });

  it('gives a write runner one worker, whatever it is asked', () => {
    const s = runnerSettings({ file: 'f', mode: 'write', timeoutMs: 5000, workers: 4, maxWorkers: 8 });
    expect(s).toMatchObject({ mode: 'write', workers: 1, maxWorkers: 1 });
  });
});
