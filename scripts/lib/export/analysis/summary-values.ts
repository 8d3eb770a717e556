// The small values every part of a session summary is made of: attribute values read as numbers and booleans,
// latency quantiles, cost sums without float noise, and the entries of the report's timeline.
import type { Value } from '../../sinks/otlp-records.ts';

export interface Latency {
  count: number;
  meanMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  maxMs: number | null;
}

export interface TimelineEntry {
  /** retry: failed attempts before a model call succeeded; error: a model call that failed for good. */
  kind: 'prompt' | 'model' | 'tool' | 'error' | 'retry' | 'subagent' | 'hook';
  name: string;
  start: number;
  end: number;
  ok: boolean;
  detail: string;
}

/** An attribute as a number (Claude Code sends some numbers as strings); 0 when absent or not a number. */
export const num = (v: Value | undefined): number =>
  typeof v === 'number' ? v : typeof v === 'string' ? Number(v) || 0 : 0;

export const truthy = (v: Value | undefined): boolean => v === true || v === 'true';

/** Rounds away float noise (sums of many small costs), not precision. */
export const roundNoise = (x: number): number => Math.round(x * 1e10) / 1e10;

export function latency(values: number[]): Latency {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] ?? null;
  return {
    count: sorted.length,
    meanMs: sorted.length ? Math.round((sorted.reduce((a, b) => a + b, 0) / sorted.length) * 10) / 10 : null,
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    maxMs: sorted.at(-1) ?? null,
  };
}
