// The judging of `pnpm compat`, pure: each run's checks, each cell's result over its repeated runs (pass, fail, or
// flaky with its counts, never a coin toss shown as a verdict), each session kind's inventory per release (never
// merged across kinds: what a -p session lacks must not hide behind an interactive one), what changed from the
// release before, and which checks regressed. The runner (compat-run.ts) observes; compat-markdown.ts writes.
// Over 300 lines because the types of a matrix and the one judgement of it belong together: a check, a cell and
// a regression must mean the same in the docs, the JSON and `--new`'s exit status.
import type { Inventory, SessionObservation } from './observe-session.ts';

export interface Expectation {
  tokens: Record<string, number>;
  linesAdded: number;
  linesRemoved: number;
  modelCalls: number;
  /** api_error events the session must carry (a call that failed for good). */
  apiErrors: number;
  /** Failed attempts retried and then answered: in the trace only (no api_error), as Claude Code reports them. */
  retries?: number;
  /** Events the session must carry, by name (without `claude_code.`), exactly this many. */
  events?: Record<string, number>;
  /** Tokens of the subagents' model calls, all types: in Prometheus under a subagent's `query_source`. */
  subagentTokens?: number;
  /** Hooks configured: runs per hook event (hook_execution_complete events by `hook_event`), exactly. */
  hookRuns?: Record<string, number>;
}

/** How the session was given its telemetry settings: environment, user settings.json `env`, managed settings. */
export const CONFIG_PATHS = ['env', 'settings', 'managed'] as const;

export interface CompatRun {
  release: string;
  protocol: string;
  /** The session kind (scripts/lib/compat/session-kinds.ts). */
  session: string;
  /** The configuration path (CONFIG_PATHS); `env` for matrices written before it was an axis. */
  config?: string;
  /** Which of the cell's repeated runs this is, from 1. */
  attempt?: number;
  /** Sessions started for this run: more than 1 when one never started or its sinks could not be read. */
  tries?: number;
  /** Set when no try measured anything (the session never started, or its sinks could not be read): why. */
  unmeasured?: string;
  sessionId: string;
  exitCode: number | null;
  /** The session record's status (completed, failed, ...), or what went wrong before there was one. */
  status: string;
  seconds: number;
  /** How long the session itself ran (its record's duration), without the wait for its telemetry. */
  sessionMs?: number | null;
  /** Set when the session could not be run or observed at all. */
  error?: string;
  expected: Expectation;
  observation?: SessionObservation;
}

export interface ReleaseInput {
  release: string;
  imageSeconds: number;
  runs: CompatRun[];
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** A cell: one release x kind x protocol x configuration path. */
export interface CellId {
  kind: string;
  protocol: string;
  config: string;
}

export type CellState = 'pass' | 'fail' | 'flaky' | 'unmeasured';

export interface CellResult extends CellId {
  state: CellState;
  /** Runs that measured something, and of them those that passed every check. */
  runs: number;
  passed: number;
  /** Runs that never measured anything (after their retries). */
  unmeasured: number;
  /** Per check that failed in any run: in how many runs, and what it saw (distinct details). */
  failures: Record<string, { runs: number; details: string[] }>;
}

/** Each name seen in a kind's runs: in how many of them, and the attribute keys seen on it. */
export type Seen = Record<string, { runs: number; keys: string[] }>;

export interface KindInventory {
  /** The kind's runs with telemetry read (measured). */
  runs: number;
  metrics: Seen;
  events: Seen;
  spans: Seen;
  spanEvents: Seen;
  resource: string[];
}

/** One run as the report keeps it: what identifies it, its failed checks and its figures (no inventories). */
export interface RunSummary extends CellId {
  attempt: number;
  tries: number;
  sessionId: string;
  exitCode: number | null;
  status: string;
  seconds: number;
  sessionMs: number | null;
  unmeasured?: string;
  failed: Check[];
  expected: Expectation;
  /** Resource attribute keys its telemetry carried. */
  resource: string[];
  serviceVersion: string;
  egress: string[];
  fileRecords: SessionObservation['fileRecords'] | null;
  totals: SessionObservation['totals'] | null;
}

export interface ReleaseReport {
  release: string;
  imageSeconds: number;
  cells: CellResult[];
  /** Per session kind: what its sessions emitted. */
  inventory: Record<string, KindInventory>;
  runs: RunSummary[];
  /** Per kind, items added and removed since the previous release in the matrix whose sessions of that kind sent anything. */
  changes: Record<string, { added: string[]; removed: string[]; since: string }>;
}

export interface CompatReport {
  generated: string;
  command: string;
  /** Wall time of the run that measured (seconds); null when written from the cache alone (--report-only). */
  runSeconds: number | null;
  runsPerCell: number;
  stack: Record<string, string>;
  releases: ReleaseReport[];
  /** Kind name -> what it is (from the registry), for the report's headings. */
  kinds: Record<string, string>;
}

export const cellKey = (c: CellId) => `${c.kind} ${c.protocol} ${c.config}`;
const cellOf = (r: CompatRun): CellId => ({
  kind: r.session,
  protocol: r.protocol,
  config: r.config ?? 'env',
});

const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * Prometheus's name of an OTel metric starts with the OTel name, dots as underscores, without a final `total`
 * (the translation puts the unit before `_total`: claude_code.active_time.total -> claude_code_active_time_seconds_total).
 */
export const inPrometheus = (otelName: string, promNames: string[]) =>
  promNames.some((p) => p.startsWith(otelName.replace(/\./g, '_').replace(/_total$/, '')));

/** A subagent's `query_source` (`subagent`, or `agent:builtin:TYPE` / `agent:custom:NAME` in some releases). */
export const isSubagentSource = (s: string) => s === 'subagent' || s.startsWith('agent:');

/** What must hold for one session; each check says what it saw. */
export function checkRun(run: CompatRun): Check[] {
  const o = run.observation;
  if (!o) return [{ name: 'ran', ok: false, detail: run.error ?? `exit ${run.exitCode}, no observation` }];
  const checks: Check[] = [];
  const f = o.fileRecords;
  const e = run.expected;
  checks.push({
    name: 'ran',
    ok: run.exitCode === 0 || e.apiErrors > 0,
    detail: `exit ${run.exitCode}, ${run.status}`,
  });
  checks.push({
    name: 'files',
    ok: f.metrics > 0 && f.logs > 0 && f.traces > 0,
    detail: `${f.traces} spans, ${f.metrics} metric points, ${f.logs} events`,
  });
  const missingProm = Object.keys(o.metrics).filter((m) => !inPrometheus(m, o.backends.prometheus));
  checks.push({
    name: 'prometheus',
    ok: f.metrics > 0 && missingProm.length === 0,
    detail:
      f.metrics === 0 ? 'no metrics sent' : missingProm.length ? `missing ${missingProm.join(', ')}` : 'all',
  });
  checks.push({
    name: 'jaeger',
    ok: f.traces > 0 && o.backendRecords.jaeger === f.traces,
    detail: `${o.backendRecords.jaeger} of ${f.traces} spans`,
  });
  checks.push({
    name: 'victorialogs',
    ok: f.logs > 0 && o.backendRecords.victorialogs === f.logs,
    detail: `${o.backendRecords.victorialogs} of ${f.logs} events`,
  });
  const types = new Set([...Object.keys(e.tokens), ...Object.keys(o.totals.tokens)]);
  const tokenDiff = [...types].filter((t) => (e.tokens[t] ?? 0) !== (o.totals.tokens[t] ?? 0));
  checks.push({
    name: 'tokens',
    ok: tokenDiff.length === 0,
    detail: tokenDiff.length
      ? tokenDiff.map((t) => `${t} ${o.totals.tokens[t] ?? 'none'} (script ${e.tokens[t] ?? 0})`).join(', ')
      : 'equal to the script',
  });
  const cost = o.totals.cost;
  checks.push({
    name: 'cost',
    ok:
      e.modelCalls > 0
        ? cost !== null && cost > 0 && same(cost, o.totals.eventCost)
        : (cost ?? 0) === 0 && o.totals.eventCost === 0,
    detail:
      cost === null
        ? `no cost metric (events add up to ${o.totals.eventCost})`
        : `metric ${cost}, api_request events ${o.totals.eventCost}`,
  });
  const lines = (got: number | null, want: number) => (got ?? 0) === want;
  checks.push({
    name: 'lines',
    ok: lines(o.totals.linesAdded, e.linesAdded) && lines(o.totals.linesRemoved, e.linesRemoved),
    detail: `+${o.totals.linesAdded ?? 'none'} -${o.totals.linesRemoved ?? 'none'} (script +${e.linesAdded} -${e.linesRemoved})`,
  });
  checks.push({
    name: 'errors',
    ok: o.totals.apiErrors === e.apiErrors,
    detail: `${o.totals.apiErrors} api_error events (script ${e.apiErrors})`,
  });
  if (e.retries !== undefined) {
    // What Claude Code emits for a call answered after failed attempts: the attempts on its llm_request span
    // (attempt, gen_ai.request.attempt events) and no api_error event (the `errors` check holds that part).
    const a = o.attempts;
    checks.push({
      name: 'retries',
      ok: a?.from === 'trace' && a.retries === e.retries,
      detail: a
        ? `${a.retries} retried attempt(s) in the ${a.from === 'trace' ? 'trace' : 'events (no llm_request spans)'} (script ${e.retries})`
        : 'attempts not read',
    });
  }
  for (const [name, want] of Object.entries(e.events ?? {})) {
    const got = o.counts?.events[name] ?? 0;
    checks.push({ name: `event ${name}`, ok: got === want, detail: `${got} (script ${want})` });
  }
  if (e.hookRuns) {
    const got = o.hookRuns ?? {};
    const names = [...new Set([...Object.keys(e.hookRuns), ...Object.keys(got)])].sort();
    const diff = names.filter((h) => (got[h] ?? 0) !== (e.hookRuns?.[h] ?? 0));
    checks.push({
      name: 'hooks',
      ok: diff.length === 0,
      detail: diff.length
        ? diff.map((h) => `${h} ${got[h] ?? 0} (script ${e.hookRuns?.[h] ?? 0})`).join(', ')
        : `hook_execution_complete per hook event equal to the script (${names.join(', ')})`,
    });
  }
  if (e.subagentTokens !== undefined) {
    const by = o.tokensBySource ?? {};
    const sources = Object.keys(by).filter(isSubagentSource);
    const got = sources.reduce((a, s) => a + (by[s] ?? 0), 0);
    checks.push({
      name: 'attribution',
      ok: got === e.subagentTokens,
      detail: `${got} tokens under query_source ${sources.join(', ') || '(none of a subagent)'} (script ${e.subagentTokens}); by query_source: ${
        Object.entries(by)
          .map(([s, n]) => `${s} ${n}`)
          .join(', ') || 'none'
      }`,
    });
  }
  return checks;
}

/** The cell's result over its runs: pass or fail only when every measured run agrees; otherwise flaky. */
export function cellResult(id: CellId, runs: { checks: Check[]; unmeasured?: string }[]): CellResult {
  const measured = runs.filter((r) => !r.unmeasured);
  const failures: CellResult['failures'] = {};
  let passed = 0;
  for (const r of measured) {
    const failed = r.checks.filter((c) => !c.ok);
    if (!failed.length) passed++;
    for (const c of failed) {
      const f = failures[c.name] ?? { runs: 0, details: [] };
      failures[c.name] = {
        runs: f.runs + 1,
        details: f.details.includes(c.detail) ? f.details : [...f.details, c.detail],
      };
    }
  }
  const state: CellState = !measured.length
    ? 'unmeasured'
    : passed === measured.length
      ? 'pass'
      : passed === 0
        ? 'fail'
        : 'flaky';
  return { ...id, state, runs: measured.length, passed, unmeasured: runs.length - measured.length, failures };
}

function addSeen(into: Seen, from: Inventory) {
  for (const [name, keys] of Object.entries(from)) {
    const s = into[name] ?? { runs: 0, keys: [] };
    into[name] = { runs: s.runs + 1, keys: [...new Set([...s.keys, ...keys])].sort() };
  }
}

const sortSeen = (s: Seen): Seen =>
  Object.fromEntries(Object.entries(s).sort(([a], [b]) => a.localeCompare(b)));

/** What one kind's measured runs of a release emitted, with how many runs carried each name. */
export function kindInventory(runs: CompatRun[]): KindInventory {
  const inv: KindInventory = { runs: 0, metrics: {}, events: {}, spans: {}, spanEvents: {}, resource: [] };
  const resource = new Set<string>();
  for (const r of runs) {
    if (!r.observation || r.unmeasured) continue;
    inv.runs++;
    addSeen(inv.metrics, r.observation.metrics);
    addSeen(inv.events, r.observation.events);
    addSeen(inv.spans, r.observation.spans);
    addSeen(inv.spanEvents, r.observation.spanEvents);
    for (const k of r.observation.resource) resource.add(k);
  }
  inv.metrics = sortSeen(inv.metrics);
  inv.events = sortSeen(inv.events);
  inv.spans = sortSeen(inv.spans);
  inv.spanEvents = sortSeen(inv.spanEvents);
  inv.resource = [...resource].sort();
  return inv;
}

export const INVENTORY_SECTIONS = [
  ['metric', 'metrics'],
  ['event', 'events'],
  ['span', 'spans'],
  ['span event', 'spanEvents'],
] as const;

/** Every item of an inventory as a flat name: `event api_request`, `event api_request: cost_usd`. */
export function inventoryItems(inv: KindInventory): string[] {
  const out: string[] = [];
  for (const [label, key] of INVENTORY_SECTIONS) {
    for (const [name, s] of Object.entries(inv[key])) {
      out.push(`${label} ${name}`);
      for (const k of s.keys) out.push(`${label} ${name}: ${k}`);
    }
  }
  for (const k of inv.resource) out.push(`resource: ${k}`);
  return out;
}

function summarize(run: CompatRun, checks: Check[]): RunSummary {
  const o = run.observation;
  return {
    ...cellOf(run),
    attempt: run.attempt ?? 1,
    tries: run.tries ?? 1,
    sessionId: run.sessionId,
    exitCode: run.exitCode,
    status: run.status,
    seconds: run.seconds,
    sessionMs: run.sessionMs ?? null,
    ...(run.unmeasured ? { unmeasured: run.unmeasured } : {}),
    failed: run.unmeasured ? [] : checks.filter((c) => !c.ok),
    expected: run.expected,
    resource: o?.resource ?? [],
    serviceVersion: o?.serviceVersion ?? '',
    egress: o?.egress ?? [],
    fileRecords: o?.fileRecords ?? null,
    totals: o?.totals ?? null,
  };
}

/** One release's runs judged: cells, per-kind inventories, run summaries (changes are linked by buildReport). */
export function judgeRelease(input: ReleaseInput): ReleaseReport {
  const byCell = new Map<string, { id: CellId; runs: { checks: Check[]; unmeasured?: string }[] }>();
  const byKind = new Map<string, CompatRun[]>();
  const runs: RunSummary[] = [];
  for (const run of input.runs) {
    const id = cellOf(run);
    const checks = run.unmeasured ? [] : checkRun(run);
    let c = byCell.get(cellKey(id));
    if (!c) {
      c = { id, runs: [] };
      byCell.set(cellKey(id), c);
    }
    c.runs.push({ checks, unmeasured: run.unmeasured });
    byKind.set(run.session, [...(byKind.get(run.session) ?? []), run]);
    runs.push(summarize(run, checks));
  }
  return {
    release: input.release,
    imageSeconds: input.imageSeconds,
    cells: [...byCell.values()].map((c) => cellResult(c.id, c.runs)),
    inventory: Object.fromEntries([...byKind].map(([k, rs]) => [k, kindInventory(rs)])),
    runs,
    changes: {},
  };
}

/** Releases oldest first, each kind's changes from the last release before it whose sessions of that kind sent anything. */
export function linkChanges(releases: ReleaseReport[]): ReleaseReport[] {
  const sorted = [...releases].sort((a, b) => compareReleases(a.release, b.release));
  const last = new Map<string, { release: string; items: string[] }>();
  for (const rel of sorted) {
    rel.changes = {};
    for (const [kind, inv] of Object.entries(rel.inventory)) {
      const items = inventoryItems(inv);
      const prev = last.get(kind);
      if (prev)
        rel.changes[kind] = {
          since: prev.release,
          added: items.filter((i) => !prev.items.includes(i)),
          removed: prev.items.filter((i) => !items.includes(i)),
        };
      // A release that sent nothing says nothing about what the next one changed: compare with the last that did.
      if (items.length) last.set(kind, { release: rel.release, items });
    }
  }
  return sorted;
}

/** Judged releases (from a matrix already written) and measured ones, as one report. */
export function buildReport(
  inputs: ReleaseInput[],
  meta: Omit<CompatReport, 'releases'>,
  judged: ReleaseReport[] = [],
): CompatReport {
  const fresh = inputs.map(judgeRelease);
  const names = new Set(fresh.map((r) => r.release));
  return { ...meta, releases: linkChanges([...judged.filter((r) => !names.has(r.release)), ...fresh]) };
}

/**
 * The releases of a matrix as written (docs/compatibility.json). A matrix written before cells existed (one run
 * per cell, runs with their observations) is judged again here, each run the `env` path's only run.
 */
export function releasesOf(matrix: unknown): ReleaseReport[] {
  const releases = (matrix as { releases?: unknown[] } | null)?.releases;
  if (!Array.isArray(releases))
    throw new Error('a compatibility matrix has a `releases` list; this one has none');
  return linkChanges(
    releases.map((r) => {
      const rel = r as Partial<ReleaseReport> & Partial<ReleaseInput>;
      if (Array.isArray(rel.cells)) return rel as ReleaseReport;
      return judgeRelease({
        release: String(rel.release),
        imageSeconds: Number(rel.imageSeconds ?? 0),
        runs: (rel.runs ?? []) as CompatRun[],
      });
    }),
  );
}

export function compareReleases(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d) return d;
  }
  return 0;
}

/**
 * Checks that passed on a release and fail on the next one (`--new`'s exit status): in every cell both measured,
 * a check that failed in no run of the earlier release and in every measured run of the later. A check that
 * fails in only some runs of the later release is a warning (flaky), not a regression.
 */
export function regressions(
  before: ReleaseReport,
  after: ReleaseReport,
): { regressed: string[]; flaky: string[] } {
  const regressed: string[] = [];
  const flaky: string[] = [];
  const prev = new Map(before.cells.map((c) => [cellKey(c), c]));
  for (const cell of after.cells) {
    const p = prev.get(cellKey(cell));
    if (!p?.runs || !cell.runs) continue;
    for (const [check, f] of Object.entries(cell.failures)) {
      if (p.failures[check]) continue;
      const line = `${cellKey(cell)}: ${check} (${f.details.join('; ')}) passed on ${before.release}, fails on ${after.release} in ${f.runs} of ${cell.runs} runs`;
      (f.runs === cell.runs ? regressed : flaky).push(line);
    }
  }
  return { regressed, flaky };
}
