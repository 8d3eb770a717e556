import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filterRequest, filterSignal } from './otlp-filter.ts';

const attr = (session: string) => [{ key: 'session.id', value: { stringValue: session } }];
const spans = (...sessions: string[]) => ({
  resourceSpans: [
    {
      resource: { attributes: [{ key: 'service.name', value: { stringValue: 'claude-code' } }] },
      scopeSpans: [
        {
          scope: { name: 's' },
          spans: sessions.map((s, i) => ({ name: `span-${s}-${i}`, attributes: attr(s) })),
        },
      ],
    },
  ],
});

describe('filterRequest', () => {
  it('keeps only the chosen sessions, with their resource and scope', () => {
    const kept = filterRequest('traces', spans('a', 'b', 'a'), new Set(['a']));
    expect(kept?.records).toBe(2);
    expect(JSON.stringify(kept?.req)).not.toContain('"b"');
    expect(kept?.req).toMatchObject({
      resourceSpans: [{ resource: { attributes: [{ key: 'service.name' }] } }],
    });
    expect(filterRequest('traces', spans('b'), new Set(['a']))).toBeNull();
  });

  it('filters metric data points of every kind and drops emptied metrics', () => {
    const req = {
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [
                {
                  name: 'm1',
                  sum: {
                    dataPoints: [{ attributes: attr('a') }, { attributes: attr('b') }],
                    isMonotonic: true,
                  },
                },
                { name: 'm2', histogram: { dataPoints: [{ attributes: attr('b') }] } },
              ],
            },
          ],
        },
      ],
    };
    const kept = filterRequest('metrics', req, new Set(['a']));
    expect(kept?.records).toBe(1);
    expect(kept?.req).toEqual({
      resourceMetrics: [
        {
          scopeMetrics: [
            {
              metrics: [{ name: 'm1', sum: { dataPoints: [{ attributes: attr('a') }], isMonotonic: true } }],
            },
          ],
        },
      ],
    });
  });
});

describe('filterSignal', () => {
  it('reads rotated backups then the current file, skips a torn last line, counts a corrupt one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otlp-'));
    writeFileSync(
      join(dir, 'traces-2026-11-23T10-00-00.000.jsonl'),
      `${JSON.stringify(spans('a'))}\n{broken\n${JSON.stringify(spans('b'))}\n`,
    );
    writeFileSync(join(dir, 'traces.jsonl'), `${JSON.stringify(spans('b', 'a'))}\n`);
    appendFileSync(join(dir, 'traces.jsonl'), JSON.stringify(spans('a')).slice(0, 40)); // the collector mid-write
    const out: string[] = [];
    const stats = await filterSignal(dir, 'traces', new Set(['a']), (l) => {
      out.push(l);
    });
    expect(stats).toMatchObject({
      linesRead: 5,
      requestsKept: 2,
      recordsKept: 2,
      tornLastLines: 1,
      corruptLines: 0,
    });
    expect(stats.files.map((f) => f.slice(dir.length + 1))).toEqual([
      'traces-2026-11-23T10-00-00.000.jsonl',
      'traces.jsonl',
    ]);
    expect(
      out.map((l) =>
        (JSON.parse(l) as ReturnType<typeof spans>).resourceSpans[0]?.scopeSpans[0]?.spans.map((s) => s.name),
      ),
    ).toEqual([['span-a-0'], ['span-a-1']]);
  });

  it('tells a torn last line from a corrupt one when they mention the session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otlp-'));
    writeFileSync(
      join(dir, 'logs.jsonl'),
      `{"session a broken\n${JSON.stringify({ resourceLogs: [] })}\n{"torn a`,
    );
    const stats = await filterSignal(dir, 'logs', new Set(['a']), () => {});
    expect(stats).toMatchObject({ corruptLines: 1, tornLastLines: 1, requestsKept: 0 });
  });
});
