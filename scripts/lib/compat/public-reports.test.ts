import { describe, expect, it } from 'vitest';
import { buildReport, type CompatRun } from './compat-matrix.ts';
import { complete, expected, META, run } from './compat-test-data.ts';
import { PUBLIC_REPORTS, publicVerdicts } from './public-reports.ts';

const verdict = (runs: CompatRun[], id: number) =>
  publicVerdicts(
    buildReport(
      [...new Set(runs.map((r) => r.release))].map((release) => ({
        release,
        imageSeconds: 0,
        runs: runs.filter((r) => r.release === release),
      })),
      META,
    ),
  ).find((v) => v.id === id);

const silent = () => {
  const o = complete();
  o.fileRecords = { traces: 4, metrics: 0, logs: 3 };
  o.metrics = {};
  return o;
};

describe('the public reports against the matrix', () => {
  it('lists every report of the issue and the project-label asks, each with a predicate', () => {
    expect(PUBLIC_REPORTS.map((p) => p.id).sort((a, b) => a - b)).toEqual([
      29826, 31587, 50567, 52353, 53959, 56317, 66401, 71312, 71447, 72500, 80745, 81991, 83430, 87991, 89406,
      91165, 92776,
    ]);
  });

  it('#50567: reproduced by the cell of the release it names that sent no metric, not by a later one', () => {
    const v = verdict(
      [run('2.1.112', complete()), run('2.1.113', silent()), run('2.1.332', complete())],
      50567,
    );
    expect(v).toMatchObject({ status: 'reproduced', cell: '2.1.113 demo grpc env' });
    expect(v?.detail).toContain('no metric point reached the collector in 1 run(s)');
    expect(verdict([run('2.1.332', complete())], 50567)).toMatchObject({
      status: 'not reproduced',
      detail: 'none shows it; the release(s) it names not measured here: 2.1.113',
    });
  });

  it('names every release that shows a report, and the named ones measured that do not', () => {
    const v = verdict(
      [run('2.1.112', silent()), run('2.1.113', silent()), run('2.1.332', complete())],
      50567,
    );
    expect(v).toMatchObject({ status: 'reproduced', cell: '2.1.113 demo grpc env' });
    expect(v?.detail).toContain('; shown on 2.1.112, 2.1.113');
    expect(v?.detail).not.toContain('not on');
    const older = verdict([run('2.1.112', silent()), run('2.1.113', complete())], 50567);
    expect(older).toMatchObject({ status: 'reproduced', cell: '2.1.112 demo grpc env' });
    expect(older?.detail).toContain('; not on 2.1.113, the release(s) it names');
  });

  it("#53959: read from the -p kind's own inventory, per release", () => {
    const withActive = complete();
    withActive.metrics['claude_code.active_time.total'] = ['type'];
    withActive.backends.prometheus.push('claude_code_active_time_seconds_total');
    expect(verdict([run('2.1.112', complete()), run('2.1.332', withActive)], 53959)).toMatchObject({
      status: 'reproduced',
      cell: 'demo inventory on 2.1.112',
    });
    expect(verdict([run('2.1.332', withActive)], 53959)?.status).toBe('not reproduced');
  });

  it('#81991 and #92776: a long session with more, or fewer, tokens than its script', () => {
    const more = complete();
    more.totals.tokens = { input: 300, output: 20, cacheRead: 0, cacheCreation: 0 };
    const longRun = (o = complete()) => run('2.1.220', o, { session: 'long' });
    expect(verdict([longRun(more)], 81991)).toMatchObject({
      status: 'reproduced',
      cell: '2.1.220 long grpc env',
    });
    expect(verdict([longRun(more)], 92776)?.status).toBe('not reproduced');
    expect(verdict([longRun()], 81991)?.status).toBe('not reproduced');
    expect(verdict([run('2.1.220', complete())], 81991)).toMatchObject({
      status: 'not testable',
      detail: 'not measured in this matrix: no long cell',
    });
  });

  it('#83430: a subagent session whose usage is not attributed', () => {
    const o = complete();
    o.tokensBySource = { main: 120 };
    const r = run('2.1.220', o, { session: 'subagent', expected: { ...expected, subagentTokens: 20 } });
    expect(verdict([r], 83430)).toMatchObject({ status: 'reproduced', cell: '2.1.220 subagent grpc env' });
    o.tokensBySource = { main: 100, subagent: 20 };
    expect(verdict([r], 83430)?.status).toBe('not reproduced');
  });

  it('#87991 and #71447: resource attributes lost, or metrics stopped, with 13 entries', () => {
    const o = complete();
    o.resource = ['service.name', 'user.name', ...Array.from({ length: 13 }, (_, i) => `k${i + 1}`)];
    const attrs = (x = o) => run('2.1.332', x, { session: 'attrs13' });
    expect(verdict([attrs()], 87991)?.status).toBe('not reproduced');
    expect(verdict([attrs()], 71447)?.status).toBe('not reproduced');
    const cut = { ...complete(), resource: ['service.name', 'user.name', 'k1'] };
    expect(verdict([attrs(cut)], 87991)).toMatchObject({
      status: 'reproduced',
      detail: expect.stringContaining('k13'),
    });
    expect(verdict([attrs(silent())], 71447)?.status).toBe('reproduced');
  });

  it('#72500 and the project-label asks are not testable as breakages here', () => {
    expect(verdict([run('2.1.332', complete())], 72500)?.status).toBe('not testable');
    expect(verdict([run('2.1.332', complete())], 29826)?.status).toBe('not testable');
  });
});
