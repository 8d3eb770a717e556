// The public reports of Claude Code's telemetry breaking, each read against the matrix: reproduced (a cell shows
// the reported symptom), not reproduced (the cells that could show it do not), or not testable here (what the
// report needs is outside a scripted session: an OS, a cloud provider, a state built over weeks). Each report is a
// predicate over the report's cells and inventories, so the verdict is recomputed with every matrix, never typed.
import type { CellResult, CompatReport, KindInventory, ReleaseReport, RunSummary } from './compat-matrix.ts';
import { cellKey, compareReleases } from './compat-matrix.ts';

export type ReportStatus = 'reproduced' | 'not reproduced' | 'not testable';

export interface Verdict {
  status: ReportStatus;
  /** The cell (or inventory) that shows it: `2.1.113 demo http/protobuf env`. */
  cell: string;
  detail: string;
}

export interface PublicReport {
  /** The issue number in anthropics/claude-code. */
  id: number;
  title: string;
  /** The releases the report names (its verdict looks at them first). */
  releases: string[];
  verdict: (r: CompatReport) => Verdict;
}

interface CellView {
  release: ReleaseReport;
  cell: CellResult;
  runs: RunSummary[];
}

const sumOf = (t: Record<string, number> | undefined) => Object.values(t ?? {}).reduce((a, b) => a + b, 0);
const where = (v: CellView) => `${v.release.release} ${cellKey(v.cell)}`;

function cells(r: CompatReport, keep: (c: CellResult) => boolean): CellView[] {
  return r.releases.flatMap((release) =>
    release.cells
      .filter((c) => keep(c) && c.runs > 0)
      .map((cell) => ({
        release,
        cell,
        runs: release.runs.filter((x) => cellKey(x) === cellKey(cell) && !x.unmeasured),
      })),
  );
}

/**
 * The verdict over the cells that could show the symptom: those of the named releases first. `symptom` says what a
 * cell shows (null: nothing of the report). Reproduced when any cell shows it; otherwise not reproduced, naming
 * what was looked at.
 */
function scan(
  r: CompatReport,
  named: string[],
  keep: (c: CellResult) => boolean,
  symptom: (v: CellView) => string | null,
  what: string,
): Verdict {
  const all = cells(r, keep);
  if (!all.length)
    return { status: 'not testable', cell: '', detail: `not measured in this matrix: no ${what} cell` };
  const first = [...all].sort(
    (a, b) =>
      Number(named.includes(b.release.release)) - Number(named.includes(a.release.release)) ||
      compareReleases(a.release.release, b.release.release),
  );
  const releases = [...new Set(all.map((v) => v.release.release))];
  const showing = first.flatMap((v) => {
    const s = symptom(v);
    return s ? [{ v, s }] : [];
  });
  const [shown] = showing;
  if (shown) {
    // Which releases show it, and which of the releases the report names were measured and do not.
    const on = [...new Set(showing.map((x) => x.v.release.release))].sort(compareReleases);
    const clean = named.filter((n) => releases.includes(n) && !on.includes(n));
    return {
      status: 'reproduced',
      cell: where(shown.v),
      detail: `${shown.s}${on.length > 1 ? `; shown on ${on.join(', ')}` : ''}${clean.length ? `; not on ${clean.join(', ')}, the release(s) it names` : ''}`,
    };
  }
  const missing = named.filter((n) => !releases.includes(n));
  return {
    status: 'not reproduced',
    cell: `${all.length} ${what} cell(s) on ${releases.length > 1 ? `${releases.length} releases, ${releases[0]} to ${releases.at(-1)}` : releases[0]}`,
    detail: `none shows it${missing.length ? `; the release(s) it names not measured here: ${missing.join(', ')}` : ''}`,
  };
}

const notTestable = (detail: string) => (): Verdict => ({ status: 'not testable', cell: '', detail });

/** Every measured run of the cell sent no metric points (a release that exports nothing). */
const noMetrics = (v: CellView) =>
  v.runs.every((x) => (x.fileRecords?.metrics ?? 0) === 0)
    ? `no metric point reached the collector in ${v.runs.length} run(s)`
    : null;

const noTelemetry = (v: CellView) =>
  v.runs.every(
    (x) => !x.fileRecords || x.fileRecords.metrics + x.fileRecords.logs + x.fileRecords.traces === 0,
  )
    ? `nothing reached the collector in ${v.runs.length} run(s)`
    : null;

const tokensVsScript = (v: CellView, dir: 'more' | 'fewer') => {
  const off = v.runs.filter((x) => {
    const got = sumOf(x.totals?.tokens);
    const want = sumOf(x.expected.tokens);
    return dir === 'more' ? got > want : got < want;
  });
  if (!off.length) return null;
  const x = off[0] as RunSummary;
  return `${off.length} of ${v.runs.length} run(s) with ${dir} tokens than the script (${sumOf(x.totals?.tokens)} vs ${sumOf(x.expected.tokens)})`;
};

const failedCheck = (name: string) => (v: CellView) => {
  const f = v.cell.failures[name];
  return f ? `${name} failed in ${f.runs} of ${v.cell.runs} run(s): ${f.details.join('; ')}` : null;
};

const kindIs =
  (kind: string, configs?: string[]) =>
  (c: CellResult): boolean =>
    c.kind === kind && (!configs || configs.includes(c.config));

/** The inventories of one kind, release by release (what a merged table would hide). */
function inventories(r: CompatReport, kind: string): { release: string; inv: KindInventory }[] {
  return r.releases.flatMap((rel) => {
    const inv = rel.inventory[kind];
    return inv?.runs ? [{ release: rel.release, inv }] : [];
  });
}

const ACTIVE_TIME = 'claude_code.active_time.total';

export const PUBLIC_REPORTS: readonly PublicReport[] = [
  {
    id: 50567,
    title: 'OTEL_METRICS_EXPORTER=otlp silently no-ops in 2.1.113 (exporter packages not bundled)',
    releases: ['2.1.113'],
    verdict: (r) => scan(r, ['2.1.113'], kindIs('demo'), noMetrics, 'demo'),
  },
  {
    id: 52353,
    title: 'OTel metrics not exported on 2.1.113 and later (env or settings.json)',
    releases: ['2.1.113', '2.1.118'],
    verdict: (r) =>
      scan(r, ['2.1.113', '2.1.118'], kindIs('demo', ['env', 'settings']), noMetrics, 'demo env/settings'),
  },
  {
    id: 66401,
    title: 'Telemetry configured in settings files not exported',
    releases: [],
    verdict: (r) =>
      scan(r, [], kindIs('demo', ['settings', 'managed']), noTelemetry, 'demo settings/managed'),
  },
  {
    id: 71312,
    title: 'OTel export non-functional since 2.1.113, configured by managed-settings.json',
    releases: ['2.1.113', '2.1.179'],
    verdict: (r) => scan(r, ['2.1.113', '2.1.179'], kindIs('demo', ['managed']), noMetrics, 'demo managed'),
  },
  {
    id: 81991,
    title:
      '2.1.220: the same cumulative counters re-sent every 60 s, inflating token and cost totals (managed settings)',
    releases: ['2.1.220'],
    verdict: (r) => scan(r, ['2.1.220'], kindIs('long'), (v) => tokensVsScript(v, 'more'), 'long'),
  },
  {
    id: 87991,
    title: 'OTEL_RESOURCE_ATTRIBUTES from settings.json env or the environment never applied (2.1.235)',
    releases: ['2.1.235'],
    verdict: (r) =>
      scan(
        r,
        ['2.1.235'],
        (c) => c.kind === 'attrs13' || (c.kind === 'demo' && c.config !== 'env'),
        (v) => {
          const want = v.cell.kind === 'attrs13' ? ['user.name', 'k1', 'k13'] : ['user.name'];
          const bad = v.runs.filter((x) => x.resource.length && want.some((k) => !x.resource.includes(k)));
          return bad.length
            ? `${bad.length} of ${v.runs.length} run(s) without resource attribute(s) ${want.filter((k) => !bad[0]?.resource.includes(k)).join(', ')}`
            : null;
        },
        'attrs13 or demo settings/managed',
      ),
  },
  {
    id: 91165,
    title: 'OTLP metrics exporter never opens a socket on 2.1.252',
    releases: ['2.1.252'],
    verdict: (r) => scan(r, ['2.1.252'], kindIs('demo'), noMetrics, 'demo'),
  },
  {
    id: 92776,
    title: 'token.usage and cost.usage stop recording mid-session in long sessions',
    releases: [],
    verdict: (r) => scan(r, [], kindIs('long'), (v) => tokensVsScript(v, 'fewer'), 'long'),
  },
  {
    id: 72500,
    title: 'The commit counter resets within a session',
    releases: [],
    verdict: notTestable(
      'no scripted session makes git commits (claude_code.commit.count is never sent here)',
    ),
  },
  {
    id: 89406,
    title: 'OTel logs stop for resumed sessions while metrics continue',
    releases: [],
    verdict: (r) =>
      scan(
        r,
        [],
        kindIs('resumed'),
        (v) => {
          const lost = v.runs.filter((x) => (x.totals?.apiRequests ?? 0) < x.expected.modelCalls);
          return lost.length
            ? `${lost.length} of ${v.runs.length} run(s) with fewer api_request events than model calls (${lost[0]?.totals?.apiRequests ?? 0} of ${lost[0]?.expected.modelCalls})`
            : failedCheck('victorialogs')(v);
        },
        'resumed',
      ),
  },
  {
    id: 56317,
    title: 'Cost collides across CLI processes sharing a session id',
    releases: [],
    verdict: (r) =>
      scan(r, [], kindIs('resumed'), (v) => failedCheck('cost')(v) ?? failedCheck('tokens')(v), 'resumed'),
  },
  {
    id: 83430,
    title: 'No subagent attribution on token and cost metrics (2.1.220)',
    releases: ['2.1.220'],
    verdict: (r) => scan(r, ['2.1.220'], kindIs('subagent'), failedCheck('attribution'), 'subagent'),
  },
  {
    id: 53959,
    title: 'claude_code.active_time.total missing in -p sessions on 2.1.112 and 2.1.113',
    releases: ['2.1.112', '2.1.113'],
    verdict: (r) => {
      const invs = inventories(r, 'demo');
      if (!invs.length)
        return { status: 'not testable', cell: '', detail: 'not measured in this matrix: no demo cell' };
      const missing = invs.filter((x) => !x.inv.metrics[ACTIVE_TIME]);
      if (missing.length)
        return {
          status: 'reproduced',
          cell: `demo inventory on ${missing.map((x) => x.release).join(', ')}`,
          detail: `the -p demo sessions of ${missing.length} release(s) send no ${ACTIVE_TIME}`,
        };
      return {
        status: 'not reproduced',
        cell: `demo inventory on ${invs.length} release(s)`,
        detail: `every release's -p demo sessions send ${ACTIVE_TIME}`,
      };
    },
  },
  {
    id: 71447,
    title: 'More than 12 OTEL_RESOURCE_ATTRIBUTES entries stop metric export',
    releases: [],
    verdict: (r) =>
      scan(r, [], kindIs('attrs13'), (v) => noMetrics(v) ?? failedCheck('prometheus')(v), 'attrs13'),
  },
  ...[29826, 31587, 80745].map(
    (id): PublicReport => ({
      id,
      title: 'Asks for a project (repository, branch) label on the telemetry',
      releases: [],
      verdict: (r) => {
        const seen = r.releases.filter((rel) => rel.runs.some((x) => x.resource.includes('project')));
        return {
          status: 'not testable',
          cell: seen.length ? `resource attribute project on ${seen.map((x) => x.release).join(', ')}` : '',
          detail:
            'a request, not a breakage: the stack answers it (pnpm session --project NAME puts project and git.branch on every signal)',
        };
      },
    }),
  ),
];

/** Every public report with its verdict on this matrix. */
export const publicVerdicts = (r: CompatReport) =>
  PUBLIC_REPORTS.map((p) => ({ id: p.id, title: p.title, releases: p.releases, ...p.verdict(r) }));
