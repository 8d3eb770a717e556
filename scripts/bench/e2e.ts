// `pnpm bench e2e`: how fast the harness is and how fresh the sinks are.
//   1. stack start time with warm images (an ephemeral stack, as the specs start it);
//   2. the latency from a session's end to its data being visible in each sink, p50/p95 over SESSIONS sessions
//      (bounded: SESSIONS sessions, each sink polled every 100 ms for at most 30000 ms);
//   3. the e2e suite's wall time (pnpm test:e2e, which starts its own stack), unless --no-suite.
// --defaults: the stack's production intervals (export every 5 s, batches of 1 s) instead of the specs' short ones.
// Checks: every session ends with status 0 and reaches every sink within the bound; else the run fails.
// --quick: 2 sessions, no suite (bench/lib/quick.ts): the same stack, sessions and checks, figures not results.
import { $, argv } from 'zx';
import { repoRoot } from '../lib/repo-root.ts';
import { jaegerTraces } from '../lib/sinks/jaeger.ts';
import { sessionTokens } from '../lib/sinks/session-totals.ts';
import { sessionRecords } from '../lib/sinks/telemetry-files.ts';
import { sessionFilter, vlQuery } from '../lib/sinks/victorialogs.ts';
import { NO_OVERRIDE, runSessionIn, startEphemeralStack } from '../lib/testing/ephemeral-stack.ts';
import { percentile } from '../lib/testing/percentile.ts';
import { waitFor } from '../lib/wait-for.ts';
import { isQuick, quickBanner, sized } from './lib/quick.ts';

const QUICK = isQuick(argv);
const SESSIONS = Number(sized(argv.sessions, QUICK, 20, 2));
const SUITE = argv.suite !== false && !QUICK;
if (!Number.isInteger(SESSIONS) || SESSIONS < 1 || SESSIONS > 200)
  throw new Error('--sessions must be 1-200');
if (QUICK) console.log(quickBanner(`${SESSIONS} sessions, no suite`));

async function latencyFrom(ended: number, what: string, probe: () => Promise<boolean>): Promise<number> {
  await waitFor(what, async () => ((await probe()) ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 100,
  });
  return Date.now() - ended;
}

const s = await startEphemeralStack(argv.defaults ? { override: NO_OVERRIDE } : {});
console.log(
  `bench: intervals: ${argv.defaults ? 'production defaults (stack/compose.yaml)' : "the specs' (specs/compose.e2e.yaml)"}`,
);
console.log(`bench: stack start (warm images, every service healthy): ${(s.startMs / 1000).toFixed(1)} s`);
const lat: Record<'prometheus' | 'jaeger' | 'victorialogs' | 'files', number[]> = {
  prometheus: [],
  jaeger: [],
  victorialogs: [],
  files: [],
};
try {
  for (let i = 0; i < SESSIONS; i++) {
    const out = await runSessionIn(s, { script: 'demo', user: 'bench' });
    const ended = Date.now();
    if (out.exitCode !== 0) throw new Error(`session ${i + 1} failed (exit ${out.exitCode})`);
    const id = out.plan.sessionId;
    const [p, j, v, f] = await Promise.all([
      latencyFrom(
        ended,
        `session ${id} not in Prometheus`,
        async () => Object.keys(await sessionTokens(s.prometheus, id)).length > 0,
      ),
      latencyFrom(ended, `session ${id} not in Jaeger`, async () =>
        (await jaegerTraces(s.jaeger, 'claude-code', id)).some((t) =>
          t.spans.some((x) => x.operationName === 'claude_code.interaction'),
        ),
      ),
      // Its last event (the last api_request's) is what a user watching the UI waits for: all of them there.
      latencyFrom(ended, `session ${id} not in VictoriaLogs`, async () => {
        const inFiles = (await sessionRecords(s.telemetryDir, 'logs', id)).length;
        return inFiles > 0 && (await vlQuery(s.victorialogs, sessionFilter(id))).length >= inFiles;
      }),
      latencyFrom(ended, `session ${id} not in every file`, async () => {
        const r = await Promise.all(
          (['traces', 'metrics', 'logs'] as const).map((sig) => sessionRecords(s.telemetryDir, sig, id)),
        );
        return r.every((x) => x.length > 0);
      }),
    ]);
    lat.prometheus.push(p);
    lat.jaeger.push(j);
    lat.victorialogs.push(v);
    lat.files.push(f);
    process.stdout.write(
      `bench: session ${i + 1}/${SESSIONS}: prometheus ${p} ms, jaeger ${j} ms, victorialogs ${v} ms, files ${f} ms\n`,
    );
  }
} finally {
  await s.down();
}
console.log(`bench: latency from session end to data visible, over ${SESSIONS} sessions (ms):`);
for (const [sink, values] of Object.entries(lat)) {
  console.log(
    `  ${sink.padEnd(12)} p50 ${String(percentile(values, 50)).padStart(6)}   p95 ${String(percentile(values, 95)).padStart(6)}   max ${String(Math.max(...values)).padStart(6)}`,
  );
}
if (SUITE) {
  const t0 = Date.now();
  const r = await $({ nothrow: true, quiet: true, cwd: repoRoot })`pnpm test:e2e`;
  console.log(
    `bench: e2e suite wall time (pnpm test:e2e, own stack included): ${((Date.now() - t0) / 1000).toFixed(1)} s (exit ${r.exitCode})`,
  );
  if (r.exitCode !== 0) process.exitCode = 1;
}
