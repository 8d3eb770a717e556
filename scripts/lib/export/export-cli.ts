// The `pnpm export` command (scripts/export.ts starts it): session archives (.tar.gz) with the session's telemetry from the files, its traces from Jaeger,
// its metrics from Prometheus, its logs, a summary, a visual report and a manifest with every checksum.
//   pnpm export [--session ID ... | --all | --user NAME | --project NAME] [--since DURATION] [--out DIR]
//   pnpm export list
//   pnpm export verify ARCHIVE
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../repo-root.ts';
import type { RecordProblem } from '../session/record-metadata.ts';
import { PROJECT_NAME_RULE, USER_NAME_RULE } from '../session/session-credential.ts';
import { secretValues } from '../session/session-record.ts';
import { readEnvFile } from '../stack/env-file.ts';
import { hostUrls } from '../stack/host-urls.ts';
import { readLocalEnv } from '../stack/local-env.ts';
import { envFiles } from '../stack/stack-files.ts';
import { verifyArchive } from './archive/archive.ts';
import { exportSessions } from './export-sessions.ts';
import { chooseSessions, type Selection, UnknownSessionError } from './selection/choose-sessions.ts';
import { indexSessions, type KnownSession, parseDuration } from './selection/session-index.ts';

const HELP = `Usage:
  pnpm export [--session ID ... | --all | --user NAME | --project NAME] [--since DURATION] [--out DIR]
                              one archive of the chosen sessions
  pnpm export list [--json]   the sessions known, with their user, oldest first
  pnpm export verify ARCHIVE  check an archive against its manifest

  --session ID      a session to export (repeat for several); default: the latest session
  --all             every session known (telemetry files and session records)
  --since DURATION  the sessions active in the last DURATION (90s, 15m, 2h, 7d, 1w); with --user, that user's
  --user NAME       every session of user NAME (pnpm session --user NAME): the user in its record, or the
                    user.name its telemetry carries when the record is gone. Not with --session. A user with
                    no sessions is an error that lists the users known. NAME: ${USER_NAME_RULE}
  --project NAME    every session of project NAME (pnpm session --project NAME, or its workspace's git remote):
                    the project its telemetry carries, stamped from its credential. With --user and --since, the
                    sessions that match all. An unknown project is an error that lists the projects known.
                    NAME: ${PROJECT_NAME_RULE}
  --out DIR         where the archive goes (default: exports/)
  --no-jaeger, --no-prometheus
                    do not ask that backend (the manifest lists what is missing)
  --timeout MS      per request to Jaeger/Prometheus (default 10000)
  --dry-run         list the sessions that would be exported, write nothing

Where things are: stack/.env.local (written by pnpm stack:setup) gives TELEMETRY_DIR and SESSIONS_DIR;
Prometheus and Jaeger are asked on 127.0.0.1:$PROMETHEUS_PORT (9090) and :$JAEGER_UI_PORT (16686), or at
--prometheus URL / --jaeger URL. --telemetry-dir and --sessions-dir override the folders.
Exit status: 0 done, 1 failed (nothing written), 2 bad arguments, unknown session, user or project.`;

// node:util's parseArgs rather than zx's argv: importing zx takes ~120 ms, and this command is measured against
// `cat` (pnpm bench export).
const { values: opts, positionals } = (() => {
  try {
    return parseArgs({
      args: process.argv.slice(2).filter((a) => !/^--no-(jaeger|prometheus)$/.test(a)),
      allowPositionals: true,
      options: {
        session: { type: 'string', multiple: true },
        all: { type: 'boolean' },
        since: { type: 'string' },
        user: { type: 'string' },
        project: { type: 'string' },
        out: { type: 'string' },
        'telemetry-dir': { type: 'string' },
        'sessions-dir': { type: 'string' },
        prometheus: { type: 'string' },
        jaeger: { type: 'string' },
        timeout: { type: 'string' },
        json: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    console.error(`export: error: ${(err as Error).message} (see pnpm export --help)`);
    process.exit(2);
  }
})();
/** --no-jaeger / --no-prometheus: parseArgs has no negation for string options. */
const negated = process.argv.filter((a) => /^--no-(jaeger|prometheus)$/.test(a)).map((a) => a.slice(5));
const argv: Record<string, unknown> = { ...opts, _: positionals };
for (const name of negated) argv[name] = false;

const say = (line: string) => console.log(`export: ${line}`);
/** A record or id left out of the index (on stderr: `list --json` stays JSON). */
const warn = (p: RecordProblem) => console.error(`export: warning: ${p.file} ${p.why}`);
const fail = (line: string, code = 1): never => {
  console.error(`export: error: ${line}`);
  process.exit(code);
};

if (argv.help || argv.h) {
  console.log(HELP);
  process.exit(0);
}

const local = readLocalEnv();
const dir = (flag: string, key: string, fallback: string) =>
  resolve(argv[flag] ? String(argv[flag]) : (local[key] ?? join(repoRoot, fallback)));
const telemetryDir = dir('telemetry-dir', 'TELEMETRY_DIR', 'telemetry');
const sessionsDir = dir('sessions-dir', 'SESSIONS_DIR', 'sessions');
const list = (v: unknown): string[] => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map(String));

const [verb, ...rest] = positionals;

const HEADER = `${'session'.padEnd(36)}  ${'start (UTC)'.padEnd(19)}  ${'duration'.padStart(9)}  ${'cost'.padStart(9)}  ${'tokens'.padStart(9)}  ${'user'.padEnd(12)}  found in`;

function fmtSession(s: KnownSession): string {
  const start =
    s.start === null ? '?'.padEnd(20) : new Date(s.start).toISOString().slice(0, 19).replace('T', ' ');
  const duration = s.durationMs === null ? '?' : `${(s.durationMs / 1000).toFixed(1)} s`;
  const where = [
    s.inTelemetry ? 'telemetry' : '',
    s.recorded ? `record${s.status ? ` (${s.status})` : ''}` : '',
  ]
    .filter(Boolean)
    .join(' + ');
  return `${s.id}  ${start}  ${duration.padStart(9)}  ${`$${s.costUsd.toFixed(4)}`.padStart(9)}  ${String(s.tokens).padStart(9)}  ${(s.user ?? '-').padEnd(12)}  ${where}`;
}

interface Chosen {
  ids: string[];
  selection: Selection;
  /** What is known of each chosen session (empty for --session: ids are taken as given, unindexed). */
  known: KnownSession[];
}

async function chosenSessions(): Promise<Chosen> {
  const explicit = list(argv.session);
  let sinceMs: number | undefined;
  if (argv.since !== undefined) {
    try {
      sinceMs = parseDuration(String(argv.since));
    } catch (err) {
      fail((err as Error).message, 2);
    }
  }
  const user = argv.user === undefined ? undefined : String(argv.user);
  const project = argv.project === undefined ? undefined : String(argv.project);
  const known = explicit.length ? [] : await indexSessions(telemetryDir, sessionsDir, warn);
  try {
    const { ids, selection, note } = chooseSessions(
      known,
      { sessions: explicit, all: Boolean(argv.all), sinceMs, sinceText: String(argv.since), user, project },
      `telemetry: ${telemetryDir}, records: ${sessionsDir}`,
    );
    if (note) say(note);
    return { ids, selection, known: known.filter((s) => ids.includes(s.id)) };
  } catch (err) {
    return fail((err as Error).message, 2);
  }
}

function versions(): Record<string, string> {
  const out: Record<string, string> = {};
  const pins = readEnvFile(envFiles.versions);
  for (const [k, v] of Object.entries(pins)) if (/_VERSION$|_OFFICIAL_IMAGE$/.test(k)) out[k] = v;
  if (existsSync(envFiles.images))
    for (const [k, v] of Object.entries(readEnvFile(envFiles.images))) {
      if (/_IMAGE$|_MODE$/.test(k)) out[`ran:${k}`] = v;
      // A release other than the pin (`stack:images --claude-code`) is the one that ran.
      if (k === 'CLAUDE_CODE_VERSION' && v) out[k] = v;
    }
  return out;
}

async function main(): Promise<void> {
  if (verb === 'list') {
    const known = await indexSessions(telemetryDir, sessionsDir, warn);
    if (argv.json) {
      console.log(JSON.stringify(known, null, 2));
      return;
    }
    if (!known.length) {
      say(`no sessions known (telemetry: ${telemetryDir}, records: ${sessionsDir})`);
      return;
    }
    console.log(HEADER);
    for (const s of known) console.log(fmtSession(s));
    return;
  }
  if (verb === 'verify') {
    const archive = rest[0];
    if (!archive) fail('verify needs the archive: pnpm export verify ARCHIVE', 2);
    const problems = await verifyArchive(resolve(String(archive)));
    if (problems.length) {
      for (const p of problems) console.error(`export: verify: ${p}`);
      fail(`${archive} does not match its manifest (${problems.length} difference(s))`);
    }
    say(`${archive}: every file matches the manifest`);
    return;
  }
  if (verb !== undefined)
    fail(`unknown command ${verb}: use list, verify ARCHIVE, or no command (see --help)`, 2);

  const { ids: sessions, selection, known } = await chosenSessions();
  const outDir = resolve(argv.out ? String(argv.out) : join(repoRoot, 'exports'));
  if (argv['dry-run']) {
    const of = selection.project
      ? ` (${sessions.length} session(s) of project ${selection.project}${selection.user ? ` and user ${selection.user}` : ''})`
      : selection.user
        ? ` (${sessions.length} session(s) of user ${selection.user})`
        : '';
    say(
      `would export ${sessions.join(', ')}${of} to ${outDir} (telemetry ${telemetryDir}, records ${sessionsDir})`,
    );
    if (known.length) {
      console.log(HEADER);
      for (const s of known) console.log(fmtSession(s));
    }
    return;
  }
  const urls = hostUrls();
  const url = (flag: 'prometheus' | 'jaeger') =>
    argv[flag] === false ? null : argv[flag] ? String(argv[flag]).replace(/\/$/, '') : urls[flag];
  const abort = new AbortController();
  // Every signal aborts (a repeated Ctrl-C too): the export then removes what it staged and exits 130.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(sig, () => abort.abort(new Error(`interrupted by ${sig}`)));
  const started = Date.now();
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  try {
    const r = await exportSessions({
      sessions,
      selection,
      telemetryDir,
      sessionsDir,
      prometheus: url('prometheus'),
      jaeger: url('jaeger'),
      outDir,
      versions: versions(),
      tool: { name: `${pkg.name} export`, version: pkg.version },
      knownSecrets: [...secretValues(local), ...secretValues(process.env)],
      signal: abort.signal,
      log: say,
      timeoutMs: Number(argv.timeout ?? 10_000),
    });
    const m = r.manifest;
    for (const s of r.summary)
      say(
        `${s.sessionId}: ${s.modelCalls.count} model call(s)${s.modelCalls.errors ? ` (${s.modelCalls.errors} API error(s), ${s.modelCalls.retries} retried)` : ''}, ${s.toolCalls.calls} tool call(s), ${s.tokens.total} tokens, $${s.costUsd.toFixed(4)}`,
      );
    for (const x of m.missing) say(`MISSING ${x.what}: ${x.why}`);
    const redacted = Object.entries(m.redactions);
    if (redacted.length) say(`secrets removed: ${redacted.map(([k, v]) => `${k} x${v}`).join(', ')}`);
    say(
      `${relative(process.cwd(), r.archive) || r.archive}: ${m.files.length} files in ${((Date.now() - started) / 1000).toFixed(1)} s${m.missing.length ? `, INCOMPLETE (${m.missing.length} missing)` : ''}; open report.html inside first`,
    );
  } catch (err) {
    if (abort.signal.aborted) fail(`${(abort.signal.reason as Error).message}: no archive written`, 130);
    fail((err as Error).message, err instanceof UnknownSessionError ? 2 : 1);
  }
}

await main();
