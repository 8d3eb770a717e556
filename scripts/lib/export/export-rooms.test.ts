// The export's rooms (ARCHITECTURE.md, Folders): the command and the run at the top of scripts/lib/export/, over
// phases/ ─► report/ ─► archive/ ─► selection/ and analysis/, and upload/ (S3) beside them, which the top alone
// imports and which imports no other room. A room imports only itself and the rooms below it, so
// no import circle can form between rooms; and no import circle within one either (type-only imports count, as in
// the architecture test, whose parser reads the imports here). Shown failing on a planted tree.
import { describe, expect, it } from 'vitest';
import { importGraph } from '../architecture/import-graph.ts';
import { diskTree, memoryTree, type SourceTree } from '../architecture/source-tree.ts';
import { repoRoot } from '../repo-root.ts';

const ROOT = 'scripts/lib/export';
/** Each room ('' is the top) and the rooms below it, which it may import. */
const BELOW: Record<string, readonly string[]> = {
  '': ['phases', 'report', 'archive', 'selection', 'analysis', 'upload'],
  phases: ['report', 'archive', 'selection', 'analysis'],
  report: ['archive', 'selection', 'analysis'],
  archive: ['selection', 'analysis'],
  selection: [],
  analysis: [],
  upload: [],
};

const roomOf = (file: string) =>
  file
    .slice(ROOT.length + 1)
    .split('/')
    .slice(0, -1)
    .join('/');
const rooms = (list: readonly string[]) =>
  list.length ? list.map((r) => `${r}/`).join(', ') : 'no other room';
const modules = (tree: SourceTree) =>
  tree.files.filter((f) => f.startsWith(`${ROOT}/`) && f.endsWith('.ts') && !f.endsWith('.test.ts'));

/** Each import of a module of the export that goes up or sideways between rooms, and each file in no room. */
function roomViolations(tree: SourceTree): string[] {
  const graph = importGraph(tree);
  const out: string[] = [];
  for (const file of modules(tree)) {
    const room = roomOf(file);
    const below = BELOW[room];
    if (!below) {
      out.push(`${file} is in no room of the export (the top, ${rooms(BELOW[''] ?? [])})`);
      continue;
    }
    for (const ref of graph.references(file)) {
      if (!ref.target?.startsWith(`${ROOT}/`)) continue;
      const to = roomOf(ref.target);
      if (to !== room && !below.includes(to))
        out.push(
          `${file}:${ref.line} imports ${ref.target}: ${room ? `${room}/` : 'the top'} may import ${rooms(below)}`,
        );
    }
  }
  return out;
}

/** The import circles among the export's modules, each as the files around it. */
function circles(tree: SourceTree): string[][] {
  const graph = importGraph(tree);
  const files = modules(tree);
  const next = (f: string) =>
    graph.references(f).flatMap((r) => (r.target && files.includes(r.target) ? [r.target] : []));
  const found: string[][] = [];
  const done = new Set<string>();
  const visit = (f: string, path: string[]) => {
    const at = path.indexOf(f);
    if (at >= 0) return void found.push([...path.slice(at), f]);
    if (done.has(f)) return;
    for (const t of next(f)) visit(t, [...path, f]);
    done.add(f);
  };
  for (const f of files) visit(f, []);
  return found;
}

describe('the rooms of the export', () => {
  const tree = diskTree(repoRoot, [ROOT]);

  it('import only the rooms below them, and hold every module', () => {
    expect(modules(tree).length).toBeGreaterThan(20);
    expect(roomViolations(tree)).toEqual([]);
  });

  it('hold no import circle', () => {
    expect(circles(tree)).toEqual([]);
  });

  it('say so of a planted tree that breaks them', () => {
    const planted = memoryTree({
      [`${ROOT}/archive/archive.ts`]: "import type { Selection } from '../selection/choose-sessions.ts';\n",
      [`${ROOT}/selection/choose-sessions.ts`]:
        "import { UnknownSessionError } from '../phases/staging.ts';\n",
      [`${ROOT}/phases/staging.ts`]: "import type { Manifest } from '../archive/archive.ts';\n",
      [`${ROOT}/drawer/loose.ts`]: '',
    });
    expect(roomViolations(planted)).toEqual([
      `${ROOT}/drawer/loose.ts is in no room of the export (the top, phases/, report/, archive/, selection/, analysis/, upload/)`,
      `${ROOT}/selection/choose-sessions.ts:1 imports ${ROOT}/phases/staging.ts: selection/ may import no other room`,
    ]);
    expect(circles(planted)).toEqual([
      [
        `${ROOT}/archive/archive.ts`,
        `${ROOT}/selection/choose-sessions.ts`,
        `${ROOT}/phases/staging.ts`,
        `${ROOT}/archive/archive.ts`,
      ],
    ]);
  });
});
