// Builds a session archive. Everything is written to a staging folder beside the archive, described in the
// manifest, packed to `<name>.tar.gz.partial`, renamed, verified; the staging folder goes whatever happens, and an
// aborted or failed export leaves no archive. Sinks that do not answer make the archive smaller, never silent:
// the manifest's `missing` says what is absent and why.

import { once } from 'node:events';
import {
  createWriteStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import {
  readSecretHashes,
  readSessionRecord,
  recordPaths,
  type SecretHashes,
  SHAREABLE_FILES,
} from '../session/session-record.ts';
import type { JaegerTrace } from '../sinks/jaeger.ts';
import {
  type EventRecord,
  eventsOf,
  type PointRecord,
  pointsOf,
  type SpanRecord,
  spansOf,
} from '../sinks/otlp-records.ts';
import type { Signal } from '../sinks/telemetry-files.ts';
import { describeFiles, MANIFEST_FORMAT, type Manifest, packArchive, verifyArchive } from './archive.ts';
import { archiveReadme } from './archive-readme.ts';
import { fetchJaegerTraces, fetchPrometheusRanges } from './backend-fetch.ts';
import { emptyStats, type FilterOptions, filterSignals } from './otlp-filter.ts';
import { createScrubber } from './redact.ts';
import { renderReport } from './report-html.ts';
import { type SessionTelemetry, summarize, timeline, tokenSeries } from './summary.ts';

export interface ExportOptions {
  sessions: string[];
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
  summary: ReturnType<typeof summarize>[];
}

export class UnknownSessionError extends Error {}

const SIGNALS: Signal[] = ['traces', 'metrics', 'logs'];

export function archiveName(sessions: string[], now: Date): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return sessions.length === 1
    ? `claude-code-session-${sessions[0]}-${stamp}`
    : `claude-code-sessions-${sessions.length}-${stamp}`;
}

export async function exportSessions(o: ExportOptions): Promise<ExportResult> {
  const log = o.log ?? (() => {});
  const sessions = [...new Set(o.sessions)];
  if (!sessions.length) throw new UnknownSessionError('no session to export');
  const chosen = new Set(sessions);
  const missing: Manifest['missing'] = [];
  const abortCheck = () => o.signal?.throwIfAborted();

  mkdirSync(o.outDir, { recursive: true });
  const staging = mkdtempSync(join(o.outDir, '.export-'));
  try {
    // Secrets of each session's environment, known by salted hash (see redact.ts).
    const hashes: SecretHashes[] = [];
    for (const id of sessions) {
      try {
        const h = readSecretHashes(o.sessionsDir, id);
        if (h) hashes.push(h);
      } catch (err) {
        missing.push({
          what: `secret hashes of session ${id}`,
          why: `${(err as Error).message}: secrets of the session's environment were removed only by their shape`,
        });
      }
    }
    const scrubber = createScrubber({ values: o.knownSecrets, hashes });

    // 1. The sessions' telemetry, filtered out of the current and rotated files.
    mkdirSync(join(staging, 'otlp'));
    const records = { events: [] as EventRecord[], spans: [] as SpanRecord[], points: [] as PointRecord[] };
    const telemetry: Manifest['telemetry'] = {};
    const outs = Object.fromEntries(
      SIGNALS.map((signal) => [signal, createWriteStream(join(staging, 'otlp', `${signal}.jsonl`))]),
    ) as Record<Signal, ReturnType<typeof createWriteStream>>;
    const allStats = await filterSignals(
      o.telemetryDir,
      SIGNALS,
      chosen,
      async (signal, line, req) => {
        if (signal === 'logs') records.events.push(...eventsOf(req));
        else if (signal === 'traces') records.spans.push(...spansOf(req));
        else records.points.push(...pointsOf(req));
        if (!outs[signal].write(scrubber.scrub(line))) await once(outs[signal], 'drain');
        o.signal?.throwIfAborted();
      },
      { abort: o.signal, ...o.filter },
    );
    for (const out of Object.values(outs)) {
      out.end();
      await once(out, 'close');
    }
    for (const signal of SIGNALS) {
      const stats = allStats[signal] ?? emptyStats();
      telemetry[signal] = {
        filesRead: stats.files.length,
        bytesRead: stats.bytesRead,
        requests: stats.requestsKept,
        records: stats.recordsKept,
      };
      log(
        `${signal}: ${stats.recordsKept} record(s) in ${stats.requestsKept} request(s), from ${stats.files.length} file(s), ${(stats.bytesRead / 1e6).toFixed(1)} MB read`,
      );
      if (!stats.files.length)
        missing.push({
          what: `${signal} telemetry files`,
          why: `none in ${o.telemetryDir} (${signal}.jsonl and its rotated backups)`,
        });
      if (stats.tornLastLines)
        missing.push({
          what: `${stats.tornLastLines} ${signal} line(s) being written`,
          why: 'a file ended in a half-written line (the collector was writing it): export again once the session has ended to include it',
        });
      if (stats.corruptLines)
        missing.push({
          what: `${stats.corruptLines} ${signal} line(s) naming the session(s)`,
          why: 'not valid JSON in the telemetry files (corrupt on disk): left out',
        });
    }

    // 2. The session wrapper's records; an id found nowhere is an error, not an empty archive.
    const metadata = new Map(sessions.map((id) => [id, readSessionRecord(o.sessionsDir, id)]));
    const hasTelemetry = (id: string) =>
      records.events.some((e) => e.session === id) ||
      records.spans.some((s) => s.session === id) ||
      records.points.some((p) => p.session === id);
    const unknown = sessions.filter((id) => !metadata.get(id) && !hasTelemetry(id));
    if (unknown.length)
      throw new UnknownSessionError(
        `unknown session id${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}: not in the telemetry files (${o.telemetryDir}) nor in the session records (${o.sessionsDir}). ` +
          '`pnpm export list` shows the sessions known; ids are also the folder names in the sessions folder and the session_id label in Prometheus.',
      );
    for (const id of sessions) {
      const m = metadata.get(id);
      if (!m)
        missing.push({
          what: `session record of ${id}`,
          why: `no ${recordPaths(o.sessionsDir, id).metadata}: the session was not run through \`pnpm session\` (no session log)`,
        });
      else if (!m.telemetry.enabled)
        missing.push({ what: `telemetry of session ${id}`, why: 'the session ran with telemetry off' });
      else if (!hasTelemetry(id))
        missing.push({
          what: `telemetry of session ${id}`,
          why: `none in ${o.telemetryDir} (rotated away, or never received)`,
        });
      if (m?.status === 'running')
        missing.push({
          what: `the end of session ${id}`,
          why: 'the session was still running when it was exported',
        });
      for (const name of SHAREABLE_FILES) {
        const file = join(recordPaths(o.sessionsDir, id).dir, name);
        if (!existsSync(file)) continue;
        mkdirSync(join(staging, 'sessions', id), { recursive: true });
        writeFileSync(join(staging, 'sessions', id, name), scrubber.scrub(readFileSync(file, 'utf8')));
      }
    }

    // 3. Per session: the summary, its window, then what the backends hold for it.
    const recordCounts = new Map<string, number>([['summary.json', sessions.length]]);
    const perSession = sessions.map((id) => {
      const t: SessionTelemetry = {
        sessionId: id,
        events: records.events.filter((e) => e.session === id),
        spans: records.spans.filter((s) => s.session === id),
        points: records.points.filter((p) => p.session === id),
        metadata: metadata.get(id) ?? null,
      };
      return { t, summary: summarize(t) };
    });
    for (const { t, summary } of perSession) {
      abortCheck();
      const id = t.sessionId;
      const window = {
        start: Date.parse(summary.start ?? '') || Date.now(),
        end: Date.parse(summary.end ?? '') || Date.now(),
      };
      if (o.jaeger) {
        const traceIds = [...new Set(t.spans.map((s) => s.traceId))];
        try {
          const traces = await fetchJaegerTraces(o.jaeger, id, window, traceIds, o.timeoutMs, o.signal);
          writeJson(staging, `jaeger/${id}.json`, traces, scrubber.scrub);
          recordCounts.set(`jaeger/${id}.json`, spanCount(traces.data));
          log(`jaeger: ${traces.data.length} trace(s), ${spanCount(traces.data)} span(s) for ${id}`);
        } catch (err) {
          const partial = (err as { partial?: { data: JaegerTrace[] } }).partial;
          if (partial) {
            writeJson(staging, `jaeger/${id}.json`, partial, scrubber.scrub);
            recordCounts.set(`jaeger/${id}.json`, spanCount(partial.data));
          }
          missing.push({
            what: `Jaeger trace${partial ? 's (some)' : ''} of session ${id}`,
            why: (err as Error).message,
          });
          log(`jaeger: MISSING for ${id}: ${(err as Error).message}`);
        }
      } else
        missing.push({ what: `Jaeger trace of session ${id}`, why: 'Jaeger was not asked (--no-jaeger)' });
      if (o.prometheus) {
        try {
          const ranges = await fetchPrometheusRanges(o.prometheus, id, window, o.timeoutMs, o.signal);
          writeJson(staging, `prometheus/${id}.json`, ranges, scrubber.scrub);
          recordCounts.set(
            `prometheus/${id}.json`,
            Object.values(ranges.metrics).reduce((n, m) => n + m.result.length, 0),
          );
          log(
            `prometheus: ${Object.keys(ranges.metrics).length} metric(s) over ${ranges.window.start} .. ${ranges.window.end} for ${id}`,
          );
          if (!Object.keys(ranges.metrics).length && summary.modelCalls.count)
            missing.push({
              what: `Prometheus series of session ${id}`,
              why: 'Prometheus holds none (retention, or scraped before the session ended)',
            });
        } catch (err) {
          missing.push({ what: `Prometheus metrics of session ${id}`, why: (err as Error).message });
          log(`prometheus: MISSING for ${id}: ${(err as Error).message}`);
        }
      } else
        missing.push({
          what: `Prometheus metrics of session ${id}`,
          why: 'Prometheus was not asked (--no-prometheus)',
        });
    }

    // 4. Summary, report, README, manifest; then pack and verify.
    abortCheck();
    const createdAt = (o.now ?? new Date()).toISOString();
    const content = contentFlags(records.events, records.spans);
    const versions = { ...o.versions, ...componentVersions(records.events, records.spans) };
    const summaries = perSession.map((p) => p.summary);
    writeJson(
      staging,
      'summary.json',
      { formatVersion: MANIFEST_FORMAT, sessions: summaries },
      scrubber.scrub,
    );
    const title =
      sessions.length === 1
        ? `Claude Code session ${sessions[0]}`
        : `Claude Code sessions (${sessions.length})`;
    writeFileSync(
      join(staging, 'report.html'),
      scrubber.scrub(
        renderReport({
          title,
          createdAt,
          sessions: perSession.map((p) => ({
            summary: p.summary,
            series: tokenSeries(p.t),
            timeline: timeline(p.t),
          })),
          missing,
          content,
          versions,
          redactions: scrubber.counts,
        }),
      ),
    );
    writeFileSync(join(staging, 'README.md'), archiveReadme(sessions, missing.length > 0));
    const starts = summaries
      .map((s) => s.start)
      .filter((x): x is string => Boolean(x))
      .sort();
    const ends = summaries
      .map((s) => s.end)
      .filter((x): x is string => Boolean(x))
      .sort();
    const manifest: Manifest = {
      formatVersion: MANIFEST_FORMAT,
      createdAt,
      tool: o.tool,
      sessions,
      timeRange: { start: starts[0] ?? null, end: ends.at(-1) ?? null },
      versions,
      missing,
      content,
      redactions: { ...scrubber.counts },
      telemetry,
      // records: lines of .jsonl files; spans of a Jaeger file, series of a Prometheus file, sessions of the summary
      files: (await describeFiles(staging)).map((f) => ({
        ...f,
        records: recordCounts.get(f.path) ?? f.records,
      })),
    };
    writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    abortCheck();
    const name = archiveName(sessions, o.now ?? new Date());
    const archive = join(o.outDir, `${name}.tar.gz`);
    await packArchive(staging, name, archive, o.signal);
    const problems = await verifyArchive(archive);
    if (problems.length) {
      rmSync(archive, { force: true });
      throw new Error(`the archive failed its own verification: ${problems.join('; ')}`);
    }
    return { archive, manifest, summary: summaries };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

function writeJson(dir: string, path: string, value: unknown, scrub: (s: string) => string): void {
  const file = join(dir, path);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${scrub(JSON.stringify(value, null, 1))}\n`);
}

const spanCount = (traces: JaegerTrace[]) => traces.reduce((n, t) => n + t.spans.length, 0);

const REDACTED = '<REDACTED>';

/** What content the telemetry carried un-redacted (Claude Code's OTEL_LOG_* switches), and where it was seen. */
export function contentFlags(events: EventRecord[], spans: SpanRecord[]): Manifest['content'] {
  const evidence: string[] = [];
  const seen = (flag: boolean, what: string) => {
    if (flag) evidence.push(what);
    return flag;
  };
  const has = (name: string, attr: string) =>
    events.some((e) => e.name === name && e.attrs[attr] !== undefined && e.attrs[attr] !== REDACTED);
  return {
    userPrompts: seen(has('user_prompt', 'prompt'), 'user_prompt events carry `prompt`'),
    assistantResponses: seen(
      has('assistant_response', 'response'),
      'assistant_response events carry `response`',
    ),
    toolDetails: seen(
      has('tool_result', 'tool_parameters') ||
        has('tool_result', 'tool_input') ||
        has('tool_decision', 'tool_parameters'),
      'tool_result events carry `tool_parameters`/`tool_input`',
    ),
    toolContent: seen(
      spans.some((s) => s.events.some((e) => e.name === 'tool.output')),
      'claude_code.tool spans carry `tool.output` events',
    ),
    apiBodies: seen(
      events.some((e) => e.name === 'api_request_body' || e.name === 'api_response_body'),
      'api_request_body/api_response_body events',
    ),
    evidence,
  };
}

/** Versions the telemetry itself reports: Claude Code's and each MCP server's service.version. */
function componentVersions(events: EventRecord[], spans: SpanRecord[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of events) {
    const v = e.resource['service.version'];
    if (e.service && v) out[e.service] = String(v);
  }
  for (const s of spans)
    if (s.service && !out[s.service] && s.serviceVersion) out[s.service] = s.serviceVersion;
  return out;
}
