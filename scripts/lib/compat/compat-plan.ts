// What a `pnpm compat` run measures, explicit and pure: which releases (named ones with every session kind, fillers
// with fewer), which kinds, protocols and configuration paths, how many runs per cell, and the command line that
// measures the same again. The cells are release x kind x protocol x configuration path; only the `axes` kinds of the
// named releases run over the other protocols and paths: each protocol with the first path and each path with the
// first protocol (every pair with `cross`); the others, and the fillers' kinds, over the first protocol and path (a
// long session over nine would take hours for no new question).
import { type CellId, CONFIG_PATHS, compareReleases } from './compat-matrix.ts';

/** What the plan needs of a session kind (the registry is session-kinds.ts). */
export interface KindInfo {
  name: string;
  long?: boolean;
  /** The protocols the kind can run over, when not all. */
  protocols?: readonly string[];
}

export interface Plan {
  /** Releases run with every kind of `kinds`. */
  named: string[];
  /** Releases run with `fillerKinds` only (to fill the gaps between named ones cheaply). */
  fillers: string[];
  kinds: string[];
  fillerKinds: string[];
  protocols: string[];
  configs: string[];
  /** Kinds run over every protocol and every configuration path (on named releases); the others over the first of each. */
  axes: string[];
  /** The axes kinds over every protocol x path pair, not each protocol and each path. */
  cross: boolean;
  runs: number;
}

export interface PlannedCell extends CellId {
  release: string;
  long: boolean;
}

/** One session to run: a cell's attempt-th run. */
export interface Task extends PlannedCell {
  attempt: number;
}

export const RELEASE = /^\d+\.\d+\.\d+$/;
export const DEFAULT_RUNS = 3;
export const DEFAULT_AXES = ['demo'];
export const DEFAULT_FILLER_KINDS = ['demo'];

const list = (v: unknown): string[] =>
  v === undefined || v === true
    ? []
    : String(v)
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);

const releasesIn = (flag: string, v: unknown) => {
  const r = list(v);
  const bad = r.filter((x) => !RELEASE.test(x));
  if (bad.length || !r.length)
    throw new Error(`${flag} takes releases like 2.1.332,2.1.197; not ${bad.join(', ') || '(none)'}`);
  return r;
};

function oneOf(flag: string, v: unknown, known: readonly string[], fallback: readonly string[]): string[] {
  if (v === undefined) return [...fallback];
  const got = list(v);
  const bad = got.filter((x) => !known.includes(x));
  if (bad.length || !got.length)
    throw new Error(`${flag} takes any of ${known.join(', ')}; not ${bad.join(', ') || '(none)'}`);
  return [...new Set(got)];
}

/** A whole-number flag from 1 to `max` (its fallback when not given), or an error naming the flag and the range. */
export function count(flag: string, v: unknown, fallback: number, max: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new Error(`${flag} takes a number from 1 to ${max}; not ${v}`);
  return n;
}

export interface PlanContext {
  kinds: readonly KindInfo[];
  protocols: readonly string[];
  /** Kinds run unless --kinds says (the registry's, maybe without the long ones). */
  defaultKinds: readonly string[];
  /** The pinned release (stack/versions.env): the run's release when none is named. */
  pin: string;
  /** Releases found elsewhere (--last, --new), named with every kind. */
  found?: string[];
}

/** The plan from the command line's flags (`--versions`/`--releases`, `--fillers`, `--kinds`, ...). */
export function parsePlan(argv: Record<string, unknown>, ctx: PlanContext): Plan {
  const kindNames = ctx.kinds.map((k) => k.name);
  const given = argv.versions ?? argv.releases;
  let named =
    given !== undefined ? releasesIn('--versions', given) : ctx.found !== undefined ? [...ctx.found] : [];
  const fillers = argv.fillers === undefined ? [] : releasesIn('--fillers', argv.fillers);
  if (given === undefined && ctx.found === undefined && !fillers.length) named = [ctx.pin];
  const uniq = (r: string[]) => [...new Set(r)].sort(compareReleases);
  named = uniq(named);
  const plan: Plan = {
    named,
    fillers: uniq(fillers).filter((r) => !named.includes(r)),
    kinds: oneOf('--kinds', argv.kinds ?? argv.sessions, kindNames, ctx.defaultKinds),
    fillerKinds: oneOf('--filler-kinds', argv['filler-kinds'], kindNames, DEFAULT_FILLER_KINDS),
    protocols: oneOf('--protocols', argv.protocols, ctx.protocols, ctx.protocols),
    configs: oneOf('--configs', argv.configs, CONFIG_PATHS, CONFIG_PATHS),
    axes: oneOf('--axes', argv.axes, kindNames, DEFAULT_AXES),
    cross: argv.cross === true,
    runs: count('--runs', argv.runs, DEFAULT_RUNS, 20),
  };
  return plan;
}

/** Every cell of the plan, releases oldest first. */
export function planCells(plan: Plan, kinds: readonly KindInfo[]): PlannedCell[] {
  const byName = new Map(kinds.map((k) => [k.name, k]));
  const releases = [...plan.named, ...plan.fillers].sort(compareReleases);
  const cells: PlannedCell[] = [];
  for (const release of releases) {
    const named = plan.named.includes(release);
    for (const kind of named ? plan.kinds : plan.fillerKinds) {
      const k = byName.get(kind);
      if (!k) throw new Error(`no session kind ${kind}; known: ${[...byName.keys()].join(', ')}`);
      const usable = plan.protocols.filter((p) => !k.protocols || k.protocols.includes(p));
      const [p0] = usable;
      const [c0] = plan.configs;
      if (p0 === undefined || c0 === undefined) continue;
      const axes = named && plan.axes.includes(kind);
      const pairs: [string, string][] = !axes
        ? [[p0, c0]]
        : plan.cross
          ? usable.flatMap((p) => plan.configs.map((c): [string, string] => [p, c]))
          : [
              ...usable.map((p): [string, string] => [p, c0]),
              ...plan.configs.slice(1).map((c): [string, string] => [p0, c]),
            ];
      for (const [protocol, config] of pairs) cells.push({ release, kind, protocol, config, long: !!k.long });
    }
  }
  return cells;
}

/**
 * The sessions still to run: each cell's runs beyond those already measured (a stopped run resumes), release by
 * release, and within a release every cell's first run before any cell's second (stopped early, each cell has one).
 */
export function pendingTasks(
  cells: PlannedCell[],
  runs: number,
  measured: (c: PlannedCell) => number,
): Task[] {
  const tasks = cells.flatMap((c, order) => {
    const have = Math.min(measured(c), runs);
    return Array.from({ length: runs - have }, (_, i) => ({ ...c, attempt: have + i + 1, order }));
  });
  return tasks
    .sort((a, b) => compareReleases(a.release, b.release) || a.attempt - b.attempt || a.order - b.order)
    .map(({ order: _, ...t }) => t);
}

/** The releases of the npm registry newer than the matrix's newest (all of them when the matrix is empty). */
export function newerReleases(npm: string[], matrix: string[]): string[] {
  const newest = [...matrix].sort(compareReleases).at(-1);
  return npm
    .filter((r) => RELEASE.test(r) && (!newest || compareReleases(r, newest) > 0))
    .sort(compareReleases);
}

/** The command that measures this plan again (the report's header). */
export function commandLine(plan: Plan, ctx: Pick<PlanContext, 'protocols' | 'defaultKinds'>): string {
  const same = (a: readonly string[], b: readonly string[]) =>
    a.length === b.length && a.every((x, i) => x === b[i]);
  const parts = ['pnpm compat'];
  if (plan.named.length) parts.push(`--versions ${plan.named.join(',')}`);
  if (plan.fillers.length) parts.push(`--fillers ${plan.fillers.join(',')}`);
  if (plan.fillers.length && !same(plan.fillerKinds, DEFAULT_FILLER_KINDS))
    parts.push(`--filler-kinds ${plan.fillerKinds.join(',')}`);
  if (!same(plan.kinds, ctx.defaultKinds)) parts.push(`--kinds ${plan.kinds.join(',')}`);
  if (!same(plan.protocols, ctx.protocols)) parts.push(`--protocols ${plan.protocols.join(',')}`);
  if (!same(plan.configs, CONFIG_PATHS)) parts.push(`--configs ${plan.configs.join(',')}`);
  if (!same(plan.axes, DEFAULT_AXES)) parts.push(`--axes ${plan.axes.join(',')}`);
  if (plan.cross) parts.push('--cross');
  if (plan.runs !== DEFAULT_RUNS) parts.push(`--runs ${plan.runs}`);
  return parts.join(' ');
}
