// `pnpm bench load [--rates 1000,2000,...] [--seconds 10] [--refine 2]`: the highest span rate the stack's traces
// pipeline (collector -> Jaeger + rotated file) takes with zero loss, next to the ceiling of the same collector
// image with only a no-op exporter (stack/otel-collector/bench-noop.yaml), measured in the same run, rate by rate
// alternately. Goal: at least 70 % of the no-op ceiling.
//
// The load is telemetrygen (built from its Go module, see scripts/lib/testing/telemetrygen.ts) over OTLP gRPC: per
// step an exact number of spans (traces of 1 parent + 4 children, 500 spans/s per worker at most, export requests
// of 512 spans: the OTel SDKs' default), under a service name of its own. A step holds when every span is there
// (in both sinks, counted by unique trace and span id; for the no-op collector, its accepted-spans counter) and
// telemetrygen reported no failed export. Each collector's series stops at the first rate that does not hold, or
// whose achieved rate falls below 80 % of the requested one, twice in a row (the machine is shared: one busy moment
// is not a limit); then --refine steps try rates between its last hold and that one. Figures: the achieved rates
// (spans that arrived / telemetrygen's wall time) of the highest steps that held; the collector's peak resident
// memory (VmHWM) per step; the memory limiter's bound from its log.
// The stack runs with its production settings (stack/compose.yaml, no test override). Bounded: at most 16 rates of
// at most 15 s each, each tried at most twice, telemetrygen killed after 4x its time, each sink awaited at most 60 s.
// --quick: one rate (1000 spans/s) for 2 s, no refining (bench/lib/quick.ts): the same stack, collectors, load and
// counting; any step that loses a span or sees an export error fails the run (exit 1); figures are not results.
// Over 300 lines: the steps, the counting in each sink and the report belong together and are read as one.
import { argv } from 'zx';
import { withProgress } from '../lib/progress.ts';
import { jaegerFindTraces } from '../lib/sinks/jaeger.ts';
import { type Span, stringAttr, walk } from '../lib/sinks/otlp.ts';
import { promQuery } from '../lib/sinks/prometheus.ts';
import { exportRequests, signalFiles } from '../lib/sinks/telemetry-files.ts';
import { readEnvFile } from '../lib/stack/env-file.ts';
import { envFiles } from '../lib/stack/stack-files.ts';
import {
  acceptedSpans,
  containerPid,
  cpuSeconds,
  memoryLimiterBound,
  type NoopCollector,
  peakRss,
  publishedPort,
  resetPeakRss,
  startNoopCollector,
} from '../lib/testing/bench-collector.ts';
import { type EphemeralStack, NO_OVERRIDE, startEphemeralStack } from '../lib/testing/ephemeral-stack.ts';
import {
  ensureTelemetrygen,
  loadSpans,
  runTraceLoad,
  type TraceLoad,
  telemetrygenVersion,
} from '../lib/testing/telemetrygen.ts';
import { isQuick, quickBanner, sized } from './lib/quick.ts';

const t0 = Date.now();
const secs = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
const log = (line: string) => console.log(`bench: [${secs()}] ${line}`);

const QUICK = isQuick(argv);
const RATES = sized(argv.rates, QUICK, '1000,2000,4000,8000,16000,32000,64000,128000', '1000')
  .split(',')
  .map(Number);
const SECONDS = Number(sized(argv.seconds, QUICK, 10, 2));
const REFINE = Number(sized(argv.refine, QUICK, 2, 0));
if (
  RATES.length < 1 ||
  RATES.length > 16 ||
  RATES.some((r) => !Number.isInteger(r) || r < 100 || r > 500_000)
)
  throw new Error('--rates must be 1-16 whole spans/s, each 100-500000, comma-separated');
if (!Number.isInteger(SECONDS) || SECONDS < 1 || SECONDS > 15) throw new Error('--seconds must be 1-15');
if (!Number.isInteger(REFINE) || REFINE < 0 || REFINE > 4) throw new Error('--refine must be 0-4');
RATES.sort((a, b) => a - b);
if (QUICK)
  console.log(quickBanner(`rates ${RATES.join(', ')} spans/s, ${SECONDS} s each, ${REFINE} refining`));

const CHILD_SPANS = 4;
const PER_WORKER = 500; // spans/s: the rate limiter keeps its pace well below this (measured: within 2 %)
const BATCH = 512;
const SINK_WAIT_MS = 60_000;
const STALL_MS = 10_000; // a sink that gains nothing for this long after the load has what it will get
const WINDOW_TRACES = 10_000;

type Kind = 'no-op' | 'stack';
interface Step {
  kind: Kind;
  rate: number;
  achieved: number;
  sent: number;
  accepted?: number;
  files?: number;
  jaeger?: number;
  lost: number;
  errors: string[];
  peak?: number;
  peakSinceStart: boolean;
  /** CPU time per span that arrived, in µs, per process, while the load ran. */
  cpu: Record<string, number | undefined>;
  wallMs: number;
  holds: boolean;
  saturated: boolean;
}
/** What a step counts at its end: the spans that arrived (accepted, in each sink). */
interface Load {
  service: string;
  sent: number;
  traces: number;
  /** When telemetrygen ran (ms since the epoch): its spans start in between. */
  start: number;
  end: number;
}
type Count = (load: Load) => Promise<Partial<Step>>;
interface Target {
  kind: Kind;
  endpoint: string;
  pid: number;
  /** The processes whose CPU time a step reports: the collector, and for the stack Jaeger too. */
  cpuPids: Record<string, number>;
  /** Called before a load: reads what it compares with afterwards. */
  before(): Promise<Count>;
}

const fmt = (n: number | undefined) => (n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const mib = (b: number | undefined) => (b === undefined ? 'n/a' : `${(b / 1024 ** 2).toFixed(0)} MiB`);
const COLS = ['collector', 'requested/s', 'achieved/s', 'sent', 'accepted', 'in files', 'in Jaeger', 'lost'];
const header = `${COLS.map((c, i) => (i ? c.padStart(12) : c.padEnd(9))).join('')}  peak RSS  result`;
const verdict = (s: Step) =>
  !s.holds
    ? `LOSS${s.errors.length ? `, ${s.errors.length} export error(s)` : ''}`
    : s.saturated
      ? 'held, sender short of the rate'
      : 'held';
const row = (s: Step) => {
  const cells = [s.rate, s.achieved, s.sent, s.accepted, s.files, s.jaeger, s.lost].map((v) =>
    fmt(v).padStart(12),
  );
  return `${s.kind.padEnd(9)}${cells.join('')}  ${mib(s.peak).padStart(8)}  ${verdict(s)}`;
};

/** Unique spans of one service in the telemetry files; rotated backups are read once (they do not change). */
function fileCounter(dir: string) {
  const backups = new Map<string, Map<string, Set<string>>>();
  const count = async (file: string) => {
    const by = new Map<string, Set<string>>();
    for await (const req of exportRequests(file))
      for (const v of walk('traces', req)) {
        const svc = stringAttr(v.resource, 'service.name') ?? '';
        const span = v.item as Span;
        if (!by.has(svc)) by.set(svc, new Set());
        by.get(svc)?.add(`${span.traceId}/${span.spanId}`);
      }
    return by;
  };
  return async (service: string): Promise<number> => {
    const ids = new Set<string>();
    for (const file of signalFiles(dir, 'traces')) {
      const current = file.endsWith('/traces.jsonl');
      let by = current ? undefined : backups.get(file);
      if (!by) by = await count(file);
      if (!current) backups.set(file, by);
      for (const id of by.get(service) ?? []) ids.add(id);
    }
    return ids.size;
  };
}

/**
 * Unique spans of one service in Jaeger. Its search answers whole traces as one JSON body (16,000 traces of 5 spans:
 * 46 MB, 10 s here), so a large load is asked for in time windows of at most WINDOW_TRACES traces each.
 */
async function jaegerCount(base: string, l: Load): Promise<number> {
  const windows = Math.ceil(l.traces / WINDOW_TRACES);
  const [from, to] = [l.start - 1000, l.end + 1000];
  const ids = new Set<string>();
  for (let w = 0; w < windows; w++) {
    const start = Math.floor(from + ((to - from) * w) / windows);
    const end = Math.ceil(from + ((to - from) * (w + 1)) / windows);
    const q = { service: l.service, start, end, limit: l.traces + 100 };
    for (const t of await jaegerFindTraces(base, q, { timeoutMs: 60_000 }))
      for (const x of t.spans) ids.add(`${t.traceID}/${x.spanID}`);
  }
  return ids.size;
}

/**
 * Polls `probe` until it reaches `want()` (which may learn more meanwhile), gains nothing for `stallMs`, or
 * SINK_WAIT_MS pass; its last value.
 */
async function settle(probe: () => Promise<number>, want: () => number, stallMs: number): Promise<number> {
  const deadline = Date.now() + SINK_WAIT_MS;
  let last = -1;
  let changed = Date.now();
  for (;;) {
    const n = await probe().catch(() => last);
    if (n !== last) changed = Date.now();
    last = n;
    if (n >= want() || Date.now() - changed > stallMs || Date.now() > deadline) return Math.max(n, 0);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The stack collector's accepted spans over gRPC, once Prometheus has scraped it after `after` (ms). */
async function stackAccepted(prom: string, after: number): Promise<number | undefined> {
  const sel = '{__name__=~"otelcol_receiver_accepted_spans(_total)?",job="otel-collector",transport="grpc"}';
  const deadline = Date.now() + 25_000; // Prometheus scrapes the collector every 15 s
  while (Date.now() < deadline) {
    const [at] = await promQuery(prom, `max(timestamp(${sel}))`).catch(() => []);
    if (at && Number(at.value[1]) * 1000 > after) {
      const [sum] = await promQuery(prom, `sum(${sel})`).catch(() => []);
      return sum ? Number(sum.value[1]) : undefined;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return undefined;
}

/** The stack: its collector's OTLP gRPC port, Jaeger and the rotated file counted per service. */
async function stackTarget(s: EphemeralStack, container: string): Promise<Target> {
  const inFiles = fileCounter(s.telemetryDir);
  // Nothing else sends it spans over gRPC (the MCP servers use OTLP/HTTP): its counter starts at 0.
  const state: { accepted?: number } = { accepted: 0 };
  return {
    kind: 'stack',
    endpoint: `127.0.0.1:${await publishedPort(container, 4317)}`,
    pid: await containerPid(container),
    cpuPids: {
      collector: await containerPid(container),
      jaeger: await containerPid(container.replace(/otel-collector-1$/, 'jaeger-1')),
    },
    before: async () => async (l) => {
      // What the collector accepted (once Prometheus has scraped it) is all the sinks can get: no need to wait for
      // the spans the sender dropped.
      const got: { accepted?: number } = {};
      const want = () => got.accepted ?? l.sent;
      const accepted = stackAccepted(s.prometheus, l.end).then((now) => {
        if (now !== undefined && state.accepted !== undefined) got.accepted = now - state.accepted;
        state.accepted = now; // unknown (no scrape in time): the next step's delta is unknown too
      });
      const [files, jaeger] = await Promise.all([
        settle(() => inFiles(l.service), want, STALL_MS),
        settle(() => jaegerCount(s.jaeger, l), want, STALL_MS),
      ]);
      await accepted;
      return { files, jaeger, accepted: got.accepted };
    },
  };
}

async function noopTarget(n: NoopCollector): Promise<Target> {
  return {
    kind: 'no-op',
    endpoint: n.otlpGrpc,
    pid: await containerPid(n.container),
    cpuPids: { collector: await containerPid(n.container) },
    before: async () => {
      const before = await acceptedSpans(n.metricsUrl);
      return async (l) => ({
        // counted as the receiver answers: what telemetrygen did not get in by its end is not coming
        accepted: await settle(
          async () => (await acceptedSpans(n.metricsUrl)) - before,
          () => l.sent,
          2_000,
        ),
      });
    },
  };
}

/** One load through one collector, counted. */
async function step(bin: string, t: Target, rate: number, n: number): Promise<Step> {
  const workers = Math.ceil(rate / PER_WORKER);
  const load: TraceLoad = {
    endpoint: t.endpoint,
    service: `bench-load-${t.kind}-r${rate}-${n}`,
    workers,
    ratePerWorker: rate / workers,
    traces: Math.max(1, Math.round(((rate / workers) * SECONDS) / (1 + CHILD_SPANS))),
    childSpans: CHILD_SPANS,
    batchSize: BATCH,
  };
  const sent = loadSpans(load);
  const count = await t.before();
  const reset = resetPeakRss(t.pid);
  const cpuBefore = Object.entries(t.cpuPids).map(([name, pid]) => [name, pid, cpuSeconds(pid)] as const);
  const start = Date.now();
  const run = await withProgress(
    `${t.kind}: ${fmt(rate)} spans/s, ${fmt(sent)} spans`,
    () => runTraceLoad(bin, load, SECONDS * 4_000 + 30_000),
    log,
  );
  // CPU per span of each process while the load ran, not while the bench counts (Jaeger answering the counting
  // queries, whole traces as JSON, would be in it: with it, 152 µs a span was measured for Jaeger).
  const cpuAfterLoad = cpuBefore.map(([name, pid, before]) => [name, before, cpuSeconds(pid)] as const);
  const got = await withProgress(
    `${t.kind}: counting what arrived of ${fmt(sent)} spans`,
    () => count({ service: load.service, sent, traces: workers * load.traces, start, end: Date.now() }),
    log,
  );
  const arrived = t.kind === 'no-op' ? (got.accepted ?? 0) : Math.min(got.files ?? 0, got.jaeger ?? 0);
  const cpu = Object.fromEntries(
    cpuAfterLoad.map(([name, before, after]) => {
      const us =
        before === undefined || after === undefined || !arrived
          ? undefined
          : ((after - before) * 1e6) / arrived;
      return [name, us];
    }),
  );
  const errors = run.exitCode === 0 ? run.errors : [...run.errors, `telemetrygen exited ${run.exitCode}`];
  if (errors.length) log(`${t.kind}: telemetrygen said: ${errors.slice(0, 3).join(' | ').slice(0, 400)}`);
  const achieved = (arrived / run.wallMs) * 1000;
  return {
    kind: t.kind,
    rate,
    achieved,
    sent,
    ...got,
    lost: sent - arrived,
    errors,
    // without a reset (not allowed), the peak since the collector started
    peak: peakRss(t.pid),
    peakSinceStart: !reset,
    cpu,
    wallMs: run.wallMs,
    holds: sent === arrived && errors.length === 0,
    saturated: achieved < rate * 0.8,
  };
}

const bin = await ensureTelemetrygen(log);
const versions = readEnvFile(envFiles.versions);
log(
  `telemetrygen v${telemetrygenVersion()} -> collector ${versions.OTELCOL_VERSION}; rates ${RATES.join(', ')} spans/s, ${SECONDS} s each, ${REFINE} refining step(s)`,
);
const steps: Step[] = [];
/** Per collector: the highest rate held, the lowest that failed twice (0: none yet). */
const series = new Map<Kind, { held: number; failed: number }>([
  ['no-op', { held: 0, failed: 0 }],
  ['stack', { held: 0, failed: 0 }],
]);
let stack: EphemeralStack | undefined;
let noop: NoopCollector | undefined;
let bound = 'n/a';
let jaegerPeak: number | undefined; // Badger's ingestion shares the machine: its memory is worth seeing too
// Interrupted (Ctrl-C, a CI time-out): remove what it started before leaving, as the end of a run does.
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    log(`${signal}: removing the no-op collector and the bench's stack`);
    void Promise.allSettled([noop?.remove(), stack?.down()]).then(() => process.exit(130));
  });
try {
  stack = await withProgress(
    'starting a stack of its own (production settings)',
    () => startEphemeralStack({ override: NO_OVERRIDE }),
    log,
  );
  const image = stack.composeEnv.OTELCOL_IMAGE ?? '';
  log(`stack up in ${(stack.startMs / 1000).toFixed(1)} s; no-op collector from the same image ${image}`);
  const memory = stack.composeEnv.OTELCOL_MEMORY_LIMIT ?? versions.OTELCOL_MEMORY_LIMIT ?? '512m';
  const n = await withProgress(
    `starting the no-op collector (memory limit ${memory}, like the stack's)`,
    () => startNoopCollector(image, memory),
    log,
  );
  noop = n;
  const collector = `${stack.project}-otel-collector-1`;
  bound = await memoryLimiterBound(collector);
  const jaegerPid = await containerPid(`${stack.project}-jaeger-1`);
  const targets = [await noopTarget(n), await stackTarget(stack, collector)];
  // A rate that fails is tried once more before it counts: the machine is shared, one busy moment is not a limit.
  const run = async (t: Target, rate: number) => {
    for (let attempt = 1; attempt <= 2; attempt++) {
      const s = await step(bin, t, rate, steps.length + 1);
      if (!steps.length) console.log(`bench: ${header}`);
      steps.push(s);
      console.log(`bench: ${row(s)}${attempt === 1 && !(s.holds && !s.saturated) ? '  (trying again)' : ''}`);
      const x = series.get(t.kind);
      if (x && s.holds && !s.saturated) {
        x.held = Math.max(x.held, rate);
        return;
      }
      if (x && attempt === 2) x.failed = x.failed ? Math.min(x.failed, rate) : rate;
    }
  };
  for (const rate of RATES) {
    const active = targets.filter((t) => !series.get(t.kind)?.failed);
    if (!active.length) break;
    for (const t of active) await run(t, rate);
  }
  for (let i = 0; i < REFINE; i++)
    for (const t of targets) {
      const { held, failed } = series.get(t.kind) ?? { held: 0, failed: 0 };
      const mid = Math.round(Math.sqrt(held * failed) / 100) * 100;
      if (held && failed && mid > held && mid < failed) await run(t, mid);
    }
  jaegerPeak = peakRss(jaegerPid);
} finally {
  await noop?.remove();
  await stack?.down(); // its temporary folders with it: here hundreds of MB of spans
}

const best = (kind: Kind) =>
  steps.filter((s) => s.kind === kind && s.holds).sort((a, b) => b.achieved - a.achieved)[0];
const top = (kind: Kind) => Math.max(...steps.filter((s) => s.kind === kind).map((s) => s.peak ?? 0));
const [full, ceiling] = [best('stack'), best('no-op')];
console.log(`bench: ${header}`);
for (const kind of ['no-op', 'stack'] as const)
  for (const s of steps.filter((x) => x.kind === kind).sort((a, b) => a.rate - b.rate))
    console.log(`bench: ${row(s)}`);
const said = (s: Step | undefined) =>
  s ? `${fmt(s.achieved)} spans/s (requested ${fmt(s.rate)})` : 'none (no step held)';
console.log(`bench: highest zero-loss rate through the stack (Jaeger + file): ${said(full)}`);
console.log(
  `bench: no-op ceiling (same image, nop exporter, same run): ${series.get('no-op')?.failed ? '' : 'at least '}${said(ceiling)}`,
);
if (full && ceiling) {
  // Below the no-op collector's real ceiling (not reached), the ratio is only an upper bound.
  const reached = Boolean(series.get('no-op')?.failed);
  const ratio = (full.achieved / ceiling.achieved) * 100;
  const verdict =
    ratio < 70 ? 'NOT met' : reached ? 'met' : 'not known: the no-op ceiling was not reached (raise --rates)';
  console.log(
    `bench: ratio: ${reached ? '' : 'at most '}${ratio.toFixed(0)} % of the no-op ceiling (goal >= 70 %): ${verdict}`,
  );
}
const since = steps.some((s) => s.peakSinceStart) ? ' (since start: VmHWM could not be reset)' : '';
console.log(
  `bench: collector peak RSS: stack ${mib(top('stack'))}, no-op ${mib(top('no-op'))}${since}; Jaeger ${mib(jaegerPeak)} (since its start)`,
);
console.log(`bench: memory limiter bound (stack collector): ${bound}`);
// Where the difference comes from: CPU per span of each process while the load ran, at the highest rate each
// collector held. The load generator shares the machine; what Jaeger does after the load (catching up) is not in it.
const us = (v: number | undefined) => (v === undefined ? 'n/a' : `${v.toFixed(1)} µs`);
console.log(
  `bench: CPU per span while the load ran, at the highest rate held: no-op collector ${us(ceiling?.cpu.collector)}; stack collector ${us(full?.cpu.collector)}, Jaeger ${us(full?.cpu.jaeger)}`,
);
console.log(`bench: total wall time ${secs()}`);
// Quick: every step must hold (the rates are far below any limit): a lost span or a failed export fails the run.
const lossy = steps.filter((s) => !s.holds);
if (QUICK && (lossy.length || !steps.length)) {
  console.log(
    `bench: FAILED: ${lossy.length ? lossy.map((s) => `${s.kind} at ${s.rate}/s lost ${s.lost} span(s), ${s.errors.length} export error(s)`).join('; ') : 'no step ran'}`,
  );
  process.exitCode = 1;
}
