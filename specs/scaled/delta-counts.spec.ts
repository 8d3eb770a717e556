// Recipe (scaled topology, issue 24 part 3): delta-to-cumulative state never splits or doubles across gateways.
// A delta counter of SERIES series over ROUNDS rounds goes through the agents, which route metrics by stream id, so
// each series lives on one gateway whose delta_to_cumulative turns it cumulative for Prometheus. Meanwhile one
// gateway crashes (SIGKILL by its PID, back by the restart policy), then a third gateway joins (profile resize) and
// leaves again: the routes move. After every round, Prometheus' total for the session (each series' last value,
// summed: session-totals.ts) must equal exactly what was sent so far, series by series (compared as objects): no
// double count, no lost increment. The one exception the sender can cause is stated: a request resent after an
// attempt that may have been taken is a second increment (the figures say whether that happened).
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { sessionTotalsBy } from '../../scripts/lib/sinks/session-totals.ts';
import { sessionRecords } from '../../scripts/lib/sinks/telemetry-files.ts';
import { deltaValue, sendDeltaCounters } from '../../scripts/lib/testing/otlp-stream.ts';
import { GATEWAYS, scaledStack, untilDone } from '../support/scaled-stack.ts';
import { stack } from '../support/stack.ts';

const SERIES = 40;
const ROUNDS = 12;
/** The OTLP counter as Prometheus names it (a monotonic sum: `_total`). */
const PROM_METRIC = 'scaled_delta_probe_total';
const CRASH_AT = 3;
const RESIZE_UP_AT = 6;
const RESIZE_DOWN_AT = 9;

/** What was sent per series through round `rounds - 1`. */
function sentThrough(rounds: number): Record<string, number> {
  const want: Record<string, number> = {};
  for (let i = 0; i < SERIES; i++) {
    let sum = 0;
    for (let r = 0; r < rounds; r++) sum += deltaValue(i, r);
    want[`s${i}`] = sum;
  }
  return want;
}

describe('scaled: delta counters across a gateway crash and a resize', () => {
  const s = () => scaledStack(stack());
  afterAll(async () => {
    // The third gateway goes whatever happened (the stack's own teardown knows nothing of profile resize).
    await s().compose(['--profile', 'resize', 'rm', '--stop', '--force', 'otel-gateway-3']);
  });

  it("Prometheus' per-session total equals what was sent, after each round", async () => {
    const st = s();
    const session = `delta-${randomUUID()}`;
    const log: string[] = [];
    /** Waits until Prometheus holds exactly what was sent through round `rounds - 1` (bounded by progress). */
    const caughtUp = async (rounds: number) => {
      const want = sentThrough(rounds);
      const wantSum = Object.values(want).reduce((a, b) => a + b, 0);
      const got = await untilDone(
        `Prometheus' totals of ${session} never reached what was sent through round ${rounds} (${wantSum})`,
        async () => {
          const totals = await sessionTotalsBy((await st.sinks()).prometheus, PROM_METRIC, session, 'series');
          const sum = Object.values(totals).reduce((a, b) => a + b, 0);
          return {
            done: isDeepStrictEqual(totals, want) || sum > wantSum ? totals : undefined,
            progress: sum,
            seen: `${Object.keys(totals).length} series, sum ${sum} of ${wantSum}`,
          };
        },
        { stallMs: 90_000, maxMs: 300_000, intervalMs: 1000 },
      );
      expect(got, `Prometheus' totals after round ${rounds}`).toEqual(want);
    };
    const result = await sendDeltaCounters({
      otlpHttp: st.otlpHttp,
      session,
      series: SERIES,
      rounds: ROUNDS,
      beforeRound: async (r) => {
        // Each round reaches Prometheus before the next is sent: a series' deltas arrive in order.
        if (r > 0) await caughtUp(r);
        if (r === CRASH_AT) {
          const c = await st.crash('otel-gateway-1');
          log.push(`otel-gateway-1 crashed before round ${r}, healthy after ${c.backMs} ms`);
        }
        if (r === RESIZE_UP_AT) {
          const up = await st.compose([
            '--profile',
            'resize',
            'up',
            '--detach',
            '--no-deps',
            'otel-gateway-3',
          ]);
          expect(up.exitCode, up.stderr.slice(-1500)).toBe(0);
          await st.healthy('otel-gateway-3', 180_000);
          log.push(`otel-gateway-3 joined before round ${r}`);
        }
        if (r === RESIZE_DOWN_AT) {
          const down = await st.compose(['--profile', 'resize', 'stop', '--timeout', '30', 'otel-gateway-3']);
          expect(down.exitCode, down.stderr.slice(-1500)).toBe(0);
          log.push(`otel-gateway-3 stopped before round ${r}`);
        }
      },
    });
    await caughtUp(ROUNDS);
    // Where the series went: the points of the session in each gateway's files.
    const byGateway: Record<string, number> = {};
    for (const g of GATEWAYS)
      byGateway[g] = (await sessionRecords(st.gatewayDir(g), 'metrics', session).catch(() => [])).length;
    console.log(
      `delta-counts: ${SERIES} series x ${ROUNDS} rounds, total ${result.total} sent in ${(result.ms / 1000).toFixed(1)} s ` +
        `and in Prometheus after every round; ${log.join('; ')}; data points by gateway ${JSON.stringify(byGateway)}; ` +
        `resent values ${result.mayRepeat}, failed attempts ${JSON.stringify(result.failures)}`,
    );
    expect(byGateway['otel-gateway-3'], 'points routed to the third gateway while it ran').toBeGreaterThan(0);
  });
});
