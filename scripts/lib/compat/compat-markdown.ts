// docs/compatibility.md from a judged matrix (compat-matrix.ts): the header (command, date, run time, runs per
// cell), the public reports and their verdicts, what differs between releases, then one section per session kind
// (its cells per release, what its sessions emitted per release), and the details per release. Pure.
import {
  type CellResult,
  type CompatReport,
  cellKey,
  INVENTORY_SECTIONS,
  type KindInventory,
  type ReleaseReport,
} from './compat-matrix.ts';
import { publicVerdicts } from './public-reports.ts';

/** One cell as the tables show it: ✓, ✗ with the checks that failed in every run, ~ k/n (k runs of n passed), ?. */
export function cellText(c: CellResult | undefined): string {
  if (!c) return '';
  if (c.state === 'unmeasured') return `? unmeasured (${c.unmeasured} run(s))`;
  const short = c.unmeasured ? ` (${c.runs} measured)` : '';
  const names = (all: boolean) =>
    Object.entries(c.failures)
      .filter(([, f]) => (f.runs === c.runs) === all)
      .map(([n, f]) => (all ? n : `${n} ${f.runs}/${c.runs}`));
  if (c.state === 'pass') return `✓${short}`;
  if (c.state === 'fail') {
    const sometimes = names(false);
    return `✗ ${names(true).join(', ')}${sometimes.length ? `; ~ ${sometimes.join(', ')}` : ''}${short}`;
  }
  return `~ ${c.passed}/${c.runs} (${[...names(true), ...names(false)].join(', ')})${short}`;
}

const duration = (s: number) =>
  s >= 3600
    ? `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`
    : s >= 60
      ? `${Math.round(s / 60)} min`
      : `${Math.round(s)} s`;

const listOf = (items: string[], max = 30) =>
  items.length > max
    ? `${items
        .slice(0, max)
        .map((i) => `\`${i}\``)
        .join(', ')} and ${items.length - max} more`
    : items.map((i) => `\`${i}\``).join(', ');

const columnOf = (c: { protocol: string; config: string }) => `${c.protocol} · ${c.config}`;

function kindTable(r: CompatReport, kind: string): string[] {
  const rels = r.releases.filter((rel) => rel.cells.some((c) => c.kind === kind));
  const cols = [
    ...new Map(
      rels.flatMap((rel) => rel.cells.filter((c) => c.kind === kind)).map((c) => [columnOf(c), c]),
    ).values(),
  ];
  const out = [
    `| Release | ${cols.map(columnOf).join(' | ')} |`,
    `| --- | ${cols.map(() => '---').join(' | ')} |`,
  ];
  for (const rel of rels) {
    const row = cols.map((col) => cellText(rel.cells.find((c) => cellKey(c) === cellKey({ ...col, kind }))));
    out.push(`| ${rel.release} | ${row.join(' | ')} |`);
  }
  return out;
}

/** What a kind's sessions emitted, release by release: ● in every run, ◐ in some (k/n), blank in none. */
function inventoryTable(r: CompatReport, kind: string): string[] {
  const rels = r.releases.filter((rel) => rel.inventory[kind]?.runs);
  if (!rels.length) return [];
  const out: string[] = [];
  for (const [label, key] of INVENTORY_SECTIONS) {
    const names = [
      ...new Set(rels.flatMap((rel) => Object.keys((rel.inventory[kind] as KindInventory)[key]))),
    ].sort();
    if (!names.length) continue;
    out.push(
      `| ${label} | ${rels.map((rel) => rel.release).join(' | ')} |`,
      `| --- | ${rels.map(() => ':-:').join(' | ')} |`,
    );
    for (const n of names)
      out.push(
        `| \`${n}\` | ${rels
          .map((rel) => {
            const inv = rel.inventory[kind] as KindInventory;
            const seen = inv[key][n]?.runs ?? 0;
            return seen === 0 ? '' : seen === inv.runs ? '●' : `◐ ${seen}/${inv.runs}`;
          })
          .join(' | ')} |`,
      );
    out.push('');
  }
  return out;
}

/**
 * Items of an inventory diff, grouped: each name once, then the attribute keys by the name they are on, each with
 * the kinds that show it when not all of them; past a dozen names with keys, counted.
 */
function grouped(byItem: Map<string, string[]>, kinds: number): string {
  const of = (ks: string[]) => (ks.length < kinds ? ` (${[...new Set(ks)].join(', ')})` : '');
  const names = [...byItem].filter(([i]) => !i.includes(': ')).map(([i, ks]) => `\`${i}\`${of(ks)}`);
  const keys = new Map<string, { keys: string[]; kinds: string[] }>();
  for (const [item, ks] of byItem) {
    const at = item.indexOf(': ');
    if (at < 0) continue;
    const k = keys.get(item.slice(0, at)) ?? { keys: [], kinds: [] };
    keys.set(item.slice(0, at), { keys: [...k.keys, item.slice(at + 2)], kinds: [...k.kinds, ...ks] });
  }
  const withKeys = [...keys].map(
    ([n, k]) => `\`${n}\` keys ${k.keys.map((x) => `\`${x}\``).join(', ')}${of(k.kinds)}`,
  );
  const shown = withKeys.slice(0, 12);
  if (withKeys.length > 12) shown.push(`and the keys of ${withKeys.length - 12} more`);
  return [...names, ...shown].join('; ');
}

/**
 * What differs from the release before: cells whose result changed, and what the sessions emit. Each cell and each
 * kind is compared with the last release that ran it (a filler runs fewer kinds): a part of a line says which.
 */
export function differences(r: CompatReport): string[] {
  const out: string[] = [];
  const lastCell = new Map<string, { release: string; text: string }>();
  let prev: ReleaseReport | undefined;
  for (const rel of r.releases) {
    const lines: string[] = [];
    const changed = rel.cells.flatMap((c) => {
      const p = lastCell.get(cellKey(c));
      const since = p && p.release !== prev?.release ? ` (since ${p.release})` : '';
      return p && p.text !== cellText(c) ? [`${cellKey(c)} ${p.text} → ${cellText(c)}${since}`] : [];
    });
    for (const c of rel.cells) lastCell.set(cellKey(c), { release: rel.release, text: cellText(c) });
    if (changed.length) lines.push(`results: ${changed.join('; ')}`);
    // The kinds' changes, grouped by the release each is measured against.
    const bySince = new Map<string, [string, { added: string[]; removed: string[] }][]>();
    for (const [kind, ch] of Object.entries(rel.changes))
      bySince.set(ch.since, [...(bySince.get(ch.since) ?? []), [kind, ch]]);
    const since = [...bySince.keys()].sort((x, y) =>
      x === prev?.release ? -1 : y === prev?.release ? 1 : 0,
    );
    for (const from of since) {
      const group = bySince.get(from) ?? [];
      const added = new Map<string, string[]>();
      const removed = new Map<string, string[]>();
      for (const [kind, ch] of group) {
        for (const i of ch.added) added.set(i, [...(added.get(i) ?? []), kind]);
        for (const i of ch.removed) removed.set(i, [...(removed.get(i) ?? []), kind]);
      }
      const parts: string[] = [];
      if (added.size) parts.push(`new: ${grouped(added, group.length)}`);
      if (removed.size) parts.push(`gone: ${grouped(removed, group.length)}`);
      if (!parts.length) continue;
      const who =
        from === prev?.release
          ? ''
          : `${group.map(([k]) => k).join(', ')}, since ${from} (the last release that ran them): `;
      lines.push(`${who}${parts.join('. ')}`);
    }
    if (lines.length) out.push(`- **${rel.release}** (since ${prev?.release ?? '-'}): ${lines.join('. ')}.`);
    prev = rel;
  }
  return out.length
    ? out
    : ['- Nothing: every release measured here gives the same results and emits the same.'];
}

export function renderMarkdown(r: CompatReport): string {
  const out: string[] = [];
  const sessions = r.releases.flatMap((rel) => rel.runs);
  const kinds = [...new Set(r.releases.flatMap((rel) => rel.cells.map((c) => c.kind)))];
  const ordered = [
    ...Object.keys(r.kinds).filter((k) => kinds.includes(k)),
    ...kinds.filter((k) => !(k in r.kinds)),
  ];
  out.push(
    '# Claude Code telemetry compatibility',
    '',
    `Generated by \`${r.command}\` on ${r.generated}; ${r.runSeconds === null ? 'written from the runs cached by earlier runs' : `the run took ${duration(r.runSeconds)}`} (its ${sessions.length} sessions ran ${duration(
      sessions.reduce((a, x) => a + x.seconds, 0),
    )} in all, observation included, some at once), ${r.runsPerCell} run(s) per cell.`,
    "Each release's image is built here; the same scripted sessions run through the real stack (collector,",
    'Prometheus, Jaeger, VictoriaLogs; only the Anthropic API is scripted) and what reached each sink is read back.',
    'Regenerate with the same command; the figures per run are in `compatibility.json` beside this file.',
    '',
    `Stack: ${Object.entries(r.stack)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    '## How to read the tables',
    '',
    'A cell is one release, session kind, OTLP protocol and configuration path (`env`: environment variables;',
    "`settings`: the `env` block of the user's settings.json; `managed`: /etc/claude-code/managed-settings.json).",
    'Each cell runs several times. **✓**: every run passed every check. **✗ names**: the named checks failed in',
    'every run. **~ k/n**: flaky, k of n runs passed (the checks that failed follow). **?**: unmeasured (the',
    'session never started or its sinks could not be read, after retries). A run passes when its telemetry reached',
    'the files, Prometheus, Jaeger and VictoriaLogs in full, its token and line totals in Prometheus equal the',
    "script, its cost metric equals its `api_request` events, its `api_error` events equal the script's, and the",
    "kind's own checks hold (retries in the trace, compactions, subagent attribution).",
    '',
    '## Public reports',
    '',
    '| Report | What was reported | Here | Shown by | Detail |',
    '| --- | --- | --- | --- | --- |',
  );
  for (const v of publicVerdicts(r))
    out.push(
      `| [#${v.id}](https://github.com/anthropics/claude-code/issues/${v.id}) | ${v.title} | ${v.status} | ${v.cell || '-'} | ${v.detail} |`,
    );
  out.push('', '## What differs between releases', '', ...differences(r), '');
  for (const kind of ordered) {
    out.push(`## Session kind: ${kind}`, '');
    if (r.kinds[kind]) out.push(r.kinds[kind] as string, '');
    out.push(...kindTable(r, kind), '', `### What ${kind} sessions emit, per release`, '');
    out.push(...inventoryTable(r, kind));
  }
  out.push('## Per release', '');
  for (const rel of r.releases) {
    out.push(`### ${rel.release}`, '');
    const version = rel.runs.find((x) => x.serviceVersion)?.serviceVersion;
    const byKind = new Map<string, number[]>();
    for (const x of rel.runs)
      if (x.sessionMs) byKind.set(x.kind, [...(byKind.get(x.kind) ?? []), x.sessionMs]);
    const median = (l: number[]) => [...l].sort((a, b) => a - b)[Math.floor(l.length / 2)] ?? 0;
    out.push(
      `Image built or found in ${rel.imageSeconds.toFixed(0)} s; ${rel.runs.length} sessions; median session: ${
        [...byKind].map(([k, l]) => `${k} ${(median(l) / 1000).toFixed(0)} s`).join(', ') || 'none recorded'
      }.${version ? ` service.version: ${version}.` : ' No telemetry carried a service.version.'}`,
      '',
    );
    for (const c of rel.cells) {
      const failures = Object.entries(c.failures);
      if (failures.length)
        out.push(
          `- ${cellKey(c)}: ${failures.map(([n, f]) => `**${n}** (${f.runs}/${c.runs}): ${f.details.join(' / ')}`).join('; ')}`,
        );
    }
    const unmeasured = rel.runs.filter((x) => x.unmeasured);
    for (const x of unmeasured)
      out.push(`- ${cellKey(x)} run ${x.attempt}: unmeasured after ${x.tries} tries: ${x.unmeasured}`);
    const retried = rel.runs.filter((x) => !x.unmeasured && x.tries > 1).length;
    if (retried)
      out.push(
        `- ${retried} run(s) measured only on a retry (the first session never started or its sinks were unreadable).`,
      );
    const egress = [...new Set(rel.runs.flatMap((x) => x.egress))];
    if (egress.length) out.push(`- Tried to reach through the egress proxy: ${listOf(egress)}.`);
    if (rel.cells.every((c) => c.state === 'pass')) out.push('- Every cell passes every check in every run.');
    out.push('');
  }
  return `${out.join('\n').trimEnd()}\n`;
}
