// The runs `pnpm compat` measured, one file per release (.cache/compat/RELEASE.json), written after every run: a
// stopped run resumes where it was (--fresh ignores them), and --report-only writes the docs from them alone.
// A run that measured nothing is not kept: the next run tries its cell again.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CellId, type CompatRun, cellKey, type ReleaseInput } from './compat-matrix.ts';
import { RELEASE } from './compat-plan.ts';

export function cacheFile(dir: string, release: string): string {
  if (!RELEASE.test(release))
    throw new Error(`a compat cache file is named by a release like 2.1.332; not ${release}`);
  return join(dir, `${release}.json`);
}

/** The measured runs of a release in the cache; null when there is no file. */
export function loadCached(dir: string, release: string): ReleaseInput | null {
  const file = cacheFile(dir, release);
  if (!existsSync(file)) return null;
  let parsed: ReleaseInput;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as ReleaseInput;
  } catch (err) {
    throw new Error(
      `${file} is not a compat cache (${(err as Error).message}): remove it or run with --fresh`,
    );
  }
  if (parsed.release !== release || !Array.isArray(parsed.runs))
    throw new Error(`${file} holds no runs of ${release}: remove it or run with --fresh`);
  return { ...parsed, runs: parsed.runs.filter((r) => !r.unmeasured) };
}

/** Written whole to a temporary file, then renamed: a run stopped mid-write leaves the previous file. */
export function saveCached(dir: string, input: ReleaseInput): void {
  mkdirSync(dir, { recursive: true });
  const file = cacheFile(dir, input.release);
  const kept = { ...input, runs: input.runs.filter((r) => !r.unmeasured) };
  writeFileSync(`${file}.tmp`, `${JSON.stringify(kept)}\n`);
  renameSync(`${file}.tmp`, file);
}

const keyOf = (r: CompatRun) => cellKey({ kind: r.session, protocol: r.protocol, config: r.config ?? 'env' });

/** Measured runs of one cell. */
export const runsOf = (input: ReleaseInput | null | undefined, cell: CellId): CompatRun[] =>
  (input?.runs ?? []).filter((r) => !r.unmeasured && keyOf(r) === cellKey(cell));

/** The runs a report shows: of the given cells only, at most `runs` measured per cell (in attempt order), plus the unmeasured ones that are left. */
export function selectRuns(input: ReleaseInput, cells: CellId[], runs: number): ReleaseInput {
  const wanted = new Set(cells.map(cellKey));
  const kept = new Map<string, CompatRun[]>();
  for (const r of input.runs) {
    if (!wanted.has(keyOf(r))) continue;
    const l = kept.get(keyOf(r)) ?? [];
    kept.set(keyOf(r), l);
    l.push(r);
  }
  const out: CompatRun[] = [];
  for (const l of kept.values()) {
    const measured = l.filter((r) => !r.unmeasured).sort((a, b) => (a.attempt ?? 1) - (b.attempt ?? 1));
    const chosen = measured.slice(0, runs);
    out.push(...chosen, ...l.filter((r) => r.unmeasured).slice(0, Math.max(0, runs - chosen.length)));
  }
  return { ...input, runs: out };
}
