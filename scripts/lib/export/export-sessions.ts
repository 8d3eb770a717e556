// Builds a session archive of the sessions the caller chose (selection/), with a scrubber that knows every secret it
// can (phases/redact.ts), in named phases, each a stage-*.ts of phases/: filter the telemetry files, copy the
// session records, fetch the backends, summarize (the figures of analysis/, the page of report/); then pack
// (archive/). Everything is written to a staging folder beside the archive, described in the manifest, packed to
// `<name>.tar.gz.partial`, renamed, verified; the staging folder goes whatever happens, and an aborted or failed
// export leaves no archive.
// Sinks that do not answer make the archive smaller, never silent: the manifest's `missing` says what and why.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { SESSION_ID } from '../session/session-record.ts';
import { type Manifest, packArchive, verifyArchive } from './archive/archive.ts';
import type { FilterOptions } from './phases/otlp-filter.ts';
import { sessionScrubber } from './phases/redact.ts';
import { stageBackends } from './phases/stage-backends.ts';
import { stageRecords } from './phases/stage-records.ts';
import { type SessionSummary, stageSummary, summarizeSessions } from './phases/stage-summary.ts';
import { stageTelemetry } from './phases/stage-telemetry.ts';
import type { Staging } from './phases/staging.ts';
import { type Selection, UnknownSessionError } from './selection/choose-sessions.ts';

export interface ExportOptions {
  sessions: string[];
  /** How the sessions were chosen (choose-sessions.ts), recorded in the manifest. */
  selection?: Selection;
  telemetryDir: string;
  sessionsDir: string;
  /** Base URLs; null when the backend is not to be asked (it is then listed as missing). */
  prometheus: string | null;
  jaeger: string | null;
  outDir: string;
  /** Versions of the stack's components and of this tool. */
  versions: Record<string, string>;
  tool: { name: string; version: string };
  /** Secret values known to the exporter (the stack's own, the shell's): removed wherever they appear. */
  knownSecrets: string[];
  signal?: AbortSignal;
  log?: (line: string) => void;
  timeoutMs?: number;
  /** Chunk size and torn-line wait of the file filter (tests). */
  filter?: Omit<FilterOptions, 'buffers'>;
  /** The time the archive is named after (tests). */
  now?: Date;
}

export interface ExportResult {
  archive: string;
  manifest: Manifest;
  summary: SessionSummary[];
}

export function archiveName(sessions: string[], now: Date, selection?: Selection): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  // A user's sessions are named after the user (session-credential.ts's user-name rule).
  // A project's after the project (its rule: letters, digits, . _ - and /, which becomes _).
  if (selection?.project)
    return `claude-code-project-${selection.project.replaceAll('/', '_')}-sessions-${sessions.length}-${stamp}`;
  if (selection?.user) return `claude-code-user-${selection.user}-sessions-${sessions.length}-${stamp}`;
  return sessions.length === 1
    ? `claude-code-session-${sessions[0]}-${stamp}`
    : `claude-code-sessions-${sessions.length}-${stamp}`;
}

export async function exportSessions(o: ExportOptions): Promise<ExportResult> {
  const sessions = [...new Set(o.sessions)];
  if (!sessions.length) throw new UnknownSessionError('no session to export');
  // An id becomes a path (the record folder) and a name (the archive's): a session id (a UUID) or nothing.
  const notIds = sessions.filter((id) => !SESSION_ID.test(id));
  if (notIds.length)
    throw new UnknownSessionError(
      `not session ids (a UUID, as \`pnpm export list\` shows): ${notIds.map((id) => JSON.stringify(id.slice(0, 80))).join(', ')}`,
    );
  mkdirSync(o.outDir, { recursive: true });
  const dir = mkdtempSync(join(o.outDir, '.export-'));
  try {
    // Redact: every byte staged passes through this scrubber (secret shapes, known values, session hashes).
    const missing: Manifest['missing'] = [];
    const scrubber = sessionScrubber(o.sessionsDir, sessions, o.knownSecrets, missing);
    const st: Staging = {
      dir,
      scrub: scrubber.scrub,
      missing,
      recordCounts: new Map(),
      log: o.log ?? (() => {}),
      signal: o.signal,
    };
    // Filter the telemetry files, then copy the records (an id found nowhere is an error).
    const { records, telemetry } = await stageTelemetry(st, o.telemetryDir, new Set(sessions), o.filter);
    const metadata = stageRecords(st, o.sessionsDir, o.telemetryDir, sessions, records);
    // Fetch what the backends hold for each session, over the window its summary gives.
    const perSession = summarizeSessions(sessions, records, metadata);
    for (const { t, summary } of perSession) {
      o.signal?.throwIfAborted();
      await stageBackends(st, o, {
        id: t.sessionId,
        window: {
          start: Date.parse(summary.start ?? '') || Date.now(),
          end: Date.parse(summary.end ?? '') || Date.now(),
        },
        traceIds: [...new Set(t.spans.map((s) => s.traceId))],
        modelCalls: summary.modelCalls.count,
      });
    }
    // Summarize: summary, report, README, manifest.
    o.signal?.throwIfAborted();
    const now = o.now ?? new Date();
    const manifest = await stageSummary(st, {
      sessions,
      selection: o.selection,
      perSession,
      records,
      telemetry,
      versions: o.versions,
      tool: o.tool,
      createdAt: now.toISOString(),
      redactions: scrubber.counts,
    });
    // Pack, then verify what was written against the manifest.
    o.signal?.throwIfAborted();
    const name = archiveName(sessions, now, o.selection);
    const archive = join(o.outDir, `${name}.tar.gz`);
    await packArchive(dir, name, archive, o.signal);
    const problems = await verifyArchive(archive);
    if (problems.length) {
      rmSync(archive, { force: true });
      throw new Error(`the archive failed its own verification: ${problems.join('; ')}`);
    }
    return { archive, manifest, summary: perSession.map((p) => p.summary) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
