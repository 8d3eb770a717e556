// `pnpm bench load [--topology single|scaled|both] [--rates 1000,2000,...] [--seconds 10] [--refine 2]
// [--override FILE]`: the highest span rate each topology's traces pipeline takes with zero loss, and what each tier
// of it costs.
// single (the default): the one collector -> Jaeger (Badger) + rotated file, next to the ceiling of the same
// collector image with only a no-op exporter (stack/otel-collector/bench-noop.yaml), measured in the same run, rate
// by rate alternately. Goal: at least 70 % of the no-op ceiling. scaled: the two agent collectors (the load split
// evenly over both) -> two gateways -> files per gateway + two Jaeger collectors -> OpenSearch (stack/
// compose.scaled.yaml). both: single, then scaled, from one command, their steps and tiers in one table each. The
// scaled stack runs five JVMs: run one at a time per machine (here: `flock /tmp/scaled.lock pnpm bench load ...`).
//
// The load is telemetrygen (built from its Go module, see scripts/lib/testing/telemetrygen.ts) over OTLP gRPC to
// each entry collector's container address: per step an exact number of spans (traces of 1 parent + 4 children,
// 500 spans/s per worker at most, export requests of 512 spans: the OTel SDKs' default), under a service name of
// its own. A step holds when every span is in the telemetry files (counted by unique trace and span id, over every
// gateway's file set; for the no-op collector, its accepted-spans counter) and telemetrygen reported no failed
// export; Jaeger's count is beside it: the ceilings are given for the files alone and for files and Jaeger (on the
// scaled topology Jaeger answers before OpenSearch holds a span, see docs/scaling.md). Each series stops at the
// first rate that does not hold, or whose achieved rate falls below 80 % of the requested one without beating the
// series' best by 10 % (a busy machine slows the sender too), twice in a row (the machine is shared: one busy
// moment is not a limit); then --refine steps try rates between its last hold and that
// one. Figures: the achieved rates (spans that arrived / telemetrygen's wall time) of the highest steps that held;
// per tier (agents, gateways, Jaeger collectors, OpenSearch, VictoriaLogs, Prometheus; on one host: the collector
// and Jaeger) CPU seconds per 1000 spans and peak memory, from each container's cgroup (bench/lib/tier-stats.ts):
// CPU from the load's start until the files hold every span (not the bench's own counting queries); the machine's
// load average at each step; the memory limiter's bound from the entry collector's log.
// The stacks run with their production settings (no test override; --override FILE: a compose file over them, for
// an experiment, and the figures are then the experiment's). Bounded: at most 16 rates of at most 15 s each,
// each tried at most twice, telemetrygen killed after 4x its time, each sink awaited at most 60 s.
// --quick: one rate (1000 spans/s) for 2 s, no refining (bench/lib/quick.ts): the same stacks, collectors, load and
// counting; any step that loses a span (files or Jaeger) or sees an export error fails the run (exit 1); figures are
// not results.
// Over 300 lines: the steps, the counting in each sink and the report belong together and are read as one.
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { resolve } from 'node:path';
import { $, argv } from 'zx';
import { withProgress } from '../lib/progress.ts';
import { jaegerFindTraces } from '../lib/sinks/jaeger.ts';
import { type Span, stringAttr, walk } from '../lib/sinks/otlp.ts';
import { exportRequests, signalFiles } from '../lib/sinks/telemetry-files.ts';
import { readEnvFile } from '../lib/stack/env-file.ts';
import { envFiles } from '../lib/stack/stack-files.ts';
import {
  acceptedSpans,
  memoryLimiterBound,
  type NoopCollector,
  startNoopCollector,
} from '../lib/testing/bench-collector.ts';
import { type EphemeralStack, NO_OVERRIDE, startEphemeralStack } from '../lib/testing/ephemeral-stack.ts';
import {
  ensureTelemetrygen,
  type LoadRun,
  loadSpans,
  runTraceLoad,
  type TraceLoad,
  telemetrygenVersion,
} from '../lib/testing/telemetrygen.ts';
import { isQuick, quickBanner, sized } from './lib/quick.ts';
import {
  containerNode,
  measureTiers,
  type Node,
  projectNodes,
  TIERS,
  type Tier,
  type TierUsage,
} from './lib/tier-stats.ts';

const t0 = Date.now();
const secs = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
const log = (line: string) => console.log(`bench: [${secs()}] ${line}`);

type Topology = 'single' | 'scaled';
const QUICK = isQuick(argv);
const TOPOLOGY = String(argv.topology ?? 'single');
if (!['single', 'scaled', 'both'].includes(TOPOLOGY))
  throw new Error(`--topology must be single, scaled or both (got ${TOPOLOGY})`);
const TOPOLOGIES: Topology[] = TOPOLOGY === 'both' ? ['single', 'scaled'] : [TOPOLOGY as Topology];
// An experiment's settings (a compose file over the stack's, e.g. another config mounted); default: production.
const OVERRIDE = argv.override ? resolve(String(argv.override)) : NO_OVERRIDE;
if (!existsSync(OVERRIDE)) throw new Error(`--override: no compose file at ${OVERRIDE}`);
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
  console.log(
    quickBanner(
      `${TOPOLOGIES.join(' and ')}: rates ${RATES.join(', ')} spans/s, ${SECONDS} s each, ${REFINE} refining`,
    ),
  );

const CHILD_SPANS = 4;
const PER_WORKER = 500; // spans/s: the rate limiter keeps its pace well below this (measured: within 2 %)
const BATCH = 512;
const SINK_WAIT_MS = 60_000;
const STALL_MS = 10_000; // a sink that gains nothing for this long after the load has what it will get
const WINDOW_TRACES = 10_000;

/** A series of steps: the no-op collector, or a topology's stack. */
type Kind = 'no-op' | Topology;
interface Step {
  kind: Kind;
  rate: number;
  achieved: number;
  sent: number;
  accepted?: number;
  files?: number;
  jaeger?: number;
  /** Spans missing from the files (no-op: from its accepted counter). */
  lost: number;
  jaegerLost?: number;
  errors: string[];
  tiers: TierUsage[];
  /** The machine's 1-minute load average as the step ended. */
  load1: number;
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
/** A step's counting: `files` first (no container works for it), then `cpuDone()`, then Jaeger. */
type Count = (load: Load, cpuDone: () => void) => Promise<Partial<Step>>;
interface Entry {
  /** host:port of its OTLP gRPC receiver. */
  endpoint: string;
  metricsUrl: string;
}
interface Target {
  kind: Kind;
  /** The collectors the load is split over, evenly. */
  entries: Entry[];
  tiers: Tier[];
  nodes: Node[];
  /** Called before a load: reads what it compares with afterwards. */
  before(): Promise<Count>;
}

const fmt = (n: number | undefined) => (n === undefined ? 'n/a' : Math.round(n).toLocaleString('en-US'));
const mib = (b: number | undefined) => (b === undefined ? 'n/a' : `${(b / 1024 ** 2).toFixed(0)} MiB`);
const COLS = ['series', 'requested/s', 'achieved/s', 'sent', 'accepted', 'in files', 'in Jaeger', 'lost'];
const header = `${COLS.map((c, i) => (i ? c.padStart(12) : c.padEnd(7))).join('')}  load1  result`;
const verdict = (s: Step) =>
  !s.holds
    ? `LOSS${s.errors.length ? `, ${s.errors.length} export error(s)` : ''}`
    : `${s.saturated ? 'held, sender short of the rate' : 'held'}${s.jaegerLost ? `; Jaeger short by ${fmt(s.jaegerLost)}` : ''}`;
const row = (s: Step) => {
  const cells = [s.rate, s.achieved, s.sent, s.accepted, s.files, s.jaeger, s.lost].map((v) =>
    fmt(v).padStart(12),
  );
  return `${s.kind.padEnd(7)}${cells.join('')}  ${s.load1.toFixed(1).padStart(5)}  ${verdict(s)}`;
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
 * SINK_WAIT_MS pass; its last value, or -1 when it never answered (a sink that answered no query is not "0 held").
 */
async function settle(probe: () => Promise<number>, want: () => number, stallMs: number): Promise<number> {
  const deadline = Date.now() + SINK_WAIT_MS;
  let last = -1;
  let changed = Date.now();
  for (;;) {
    const n = await probe().catch(() => last);
    if (n !== last) changed = Date.now();
    last = n;
    if (n >= want() || Date.now() - changed > stallMs || Date.now() > deadline) return n;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * A container's address on its compose network, which the host reaches directly (a Linux engine's bridge): the
 * load goes straight to the receiver, not through the published port's proxy, and a collector with no published
 * port (the second agent) is reached the same way.
 */
async function containerAddress(container: string): Promise<string> {
  const ips = (
    await $({
      quiet: true,
    })`docker inspect --format ${'{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}'} ${container}`
  ).stdout
    .trim()
    .split(/\s+/)
    .filter(Boolean);
  if (!ips[0]) throw new Error(`${container}: no network address (docker inspect): is it running?`);
  return ips[0];
}

/** The spans the entry collectors accepted over gRPC so far (their own :8888 counters, summed). */
const acceptedBy = async (entries: Entry[]) =>
  (await Promise.all(entries.map((e) => acceptedSpans(e.metricsUrl)))).reduce((a, b) => a + b, 0);

async function entryOf(container: string): Promise<Entry> {
  const ip = await containerAddress(container);
  return { endpoint: `${ip}:4317`, metricsUrl: `http://${ip}:8888/metrics` };
}

/** A topology's stack: its entry collectors, the files of every gateway and Jaeger counted per service. */
async function stackTarget(topology: Topology, s: EphemeralStack, entries: string[]): Promise<Target> {
  const inFiles = fileCounter(s.telemetryDir);
  const tiers = TIERS[topology];
  const target: Target = {
    kind: topology,
    entries: await Promise.all(entries.map(entryOf)),
    tiers,
    nodes: await projectNodes(s.project, tiers),
    before: async () => {
      const before = await acceptedBy(target.entries);
      return async (l, cpuDone) => {
        // What the entry collectors accepted is all the sinks can get: no need to wait for the spans the sender
        // dropped. Counted as they answer: what telemetrygen did not get in by its end is not coming.
        const accepted = await settle(
          async () => (await acceptedBy(target.entries)) - before,
          () => l.sent,
          2_000,
        );
        // 0 of a load: the counters did not answer (a collector refusing everything is a loss the files show too)
        const want = () => (accepted > 0 ? accepted : l.sent);
        const files = Math.max(0, await settle(() => inFiles(l.service), want, STALL_MS));
        cpuDone();
        const counted = await settle(() => jaegerCount(s.jaeger, l), want, STALL_MS);
        const jaeger = counted < 0 ? undefined : counted;
        if (jaeger === undefined) log(`${topology}: Jaeger answered none of the counting queries`);
        return { accepted: accepted > 0 ? accepted : undefined, files, jaeger };
      };
    },
  };
  return target;
}

async function noopTarget(n: NoopCollector): Promise<Target> {
  const tiers: Tier[] = [{ name: 'collector (no-op)', services: /^no-op$/ }];
  const entry = { ...(await entryOf(n.container)), metricsUrl: n.metricsUrl };
  return {
    kind: 'no-op',
    entries: [entry],
    tiers,
    nodes: [await containerNode('no-op', n.container)],
    before: async () => {
      const before = await acceptedSpans(n.metricsUrl);
      return async (l, cpuDone) => {
        const accepted = await settle(
          async () => (await acceptedSpans(n.metricsUrl)) - before,
          () => l.sent,
          2_000,
        );
        cpuDone();
        return { accepted: Math.max(0, accepted) };
      };
    },
  };
}

/** One load, split evenly over a target's entry collectors (one telemetrygen each, at once), counted. */
async function step(bin: string, t: Target, rate: number, n: number): Promise<Step> {
  const workers = Math.ceil(rate / PER_WORKER / t.entries.length);
  const ratePerWorker = rate / t.entries.length / workers;
  const loads: TraceLoad[] = t.entries.map((e) => ({
    endpoint: e.endpoint,
    service: `bench-load-${t.kind}-r${rate}-${n}`,
    workers,
    ratePerWorker,
    traces: Math.max(1, Math.round((ratePerWorker * SECONDS) / (1 + CHILD_SPANS))),
    childSpans: CHILD_SPANS,
    batchSize: BATCH,
  }));
  const sent = loads.reduce((a, l) => a + loadSpans(l), 0);
  const count = await t.before();
  const measure = measureTiers(t.tiers, t.nodes);
  const start = Date.now();
  let runs: LoadRun[];
  let got: Partial<Step>;
  let tiers: TierUsage[];
  try {
    runs = await withProgress(
      `${t.kind}: ${fmt(rate)} spans/s, ${fmt(sent)} spans over ${t.entries.length} collector(s)`,
      () => Promise.all(loads.map((l) => runTraceLoad(bin, l, SECONDS * 4_000 + 30_000))),
      log,
    );
    got = await withProgress(
      `${t.kind}: counting what arrived of ${fmt(sent)} spans`,
      () =>
        count(
          {
            service: loads[0]?.service ?? '',
            sent,
            traces: loads.reduce((a, l) => a + l.workers * l.traces, 0),
            start,
            end: Date.now(),
          },
          measure.cpu,
        ),
      log,
    );
  } finally {
    tiers = measure.stop();
  }
  const arrived = t.kind === 'no-op' ? (got.accepted ?? 0) : (got.files ?? 0);
  const errors = runs.flatMap((r) =>
    r.exitCode === 0 ? r.errors : [...r.errors, `telemetrygen exited ${r.exitCode}`],
  );
  if (errors.length) log(`${t.kind}: telemetrygen said: ${errors.slice(0, 3).join(' | ').slice(0, 400)}`);
  const wallMs = Math.max(...runs.map((r) => r.wallMs));
  const achieved = (arrived / wallMs) * 1000;
  return {
    kind: t.kind,
    rate,
    achieved,
    sent,
    ...got,
    lost: sent - arrived,
    jaegerLost: got.jaeger === undefined ? undefined : sent - got.jaeger,
    errors,
    tiers,
    load1: loadavg()[0] ?? 0,
    wallMs,
    holds: sent === arrived && errors.length === 0,
    saturated: achieved < rate * 0.8,
  };
}

/** Per series: the highest rate held, the lowest that failed twice (0: none yet), the best achieved rate held. */
interface Series {
  held: number;
  failed: number;
  best: number;
}

/**
 * Whether a step lets its series climb on: no loss, and the sender reached the rate, or (a sender short of the
 * rate on a busy machine) it still got at least 10 % more through than the series' best so far: a busy machine
 * slows the sender too, and stopping there would report the machine's load, not the pipeline's ceiling.
 */
const climbs = (s: Step, x: Series) => s.holds && (!s.saturated || s.achieved > x.best * 1.1);

/** The steps of a set of targets, rate by rate alternately, then refined; every step is printed as it ends. */
async function climb(bin: string, targets: Target[], steps: Step[]): Promise<Map<Kind, Series>> {
  const series = new Map<Kind, Series>(targets.map((t) => [t.kind, { held: 0, failed: 0, best: 0 }]));
  // A rate that fails is tried once more before it counts: the machine is shared, one busy moment is not a limit.
  const run = async (t: Target, rate: number) => {
    const x = series.get(t.kind) ?? { held: 0, failed: 0, best: 0 };
    for (let attempt = 1; attempt <= 2; attempt++) {
      const s = await step(bin, t, rate, steps.length + 1);
      if (!steps.length) console.log(`bench: ${header}`);
      steps.push(s);
      const ok = climbs(s, x);
      console.log(`bench: ${row(s)}${attempt === 1 && !ok ? '  (trying again)' : ''}`);
      if (s.holds) x.best = Math.max(x.best, s.achieved);
      if (ok) {
        x.held = Math.max(x.held, rate);
        return;
      }
      if (attempt === 2) x.failed = x.failed ? Math.min(x.failed, rate) : rate;
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
  return series;
}

/** What one topology's run found, for the summary. */
interface Result {
  topology: Topology;
  series: Map<Kind, Series>;
  bound: string;
  startMs: number;
  load: { before: number[]; after: number[] };
}

/** Brings one topology's stack up (and, for single, the no-op collector), climbs, removes what it started. */
async function runTopology(
  bin: string,
  topology: Topology,
  steps: Step[],
  cleanup: Set<() => Promise<void>>,
) {
  const before = loadavg();
  let stack: EphemeralStack | undefined;
  let noop: NoopCollector | undefined;
  const remove = async () => {
    await noop?.remove();
    await stack?.down(); // its temporary folders with it: here hundreds of MB of spans
  };
  cleanup.add(remove);
  try {
    stack = await withProgress(
      `starting a ${topology} stack of its own (production settings)`,
      () => startEphemeralStack({ override: OVERRIDE, topology, progress: log }),
      log,
    );
    const image = stack.composeEnv.OTELCOL_IMAGE ?? '';
    log(`${topology} stack up in ${(stack.startMs / 1000).toFixed(1)} s`);
    const agents = [`${stack.project}-otel-collector-1`];
    if (topology === 'scaled') agents.push(`${stack.project}-otel-agent-2-1`);
    const targets: Target[] = [];
    if (topology === 'single') {
      const memory = stack.composeEnv.OTELCOL_MEMORY_LIMIT ?? '512m';
      noop = await withProgress(
        `starting the no-op collector from the same image ${image} (memory limit ${memory}, like the stack's)`,
        () => startNoopCollector(image, memory),
        log,
      );
      targets.push(await noopTarget(noop));
    }
    const bound = await memoryLimiterBound(agents[0] ?? '');
    targets.push(await stackTarget(topology, stack, agents));
    const startMs = stack.startMs;
    const series = await climb(bin, targets, steps);
    return { topology, series, bound, startMs, load: { before, after: loadavg() } } satisfies Result;
  } finally {
    cleanup.delete(remove);
    await remove();
  }
}

const bin = await ensureTelemetrygen(log);
const versions = readEnvFile(envFiles.versions);
log(
  `telemetrygen v${telemetrygenVersion()} -> collector ${versions.OTELCOL_VERSION}; ${TOPOLOGIES.join(', then ')}; rates ${RATES.join(', ')} spans/s, ${SECONDS} s each, ${REFINE} refining step(s)`,
);
const steps: Step[] = [];
const results: Result[] = [];
const failures: string[] = [];
// Interrupted (Ctrl-C, a CI time-out): remove what it started before leaving, as the end of a run does.
const cleanup = new Set<() => Promise<void>>();
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    log(`${signal}: removing the bench's collectors and stacks`);
    void Promise.allSettled([...cleanup].map((c) => c())).then(() => process.exit(130));
  });
for (const topology of TOPOLOGIES) {
  try {
    results.push(await runTopology(bin, topology, steps, cleanup));
  } catch (err) {
    // One topology that cannot come up still leaves the other's figures.
    failures.push(`${topology}: ${(err as Error).message.split('\n')[0]}`);
    log(`${topology}: FAILED: ${(err as Error).message}`);
  }
}

const held = (kind: Kind, jaegerToo: boolean) =>
  steps
    .filter((s) => s.kind === kind && s.holds && (!jaegerToo || s.jaegerLost === 0))
    .sort((a, b) => b.achieved - a.achieved)[0];
const said = (s: Step | undefined) =>
  s ? `${fmt(s.achieved)} spans/s (requested ${fmt(s.rate)})` : 'none (no step held)';
const us = (s: Step | undefined, t: TierUsage) =>
  s && t.cpuSeconds !== undefined && (s.files ?? s.accepted)
    ? ((t.cpuSeconds * 1000) / (s.files ?? s.accepted ?? 1)).toFixed(3)
    : 'n/a';
console.log(`bench: ${header}`);
for (const kind of ['no-op', 'single', 'scaled'] as const)
  for (const s of steps.filter((x) => x.kind === kind).sort((a, b) => a.rate - b.rate))
    console.log(`bench: ${row(s)}`);
for (const r of results) {
  const [files, both] = [held(r.topology, false), held(r.topology, true)];
  const la = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(' ');
  console.log(
    `bench: ${r.topology}: stack up in ${(r.startMs / 1000).toFixed(0)} s; load average (1, 5, 15 min) ${la(r.load.before)} before, ${la(r.load.after)} after`,
  );
  console.log(`bench: ${r.topology}: highest zero-loss rate in the files: ${said(files)}`);
  console.log(`bench: ${r.topology}: highest zero-loss rate in the files and in Jaeger: ${said(both)}`);
  console.log(`bench: ${r.topology}: memory limiter bound (entry collector): ${r.bound}`);
  if (r.topology === 'single') {
    const ceiling = held('no-op', false);
    const reached = Boolean(r.series.get('no-op')?.failed);
    console.log(
      `bench: no-op ceiling (same image, nop exporter, same run): ${reached ? '' : 'at least '}${said(ceiling)}`,
    );
    if (both && ceiling) {
      // Below the no-op collector's real ceiling (not reached), the ratio is only an upper bound.
      const ratio = (both.achieved / ceiling.achieved) * 100;
      const v =
        ratio < 70
          ? 'NOT met'
          : reached
            ? 'met'
            : 'not known: the no-op ceiling was not reached (raise --rates)';
      console.log(
        `bench: ratio: ${reached ? '' : 'at most '}${ratio.toFixed(0)} % of the no-op ceiling (goal >= 70 %): ${v}`,
      );
    }
  }
}
// Per tier at the highest rate each series held in the files: CPU from the load's start until the files held every
// span, per 1000 of them; memory at its peak during that step, and over the whole run.
const tierRows: string[] = [];
for (const kind of ['no-op', 'single', 'scaled'] as const) {
  // At the highest rate held in the files, and (where lower) in the files and Jaeger: a store that lags behind
  // the files does less of its work inside the window at the first.
  const tops = [held(kind, false), kind === 'no-op' ? undefined : held(kind, true)];
  for (const [i, top] of tops.entries()) {
    if (!top || (i === 1 && top === tops[0])) continue;
    for (const t of top.tiers) {
      const peakRun = Math.max(
        ...steps
          .filter((s) => s.kind === kind)
          .map((s) => s.tiers.find((x) => x.tier === t.tier)?.peakSum ?? 0),
      );
      tierRows.push(
        `${kind.padEnd(7)}${(i ? '+Jaeger' : kind === 'no-op' ? 'taken' : 'files').padEnd(8)}${t.tier.padEnd(20)}${String(t.nodes).padStart(6)}${fmt(top.achieved).padStart(11)}${us(top, t).padStart(18)}${mib(t.peakNode).padStart(11)}${mib(t.peakSum).padStart(11)}${mib(peakRun || undefined).padStart(11)}`,
      );
    }
  }
}
if (tierRows.length) {
  console.log(
    `bench: ${'series'.padEnd(7)}${'held in'.padEnd(8)}${'tier'.padEnd(20)}${'nodes'.padStart(6)}${'at span/s'.padStart(11)}${'CPU s/1000 spans'.padStart(18)}${'peak/node'.padStart(11)}${'peak tier'.padStart(11)}${'run peak'.padStart(11)}`,
  );
  for (const r of tierRows) console.log(`bench: ${r}`);
  console.log(
    "bench: (CPU: from the load to every span in the files, all nodes of the tier; memory: working set as docker stats shows it, peak tier = the nodes' peaks summed; run peak: over every step of the series)",
  );
}
console.log(`bench: total wall time ${secs()}`);
// Quick: every step must hold, in the files and in Jaeger (the rates are far below any limit).
const lossy = steps.filter((s) => !s.holds || (s.kind !== 'no-op' && s.jaegerLost !== 0));
if (failures.length) console.log(`bench: FAILED: ${failures.join('; ')}`);
if (QUICK && (lossy.length || !steps.length)) {
  console.log(
    `bench: FAILED: ${lossy.length ? lossy.map((s) => `${s.kind} at ${s.rate}/s lost ${s.lost} span(s) in the files, ${s.jaegerLost ?? 'n/a'} in Jaeger, ${s.errors.length} export error(s)`).join('; ') : 'no step ran'}`,
  );
}
if (failures.length || (QUICK && (lossy.length || !steps.length))) process.exitCode = 1;
