// The rules that keep the layout of ARCHITECTURE.md true, checked on every `pnpm test`: who may import whom, and
// which single module owns each sink and the session record. A rule broken here names the file and the import.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './lib/repo-root.ts';

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(repoRoot, dir))) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(join(repoRoot, path)).isDirectory()) out.push(...files(path));
    else if (/\.ts$/.test(name)) out.push(path);
  }
  return out;
}

const isTest = (f: string) => /\.(test|spec)\.ts$/.test(f);
const source = (f: string) => readFileSync(join(repoRoot, f), 'utf8');
/** Code without its comments (line comments and /* blocks *\/), for the rules about what code spells. */
const code = (f: string) =>
  source(f)
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');

/** Each import of a file: the specifier, and the repo-relative target for relative ones. */
function imports(f: string): { spec: string; target: string | null }[] {
  return [...code(f).matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^import\s+)['"]([^'"]+)['"]/gm)].map((m) => {
    const spec = m[1] as string;
    return {
      spec,
      target: spec.startsWith('.') ? relative(repoRoot, resolve(repoRoot, dirname(f), spec)) : null,
    };
  });
}

const all = [...files('scripts'), ...files('specs'), ...files('stack'), ...files('mcp-servers')];
const runtime = all.filter((f) => !isTest(f));
const under = (prefix: string) => (f: string) => f.startsWith(prefix);
const violations = (
  fs: string[],
  allowed: (imp: { spec: string; target: string | null }, file: string) => boolean,
): string[] =>
  fs.flatMap((f) =>
    imports(f)
      .filter((i) => !allowed(i, f))
      .map((i) => `${f} imports ${i.target ?? i.spec}`),
  );

describe('architecture rules', () => {
  it('sees the repository (a rule over no files proves nothing)', () => {
    expect(runtime.filter(under('scripts/lib/')).length).toBeGreaterThan(40);
    expect(runtime.filter(under('stack/claude-code/')).length).toBe(4);
  });

  it('container code imports only Node built-ins, its own folder and the session record', () => {
    expect(
      violations(
        runtime.filter(under('stack/claude-code/')),
        (i) =>
          i.spec.startsWith('node:') ||
          i.target?.startsWith('stack/claude-code/') ||
          i.target === 'scripts/lib/session/session-record.ts',
      ),
    ).toEqual([]);
  });

  it('the session record stands alone (Node built-ins only): the container image carries it', () => {
    expect(violations(['scripts/lib/session/session-record.ts'], (i) => i.spec.startsWith('node:'))).toEqual(
      [],
    );
  });

  it('helpers never import verbs, and runtime code never imports the test harness', () => {
    const verb = (t: string | null) => t !== null && /^scripts\/[^/]+\.ts$|^scripts\/bench\//.test(t);
    expect(violations(all.filter(under('scripts/lib/')), (i) => !verb(i.target))).toEqual([]);
    const harness = (t: string | null) =>
      t !== null && (t.startsWith('scripts/lib/testing/') || t.startsWith('specs/'));
    const runtimeCode = runtime.filter(
      (f) =>
        // The bench and compat run stacks of their own: they are built on the harness.
        (f.startsWith('scripts/') &&
          !f.startsWith('scripts/lib/testing/') &&
          !f.startsWith('scripts/bench') &&
          !f.startsWith('scripts/lib/compat/')) ||
        f.startsWith('stack/'),
    );
    expect(
      violations(
        runtimeCode.filter((f) => f !== 'scripts/bench.ts' && f !== 'scripts/compat.ts'),
        (i) => !harness(i.target),
      ),
    ).toEqual([]);
  });

  it('the MCP servers and the scripted API share nothing with the scripts; the servers share only through common', () => {
    const outside = (i: { target: string | null }, f: string) => {
      if (i.target === null) return true; // packages: their own dependencies
      const pkg = f.split('/').slice(0, 2).join('/');
      return i.target.startsWith(`${pkg}/`);
    };
    expect(violations(all.filter(under('mcp-servers/')), outside)).toEqual([]);
    expect(violations(all.filter(under('stack/anthropic-replay/')), outside)).toEqual([]);
    const common = runtime.filter(under('mcp-servers/')).flatMap((f) =>
      imports(f)
        .filter((i) => i.spec.startsWith('@claude-code-telemetry/'))
        .map((i) => i.spec),
    );
    expect(common.length).toBeGreaterThan(0);
    for (const spec of common) expect(spec).toMatch(/^@claude-code-telemetry\/mcp-common\//);
  });

  it('one module reads each sink and owns the record: OTLP shape, HTTP to the backends, record files', () => {
    const spelled = (pattern: RegExp) =>
      runtime.filter(
        (f) => f.startsWith('scripts/') && !f.startsWith('scripts/lib/testing/') && pattern.test(code(f)),
      );
    expect(spelled(/resourceSpans|resourceLogs|resourceMetrics|scopeSpans|scopeLogs|scopeMetrics/)).toEqual([
      'scripts/lib/sinks/otlp.ts',
    ]);
    expect(spelled(/\bfetch\(/)).toEqual(['scripts/lib/sinks/http-json.ts']);
    expect(spelled(/['"`]\/api\/traces|\/api\/services['"`]/)).toEqual(['scripts/lib/sinks/jaeger.ts']);
    expect(spelled(/\/api\/v1\//)).toEqual(['scripts/lib/sinks/prometheus.ts']);
    expect(spelled(/\/select\/logsql\//)).toEqual(['scripts/lib/sinks/victorialogs.ts']);
    expect(spelled(/['"]metadata\.json['"]|['"]secrets\.json['"]/)).toEqual([
      'scripts/lib/session/session-record.ts',
    ]);
  });
});
