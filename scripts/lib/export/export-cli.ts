// The `pnpm export` command (scripts/export.ts starts it): session archives (.tar.gz) with the session's telemetry from the files, its traces from Jaeger,
// its metrics from Prometheus, its logs, a summary, a visual report and a manifest with every checksum.
//   pnpm export [--session ID ... | --all | --user NAME | --project NAME] [--since DURATION] [--out DIR] [--to S3URL]
//   pnpm export list [--from S3URL]
//   pnpm export verify ARCHIVE|S3URL
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
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
import { archiveName, exportSessions } from './export-sessions.ts';
import {
  checkProjectName,
  checkUserName,
  chooseSessions,
  type Selection,
  UnknownSessionError,
} from './selection/choose-sessions.ts';
import { indexSessions, type KnownSession, parseDuration } from './selection/session-index.ts';
import type { S3Options } from './upload/s3-store.ts';
import {
  BUCKET_RULE,
  isS3Url,
  KEY_RULE,
  parseS3Object,
  parseS3Prefix,
  type S3Location,
  type S3Settings,
  S3TargetError,
  s3Settings,
  s3Url,
  withoutKeys,
} from './upload/s3-target.ts';

const HELP = `Usage:
  pnpm export [--session ID ... | --all | --user NAME | --project NAME] [--since DURATION] [--out DIR]
              [--to s3://BUCKET/PREFIX]
                              one archive of the chosen sessions (and its upload to S3)
  pnpm export list [--json]   the sessions known, with their user, oldest first
  pnpm export list --from s3://BUCKET/PREFIX [--json]
                              the archives in S3 under PREFIX (key, size, time), oldest first
  pnpm export verify ARCHIVE  check an archive against its manifest
  pnpm export verify s3://BUCKET/KEY
                              download it to a temporary file (every byte hashed) and check it the same way

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
  --timeout MS      per request to Jaeger/Prometheus (default 10000); for S3, the time a connection may take
                    to open and a transfer may stay silent (an upload takes as long as its bytes keep moving)
  --to s3://BUCKET/PREFIX
                    after the archive is made and verified here, upload it to BUCKET as PREFIX/<archive name>
                    (the bucket is created when missing). Nothing is overwritten: an existing key is refused,
                    and the upload itself carries If-None-Match: *. The upload carries the archive's sha256 for the
                    server to check, and is then read back (HEAD, and a GET hashing every byte) and compared. The
                    archive stays in --out too. One upload takes up to 5 GiB (no multipart).
  --dry-run         list the sessions that would be exported (and where they would be uploaded), write nothing

S3 (--to, --from, verify s3://): path-style requests to S3_ENDPOINT (http(s)://HOST[:PORT]; default: the
scaled stack's s3-gateway, http://127.0.0.1:$S3_GATEWAY_PORT (7070), when stack/.env.local has its keys), with
S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY (the environment's, else stack/.env.local's; both from one place) in
region S3_REGION (us-east-1). No key is ever printed.
Bucket: ${BUCKET_RULE}.
Prefix/key: ${KEY_RULE}.

Where things are: stack/.env.local (written by pnpm stack:setup) gives TELEMETRY_DIR and SESSIONS_DIR;
Prometheus and Jaeger are asked on 127.0.0.1:$PROMETHEUS_PORT (9090) and :$JAEGER_UI_PORT (16686), or at
--prometheus URL / --jaeger URL. --telemetry-dir and --sessions-dir override the folders.
Exit status: 0 done, 1 failed (nothing written; after a failed upload the archive is kept in --out), 2 bad arguments
(an S3 URL or setting included), unknown session, user or project.`;

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
        to: { type: 'string' },
        from: { type: 'string' },
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
  // A malformed name is refused before the (possibly long) indexing: chooseSessions checks again, same rule.
  try {
    if (user !== undefined) checkUserName(user);
    if (project !== undefined) checkProjectName(project);
  } catch (err) {
    fail((err as Error).message, 2);
  }
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

/** The S3 settings (environment, then stack/.env.local), or exit 2 saying which is missing (never a key). */
function settingsOrExit(): S3Settings {
  try {
    return s3Settings(process.env, local, relative(repoRoot, envFiles.local));
  } catch (err) {
    return fail((err as Error).message, 2);
  }
}

/** An s3:// URL parsed, or exit 2 saying what is wrong with it. */
function s3Location(parse: (url: string) => S3Location, url: string, flag: string): S3Location {
  try {
    return parse(url);
  } catch (err) {
    return fail(`${flag}: ${(err as Error).message}`, 2);
  }
}

/** Aborted on any signal (a repeated Ctrl-C too), for the commands that clean up after themselves. */
function interruptible(): AbortController {
  const abort = new AbortController();
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.on(sig, () => abort.abort(new Error(`interrupted by ${sig}`)));
  return abort;
}

/** An S3 operation's failure: its message without the keys; exit 1 (2 for a URL or setting). */
function s3Fail(err: unknown, settings: S3Settings, abort?: AbortController, after = ''): never {
  if (abort?.signal.aborted) return fail(`${(abort.signal.reason as Error).message}${after}`, 130);
  const message = withoutKeys((err as Error).message ?? String(err), settings);
  return fail(`${message}${after}`, err instanceof S3TargetError ? 2 : 1);
}

/** The S3 client side, imported when used: with the SDK's streams it would slow every export's start. */
const store = () => import('./upload/s3-store.ts');

function s3Options(settings: S3Settings, signal?: AbortSignal): S3Options {
  const timeoutMs = Number(argv.timeout ?? 10_000);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1)
    fail(`--timeout takes milliseconds (a whole number above 0), not ${JSON.stringify(argv.timeout)}`, 2);
  return { settings, timeoutMs, signal, log: say };
}

async function listS3(url: string): Promise<void> {
  const from = s3Location(parseS3Prefix, url, '--from');
  const settings = settingsOrExit();
  const { listArchives } = await store();
  const listed = await listArchives(from, s3Options(settings)).catch((err) => s3Fail(err, settings));
  if (argv.json) {
    console.log(JSON.stringify({ endpoint: settings.endpoint, ...listed }, null, 2));
    return;
  }
  const others = listed.others ? ` (${listed.others} other object(s) there, not archives)` : '';
  if (!listed.archives.length) {
    say(`no archives under ${s3Url(from)} at ${settings.endpoint}${others}`);
    return;
  }
  const width = Math.max(7, ...listed.archives.map((a) => a.url.length));
  console.log(`${'archive'.padEnd(width)}  ${'bytes'.padStart(12)}  last modified (UTC)`);
  for (const a of listed.archives)
    console.log(
      `${a.url.padEnd(width)}  ${String(a.bytes).padStart(12)}  ${a.lastModified?.slice(0, 19).replace('T', ' ') ?? '?'}`,
    );
  say(`${listed.archives.length} archive(s) under ${s3Url(from)} at ${settings.endpoint}${others}`);
}

async function verifyS3(url: string): Promise<void> {
  const at = s3Location(parseS3Object, url, 'verify');
  const settings = settingsOrExit();
  const abort = interruptible();
  const { downloadArchive } = await store();
  const dir = mkdtempSync(join(tmpdir(), 'export-verify-'));
  try {
    const file = join(dir, basename(at.key));
    const got = await downloadArchive(at, file, s3Options(settings, abort.signal)).catch((err) =>
      s3Fail(err, settings, abort),
    );
    const problems = await verifyArchive(file);
    if (problems.length) {
      for (const p of problems) console.error(`export: verify: ${p}`);
      fail(`${url} does not match its manifest (${problems.length} difference(s))`);
    }
    say(
      `${url}: every file matches the manifest (${got.bytes} bytes downloaded from ${settings.endpoint}, sha256 ${got.sha256}${got.metaChecked ? ', the one stored at upload' : ''})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  if (argv.to !== undefined && verb !== undefined) fail(`--to goes with an export, not with ${verb}`, 2);
  if (argv.from !== undefined && verb !== 'list')
    fail('--from goes with list: pnpm export list --from s3://BUCKET/PREFIX', 2);
  if (verb === 'list') {
    if (argv.from !== undefined) return listS3(String(argv.from));
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
    if (!archive) fail('verify needs the archive: pnpm export verify ARCHIVE (or s3://BUCKET/KEY)', 2);
    if (isS3Url(String(archive))) return verifyS3(String(archive));
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

  // Cheap checks first: a mistyped URL, a missing key or name costs no indexing and no export.
  const to = argv.to === undefined ? undefined : s3Location(parseS3Prefix, String(argv.to), '--to');
  const settings = to ? settingsOrExit() : undefined;
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
    if (to && settings) {
      const { PUT_MAX_BYTES } = await store();
      say(
        `would upload it as ${s3Url(to)}${archiveName(sessions, new Date(), selection)}.tar.gz (named at the time of the export) to ${settings.endpoint} (endpoint: ${settings.endpointFrom}; keys from ${settings.keysFrom}; at most ${PUT_MAX_BYTES / 1024 ** 3} GiB)`,
      );
    }
    if (known.length) {
      console.log(HEADER);
      for (const s of known) console.log(fmtSession(s));
    }
    return;
  }
  const urls = hostUrls();
  const url = (flag: 'prometheus' | 'jaeger') =>
    argv[flag] === false ? null : argv[flag] ? String(argv[flag]).replace(/\/$/, '') : urls[flag];
  // Every signal aborts: the export then removes what it staged and exits 130.
  const abort = interruptible();
  // The service, the keys and the bucket are checked before the export, which can take a while.
  if (to && settings)
    await (await store())
      .checkS3(to, s3Options(settings, abort.signal))
      .catch((err) => s3Fail(err, settings, abort, ': no archive written'));
  const started = Date.now();
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  let archive: string | undefined;
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
    archive = r.archive;
  } catch (err) {
    if (abort.signal.aborted) fail(`${(abort.signal.reason as Error).message}: no archive written`, 130);
    fail((err as Error).message, err instanceof UnknownSessionError ? 2 : 1);
  }
  if (to && settings && archive) {
    const { uploadArchive, S3ObjectExistsError } = await store();
    const kept = `; the archive is kept at ${relative(process.cwd(), archive) || archive}`;
    const u = await uploadArchive(archive, to, s3Options(settings, abort.signal)).catch((err) =>
      s3Fail(err, settings, abort, err instanceof S3ObjectExistsError ? kept : `${kept}, not uploaded`),
    );
    say(
      `uploaded ${u.url} to ${u.endpoint}: ${u.bytes} bytes, sha256 ${u.sha256} (${u.serverChecked ? 'checked by the server on the way in, ' : ''}read back whole and equal) in ${(u.ms / 1000).toFixed(1)} s`,
    );
  }
}

await main();
