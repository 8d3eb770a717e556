// The rules of ARCHITECTURE.md's "## Rules", checked on every `pnpm test`: who may import whom, what each image that
// copies TypeScript must copy, and which single module spells each sink's API and the session record's files. Code is
// read with the TypeScript parser (scripts/lib/architecture/), so comments and strings never hide or fake an import.
// Each rule is a function of a tree, run on the repository (no violations) and on planted trees in this file, each
// breaking the rule once (exactly that violation reported), so every rule is shown able to fail. The planted trees
// live here, in a test file, because rule 4 reads only code that is not a test: their strings are not the repository's.
// Over 300 lines: four rules, their planted trees and the checks that each catches its own.
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { dockerfileCopies } from './lib/architecture/dockerfile-copies.ts';
import { type ImportGraph, importGraph } from './lib/architecture/import-graph.ts';
import { diskTree, memoryTree, type SourceTree } from './lib/architecture/source-tree.ts';
import { type Spelling, spellings } from './lib/architecture/spellings.ts';
import { imageCatalog } from './lib/images/image-catalog.ts';
import { repoRoot } from './lib/repo-root.ts';
import { RECORD_FILES } from './lib/session/session-record.ts';
import { parseEnvFile } from './lib/stack/env-file.ts';

/** Build contexts: Dockerfile -> the repository paths the image catalog copies into its context. */
type Contexts = Map<string, string[]>;

const isCode = (f: string) => f.endsWith('.ts');
const isTest = (f: string) => /\.(test|spec)\.ts$/.test(f);
const under = (dir: string) => (f: string) => f.startsWith(`${dir}/`);
const code = (tree: SourceTree) => tree.files.filter(isCode);

/** The one module of host code an image may carry (rule 1). */
const SESSION_RECORD = 'scripts/lib/session/session-record.ts';

// ---- Rule 1: container code

/** `.ts` paths a command or script names (`node /opt/x/stack/y/main.ts`). */
const namedTs = (text: string) =>
  [...text.matchAll(/(?:^|[\s"'=])(\/?[\w@./-]+\.ts)\b/g)].map((m) => m[1] as string);

function containerCode(tree: SourceTree, graph: ImportGraph, contexts: Contexts): string[] {
  const out: string[] = [];
  for (const dockerfile of tree.files.filter((f) => /^stack\/[^/]+\/Dockerfile$/.test(f))) {
    const { copied, lines, commands } = dockerfileCopies(tree, dockerfile);
    const copiedTs = [...copied.keys()].filter(isCode);
    if (copiedTs.length === 0) continue; // an image of built binaries or staged packages: no code copied by name
    const folder = posix.dirname(dockerfile);
    const byPath = new Map([...copied].map(([file, at]) => [at, file]));
    // Entry points: the .ts files its commands and its copied scripts run.
    const entries = new Set<string>();
    const run = (text: string, cwd: string, where: string) => {
      for (const name of namedTs(text)) {
        const file = byPath.get(posix.resolve(cwd, name));
        if (file) entries.add(file);
        else out.push(`${where} runs ${name}, which the image does not copy`);
      }
    };
    for (const c of commands) run(c.text, c.workdir, `${dockerfile}:${c.line}`);
    for (const [file, at] of copied) if (!isCode(file)) run(tree.read(file), posix.dirname(at), file);
    if (entries.size === 0) {
      out.push(`${dockerfile} copies TypeScript and runs none of it`);
      continue;
    }
    let needed: string[];
    try {
      needed = graph.closure([...entries]);
    } catch (err) {
      out.push(`${dockerfile}: ${(err as Error).message}`);
      continue;
    }
    for (const f of needed)
      if (!copied.has(f)) out.push(`${dockerfile} does not copy ${f}, which its entry points import`);
    for (const f of copiedTs)
      if (!needed.includes(f))
        out.push(`${dockerfile}:${lines.get(f)} copies ${f}, which none of its entry points imports`);
    // The repository's layout, so relative imports resolve in the image as they do here.
    const [entry] = entries;
    const root = (copied.get(entry as string) as string).slice(0, -(entry as string).length - 1);
    for (const f of copiedTs)
      if (copied.get(f) !== `${root}/${f}`)
        out.push(
          `${dockerfile}:${lines.get(f)} puts ${f} at ${copied.get(f)}, not at ${root}/${f} (the layout)`,
        );
    // What the image's code imports: built-ins, its own folder, and modules that stand alone.
    const files = new Set([...needed, ...code(tree).filter((f) => under(folder)(f) && !isTest(f))]);
    for (const f of files)
      for (const r of graph.references(f)) {
        const at = `${f}:${r.line}`;
        if (r.spec === null) out.push(`${at} imports a computed name: an image's files must be known`);
        else if (r.spec.startsWith('node:')) continue;
        else if (r.target === null) out.push(`${at} imports the package ${r.spec}: the image installs none`);
        else if (under('scripts')(r.target) && r.target !== SESSION_RECORD)
          out.push(`${at} imports host code ${r.target}: of host code, only ${SESSION_RECORD}`);
        else if (!under(folder)(f))
          out.push(
            `${at} imports ${r.target}: a module an image shares must stand alone (Node built-ins only)`,
          );
      }
    // The catalog puts into the build context what the Dockerfile copies, and nothing it does not.
    const parts = contexts.get(dockerfile);
    if (!parts) {
      out.push(`${dockerfile}: no image of the catalog builds it`);
      continue;
    }
    const provides = (p: string, f: string) => f === p || f.startsWith(`${p}/`);
    for (const f of copied.keys())
      if (!parts.some((p) => provides(p, f)))
        out.push(`${dockerfile}:${lines.get(f)} copies ${f}, which its build context does not hold`);
    for (const p of parts)
      if (![...copied.keys()].some((f) => provides(p, f)))
        out.push(`the build context of ${dockerfile} holds ${p}, which it does not copy`);
  }
  return out.sort();
}

// ---- Rule 2: helpers and verbs, runtime code and the test harness

const isVerb = (f: string) => (/^scripts\/[^/]+\.ts$/.test(f) && !isTest(f)) || under('scripts/bench')(f);
const isHarness = (f: string) => under('scripts/lib/testing')(f) || under('specs')(f);
/** The verbs built on the harness: the benchmarks and compat (stacks of their own), and the test runner. */
const onHarness = (f: string) =>
  ['scripts/bench.ts', 'scripts/compat.ts', 'scripts/test.ts'].includes(f) ||
  under('scripts/bench')(f) ||
  under('scripts/lib/compat')(f);

function helpersAndHarness(tree: SourceTree, graph: ImportGraph): string[] {
  const out: string[] = [];
  for (const f of code(tree).filter(under('scripts/lib')))
    for (const r of graph.references(f))
      if (r.target && isVerb(r.target)) out.push(`${f}:${r.line} imports the verb ${r.target}`);
  const runtime = code(tree).filter(
    (f) =>
      ['scripts', 'stack', 'mcp-servers'].some((d) => under(d)(f)) &&
      !isTest(f) &&
      !isHarness(f) &&
      !onHarness(f),
  );
  for (const f of runtime)
    for (const r of graph.references(f)) {
      if (!r.target) continue;
      if (isHarness(r.target)) out.push(`${f}:${r.line} imports the test harness ${r.target}`);
      else if (onHarness(r.target)) {
        const reached = graph.closure([r.target]).find(isHarness);
        if (reached)
          out.push(`${f}:${r.line} imports ${r.target}, which reaches the test harness ${reached}`);
      }
    }
  return out.sort();
}

// ---- Rule 3: the workspace packages

/** The common package of the MCP servers: the one package a server may import by name. */
const COMMON = 'mcp-servers/common';

function workspacePackages(tree: SourceTree, graph: ImportGraph): string[] {
  const globs = (parseYaml(tree.read('pnpm-workspace.yaml')) as { packages: string[] }).packages;
  const dirs = tree.files
    .filter((f) => f.endsWith('/package.json'))
    .map((f) => posix.dirname(f))
    .filter((d) => globs.some((g) => posix.matchesGlob(d, g)));
  const nameOf = (dir: string) => (JSON.parse(tree.read(`${dir}/package.json`)) as { name: string }).name;
  const names = new Map(dirs.map((d) => [nameOf(d), d]));
  const out: string[] = [];
  for (const dir of dirs)
    for (const f of code(tree).filter(under(dir)))
      for (const r of graph.references(f)) {
        const pkg = r.spec && [...names.keys()].find((n) => r.spec === n || r.spec?.startsWith(`${n}/`));
        if (r.target && !under(dir)(r.target))
          out.push(`${f}:${r.line} imports ${r.target}, outside its package ${dir}`);
        else if (pkg && under('mcp-servers')(dir) && names.get(pkg) !== dir && names.get(pkg) !== COMMON)
          out.push(
            `${f}:${r.line} imports the package ${pkg}: packages share only through ${nameOf(COMMON)}`,
          );
      }
  return out.sort();
}

// ---- Rule 4: one module spells each sink's API and the record's files

/** A string that is a URL or a path of an API (prose that mentions one is not a request). */
const apiPath = (path: string) => {
  const re = new RegExp(`^(?:[a-z]+://[^/\\s]*)?${path.replaceAll('/', '\\/')}`);
  return (s: Spelling) => s.kind === 'text' && re.test(s.value);
};
const OTLP_SHAPE = [
  'resourceSpans',
  'resourceLogs',
  'resourceMetrics',
  'scopeSpans',
  'scopeLogs',
  'scopeMetrics',
];
const RECORD_NAMES = Object.values(RECORD_FILES);

const ONE_HOME: { what: string; owner: string; needles: string[]; spells: (s: Spelling) => boolean }[] = [
  {
    what: 'the OTLP JSON shape',
    owner: 'scripts/lib/sinks/otlp.ts',
    needles: OTLP_SHAPE,
    spells: (s) =>
      (s.kind === 'key' && OTLP_SHAPE.includes(s.value)) ||
      (s.kind === 'text' && OTLP_SHAPE.some((k) => s.value.includes(k))),
  },
  {
    what: 'fetch',
    owner: 'scripts/lib/sinks/http-json.ts',
    needles: ['fetch'],
    spells: (s) => s.kind === 'reference' && s.value === 'fetch',
  },
  ...[
    ['/api/traces', '/api/services', '/api/v3/'].map((p) => [p, 'scripts/lib/sinks/jaeger.ts']),
    [['/api/v1/', 'scripts/lib/sinks/prometheus.ts']],
    [['/select/logsql/', 'scripts/lib/sinks/victorialogs.ts']],
  ]
    .flat()
    .map(([path, owner]) => ({
      what: `the API path ${path}`,
      owner: owner as string,
      needles: [path as string],
      spells: apiPath(path as string),
    })),
  ...RECORD_NAMES.map((name) => ({
    what: `the record file ${name}`,
    owner: SESSION_RECORD,
    needles: [name],
    spells: (s: Spelling) => s.kind === 'text' && (s.value === name || s.value.endsWith(`/${name}`)),
  })),
];
/** The harness's span stream sends raw OTLP/HTTP itself: what it tests is the collector's own answers. */
const RAW_SENDER = 'scripts/lib/testing/otlp-stream.ts';

function oneHome(tree: SourceTree): string[] {
  const out: string[] = [];
  for (const f of code(tree).filter((f) => under('scripts')(f) && !isTest(f))) {
    const text = tree.read(f);
    const rules = ONE_HOME.filter((r) => r.owner !== f && r.needles.some((n) => text.includes(n)));
    const exempt = (what: string) => f === RAW_SENDER && (what === 'fetch' || what === 'the OTLP JSON shape');
    if (rules.length === 0) continue;
    const spelled = spellings(f, text);
    for (const r of rules) {
      if (exempt(r.what)) continue;
      const s = spelled.find(r.spells);
      if (s) out.push(`${f}:${s.line} spells ${r.what}: only ${r.owner} does`);
    }
  }
  return out.sort();
}

// ---- the repository

const SCANNED = ['scripts', 'specs', 'stack', 'mcp-servers'];
const repo: SourceTree = (() => {
  const disk = diskTree(repoRoot, SCANNED);
  const top = ['pnpm-workspace.yaml'];
  return {
    files: [...disk.files, ...top].sort(),
    read: (p) => (top.includes(p) ? readFileSync(join(repoRoot, p), 'utf8') : disk.read(p)),
  };
})();
const repoGraph = importGraph(repo);
const repoContexts: Contexts = new Map(
  imageCatalog(
    parseEnvFile(readFileSync(join(repoRoot, 'stack', 'versions.env'), 'utf8'), 'stack/versions.env'),
  )
    .flatMap((i) => (i.recipe.kind === 'dockerfile' ? [i.recipe] : []))
    .map((r) => [r.dockerfile, r.context.flatMap((p) => (p.kind === 'copy' ? [p.from] : []))]),
);

describe('architecture rules on the repository', () => {
  it('sees the repository (a rule over no files proves nothing)', () => {
    expect(code(repo).filter(under('scripts/lib')).length).toBeGreaterThan(40);
    const copying = [...repoContexts].filter(([d]) =>
      [...dockerfileCopies(repo, d).copied.keys()].some(isCode),
    );
    expect(copying.map(([d]) => d)).toContain('stack/claude-code/Dockerfile');
  });
  it('1. container code imports built-ins, its folder and modules that stand alone; images copy its import graph', () => {
    expect(containerCode(repo, repoGraph, repoContexts)).toEqual([]);
  });
  it("1. fails on the real claude-code image less one copied file, or with the egress proxy's shared module less", () => {
    const overlay = (path: string, edit: (text: string) => string): SourceTree => ({
      files: repo.files,
      read: (p) => (p === path ? edit(repo.read(p)) : repo.read(p)),
    });
    const lessRecord = overlay('stack/claude-code/Dockerfile', (t) =>
      t.replace(/^COPY \S*session-record\.ts .*$/m, ''),
    );
    expect(containerCode(lessRecord, importGraph(lessRecord), repoContexts)).toEqual([
      `stack/claude-code/Dockerfile does not copy ${SESSION_RECORD}, which its entry points import`,
      `the build context of stack/claude-code/Dockerfile holds ${SESSION_RECORD}, which it does not copy`,
    ]);
    const shared = repoGraph.closure(['stack/egress-proxy/auth-helper.ts']).find((f) => !under('stack')(f));
    expect(shared).toBeDefined();
    const leaning = overlay(
      shared as string,
      (t) =>
        `import '${posix.relative(posix.dirname(shared as string), 'stack/egress-proxy/byte-lines.ts')}';\n${t}`,
    );
    expect(containerCode(leaning, importGraph(leaning), repoContexts)).toEqual([
      `${shared}:1 imports stack/egress-proxy/byte-lines.ts: a module an image shares must stand alone (Node built-ins only)`,
    ]);
  });
  it('2. helpers never import verbs; runtime code never imports the test harness', () => {
    expect(helpersAndHarness(repo, repoGraph)).toEqual([]);
  });
  it('3. the workspace packages import only their own files, and each other only through the common package', () => {
    expect(workspacePackages(repo, repoGraph)).toEqual([]);
  });
  it("4. one module spells each sink's API, fetch, the OTLP shape and each record file", () => {
    expect(oneHome(repo)).toEqual([]);
  });
});

// ---- planted trees: each breaks one rule once

const IMAGE = [
  'FROM node',
  '# a comment: COPY stack/box/nothing.ts ./',
  'WORKDIR /opt/app',
  'COPY stack/box/package.json ./package.json',
  'COPY scripts/lib/session/session-record.ts ./scripts/lib/session/session-record.ts',
  'COPY --chmod=0755 stack/box/run.sh ./stack/box/',
  'COPY stack/box/main.ts stack/box/util.ts \\',
  '     stack/box/child.ts ./stack/box/',
  'ENTRYPOINT ["node", "/opt/app/stack/box/main.ts"]',
].join('\n');
const BOX = {
  'stack/box/Dockerfile': IMAGE,
  'stack/box/package.json': '{ "type": "module" }',
  'stack/box/run.sh': '#!/bin/sh\nexec node /opt/app/stack/box/child.ts "$@"\n',
  'stack/box/main.ts': [
    "import { join } from 'node:path';",
    "import { RECORD_FILES } from '../../scripts/lib/session/session-record.ts';",
    "import { a } from './util.ts';",
    '// not an import: /* a comment opener in a line comment',
    'const text = "import \'../../scripts/lib/stack/compose.ts\'";',
    'export const b = join(a, RECORD_FILES.log, text);',
  ].join('\n'),
  'stack/box/util.ts': "export const a = 'a';\n",
  'stack/box/child.ts': "import { a } from './util.ts';\nconsole.log(a);\n",
  'stack/box/main.test.ts': "import { x } from '../../scripts/lib/testing/harness.ts';\n",
  'scripts/lib/session/session-record.ts':
    "import { join } from 'node:path';\nexport const RECORD_FILES = join('a');\n",
  'scripts/lib/testing/harness.ts': 'export const x = 1;\n',
  'scripts/lib/stack/compose.ts': 'export const compose = 1;\n',
};
const BOX_CONTEXT: Contexts = new Map([['stack/box/Dockerfile', ['stack/box', SESSION_RECORD]]]);
const box = (change: Record<string, string>, contexts = BOX_CONTEXT) => {
  const tree = memoryTree({ ...BOX, ...change });
  return containerCode(tree, importGraph(tree), contexts);
};
const withMain = (line: string) => ({ 'stack/box/main.ts': `${line}\n${BOX['stack/box/main.ts']}` });
/** The planted image also copying `file` (in the layout, and in its build context), for a violation of its own. */
const copying = (file: string): [Record<string, string>, Contexts] => [
  { 'stack/box/Dockerfile': IMAGE.replace('ENTRYPOINT', `COPY ${file} ./${file}\nENTRYPOINT`) },
  new Map([['stack/box/Dockerfile', [...(BOX_CONTEXT.get('stack/box/Dockerfile') ?? []), file]]]),
];
const COMPOSE = 'scripts/lib/stack/compose.ts';

describe('rule 1 fails on planted container code', () => {
  it('passes the planted image as it is (its comments and strings are not imports)', () => {
    expect(box({})).toEqual([]);
  });
  it('an import of host code (copied, so only the import is wrong)', () => {
    const [files, contexts] = copying(COMPOSE);
    expect(box({ ...files, ...withMain(`import { compose } from '../../${COMPOSE}';`) }, contexts)).toEqual([
      `stack/box/main.ts:1 imports host code ${COMPOSE}: of host code, only ${SESSION_RECORD}`,
    ]);
  });
  it('a type-only import of host code (counted: the image strips nothing)', () => {
    const [files, contexts] = copying(COMPOSE);
    const util = `import type { X } from '../../${COMPOSE}';\nexport const a = 'a';\n`;
    expect(box({ ...files, 'stack/box/util.ts': util }, contexts)).toEqual([
      `stack/box/util.ts:1 imports host code ${COMPOSE}: of host code, only ${SESSION_RECORD}`,
    ]);
  });
  it('a file of its import graph left out of the image (started by new URL from a script it runs)', () => {
    expect(
      box({
        'stack/box/Dockerfile': IMAGE.replace('stack/box/child.ts ./', './'),
        'stack/box/run.sh': '#!/bin/sh\nexec node /opt/app/stack/box/main.ts\n',
        'stack/box/util.ts': "export const a = new URL('./child.ts', import.meta.url).href;\n",
      }),
    ).toEqual(['stack/box/Dockerfile does not copy stack/box/child.ts, which its entry points import']);
  });
  it('a file copied that nothing imports', () => {
    expect(box({ 'stack/box/run.sh': '#!/bin/sh\nexec node /opt/app/stack/box/main.ts\n' })).toEqual([
      'stack/box/Dockerfile:7 copies stack/box/child.ts, which none of its entry points imports',
    ]);
  });
  it("a file copied out of the repository's layout (its relative imports would not resolve)", () => {
    const image = IMAGE.replace('stack/box/util.ts ', '').replace(
      'ENTRYPOINT',
      'COPY stack/box/util.ts ./\nENTRYPOINT',
    );
    expect(box({ 'stack/box/Dockerfile': image })).toEqual([
      'stack/box/Dockerfile:9 puts stack/box/util.ts at /opt/app/util.ts, not at /opt/app/stack/box/util.ts (the layout)',
    ]);
  });
  it('a shared module that does not stand alone (a dynamic import)', () => {
    const record = "export const RECORD_FILES = await import('../../../stack/box/util.ts');\n";
    expect(box({ [SESSION_RECORD]: record })).toEqual([
      `${SESSION_RECORD}:1 imports stack/box/util.ts: a module an image shares must stand alone (Node built-ins only)`,
    ]);
  });
  it('a package import (the image installs none)', () => {
    expect(box({ 'stack/box/util.ts': "export { parse as a } from 'yaml';\n" })).toEqual([
      'stack/box/util.ts:1 imports the package yaml: the image installs none',
    ]);
  });
  it('a copied file its build context (the image catalog) does not hold', () => {
    expect(box({}, new Map([['stack/box/Dockerfile', ['stack/box']]]))).toEqual([
      `stack/box/Dockerfile:5 copies ${SESSION_RECORD}, which its build context does not hold`,
    ]);
  });
});

const helpers = (files: Record<string, string>) => {
  const tree = memoryTree({
    'scripts/export.ts': 'export const verb = 1;\n',
    'scripts/lib/testing/harness.ts': '',
    ...files,
  });
  return helpersAndHarness(tree, importGraph(tree));
};

describe('rule 2 fails on planted imports', () => {
  it('a helper imports a verb (after a line comment holding /*)', () => {
    expect(
      helpers({ 'scripts/lib/x/y.ts': "// see /* here\nimport { verb } from '../../export.ts';\n// */\n" }),
    ).toEqual(['scripts/lib/x/y.ts:2 imports the verb scripts/export.ts']);
  });
  it('runtime code imports the harness, directly or through code built on it; the bench may', () => {
    expect(
      helpers({
        'scripts/lib/x/y.ts': "export * from '../testing/harness.ts';\n",
        'scripts/lib/compat/observe.ts': "import '../testing/harness.ts';\n",
        'scripts/lib/x/z.ts': "import '../compat/observe.ts';\n",
        'scripts/bench.ts': "import './lib/testing/harness.ts';\n",
        'scripts/lib/x/y.test.ts': "import '../testing/harness.ts';\n",
      }),
    ).toEqual([
      'scripts/lib/x/y.ts:1 imports the test harness scripts/lib/testing/harness.ts',
      'scripts/lib/x/z.ts:1 imports scripts/lib/compat/observe.ts, which reaches the test harness scripts/lib/testing/harness.ts',
    ]);
  });
});

const packages = (files: Record<string, string>) => {
  const tree = memoryTree({
    'pnpm-workspace.yaml': 'packages:\n  - mcp-servers/*\n  - stack/gateway\n',
    'mcp-servers/common/package.json': '{ "name": "@x/common" }',
    'mcp-servers/a/package.json': '{ "name": "@x/a" }',
    'mcp-servers/b/package.json': '{ "name": "@x/b" }',
    'stack/gateway/package.json': '{ "name": "@x/gateway" }',
    'mcp-servers/a/src/index.ts':
      "import { h } from '@x/common/src/http.ts';\nimport { own } from './own.ts';\n",
    'mcp-servers/a/src/own.ts': '',
    'scripts/lib/stack/compose.ts': '',
    ...files,
  });
  return workspacePackages(tree, importGraph(tree));
};

describe('rule 3 fails on planted imports', () => {
  it('passes packages that share through the common one', () => {
    expect(packages({})).toEqual([]);
  });
  it("a server imports another's file or another server by name; the gateway imports host code", () => {
    expect(
      packages({
        'mcp-servers/b/src/x.ts': "import '../../a/src/own.ts';\n",
        'mcp-servers/b/test/y.ts': "import { a } from '@x/a';\n",
        'stack/gateway/src/z.ts': "const c = import('../../../scripts/lib/stack/compose.ts');\n",
        'stack/gateway/src/z.test.ts': "import { b } from '@x/b';\n",
      }),
    ).toEqual([
      'mcp-servers/b/src/x.ts:1 imports mcp-servers/a/src/own.ts, outside its package mcp-servers/b',
      'mcp-servers/b/test/y.ts:1 imports the package @x/a: packages share only through @x/common',
      'stack/gateway/src/z.ts:1 imports scripts/lib/stack/compose.ts, outside its package stack/gateway',
    ]);
  });
});

describe('rule 4 fails on planted spellings', () => {
  // `#{` stands for a template's `${` in the planted sources (a `${` in a plain string reads as a mistake).
  const home = (files: Record<string, string>) =>
    oneHome(
      memoryTree(Object.fromEntries(Object.entries(files).map(([f, t]) => [f, t.replaceAll('#{', '${')]))),
    );
  it('a second Jaeger client written like jaeger.ts (a template, no quote before the path); prose passes', () => {
    expect(
      home({
        'scripts/lib/export/traces.ts': 'const u = (base: string) => `#{base}/api/traces?service=x`;\n',
        'scripts/stack.ts': "console.log(`Jaeger #{'url'}   API: /api/services, /api/traces`);\n",
      }),
    ).toEqual([
      'scripts/lib/export/traces.ts:1 spells the API path /api/traces: only scripts/lib/sinks/jaeger.ts does',
    ]);
  });
  it('fetch and the OTLP shape in the test harness; a record file name in a template; unit tests are outside', () => {
    expect(
      home({
        'scripts/lib/testing/sender.ts':
          'const r = { resourceLogs: [] };\nawait globalThis.fetch(String(r));\n',
        'scripts/lib/testing/records.ts':
          '// transcript.jsonl in a comment\nconst f = (dir: string) => `#{dir}/transcript.jsonl`;\n',
        'scripts/lib/x/x.test.ts': "await fetch('/api/v1/query');\n",
        'scripts/lib/x/prom.ts':
          "const q = 'http://127.0.0.1:9090/api/v1/query';\nconst o = { fetch: 1 }.fetch;\n",
      }),
    ).toEqual([
      'scripts/lib/testing/records.ts:2 spells the record file transcript.jsonl: only scripts/lib/session/session-record.ts does',
      'scripts/lib/testing/sender.ts:1 spells the OTLP JSON shape: only scripts/lib/sinks/otlp.ts does',
      'scripts/lib/testing/sender.ts:2 spells fetch: only scripts/lib/sinks/http-json.ts does',
      'scripts/lib/x/prom.ts:1 spells the API path /api/v1/: only scripts/lib/sinks/prometheus.ts does',
    ]);
  });
});
