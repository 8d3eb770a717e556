// What a model call costs in USD, from its tokens, by model family: the same list prices Claude Code uses for its
// own cost_usd (checked against the recorded sessions in fixtures/otlp: e.g. sonnet 4.5, 200 in + 40 out + 1500
// cache-write = $0.006825; opus 4.8, 123 in + 45 out = $0.00174). Prices per million tokens:
// https://docs.anthropic.com/en/docs/about-claude/pricing. Long-context (over 200k input) surcharges are not
// applied. An unknown model is charged at the highest rates of the table (opus 4 / 4.1), flagged `known: false`:
// a budget in USD cannot be escaped by naming a model this table lacks, and the record says the price is a guess.

export interface Rates {
  input: number;
  output: number;
  cacheWrite: number;
  cacheRead: number;
}

export interface Price {
  usd: number;
  /** The family whose rates applied (`unknown` when none matched). */
  family: string;
  known: boolean;
}

const rates = (input: number, output: number): Rates => ({
  input,
  output,
  cacheWrite: input * 1.25,
  cacheRead: input * 0.1,
});

export const RATES = {
  'opus-4.5+': rates(5, 25),
  'opus-4': rates(15, 75),
  'opus-3': rates(15, 75),
  sonnet: rates(3, 15),
  'haiku-4.5+': rates(1, 5),
  'haiku-3.5': rates(0.8, 4),
  'haiku-3': rates(0.25, 1.25),
} as const satisfies Record<string, Rates>;

export type Family = keyof typeof RATES;
const HIGHEST: Family = 'opus-4';

/** The family of a model id: `claude-opus-4-5-20251101`, `claude-sonnet-4-5`, `claude-3-5-haiku-20241022`, ... */
export function modelFamily(model: string): Family | null {
  const m = model.toLowerCase();
  // New names: claude-{tier}-{major}[-{minor}] (a minor has 1-2 digits; a date has 8).
  const n = /claude-(opus|sonnet|haiku)-(\d+)(?:[-.](\d{1,2}))?(?!\d)/.exec(m);
  if (n) {
    const [, tier, major, minor] = n as unknown as [string, string, string, string | undefined];
    const version = Number(major) + Number(minor ?? 0) / 10;
    if (tier === 'sonnet') return 'sonnet';
    if (tier === 'opus') return version >= 4.5 ? 'opus-4.5+' : version >= 4 ? 'opus-4' : 'opus-3';
    return version >= 4.5 ? 'haiku-4.5+' : version >= 3.5 ? 'haiku-3.5' : 'haiku-3';
  }
  // Old names: claude-{major}[-{minor}]-{tier}.
  const o = /claude-(\d)(?:-(\d))?-(opus|sonnet|haiku)/.exec(m);
  if (o) {
    const [, major, minor, tier] = o as unknown as [string, string, string | undefined, string];
    if (tier === 'sonnet') return 'sonnet';
    if (tier === 'opus') return 'opus-3';
    return Number(major) + Number(minor ?? 0) / 10 >= 3.5 ? 'haiku-3.5' : 'haiku-3';
  }
  return null;
}

export function priceOf(
  model: string | null,
  t: { inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheCreationTokens: number },
): Price {
  const family = model ? modelFamily(model) : null;
  const r = RATES[family ?? HIGHEST];
  const usd =
    (t.inputTokens * r.input +
      t.outputTokens * r.output +
      t.cacheCreationTokens * r.cacheWrite +
      t.cacheReadTokens * r.cacheRead) /
    1_000_000;
  return { usd, family: family ?? 'unknown', known: family !== null };
}
