// The parser finds every way a file makes Node load another, and nothing that only looks like one.
import { describe, expect, it } from 'vitest';
import { importGraph, moduleReferences } from './import-graph.ts';
import { memoryTree } from './source-tree.ts';

const refs = (text: string) =>
  moduleReferences('a/b/c.ts', text).map((r) => [r.how, r.spec, r.target, r.typeOnly, r.line]);

describe('moduleReferences', () => {
  it('reads imports, re-exports, import(), import types and new URL(…, import.meta.url), each with its line', () => {
    const text = [
      "import { x } from './x.ts';",
      "import type { T } from '../t.ts';",
      "import { type U } from './u.ts';",
      "export * from 'node:fs';",
      "export type { V } from './v.ts';",
      "const m = await import('../m.ts');",
      "type N = typeof import('./n.ts');",
      "const child = new URL('./child.ts', import.meta.url);",
      "const root = new URL('../../', import.meta.url);",
      'const dyn = await import(m.name);',
    ].join('\n');
    expect(refs(text)).toEqual([
      ['import', './x.ts', 'a/b/x.ts', false, 1],
      ['import', '../t.ts', 'a/t.ts', true, 2],
      ['import', './u.ts', 'a/b/u.ts', true, 3],
      ['export', 'node:fs', null, false, 4],
      ['export', './v.ts', 'a/b/v.ts', true, 5],
      ['dynamic', '../m.ts', 'a/m.ts', false, 6],
      ['dynamic', './n.ts', 'a/b/n.ts', true, 7],
      ['url', './child.ts', 'a/b/child.ts', false, 8],
      ['dynamic', null, null, false, 10],
    ]);
  });
  it('sees code after a line comment holding /*, and no import in comments, strings or templates', () => {
    const text = [
      '// a line comment with /* in it',
      "import { y } from './y.ts';",
      '/* import { z } from "./z.ts"; */',
      'const s = "import { w } from \'./w.ts\'";',
      'const t = `export * from "./t.ts"`;',
      '// */',
    ].join('\n');
    expect(refs(text)).toEqual([['import', './y.ts', 'a/b/y.ts', false, 2]]);
  });
});

describe('importGraph', () => {
  const tree = memoryTree({
    'a/main.ts': "import './lib/one.ts';\nimport 'node:fs';",
    'a/lib/one.ts': "export * from './two.ts';",
    'a/lib/two.ts': "import type { M } from '../main.ts';",
    'a/unused.ts': '',
  });
  it('the closure of entry points: every file they reach, cycles once, sorted', () => {
    expect(importGraph(tree).closure(['a/main.ts'])).toEqual(['a/lib/one.ts', 'a/lib/two.ts', 'a/main.ts']);
  });
  it('names the file, line and missing target of a reference to nothing', () => {
    const broken = memoryTree({ 'a/main.ts': "\nimport './gone.ts';" });
    expect(() => importGraph(broken).closure(['a/main.ts'])).toThrow(
      'a/main.ts:2 references ./gone.ts, and there is no file a/gone.ts',
    );
  });
});
