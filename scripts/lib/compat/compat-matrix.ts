// The compatibility matrix of `pnpm compat`, from the sessions it ran: per release, what each session left in
// each sink, whether its totals equal the script, and what changed from the release before. Pure: the runner
// (compat-run.ts) observes, this judges and writes docs/compatibility.md and its JSON.
import type { Inventory, SessionObservation } from './observe-session.ts';

export interface Expectation {
  tokens: Record<string, number>;
  linesAdded: number;
  linesRemoved: number;
  modelCalls: number;
  apiErrors: number;
}

export interface CompatRun {
  release: string;
  protocol: string;
  /** The session kind: a script name (demo, api-error-529) or `interactive`. */
  session: string;
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

export interface ReleaseInventory {
  metrics: Inventory;
  events: Inventory;
  spans: Inventory;
  spanEvents: Inventory;
  resource: string[];
}

export interface ReleaseReport extends ReleaseInput {
  inventory: ReleaseInventory;
  checks: Record<string, Check[]>;
  /** Items added and removed since the previous release in the matrix (`metric claude_code.x`, `event y.attr`). */
  changes: { added: string[]; removed: string[] } | null;
}

export interface CompatReport {
  generated: string;
  command: string;
  stack: Record<string, string>;
  releases: ReleaseReport[];
}

export const runKey = (r: Pick<CompatRun, 'session' | 'protocol'>) => `${r.session} (${r.protocol})`;

const same = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * Prometheus's name of an OTel metric starts with the OTel name, dots as underscores, without a final `total`
 * (the translation puts the unit before `_total`: claude_code.active_time.total -> claude_code_active_time_seconds_total).
 */
export const inPrometheus = (otelName: string, promNames: string[]) =>
  promNames.some((p) => p.startsWith(otelName.replace(/\./g, '_').replace(/_total$/, '')));

/** What must hold for one session; each check says what it saw. */
export function checkRun(run: CompatRun): Check[] {
  const o = run.observation;
  if (!o) return [{ name: 'ran', ok: false, detail: run.error ?? `exit ${run.exitCode}, no observation` }];
  const checks: Check[] = [];
  const f = o.fileRecords;
  const interactiveOrDemo = run.expected.modelCalls > 0;
  checks.push({
    name: 'ran',
    ok: run.exitCode === 0 || run.expected.apiErrors > 0,
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
  const types = new Set([...Object.keys(run.expected.tokens), ...Object.keys(o.totals.tokens)]);
  const tokenDiff = [...types].filter((t) => (run.expected.tokens[t] ?? 0) !== (o.totals.tokens[t] ?? 0));
  checks.push({
    name: 'tokens',
    ok: tokenDiff.length === 0,
    detail: tokenDiff.length
      ? tokenDiff
          .map((t) => `${t} ${o.totals.tokens[t] ?? 'none'} (script ${run.expected.tokens[t] ?? 0})`)
          .join(', ')
      : 'equal to the script',
  });
  const cost = o.totals.cost;
  checks.push({
    name: 'cost',
    ok: interactiveOrDemo
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
    ok:
      lines(o.totals.linesAdded, run.expected.linesAdded) &&
      lines(o.totals.linesRemoved, run.expected.linesRemoved),
    detail: `+${o.totals.linesAdded ?? 'none'} -${o.totals.linesRemoved ?? 'none'} (script +${run.expected.linesAdded} -${run.expected.linesRemoved})`,
  });
  checks.push({
    name: 'errors',
    ok: o.totals.apiErrors === run.expected.apiErrors,
    detail: `${o.totals.apiErrors} api_error events (script ${run.expected.apiErrors})${
      o.spanEvents['gen_ai.request.attempt'] ? '; the spans carry gen_ai.request.attempt events' : ''
    }`,
  });
  return checks;
}

function merge(into: Inventory, from: Inventory) {
  for (const [name, keys] of Object.entries(from))
    into[name] = [...new Set([...(into[name] ?? []), ...keys])].sort();
}

export function releaseInventory(runs: CompatRun[]): ReleaseInventory {
  const inv: ReleaseInventory = { metrics: {}, events: {}, spans: {}, spanEvents: {}, resource: [] };
  const resource = new Set<string>();
  for (const r of runs) {
    if (!r.observation) continue;
    merge(inv.metrics, r.observation.metrics);
    merge(inv.events, r.observation.events);
    merge(inv.spans, r.observation.spans);
    merge(inv.spanEvents, r.observation.spanEvents);
    for (const k of r.observation.resource) resource.add(k);
  }
  inv.resource = [...resource].sort();
  return inv;
}

/** Every item of an inventory as a flat name: `event api_request`, `event api_request: cost_usd`. */
export function inventoryItems(inv: ReleaseInventory): string[] {
  const out: string[] = [];
  const kinds = [
    ['metric', inv.metrics],
    ['event', inv.events],
    ['span', inv.spans],
    ['span event', inv.spanEvents],
  ] as const;
  for (const [kind, items] of kinds) {
    for (const [name, keys] of Object.entries(items)) {
      out.push(`${kind} ${name}`);
      for (const k of keys) out.push(`${kind} ${name}: ${k}`);
    }
  }
  for (const k of inv.resource) out.push(`resource: ${k}`);
  return out;
}

/** Releases oldest first (numeric order), with checks, inventories and changes from the one before. */
export function buildReport(
  inputs: ReleaseInput[],
  meta: Pick<CompatReport, 'generated' | 'command' | 'stack'>,
): CompatReport {
  const sorted = [...inputs].sort((a, b) => compareReleases(a.release, b.release));
  const releases: ReleaseReport[] = [];
  let previous: string[] | null = null;
  for (const input of sorted) {
    const inventory = releaseInventory(input.runs);
    const items = inventoryItems(inventory);
    const checks = Object.fromEntries(input.runs.map((r) => [runKey(r), checkRun(r)]));
    const changes = previous
      ? {
          added: items.filter((i) => !previous?.includes(i)),
          removed: previous.filter((i) => !items.includes(i)),
        }
      : null;
    releases.push({ ...input, inventory, checks, changes });
    // A release that sent nothing says nothing about what the next one changed: compare with the last that did.
    if (items.length) previous = items;
  }
  return { ...meta, releases };
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

const cell = (checks: Check[] | undefined) => {
  if (!checks) return '';
  const failed = checks.filter((c) => !c.ok);
  return failed.length ? `✗ ${failed.map((c) => c.name).join(', ')}` : '✓';
};

/** docs/compatibility.md. */
export function renderMarkdown(r: CompatReport): string {
  const out: string[] = [];
  const keys = [...new Set(r.releases.flatMap((rel) => rel.runs.map(runKey)))];
  out.push('# Claude Code telemetry compatibility', '');
  out.push(
    `Generated by \`${r.command}\` on ${r.generated}: each release's image built here, the same scripted sessions run`,
    'through the real stack, and what reached each sink read back. Regenerate with the same command; the raw',
    'figures are in `compatibility.json` beside this file.',
    '',
    `Stack: ${Object.entries(r.stack)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    '## Summary',
    '',
    'A session passes (✓) when its telemetry reached the files, Prometheus, Jaeger and VictoriaLogs in full, its',
    'token and line totals in Prometheus equal the script, its cost metric equals the sum of its `api_request`',
    "events, and its `api_error` events equal the script's errors. Otherwise the failed checks are named; the",
    'details per release follow.',
    '',
    `| Release | ${keys.join(' | ')} |`,
    `| --- | ${keys.map(() => '---').join(' | ')} |`,
  );
  for (const rel of r.releases)
    out.push(`| ${rel.release} | ${keys.map((k) => cell(rel.checks[k])).join(' | ')} |`);
  out.push('', '## What each release emits', '');
  const kinds = [
    ['Metrics', 'metrics'],
    ['Events', 'events'],
    ['Spans', 'spans'],
    ['Span events', 'spanEvents'],
  ] as const;
  for (const [title, key] of kinds) {
    const names = [...new Set(r.releases.flatMap((rel) => Object.keys(rel.inventory[key])))].sort();
    if (!names.length) continue;
    out.push(
      `### ${title}`,
      '',
      `| ${title.slice(0, -1)} | ${r.releases.map((rel) => rel.release).join(' | ')} |`,
    );
    out.push(`| --- | ${r.releases.map(() => ':-:').join(' | ')} |`);
    for (const n of names)
      out.push(`| \`${n}\` | ${r.releases.map((rel) => (rel.inventory[key][n] ? '●' : '')).join(' | ')} |`);
    out.push('');
  }
  out.push('## Per release', '');
  for (const rel of r.releases) {
    out.push(`### ${rel.release}`, '');
    const version = rel.runs.find((x) => x.observation?.serviceVersion)?.observation?.serviceVersion;
    out.push(
      `Image built or found in ${rel.imageSeconds.toFixed(0)} s; session durations: ${rel.runs
        .map((x) => `${runKey(x)} ${x.sessionMs ? `${(x.sessionMs / 1000).toFixed(0)} s` : 'no record'}`)
        .join(
          ', ',
        )}.${version ? ` service.version: ${version}.` : ' No telemetry carried a service.version.'}`,
      '',
    );
    for (const run of rel.runs) {
      const failed = (rel.checks[runKey(run)] ?? []).filter((c) => !c.ok);
      if (failed.length)
        out.push(`- ${runKey(run)}: ${failed.map((c) => `**${c.name}**: ${c.detail}`).join('; ')}`);
    }
    const egress = [...new Set(rel.runs.flatMap((x) => x.observation?.egress ?? []))];
    if (egress.length)
      out.push(`- Tried to reach through the egress proxy: ${egress.map((x) => `\`${x}\``).join(', ')}.`);
    if (rel.runs.every((run) => (rel.checks[runKey(run)] ?? []).every((c) => c.ok)))
      out.push('- Every session passes every check.');
    if (rel.changes) {
      const list = (items: string[]) =>
        items.length > 40
          ? `${items.slice(0, 40).join(', ')} and ${items.length - 40} more`
          : items.join(', ');
      out.push(
        `- Added since the previous release with telemetry: ${rel.changes.added.length ? list(rel.changes.added.map((i) => `\`${i}\``)) : 'nothing'}.`,
        `- Gone since then: ${rel.changes.removed.length ? list(rel.changes.removed.map((i) => `\`${i}\``)) : 'nothing'}.`,
      );
    }
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
