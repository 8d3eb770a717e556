// Prices against what Claude Code itself reported: every api_request event of the recorded sessions
// (fixtures/otlp/*-logs.jsonl) has the model, the four token counts and Claude Code's cost_usd; the gateway's
// price for the same tokens must be the same.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { modelFamily, priceOf } from './pricing.ts';

const dir = join(import.meta.dirname, '../../../fixtures/otlp');
type Attr = { key: string; value: Record<string, unknown> };
const recorded = readdirSync(dir)
  .filter((f) => f.endsWith('-logs.jsonl'))
  .flatMap((f) =>
    readFileSync(join(dir, f), 'utf8')
      .split('\n')
      .filter(Boolean)
      .flatMap((line) =>
        (JSON.parse(line).resourceLogs ?? []).flatMap(
          (rl: { scopeLogs: { logRecords: { attributes: Attr[] }[] }[] }) =>
            rl.scopeLogs.flatMap((sl) =>
              sl.logRecords.map((r) =>
                Object.fromEntries(r.attributes.map((a) => [a.key, Object.values(a.value)[0]])),
              ),
            ),
        ),
      )
      .filter((a) => a.cost_usd !== undefined)
      .map((a) => ({ file: f, ...a })),
  );

describe('priceOf', () => {
  it('matches Claude Code cost_usd for every recorded model call', () => {
    expect(recorded.length).toBeGreaterThan(10);
    for (const a of recorded) {
      const p = priceOf(String(a.model), {
        inputTokens: Number(a.input_tokens),
        outputTokens: Number(a.output_tokens),
        cacheReadTokens: Number(a.cache_read_tokens),
        cacheCreationTokens: Number(a.cache_creation_tokens),
      });
      expect(p.known, String(a.model)).toBe(true);
      expect(p.usd, `${a.file} ${a.model}`).toBeCloseTo(Number(a.cost_usd), 12);
    }
  });

  it('names families of current and older model ids', () => {
    const table: [string, string | null][] = [
      ['claude-opus-4-5-20251101', 'opus-4.5+'],
      ['claude-opus-4-8', 'opus-4.5+'],
      ['claude-opus-4-1-20250805', 'opus-4'],
      ['claude-opus-4-20250514', 'opus-4'],
      ['claude-sonnet-4-5-20250929', 'sonnet'],
      ['claude-sonnet-4-20250514', 'sonnet'],
      ['claude-haiku-4-5', 'haiku-4.5+'],
      ['claude-3-5-haiku-20241022', 'haiku-3.5'],
      ['claude-3-haiku-20240307', 'haiku-3'],
      ['claude-3-7-sonnet-latest', 'sonnet'],
      ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'sonnet'],
      ['gpt-4o', null],
      ['', null],
    ];
    for (const [model, family] of table) expect(modelFamily(model), model).toBe(family);
  });

  it('charges an unknown model at the highest rates and says the price is a guess', () => {
    const t = { inputTokens: 1_000_000, outputTokens: 0, cacheReadTokens: 0, cacheCreationTokens: 0 };
    expect(priceOf('mystery-model', t)).toEqual({ usd: 15, family: 'unknown', known: false });
    expect(priceOf(null, t).known).toBe(false);
    expect(priceOf('claude-sonnet-4-5', t)).toEqual({ usd: 3, family: 'sonnet', known: true });
  });
});
