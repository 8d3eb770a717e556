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

const A = '11111111-1111-4111-8111-111111111111';
const B = '22222222-2222-4222-8222-222222222222';
const ids = (n: number) =>
  Array.from({ length: n }, (_, i) => `${String(i).padStart(8, '0')}-0000-4000-8000-000000000000`);

/** The reference: parse every line of every file, keep the chosen sessions' spans. */
/** A full parse of every line; a line identical to one kept before is a resend, kept once. */
function referenceFilter(lines: string[], sessions: Set<string>): string[] {
  const seen = new Set<string>();
  return lines.flatMap((l) => {
    const kept = filterRequest('traces', JSON.parse(l), sessions);
    if (kept && seen.has(l)) return [];
    if (kept) seen.add(l);
    return kept ? [JSON.stringify(kept.req)] : [];
  });
}

async function run(dir: string, sessions: Set<string>, chunkBytes?: number) {
  const out: string[] = [];
  const stats = await filterSignal(
    dir,
    'traces',
    sessions,
    (l) => {
      out.push(l.trimEnd());
    },
    { chunkBytes, tornWaitMs: 0 },
  );
  return { out, stats };
}

describe('filterSignal', () => {
  it('reads rotated backups then the current file, keeps a torn last line out, counts a corrupt one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otlp-'));
    writeFileSync(
      join(dir, 'traces-2026-11-23T10-00-00.000.jsonl'),
      `${JSON.stringify(spans(A))}\n{broken ${A}\n${JSON.stringify(spans(B))}\n`,
    );
    writeFileSync(join(dir, 'traces.jsonl'), `${JSON.stringify(spans(B, A))}\n`);
    appendFileSync(join(dir, 'traces.jsonl'), JSON.stringify(spans(A)).slice(0, 200)); // the collector mid-write
    const { out, stats } = await run(dir, new Set([A]));
    expect(stats).toMatchObject({ requestsKept: 2, recordsKept: 2, tornLastLines: 1, corruptLines: 1 });
    expect(stats.files.map((f) => f.slice(dir.length + 1))).toEqual([
      'traces-2026-11-23T10-00-00.000.jsonl',
      'traces.jsonl',
    ]);
    expect(
      out.map((l) =>
        (JSON.parse(l) as ReturnType<typeof spans>).resourceSpans[0]?.scopeSpans[0]?.spans.map((s) => s.name),
      ),
    ).toEqual([[`span-${A}-0`], [`span-${A}-1`]]);
  });

  it('keeps a resent request once, also across a rotation, and counts it; a different request stays', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otlp-'));
    const resent = JSON.stringify(spans(A, B));
    writeFileSync(join(dir, 'traces-2026-11-23T10-00-00.000.jsonl'), `${resent}\n${resent}\n`);
    writeFileSync(join(dir, 'traces.jsonl'), `${resent}\n${JSON.stringify(spans(A))}\n`);
    const { out, stats } = await run(dir, new Set([A]));
    expect(stats).toMatchObject({ requestsKept: 2, recordsKept: 2, duplicateRequests: 2 });
    expect(out).toHaveLength(2);
  });

  it('recovers a request glued to one a full disk cut short, and counts the loss', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otlp-'));
    const cut = JSON.stringify(spans(A, B)).slice(0, 120); // a write cut short by ENOSPC: no newline
    writeFileSync(join(dir, 'traces.jsonl'), `${cut}${JSON.stringify(spans(A))}\n`);
    const { out, stats } = await run(dir, new Set([A]));
    expect(stats).toMatchObject({ requestsKept: 1, recordsKept: 1, cutShortLines: 1, corruptLines: 0 });
    expect(out).toEqual([JSON.stringify(spans(A))]);
  });

  it('keeps a last line that is complete but for its newline', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otlp-'));
    writeFileSync(join(dir, 'traces.jsonl'), JSON.stringify(spans(A)));
    const { stats } = await run(dir, new Set([A]));
    expect(stats).toMatchObject({ requestsKept: 1, tornLastLines: 0, corruptLines: 0 });
  });

  it('finds what a full parse finds, across chunk boundaries, by id or by attribute search', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otlp-'));
    const all = ids(20);
    const lines: string[][] = [[], [], []];
    // lines of every size, mixing sessions, spread over two rotated backups and the current file
    for (let i = 0; i < 300; i++) {
      const sessions = Array.from(
        { length: 1 + (i % 7) },
        (_, k) => all[(i * 3 + k * 5) % all.length] as string,
      );
      (lines[i % 3] as string[]).push(JSON.stringify(spans(...sessions)));
    }
    writeFileSync(
      join(dir, 'traces-2026-11-23T10-00-00.000.jsonl'),
      `${(lines[0] as string[]).join('\n')}\n`,
    );
    writeFileSync(
      join(dir, 'traces-2026-11-23T11-00-00.000.jsonl'),
      `${(lines[1] as string[]).join('\n')}\n`,
    );
    writeFileSync(join(dir, 'traces.jsonl'), `${(lines[2] as string[]).join('\n')}\n`);
    const inOrder = [...(lines[0] as string[]), ...(lines[1] as string[]), ...(lines[2] as string[])];
    for (const chosen of [new Set(all.slice(3, 5)), new Set(all.slice(0, 12))]) {
      const expected = referenceFilter(inOrder, chosen);
      expect(expected.length).toBeGreaterThan(10);
      for (const chunk of [300, 4096, undefined]) {
        const { out, stats } = await run(dir, chosen, chunk);
        expect(out, `${chosen.size} sessions, chunks of ${chunk ?? 'default'} bytes`).toEqual(expected);
        expect(stats.corruptLines + stats.tornLastLines).toBe(0);
      }
    }
  });

  it('tells a torn last line from a corrupt one when they mention the session', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otlp-'));
    writeFileSync(
      join(dir, 'logs.jsonl'),
      `{"session ${A} broken\n${JSON.stringify({ resourceLogs: [] })}\n{"torn ${A}`,
    );
    const stats = await filterSignal(dir, 'logs', new Set([A]), () => {}, { tornWaitMs: 0 });
    expect(stats).toMatchObject({ corruptLines: 1, tornLastLines: 1, requestsKept: 0 });
  });

  it('waits for a half-written last line to be completed by the writer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'otlp-'));
    const line = JSON.stringify(spans(A));
    writeFileSync(join(dir, 'traces.jsonl'), line.slice(0, 50));
    setTimeout(() => appendFileSync(join(dir, 'traces.jsonl'), `${line.slice(50)}\n`), 300);
    const out: string[] = [];
    const stats = await filterSignal(dir, 'traces', new Set([A]), (l) => {
      out.push(l);
    });
    expect(stats).toMatchObject({ requestsKept: 1, tornLastLines: 0 });
    expect(out).toHaveLength(1);
  });

  it('reads nothing for no session, and nothing from a missing folder', async () => {
    expect((await run(join(tmpdir(), 'no-such-telemetry'), new Set([A]))).stats.files).toEqual([]);
  });
});
