import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RECORDED_2_1_332, recordedLines } from '../../testing/recorded-otlp.ts';
import { REDACTED } from '../analysis/session-content.ts';
import { summarize } from '../analysis/summary.ts';
import { createScrubber } from './redact.ts';
import { contentFlags } from './stage-summary.ts';
import { stageTelemetry } from './stage-telemetry.ts';

const RETRY = RECORDED_2_1_332.retry.session;
const RAW = RECORDED_2_1_332['raw-bodies'].session;

/** A telemetry folder with the recorded retry session (prompts not logged) and raw-bodies one (logged). */
function telemetry(): string {
  const dir = mkdtempSync(join(tmpdir(), 'stage-telemetry-'));
  for (const signal of ['logs', 'traces'] as const)
    writeFileSync(
      join(dir, `${signal}.jsonl`),
      `${[...recordedLines('retry', signal), ...recordedLines('raw-bodies', signal)].join('\n')}\n`,
    );
  writeFileSync(join(dir, 'metrics.jsonl'), '');
  return dir;
}

async function stage() {
  const dir = mkdtempSync(join(tmpdir(), 'staging-'));
  const logs: string[] = [];
  const scrubber = createScrubber();
  const st = {
    dir,
    scrub: scrubber.scrub,
    missing: [],
    recordCounts: new Map(),
    log: (l: string) => logs.push(l),
  };
  const out = await stageTelemetry(st, telemetry(), new Set([RETRY, RAW]), { tornWaitMs: 0 });
  return { ...out, logs, scrubber, text: readFileSync(join(dir, 'otlp', 'logs.jsonl'), 'utf8') };
}

describe('stageTelemetry with raw API bodies (recorded with Claude Code 2.1.332)', () => {
  it('redacts the bodies of the session that did not log its prompts, keeps the others scrubbed', async () => {
    const x = await stage();
    // the retry session's prompt and answer are nowhere in the archive's events; the other's are, without keys
    expect(x.text).not.toContain('Say hello.');
    expect(x.text).not.toContain('Hello! The API was busy');
    expect(x.text).toContain('then say hello.');
    expect(x.text).not.toContain('sk-ant-api03-FAKE');
    expect(x.text).not.toContain('f3a9c1d27b8e4f60a5d3c2b1e0f9a8b7');
    expect(x.scrubber.counts['anthropic-api-key']).toBeGreaterThanOrEqual(3);
    // every line is still an export request; the records are those of the files, bodies redacted the same way
    const lines = x.text.trim().split('\n');
    expect(lines).toHaveLength(2);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    const bodies = x.records.events.filter((e) => e.name.endsWith('_body'));
    expect(bodies.map((e) => [e.session, e.attrs.body === REDACTED])).toEqual([
      [RETRY, true],
      [RETRY, true],
      [RETRY, true],
      [RAW, false],
      [RAW, false],
    ]);
    expect(x.logs.join('\n')).toContain('raw API bodies in 2 request(s); 3 redacted');
    expect(x.telemetry.logs).toMatchObject({ requests: 2, records: x.records.events.length });
  });

  it('makes the summary and the manifest say what the archive holds', async () => {
    const x = await stage();
    const of = (id: string) => ({
      sessionId: id,
      events: x.records.events.filter((e) => e.session === id),
      spans: x.records.spans.filter((s) => s.session === id),
      points: [],
      metadata: null,
    });
    expect(summarize(of(RETRY)).apiBodies).toEqual({ requests: 2, responses: 1, redacted: 3 });
    expect(summarize(of(RAW)).apiBodies).toEqual({ requests: 1, responses: 1, redacted: 0 });
    expect(contentFlags(x.records.events, x.records.spans)).toMatchObject({
      userPrompts: true,
      apiBodies: true,
    });
    const retryOnly = contentFlags(of(RETRY).events, of(RETRY).spans);
    expect(retryOnly).toMatchObject({ userPrompts: false, assistantResponses: false, apiBodies: false });
    expect(retryOnly.evidence).toEqual([]);
  });
});
