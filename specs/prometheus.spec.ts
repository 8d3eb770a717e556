// Recipe: Prometheus 3 with metrics pushed over OTLP. A session run with delta temporality (Claude Code's default)
// gives the same totals as the script, as a cumulative one does (the collector's deltatocumulative); the metric
// names are the ones the dashboard and users know; and Prometheus's own web UI, opened in headless Chromium on a
// session's token query, renders the result (DOM, and a screenshot in test-results/prometheus-ui.png).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../scripts/lib/repo-root.ts';
import { dataPoints, stringAttr } from '../scripts/lib/sinks/otlp.ts';
import { promQuery } from '../scripts/lib/sinks/prometheus.ts';
import {
  SESSION_METRICS,
  sessionTokens,
  sessionTotalQuery,
  sessionTotals,
} from '../scripts/lib/sinks/session-totals.ts';
import { exportRequests, signalFiles } from '../scripts/lib/sinks/telemetry-files.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { renderedDom, requireChromium, screenshot } from './support/chromium.ts';
import { countColor, decodePng } from './support/png.ts';
import { expectedFor, runStackSession, stack } from './support/stack.ts';

/** The aggregation temporalities of a session's token usage sums in the telemetry files. */
async function temporalities(id: string): Promise<Set<number>> {
  const seen = new Set<number>();
  for (const file of signalFiles(stack().telemetryDir, 'metrics'))
    for await (const req of exportRequests(file))
      for (const v of dataPoints(req))
        if (v.metric.name === 'claude_code.token.usage' && stringAttr(v.item, 'session.id') === id)
          seen.add(
            Number((v.metric.sum as { aggregationTemporality?: number } | undefined)?.aggregationTemporality),
          );
  return seen;
}

/**
 * A session of this spec's own, once its token totals are in Prometheus. Not the warm-up session: the metric-name
 * check below is an instant query, which sees a series only for 5 minutes after its last sample.
 */
let fresh: string;
beforeAll(async () => {
  const run = await runStackSession(stack(), { script: 'demo', user: 'prometheus-spec' });
  expect(run.exitCode, run.output.slice(-1500)).toBe(0);
  fresh = run.plan.sessionId;
  const want = expectedFor('demo').tokens;
  await waitFor(
    `Prometheus's token totals of session ${fresh} never matched the script`,
    async () => (isDeepStrictEqual(await sessionTokens(stack().prometheus, fresh), want) ? true : undefined),
    { timeoutMs: 60_000, intervalMs: 500 },
  );
}, 180_000);

describe('Prometheus 3, metrics pushed over OTLP', () => {
  it('gives a delta-temporality session the same totals as its script (and as a cumulative one)', async () => {
    const e2eStack = stack();
    const expected = expectedFor('demo');
    const want = {
      tokens: expected.tokens,
      sessions: 1,
      linesAdded: expected.linesAdded,
      linesRemoved: expected.linesRemoved,
    };
    const runs = await Promise.all(
      ['delta', 'cumulative'].map((t) =>
        runStackSession(
          e2eStack,
          { script: 'demo', user: `temporality-${t}` },
          {
            OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: t,
          },
        ),
      ),
    );
    const got = [];
    for (const run of runs) {
      expect(run.exitCode, run.output.slice(-1500)).toBe(0);
      got.push(
        await waitFor(
          `the totals of session ${run.plan.sessionId} never matched the script`,
          async () => {
            const t = await sessionTotals(e2eStack.prometheus, run.plan.sessionId);
            const { cost: _, ...rest } = t;
            return JSON.stringify(rest) === JSON.stringify(want) ? t : undefined;
          },
          { timeoutMs: 20_000 },
        ),
      );
    }
    const [delta, cumulative] = got;
    expect(delta?.cost).toBeGreaterThan(0);
    expect(delta?.cost).toBeCloseTo(cumulative?.cost ?? Number.NaN, 9);
    // The files keep what Claude Code sent: delta sums from the delta session (OTLP aggregationTemporality 1),
    // cumulative ones (2) from the other.
    expect(await temporalities(runs[0]?.plan.sessionId ?? '')).toEqual(new Set([1]));
    expect(await temporalities(runs[1]?.plan.sessionId ?? '')).toEqual(new Set([2]));
  });

  it('keeps the metric names the dashboard and users know', async () => {
    const e2eStack = stack();
    const names = (await promQuery(e2eStack.prometheus, `count by (__name__) ({session_id="${fresh}"})`)).map(
      (r) => r.metric.__name__,
    );
    for (const n of [
      'claude_code_session_count_total',
      'claude_code_token_usage_tokens_total',
      'claude_code_cost_usage_USD_total',
      'claude_code_active_time_seconds_total',
    ])
      expect(names).toContain(n);
  });

  it("renders a session's token query in its own web UI (headless Chromium: DOM and screenshot)", async () => {
    requireChromium();
    const e2eStack = stack();
    const id = fresh;
    const expr = sessionTotalQuery(SESSION_METRICS.tokens, id, { by: ['type'] });
    const want = await promQuery(e2eStack.prometheus, expr);
    expect(want.length).toBe(4);
    const url = `${e2eStack.prometheus}/query?${new URLSearchParams({ 'g0.expr': expr, 'g0.tab': 'table', 'g0.show_tree': '0' })}`;
    const dom = await renderedDom(url);
    expect(dom).toContain('Prometheus');
    for (const r of want) {
      expect(dom, `type ${r.metric.type} in the result table`).toContain(`${r.metric.type}`);
      expect(dom, `value ${r.value[1]} in the result table`).toContain(r.value[1]);
    }
    mkdirSync(join(repoRoot, 'test-results'), { recursive: true });
    const png = join(repoRoot, 'test-results', 'prometheus-ui.png');
    const img = decodePng(await screenshot(url, png, 1400, 900));
    console.log(`prometheus spec: UI screenshot ${png} (${img.width}x${img.height})`);
    expect(img.width).toBe(1400);
    // Not a blank page: the UI draws dark text on white.
    expect(countColor(img, '#ffffff', 8), 'white pixels').toBeGreaterThan(100_000);
    expect(countColor(img, '#000000', 80), 'dark text pixels').toBeGreaterThan(2_000);
  });
});
