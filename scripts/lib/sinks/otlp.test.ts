import { describe, expect, it } from 'vitest';
import { recordedLine } from '../testing/fixture-telemetry.ts';
import {
  attributes,
  dataPoints,
  metricData,
  parseRequestLine,
  pruneRequest,
  SIGNALS,
  stringAttr,
  walk,
} from './otlp.ts';

const ID = '0aaaaaaa-0000-4000-8000-000000000001';
const req = (signal: (typeof SIGNALS)[number]) => JSON.parse(recordedLine(signal, 'rich', ID));

describe('the OTLP walker', () => {
  it('visits every item of each signal with its resource and scope', () => {
    for (const signal of SIGNALS) {
      const visits = [...walk(signal, req(signal))];
      expect(visits.length, signal).toBeGreaterThan(0);
      for (const v of visits) {
        expect(attributes(v.resource.attributes)['service.name'], signal).toBe('claude-code');
        expect(stringAttr(v.item, 'session.id'), signal).toBe(ID);
        expect(v.scope.name, signal).toBeTruthy();
      }
    }
  });

  it('gives each data point its metric and kind', () => {
    for (const v of dataPoints(req('metrics'))) {
      expect(v.metric.name).toMatch(/^claude_code\./);
      expect(metricData(v.metric)?.kind).toBe(v.kind);
    }
  });

  it('ignores what is not OTLP: missing arrays, other signals, junk', () => {
    expect([...walk('traces', {})]).toEqual([]);
    expect([...walk('traces', req('logs'))]).toEqual([]);
    expect([...walk('logs', { resourceLogs: 'nope' })]).toEqual([]);
    expect([
      ...walk('metrics', { resourceMetrics: [{ scopeMetrics: [{ metrics: [{ name: 'x' }] }] }] }),
    ]).toEqual([]);
  });
});

describe('pruneRequest', () => {
  it('keeps the chosen items with their resource, scope and metric; drops empty branches', () => {
    for (const signal of SIGNALS) {
      const all = [...walk(signal, req(signal))].length;
      const first = [...walk(signal, req(signal))][0]?.item;
      const kept = pruneRequest(
        signal,
        req(signal),
        (i) => i === first || JSON.stringify(i) === JSON.stringify(first),
      );
      expect(kept?.records, signal).toBe(1);
      const again = [...walk(signal, kept?.req ?? {})];
      expect(again.length, signal).toBe(1);
      expect(again[0]?.item, signal).toEqual(first);
      expect(attributes(again[0]?.resource.attributes)['service.name']).toBe('claude-code');
      expect(pruneRequest(signal, req(signal), () => true)?.records, signal).toBe(all);
      expect(
        pruneRequest(signal, req(signal), () => false),
        signal,
      ).toBeNull();
    }
  });
});

describe('parseRequestLine', () => {
  const whole = JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'a' }] }] }] });
  it('parses a whole line as it is', () => {
    expect(parseRequestLine(whole, 'traces')).toEqual({
      req: JSON.parse(whole),
      text: whole,
      cutShort: false,
    });
  });
  it('recovers the request a full disk glued to a partial one, and says one was cut short', () => {
    const glued = `${whole.slice(0, 30)}${whole}`;
    expect(parseRequestLine(glued, 'traces')).toEqual({
      req: JSON.parse(whole),
      text: whole,
      cutShort: true,
    });
    expect(parseRequestLine(glued)?.cutShort).toBe(true);
  });
  it('gives nothing for a torn last line or another signal', () => {
    expect(parseRequestLine(whole.slice(0, 40), 'traces')).toBeUndefined();
    expect(parseRequestLine(`${whole.slice(0, 30)}${whole}`, 'logs')).toBeUndefined();
  });
});

describe('plain values of hostile depth', () => {
  it('reads nested values to MAX_VALUE_DEPTH and says what it left out, instead of overflowing the stack', async () => {
    const { attributes, MAX_VALUE_DEPTH } = await import('./otlp.ts');
    type V = { kvlistValue?: { values: { key: string; value: V }[] }; stringValue?: string };
    let deep: V = { stringValue: 'bottom' };
    for (let i = 0; i < 20_000; i++) deep = { kvlistValue: { values: [{ key: 'k', value: deep }] } };
    const out = attributes([{ key: 'deep', value: deep }]);
    let v: unknown = out.deep;
    let levels = 0;
    while (v && typeof v === 'object') {
      v = (v as Record<string, unknown>).k;
      levels++;
    }
    expect(levels).toBe(MAX_VALUE_DEPTH);
    expect(v).toBe(`[nested deeper than ${MAX_VALUE_DEPTH} levels: not read]`);
    const shallow = attributes([
      { key: 'a', value: { kvlistValue: { values: [{ key: 'b', value: { stringValue: 'c' } }] } } },
    ]);
    expect(shallow).toEqual({ a: { b: 'c' } });
  });
});
