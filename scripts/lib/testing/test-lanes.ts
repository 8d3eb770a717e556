// `pnpm test` in lanes: the whole suite as three Vitest runs at once, because Vitest itself cannot run two
// one-file-at-a-time projects side by side (a project without file parallelism goes to one sequential group,
// after every other). Lane "shared" is the e2e specs that share one stack (they take turns on it; its global setup
// brings the stack up and plays a warm-up session first); lane "own-stack" is the unit suite, which runs while that
// stack comes up, then the specs that bring up a stack of their own (OWN_STACK_SPECS in vitest.config.ts), one
// after another; lane "long" is the specs whose sessions last many minutes (LONG_SPECS: a session of over ten
// minutes, mostly waiting on its scripted model), on a stack of their own, so they wait beside the others instead
// of after them. Lane "scaled" is the specs on a stack of the scaled topology (five JVMs): it starts only once lane
// "shared" has ended, never beside it (on two cores the shared lane's specs timed out beside the scaled stack's
// JVMs coming up). Each lane is sequential inside, so no spec shares its stack with another at the same time.
// This module is pure: which lanes an argument list means, where each lane's JSON report goes, and how the
// lanes' reports merge into the one file a caller asked for (.ci/test-summary.ts reads it).

/** One Vitest run of a lane: its name, the arguments after `vitest run`, and its JSON report's file (if any). */
export interface Lane {
  name: string;
  args: string[];
  /** Where this lane writes its JSON report (a `--outputFile.json` of the caller's, per lane). */
  jsonReport: string | null;
  /** The lane that must have ended before this one starts (null: it starts at once). */
  after: string | null;
}

export interface LanePlan {
  lanes: Lane[];
  /** The caller's `--outputFile.json` (the lanes' reports are merged into it at the end), if any. */
  jsonReport: string | null;
  /** Why the suite runs as one Vitest run (a filter, a project, or --lanes=1), when it does. */
  single: string | null;
}

/** The projects of each lane (vitest.config.ts names them). */
export const LANE_PROJECTS = {
  shared: ['e2e'],
  ownStack: ['unit', 'e2e-own-stack'],
  long: ['e2e-long'],
  scaled: ['e2e-scaled'],
} as const;

/** `--lanes N`: one Vitest run; two (the long specs after the own-stack ones); or three at once (the default). */
const LANE_COUNTS = ['1', '2', '3'];

/** Vitest options that take their value as the next argument (so that value is not a file filter). */
const TAKES_VALUE = new Set([
  '--reporter',
  '--project',
  '-t',
  '--testNamePattern',
  '--maxWorkers',
  '--bail',
  '--retry',
  '--shard',
  '--config',
  '-c',
  '--root',
  '-r',
  '--dir',
  '--sequence.seed',
  '--testTimeout',
  '--hookTimeout',
  '--outputFile',
]);
const isOutputJson = (a: string) => a.startsWith('--outputFile.json=');

/** The file filters and `--project` options of a `vitest run` argument list: either makes it one run. */
function narrowing(args: string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--project' || a.startsWith('--project='))
      return `${a}${a.includes('=') ? '' : ` ${args[i + 1]}`}`;
    // `--reporter dot`, `--outputFile.json out.json`: the next argument is the option's value, not a filter.
    if ((TAKES_VALUE.has(a) || a.startsWith('--outputFile.')) && !a.includes('=')) i++;
    else if (!a.startsWith('-')) return `the filter ${JSON.stringify(a)}`;
  }
  return null;
}

/** `name.json` → `name.<lane>.json`: where a lane writes its part of the caller's JSON report. */
export const laneReportFile = (file: string, lane: string): string =>
  /\.json$/.test(file) ? file.replace(/\.json$/, `.${lane}.json`) : `${file}.${lane}.json`;

/**
 * The lanes for `pnpm test ARGS`. `--lanes=1` (or `--lanes 1`), a file filter or a `--project` keeps one Vitest
 * run with the arguments as given; otherwise three lanes at once (two with `--lanes 2`) and lane `scaled` after lane
 * `shared`, with the caller's options each, and each lane's JSON report in a file of its own (merged afterwards).
 */
export function planLanes(argv: string[]): LanePlan {
  const args: string[] = [];
  let lanesOption: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--lanes') lanesOption = argv[++i] ?? '';
    else if (a.startsWith('--lanes=')) lanesOption = a.slice('--lanes='.length);
    else args.push(a);
  }
  if (lanesOption !== null && !LANE_COUNTS.includes(lanesOption))
    throw new Error(`--lanes must be ${LANE_COUNTS.join(', ')}; not ${JSON.stringify(lanesOption)}`);
  const jsonOpt = args.find(isOutputJson);
  const jsonReport = jsonOpt ? jsonOpt.slice('--outputFile.json='.length) : null;
  const single = lanesOption === '1' ? '--lanes=1' : narrowing(args);
  if (single) return { lanes: [{ name: 'all', args, jsonReport, after: null }], jsonReport, single };
  const lane = (name: string, projects: readonly string[], after: string | null = null): Lane => {
    const report = jsonReport ? laneReportFile(jsonReport, name) : null;
    return {
      name,
      args: [
        ...projects.flatMap((p) => ['--project', p]),
        ...args.map((a) => (isOutputJson(a) && report ? `--outputFile.json=${report}` : a)),
      ],
      jsonReport: report,
      after,
    };
  };
  const lanes =
    lanesOption === '2'
      ? [
          lane('shared', LANE_PROJECTS.shared),
          lane('own-stack', [...LANE_PROJECTS.ownStack, ...LANE_PROJECTS.long]),
          lane('scaled', LANE_PROJECTS.scaled, 'shared'),
        ]
      : [
          lane('shared', LANE_PROJECTS.shared),
          lane('own-stack', LANE_PROJECTS.ownStack),
          lane('long', LANE_PROJECTS.long),
          lane('scaled', LANE_PROJECTS.scaled, 'shared'),
        ];
  return { lanes, jsonReport, single: null };
}

/** The counts of Vitest's JSON report that a merge adds up (the rest of the report is kept from each lane). */
const COUNTS = [
  'numTotalTestSuites',
  'numPassedTestSuites',
  'numFailedTestSuites',
  'numPendingTestSuites',
  'numTotalTests',
  'numPassedTests',
  'numFailedTests',
  'numPendingTests',
  'numTodoTests',
] as const;

export interface VitestReport {
  [key: string]: unknown;
  success?: boolean;
  startTime?: number;
  testResults?: unknown[];
}

/**
 * One report from the lanes' reports: counts added, test results concatenated, success only when every lane
 * succeeded and wrote a report (a lane whose report is missing is a failed lane: `null` in the list).
 */
export function mergeReports(reports: (VitestReport | null)[]): VitestReport {
  const merged: VitestReport = { success: true, startTime: Number.POSITIVE_INFINITY, testResults: [] };
  for (const k of COUNTS) merged[k] = 0;
  for (const r of reports) {
    if (!r) {
      merged.success = false;
      continue;
    }
    for (const k of COUNTS)
      merged[k] = (merged[k] as number) + (typeof r[k] === 'number' ? (r[k] as number) : 0);
    merged.success = merged.success === true && r.success === true;
    if (typeof r.startTime === 'number') merged.startTime = Math.min(merged.startTime as number, r.startTime);
    merged.testResults = [...(merged.testResults ?? []), ...(r.testResults ?? [])];
  }
  if (merged.startTime === Number.POSITIVE_INFINITY) merged.startTime = Date.now();
  return merged;
}
