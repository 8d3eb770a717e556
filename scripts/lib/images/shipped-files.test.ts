// The allowlist of shipped-files.ts, checked on every workspace package an image stages: no test code ships, every
// shipped file's imports ship with it (or are production dependencies the image installs), and src/ holds no
// helper that only tests use (such a file belongs in the package's test/ folder). Each check is first shown
// failing on a planted package, then passing on the repository.
import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { moduleReferences } from '../architecture/import-graph.ts';
import { diskTree, memoryTree, type SourceTree } from '../architecture/source-tree.ts';
import { repoRoot } from '../repo-root.ts';
import { readEnvFile } from '../stack/env-file.ts';
import { envFiles } from '../stack/stack-files.ts';
import { imageCatalog } from './image-catalog.ts';
import { isShipped, shippedFiles } from './shipped-files.ts';

interface Manifest {
  name: string;
  bin?: Record<string, string>;
  exports?: Record<string, string>;
  dependencies?: Record<string, string>;
}

/** An image that stages workspace packages: its name and the package folders it stages. */
interface StagingImage {
  name: string;
  dirs: string[];
}

/** Test code wherever it sits: a test or spec file, a test/ folder, the specs, the test harness. */
const isTestCode = (f: string) =>
  /\.(test|spec)\.ts$/.test(f) ||
  f.split('/').includes('test') ||
  f.startsWith('specs/') ||
  f.startsWith('scripts/lib/testing/');

/** `@scope/name/sub` -> `@scope/name`; `name/sub` -> `name`. */
const packageOf = (spec: string) =>
  spec
    .split('/')
    .slice(0, spec.startsWith('@') ? 2 : 1)
    .join('/');

/** Everything wrong with what `images` ship from `tree`, `shipped(dir)` naming a package's shipped files. */
function shippingProblems(
  tree: SourceTree,
  images: StagingImage[],
  shipped: (dir: string) => string[],
): string[] {
  const dirs = [...new Set(images.flatMap((i) => i.dirs))];
  const manifest = (dir: string) => JSON.parse(tree.read(`${dir}/package.json`)) as Manifest;
  const byName = new Map(dirs.map((d) => [manifest(d).name, d]));
  /** The file a workspace package specifier names through that package's `exports` (longest pattern wins). */
  const workspaceFile = (spec: string): string | undefined => {
    const dir = byName.get(packageOf(spec));
    if (dir === undefined) return undefined;
    const sub = `.${spec.slice(packageOf(spec).length)}`;
    const patterns = Object.entries(manifest(dir).exports ?? {}).sort(([a], [b]) => b.length - a.length);
    for (const [key, target] of patterns) {
      const [prefix, suffix = ''] = key.split('*') as [string, string?];
      if (key === sub) return posix.join(dir, target);
      if (key.includes('*') && sub.startsWith(prefix) && sub.endsWith(suffix) && sub.length > prefix.length)
        return posix.join(dir, target.replace('*', sub.slice(prefix.length, sub.length - suffix.length)));
    }
    return `${dir}: exports no ${sub}`;
  };
  const refsOf = (f: string) =>
    moduleReferences(f, tree.read(f)).map((r) => ({
      ...r,
      file: r.target ?? (r.spec === null ? undefined : workspaceFile(r.spec)),
    }));
  const shippedBy = new Map(dirs.map((d) => [d, shipped(d)]));
  const allShipped = new Set([...shippedBy.values()].flat());
  const out: string[] = [];

  // What each image carries: no test code, and everything its code imports.
  for (const image of images) {
    const carried = new Set(image.dirs.flatMap((d) => shippedBy.get(d) ?? []));
    for (const f of carried) {
      if (isTestCode(f)) out.push(`${image.name} ships ${f}, which is test code`);
      if (!f.endsWith('.ts')) continue;
      const own = manifest(image.dirs.find((d) => f.startsWith(`${d}/`)) as string);
      for (const r of refsOf(f)) {
        const at = `${image.name}: ${f}:${r.line}`;
        if (r.spec === null || r.spec.startsWith('node:')) continue;
        if (r.file !== undefined && !carried.has(r.file))
          out.push(`${at} imports ${r.file}, which the image does not carry`);
        if (r.target === null && !own.dependencies?.[packageOf(r.spec)])
          out.push(
            `${at} imports ${r.spec}, not a production dependency of ${own.name} (the image installs only those)`,
          );
      }
    }
  }

  // Every shipped module is reached from an entry point: a package's bin, or code outside the shipped files that
  // is not test code (host scripts use the scripted API's expectations). What only tests reach is a test helper.
  const roots = dirs.flatMap((d) => Object.values(manifest(d).bin ?? {}).map((b) => posix.join(d, b)));
  for (const f of tree.files)
    if (f.endsWith('.ts') && !allShipped.has(f) && !isTestCode(f))
      for (const r of refsOf(f)) if (r.file && allShipped.has(r.file)) roots.push(r.file);
  const reached = new Set<string>();
  for (let f = roots.pop(); f !== undefined; f = roots.pop()) {
    if (reached.has(f) || !allShipped.has(f)) continue;
    reached.add(f);
    for (const r of refsOf(f)) if (r.file) roots.push(r.file);
  }
  for (const [dir, files] of shippedBy)
    for (const f of files)
      if (f.endsWith('.ts') && !reached.has(f))
        out.push(
          `${f} is reached by no entry point and no runtime code, only by tests: move it to ${dir}/test/`,
        );
  return out.sort();
}

/** Staging images of the catalog: each with the package folders it copies. */
const images: StagingImage[] = imageCatalog(readEnvFile(envFiles.versions)).flatMap((spec) =>
  spec.recipe.kind === 'dockerfile'
    ? spec.recipe.context.flatMap((p) =>
        p.kind === 'workspace-package' ? [{ name: spec.name, dirs: p.dirs }] : [],
      )
    : [],
);

describe('shipped files of a planted package', () => {
  const planted = (files: Record<string, string>) => {
    const tree = memoryTree({
      'pkg/package.json': JSON.stringify({
        name: 'pkg',
        bin: { pkg: './src/index.ts' },
        exports: { './*': './src/*.ts' },
        dependencies: { zod: '4' },
      }),
      'pkg/src/index.ts': "import { z } from 'zod';\nimport { a } from './a.ts';\n",
      'pkg/src/a.ts': "import { join } from 'node:path';\nexport const a = 1;\n",
      'pkg/src/a.test.ts': "import { it } from 'vitest';\nimport { a } from './a.ts';\n",
      'pkg/test/helper.ts': "import { a } from '../src/a.ts';\n",
      ...files,
    });
    const shipped = (dir: string) =>
      tree.files.filter((f) => f.startsWith(`${dir}/`) && isShipped(f.slice(dir.length + 1)));
    return shippingProblems(tree, [{ name: 'img', dirs: ['pkg'] }], shipped);
  };

  it('passes as it is: tests beside the code and helpers in test/ stay out, imports are complete', () => {
    expect(planted({})).toEqual([]);
  });

  it('a shipped file that imports a test helper from test/', () => {
    expect(planted({ 'pkg/src/a.ts': "import { h } from '../test/helper.ts';\n" })).toEqual([
      'img: pkg/src/a.ts:1 imports pkg/test/helper.ts, which the image does not carry',
    ]);
  });

  it('a shipped file that imports the test framework (a dev dependency the image does not install)', () => {
    expect(planted({ 'pkg/src/a.ts': "import { it } from 'vitest';\n" })).toEqual([
      'img: pkg/src/a.ts:1 imports vitest, not a production dependency of pkg (the image installs only those)',
    ]);
  });

  it('a test helper left in src/ (only a test imports it)', () => {
    expect(
      planted({
        'pkg/src/fixtures.ts': 'export const f = 1;\n',
        'pkg/src/b.test.ts': "import './fixtures.ts';\n",
      }),
    ).toEqual([
      'pkg/src/fixtures.ts is reached by no entry point and no runtime code, only by tests: move it to pkg/test/',
    ]);
  });

  it('an allowlist that lets test code through', () => {
    const tree = memoryTree({
      'pkg/package.json': JSON.stringify({ name: 'pkg', bin: { pkg: './src/index.ts' } }),
      'pkg/src/index.ts': '',
      'pkg/src/index.test.ts': "import './index.ts';\n",
    });
    const everything = (dir: string) => tree.files.filter((f) => f.startsWith(`${dir}/`));
    expect(shippingProblems(tree, [{ name: 'img', dirs: ['pkg'] }], everything)).toEqual([
      'img ships pkg/src/index.test.ts, which is test code',
      'pkg/src/index.test.ts is reached by no entry point and no runtime code, only by tests: move it to pkg/test/',
    ]);
  });
});

describe('shipped files of the workspace packages the images stage', () => {
  it('sees the packages (a check over no files proves nothing)', () => {
    expect(images.map((i) => i.name).sort()).toEqual([
      'anthropic-replay',
      'mcp-database',
      'mcp-file-ops',
      'session-gateway',
    ]);
    for (const dir of new Set(images.flatMap((i) => i.dirs))) {
      expect(shippedFiles(dir), dir).toContain(`${dir}/package.json`);
      expect(shippedFiles(dir).length, dir).toBeGreaterThan(3);
    }
  });

  it('ship no test code, carry every import of what they ship, and keep no test-only helper in src/', () => {
    const tree = diskTree(repoRoot, ['scripts', 'specs', 'stack', 'mcp-servers']);
    expect(shippingProblems(tree, images, shippedFiles)).toEqual([]);
  });
});
