// The bench export's session requests: copies of one recorded request must differ as a real session's do (else
// the export keeps them once, as resends), keep their span tree, and the check must notice a lost, a foreign or a
// repeated request.
import { describe, expect, it } from 'vitest';
import { recordedLine } from '../../lib/testing/fixture-telemetry.ts';
import { compareRequests, requestKey, sessionRequest, varyHex } from './session-requests.ts';

const ID = 'b3ec5e55-1111-4222-8333-444455556666';
const SIGNALS = ['traces', 'metrics', 'logs'] as const;

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  startTimeUnixNano: string;
}
const spans = (line: string): Span[] =>
  (JSON.parse(line) as { resourceSpans: { scopeSpans: { spans: Span[] }[] }[] }).resourceSpans.flatMap((r) =>
    r.scopeSpans.flatMap((s) => s.spans),
  );

describe('sessionRequest', () => {
  it.each(SIGNALS)('%s: copies are all different lines, copy 0 is the recording', (signal) => {
    const line = recordedLine(signal, 'rich', ID);
    const copies = Array.from({ length: 50 }, (_, n) => sessionRequest(line, n));
    expect(copies[0]).toBe(line);
    expect(new Set(copies).size).toBe(50);
    expect(new Set(copies.map(requestKey)).size).toBe(50);
    for (const c of copies) expect(c).toContain(ID);
  });

  it('shifts every timestamp by a minute per copy and keeps the span tree', () => {
    const line = recordedLine('traces', 'rich', ID);
    const [a, b] = [spans(line), spans(sessionRequest(line, 3))];
    expect(b).toHaveLength(a.length);
    a.forEach((s, i) => {
      const t = b[i] as Span;
      expect(BigInt(t.startTimeUnixNano) - BigInt(s.startTimeUnixNano)).toBe(180_000_000_000n);
      expect(t.spanId).not.toBe(s.spanId);
      expect(t.spanId).toHaveLength(s.spanId.length);
      expect(t.traceId).toMatch(/^[0-9a-f]{32}$/);
    });
    // a parent in the request is still the parent of the same children
    const ids = new Set(a.map((s) => s.spanId));
    const idsB = new Set(b.map((s) => s.spanId));
    a.forEach((s, i) => {
      if (s.parentSpanId && ids.has(s.parentSpanId)) expect(idsB.has(b[i]?.parentSpanId ?? '')).toBe(true);
    });
  });

  it('shifts event.timestamp with timeUnixNano', () => {
    const copy = sessionRequest(recordedLine('logs', 'rich', ID), 2);
    expect(copy).toContain('"stringValue":"2026-11-23T21:21:23.046Z"');
  });

  it('refuses a copy number that is not a whole number >= 0', () => {
    expect(() => sessionRequest('{}', -1)).toThrow(/copy must be/);
    expect(() => sessionRequest('{}', 1.5)).toThrow(/copy must be/);
  });

  it('varyHex: distinct copies give distinct ids of the same length', () => {
    const id = '811f6f3a0f9fcbd9';
    const out = Array.from({ length: 1000 }, (_, n) => varyHex(id, n));
    expect(new Set(out).size).toBe(1000);
    for (const x of out) expect(x).toMatch(/^811f6f3a[0-9a-f]{8}$/);
  });
});

describe('compareRequests: the check of pnpm bench export', () => {
  const line = recordedLine('logs', 'rich', ID);
  const placed = Array.from({ length: 5 }, (_, n) => sessionRequest(line, n));
  // the archive writes each request re-serialized, its attribute values possibly redacted
  const archived = (l: string) => JSON.stringify(JSON.parse(l)).replaceAll('"dumb"', '"<REDACTED>"');

  it.each([
    ['every one, once', placed.map(archived), { missing: 0, unexpected: 0, repeated: 0 }],
    ['one dropped', placed.slice(1).map(archived), { missing: 1, unexpected: 0, repeated: 0 }],
    ['one twice', [...placed, placed[2] as string].map(archived), { missing: 0, unexpected: 0, repeated: 1 }],
    [
      'one of another session instead',
      [...placed.slice(0, 4), sessionRequest(line, 9)].map(archived),
      { missing: 1, unexpected: 1, repeated: 0 },
    ],
    ['byte-identical copies kept once', [archived(line)], { missing: 4, unexpected: 0, repeated: 0 }],
  ])('%s', (_, got, want) => {
    expect(compareRequests(placed, got)).toEqual(want);
  });
});
