#!/usr/bin/env node
// `pnpm compat`: Claude Code's telemetry across releases. The plan (compat-plan.ts: releases x session kinds x
// protocols x configuration paths, N runs per cell), the sessions through a stack of its own (compat-run.ts, runs
// cached per release), then the matrix judged (compat-matrix.ts) and written (compat-markdown.ts) to
// docs/compatibility.md and docs/compatibility.json.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { $, argv } from 'zx';
import { selectRuns } from './lib/compat/compat-cache.ts';
import { renderMarkdown } from './lib/compat/compat-markdown.ts';
import {
  buildReport,
  type CompatReport,
  compareReleases,
  type ReleaseInput,
  type ReleaseReport,
  regressions,
  releasesOf,
} from './lib/compat/compat-matrix.ts';
import {
  commandLine,
  count,
  DEFAULT_RUNS,
  newerReleases,
  type PlanContext,
  parsePlan,
  pendingTasks,
  planCells,
  RELEASE,
} from './lib/compat/compat-plan.ts';
import { cachedRuns, measuredIn, runCompat } from './lib/compat/compat-run.ts';
import { KINDS } from './lib/compat/session-kinds.ts';
import { CONTRACT_FILE, contractFrom } from './lib/compat/telemetry-contract.ts';
import { loadVersions } from './lib/images/build-images.ts';
import { repoRoot } from './lib/repo-root.ts';
import { OTLP_PROTOCOLS } from './lib/session/session-record.ts';

const kindNames = KINDS.map((k) => k.name);

const HELP = `Usage: pnpm compat [--versions A,B | --last N | --new] [--fillers X,Y] [--kinds K,L] [--runs N] ...

Runs the same scripted Claude Code sessions on each release through a stack of its own and writes the telemetry
compatibility matrix: per session kind, which metrics, events, spans and attributes reached each sink, whether
the totals equal the script, what changed from the release before, and the public reports it reproduces.
A cell is release x session kind x OTLP protocol x configuration path; each cell runs N times, and a cell whose
runs disagree is flaky (~ k/n), never pass or fail.

Releases (none given: the pinned release, CLAUDE_CODE_VERSION in stack/versions.env):
  --versions A,B    these releases, every kind of --kinds (also --releases)
  --fillers X,Y     these releases too, with --filler-kinds only (default demo): cheap gaps between named ones
  --last N          the N newest releases on the npm registry
  --new             only the releases on npm newer than the newest in the matrix (--matrix); "nothing new" and
                    exit 0 if none; exit 1 when a check that passed on the release before fails on a new one
  --matrix FILE     the matrix --new reads and adds to (default docs/compatibility.json)
What runs:
  --kinds K,L       session kinds (default all: ${kindNames.join(',')})
  --filler-kinds K  the fillers' kinds (default demo)
  --protocols P,Q   OTLP protocols (default all: ${OTLP_PROTOCOLS.join(',')})
  --configs C,D     configuration paths: env (variables), settings (settings.json env), managed
                    (/etc/claude-code/managed-settings.json) (default all three)
  --axes K,L        kinds run over every protocol and every configuration path on the named releases (default
                    demo): each protocol with the first path, each path with the first protocol
  --cross           the axes kinds over every protocol x path pair instead; the other kinds run over the
                    first protocol and path only
  --runs N          runs per cell (default ${DEFAULT_RUNS})
  --parallel N      sessions at once on the one stack (default 2), each worker its own user (compat-1, ...)
  --long-parallel N long sessions at once, in a lane of their own (default 1)
Cache and output:
  --cache DIR       where each release's runs are kept as they end (default .cache/compat): a stopped run resumes
  --fresh           ignore the cache (runs are still saved to it)
  --report-only     run nothing: write the docs from the cache for the plan
  --out DIR         where compatibility.md and compatibility.json go (default docs)
  --contract        also write the pinned release's telemetry contract (fixtures/contract/claude-code-telemetry.json)
                    from its demo session, for the contract spec (after a pin bump)
  --dry-run         print the plan (cells, sessions to run), run nothing`;

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
  const pin = loadVersions().CLAUDE_CODE_VERSION as string;
  const ctx: PlanContext = { kinds: KINDS, protocols: OTLP_PROTOCOLS, defaultKinds: kindNames, pin };
  const matrixFile = resolve(String(argv.matrix ?? join(repoRoot, 'docs', 'compatibility.json')));
  let previous: ReleaseReport[] = [];
  let previousCommand = '';
  if (argv.new) {
    if (argv.versions !== undefined || argv.releases !== undefined || argv.last !== undefined)
      throw new Error('--new chooses the releases itself: not with --versions or --last');
    if (!existsSync(matrixFile)) throw new Error(`--new reads the matrix ${matrixFile}: there is none`);
    const matrix = JSON.parse(readFileSync(matrixFile, 'utf8')) as { command?: string };
    previous = releasesOf(matrix);
    previousCommand = matrix.command ?? '';
    const newest = previous.at(-1)?.release ?? '(none)';
    ctx.found = newerReleases(
      await npmReleases(),
      previous.map((r) => r.release),
    );
    if (!ctx.found.length) {
      console.log(
        `compat: nothing new: no release on npm is newer than ${newest}, the newest in ${matrixFile}`,
      );
      return 0;
    }
    console.log(`compat: newer than ${newest} on npm: ${ctx.found.join(', ')}`);
  } else if (argv.last !== undefined) {
    ctx.found = (await npmReleases()).slice(-count('--last', argv.last, 1, 50));
  }
  const plan = parsePlan(argv, ctx);
  const cells = planCells(plan, KINDS);
  const parallel = count('--parallel', argv.parallel, 2, 16);
  const longParallel = count('--long-parallel', argv['long-parallel'], 1, 8);
  const cacheDir = resolve(String(argv.cache ?? join(repoRoot, '.cache', 'compat')));
  const outDir = resolve(String(argv.out ?? join(repoRoot, 'docs')));
  const fresh = !!argv.fresh;
  const command = argv.new
    ? `pnpm compat --new (adding ${plan.named.join(', ')} to the matrix of: ${previousCommand || 'unknown'})`
    : commandLine(plan, ctx);
  if (argv.contract && !cells.some((c) => c.release === pin && c.kind === 'demo'))
    throw new Error(`--contract needs the pinned release ${pin} and the demo session in the run`);
  const done = cachedRuns(cells, cacheDir, fresh);
  const tasks = argv['report-only'] ? [] : pendingTasks(cells, plan.runs, measuredIn(done));
  const releases = [...new Set(cells.map((c) => c.release))];
  console.log(
    `compat: ${releases.length} release(s) (${plan.named.join(', ') || 'none'} with ${plan.kinds.join(', ')}${
      plan.fillers.length ? `; fillers ${plan.fillers.join(', ')} with ${plan.fillerKinds.join(', ')}` : ''
    }); ${cells.length} cell(s) over ${plan.protocols.join(', ')} and ${plan.configs.join(', ')} (all of them for ${plan.axes.join(', ')}${plan.cross ? ', crossed' : ''}), ${plan.runs} run(s) each; ${tasks.length} session(s) to run, ${cells.length * plan.runs - tasks.length} in the cache (${cacheDir})`,
  );
  if (argv['dry-run']) {
    for (const r of releases)
      console.log(
        `compat:   ${r}: ${cells
          .filter((c) => c.release === r)
          .map((c) => `${c.kind} ${c.protocol} ${c.config}`)
          .join('; ')}`,
      );
    console.log(`compat: would write ${join(outDir, 'compatibility.md')} and compatibility.json`);
    return 0;
  }
  const started = Date.now();
  const versions = loadVersions();
  const write = (inputs: ReleaseInput[]): CompatReport => {
    const report = buildReport(
      inputs.map((i) =>
        selectRuns(
          i,
          cells.filter((c) => c.release === i.release),
          plan.runs,
        ),
      ),
      {
        generated: new Date().toISOString().slice(0, 10),
        command,
        runSeconds: argv['report-only'] ? null : (Date.now() - started) / 1000,
        runsPerCell: plan.runs,
        stack: {
          collector: versions.OTELCOL_VERSION ?? '',
          jaeger: versions.JAEGER_VERSION ?? '',
          prometheus: versions.PROMETHEUS_VERSION ?? '',
          victorialogs: versions.VICTORIALOGS_VERSION ?? '',
        },
        kinds: Object.fromEntries(KINDS.map((k) => [k.name, k.description])),
      },
      previous,
    );
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, 'compatibility.json'), `${JSON.stringify(report, null, 2)}\n`);
    writeFileSync(join(outDir, 'compatibility.md'), renderMarkdown(report));
    return report;
  };
  const ticker = setInterval(
    () => console.log(`compat: ${((Date.now() - started) / 1000).toFixed(0)} s so far`),
    60_000,
  );
  let inputs: ReleaseInput[];
  try {
    inputs = await runCompat({
      cells,
      tasks,
      runs: plan.runs,
      parallel,
      longParallel,
      cacheDir,
      done,
      log: (line) => console.log(`compat: ${line}`),
    });
  } finally {
    clearInterval(ticker);
  }
  const report = write(inputs);
  console.log(`compat: wrote ${join(outDir, 'compatibility.md')} and ${join(outDir, 'compatibility.json')}`);
  if (argv.contract) {
    const demo = inputs
      .find((r) => r.release === pin)
      ?.runs.find(
        (r) => r.session === 'demo' && (r.config ?? 'env') === 'env' && r.observation?.fileRecords.traces,
      );
    if (!demo?.observation)
      throw new Error(`the demo session of ${pin} left no telemetry: no contract written`);
    writeFileSync(CONTRACT_FILE, `${JSON.stringify(contractFrom(pin, 'demo', demo.observation), null, 2)}\n`);
    console.log(`compat: wrote the telemetry contract of ${pin}: ${CONTRACT_FILE}`);
  }
  const states = report.releases.filter((r) => releases.includes(r.release)).flatMap((r) => r.cells);
  const tally = (s: string) => states.filter((c) => c.state === s).length;
  console.log(
    `compat: ${releases.length} release(s) in ${((Date.now() - started) / 1000).toFixed(0)} s: ${tally('pass')} cell(s) pass, ${tally('fail')} fail, ${tally('flaky')} flaky, ${tally('unmeasured')} unmeasured`,
  );
  if (!argv.new) return 0;
  // --new: each new release against the release before it (the matrix's newest, or the new one before).
  let regressed = 0;
  for (const rel of report.releases) {
    if (!plan.named.includes(rel.release)) continue;
    const before = report.releases[report.releases.indexOf(rel) - 1];
    if (!before) continue;
    const r = regressions(before, rel);
    for (const line of r.regressed) console.log(`compat: REGRESSION ${line}`);
    for (const line of r.flaky) console.log(`compat: flaky (not counted as a regression) ${line}`);
    regressed += r.regressed.length;
  }
  if (regressed) {
    console.log(`compat: ${regressed} check(s) that passed on the release before fail on a new release`);
    return 1;
  }
  console.log('compat: no check that passed on the release before fails on a new release');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`compat: error: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
