#!/usr/bin/env node
// `pnpm compat`: Claude Code's telemetry across releases. For each release: its image (built here, cached), the
// same scripted sessions through a real stack of its own, and what reached each sink; then the matrix in
// docs/compatibility.md and docs/compatibility.json. The work is in scripts/lib/compat/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { $, argv } from 'zx';
import {
  buildReport,
  compareReleases,
  type ReleaseInput,
  renderMarkdown,
} from './lib/compat/compat-matrix.ts';
import { DEFAULT_PROTOCOLS, runCompat, SESSION_KINDS } from './lib/compat/compat-run.ts';
import { CONTRACT_FILE, contractFrom } from './lib/compat/telemetry-contract.ts';
import { loadVersions } from './lib/images/build-images.ts';
import { repoRoot } from './lib/repo-root.ts';
import { OTLP_PROTOCOLS } from './lib/session/session-record.ts';

const HELP = `Usage: pnpm compat [--versions A,B,C | --last N] [--protocols P,Q] [--sessions S,T] [--out DIR] [--dry-run]

Runs the same scripted Claude Code sessions on each release through a stack of its own and writes the telemetry
compatibility matrix: which metrics, events, spans and attributes reached each sink, whether the totals equal
the script, and what changed from the release before.

  --versions A,B,C  these releases (npm view @anthropic-ai/claude-code versions)
  --last N          the N newest releases on the npm registry
                    (neither: the pinned release, CLAUDE_CODE_VERSION in stack/versions.env)
  --protocols P,Q   OTLP protocols to export with (default: ${DEFAULT_PROTOCOLS.join(',')}; any of ${OTLP_PROTOCOLS.join(',')})
  --sessions S,T    session kinds (default: ${SESSION_KINDS.join(',')})
  --out DIR         where compatibility.md and compatibility.json go (default: docs)
  --contract        also write the pinned release's telemetry contract (fixtures/contract/claude-code-telemetry.json)
                    from its demo session, for the contract spec (after a pin bump)
  --dry-run         print the releases and sessions it would run, run nothing
Each release takes a few minutes (its image once, then ${SESSION_KINDS.length * DEFAULT_PROTOCOLS.length} sessions by default).`;

const RELEASE = /^\d+\.\d+\.\d+$/;
const list = (v: unknown) =>
  String(v)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

async function npmReleases(): Promise<string[]> {
  const r = await $({ quiet: true, nothrow: true })`npm view @anthropic-ai/claude-code versions --json`;
  if (r.exitCode !== 0)
    throw new Error(`npm view @anthropic-ai/claude-code versions failed: ${r.stderr.trim()}`);
  return (JSON.parse(r.stdout) as string[]).filter((v) => RELEASE.test(v)).sort(compareReleases);
}

async function main(): Promise<number> {
  if (argv.help || argv.h) {
    console.log(HELP);
    return 0;
  }
  let releases: string[];
  if (argv.versions !== undefined) {
    releases = list(argv.versions);
    const bad = releases.filter((v) => !RELEASE.test(v));
    if (bad.length || !releases.length)
      throw new Error(`--versions takes releases like 2.1.332,2.1.197; not ${bad.join(', ') || '(none)'}`);
  } else if (argv.last !== undefined) {
    const n = Number(argv.last);
    if (!Number.isInteger(n) || n < 1 || n > 50) throw new Error('--last takes a number from 1 to 50');
    releases = (await npmReleases()).slice(-n);
  } else {
    releases = [loadVersions().CLAUDE_CODE_VERSION as string];
  }
  releases = [...new Set(releases)].sort(compareReleases);
  const protocols = argv.protocols === undefined ? [...DEFAULT_PROTOCOLS] : list(argv.protocols);
  const known: readonly string[] = OTLP_PROTOCOLS;
  if (protocols.some((p) => !known.includes(p)) || !protocols.length)
    throw new Error(`--protocols takes ${OTLP_PROTOCOLS.join(', ')}; not ${argv.protocols}`);
  const sessions = argv.sessions === undefined ? [...SESSION_KINDS] : list(argv.sessions);
  if (sessions.some((s) => !(SESSION_KINDS as readonly string[]).includes(s)) || !sessions.length)
    throw new Error(`--sessions takes ${SESSION_KINDS.join(', ')}; not ${argv.sessions}`);
  const pin = loadVersions().CLAUDE_CODE_VERSION as string;
  if (argv.contract && (!releases.includes(pin) || !sessions.includes('demo')))
    throw new Error(`--contract needs the pinned release ${pin} and the demo session in the run`);
  const outDir = resolve(String(argv.out ?? join(repoRoot, 'docs')));
  const command = ['pnpm compat', `--versions ${releases.join(',')}`]
    .concat(argv.protocols === undefined ? [] : [`--protocols ${protocols.join(',')}`])
    .concat(argv.sessions === undefined ? [] : [`--sessions ${sessions.join(',')}`])
    .join(' ');
  console.log(
    `compat: ${releases.length} release(s): ${releases.join(', ')}; sessions ${sessions.join(', ')} over ${protocols.join(', ')}`,
  );
  if (argv['dry-run']) {
    console.log(`compat: would write ${join(outDir, 'compatibility.md')} and compatibility.json`);
    return 0;
  }
  const started = Date.now();
  const versions = loadVersions();
  const stack = {
    collector: versions.OTELCOL_VERSION ?? '',
    jaeger: versions.JAEGER_VERSION ?? '',
    prometheus: versions.PROMETHEUS_VERSION ?? '',
    victorialogs: versions.VICTORIALOGS_VERSION ?? '',
  };
  const write = (done: ReleaseInput[]) => {
    const report = buildReport(done, { generated: new Date().toISOString().slice(0, 10), command, stack });
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'compatibility.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(outDir, 'compatibility.md'), renderMarkdown(report));
    return report;
  };
  const ticker = setInterval(
    () => console.log(`compat: ${((Date.now() - started) / 1000).toFixed(0)} s so far`),
    60_000,
  );
  try {
    const done = await runCompat({
      releases,
      protocols,
      sessions,
      log: (line) => console.log(`compat: ${line}`),
      onRelease: write,
    });
    const report = write(done);
    if (argv.contract) {
      const demo = done
        .find((r) => r.release === pin)
        ?.runs.find((r) => r.session === 'demo' && r.protocol === protocols[0]);
      if (!demo?.observation?.fileRecords.traces)
        throw new Error(`the demo session of ${pin} left no telemetry: no contract written`);
      writeFileSync(
        CONTRACT_FILE,
        `${JSON.stringify(contractFrom(pin, 'demo', demo.observation), null, 2)}\n`,
      );
      console.log(`compat: wrote the telemetry contract of ${pin}: ${CONTRACT_FILE}`);
    }
    const failing = report.releases.filter((r) => Object.values(r.checks).some((c) => c.some((x) => !x.ok)));
    console.log(
      `compat: wrote ${join(outDir, 'compatibility.md')} and ${join(outDir, 'compatibility.json')}`,
    );
    console.log(
      `compat: ${releases.length} release(s) in ${((Date.now() - started) / 1000).toFixed(0)} s; with a failed check: ${failing.map((r) => r.release).join(', ') || 'none'}`,
    );
  } finally {
    clearInterval(ticker);
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`compat: error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
