// Export phase "summarize": summary.json, the self-contained report.html, the archive's README, and the manifest
// (format, sessions and how they were chosen, time range, versions, what is missing, what content and how many
// secrets were removed, each session's observed and reported usage, every file with size, sha256 and records). Everything written passes through the scrubber.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_FILES, type SessionMetadata } from '../../session/session-record.ts';
import type { EventRecord, SpanRecord } from '../../sinks/otlp-records.ts';
import {
  RAW_BODY_EVENTS,
  REDACTED,
  type SessionContent,
  sessionContent,
} from '../analysis/session-content.ts';
import { type SessionTelemetry, summarize, timeline, tokenSeries } from '../analysis/summary.ts';
import { conversationOf, type Turn } from '../analysis/transcript.ts';
import { describeFiles, MANIFEST_FORMAT, type Manifest } from '../archive/archive.ts';
import { archiveReadme } from '../archive/archive-readme.ts';
import { renderReport } from '../report/report-html.ts';
import type { Selection } from '../selection/choose-sessions.ts';
import type { TelemetryRecords } from './stage-telemetry.ts';
import { type Staging, writeJson } from './staging.ts';

export type SessionSummary = ReturnType<typeof summarize>;

/** Each session's telemetry and summary. */
export function summarizeSessions(
  sessions: string[],
  records: TelemetryRecords,
  metadata: Map<string, SessionMetadata | null>,
): { t: SessionTelemetry; summary: SessionSummary }[] {
  return sessions.map((id) => {
    const t: SessionTelemetry = {
      sessionId: id,
      events: records.events.filter((e) => e.session === id),
      spans: records.spans.filter((s) => s.session === id),
      points: records.points.filter((p) => p.session === id),
      metadata: metadata.get(id) ?? null,
    };
    return { t, summary: summarize(t) };
  });
}

export async function stageSummary(
  st: Staging,
  o: {
    sessions: string[];
    selection?: Selection;
    perSession: { t: SessionTelemetry; summary: SessionSummary }[];
    records: TelemetryRecords;
    telemetry: Manifest['telemetry'];
    versions: Record<string, string>;
    tool: { name: string; version: string };
    createdAt: string;
    redactions: Record<string, number>;
  },
): Promise<Manifest> {
  const { sessions, perSession } = o;
  const content = contentFlags(o.records.events, o.records.spans);
  const versions = { ...o.versions, ...componentVersions(o.records.events, o.records.spans) };
  const summaries = perSession.map((p) => p.summary);
  writeJson(st, 'summary.json', { formatVersion: MANIFEST_FORMAT, sessions: summaries });
  st.recordCounts.set('summary.json', sessions.length);
  const title =
    sessions.length === 1
      ? `Claude Code session ${sessions[0]}`
      : `Claude Code sessions (${sessions.length})`;
  writeFileSync(
    join(st.dir, 'report.html'),
    st.scrub(
      renderReport({
        title,
        createdAt: o.createdAt,
        sessions: perSession.map((p) => ({
          summary: p.summary,
          series: tokenSeries(p.t),
          timeline: timeline(p.t),
          conversation: stagedConversation(st, p.summary.sessionId),
          record: p.t.metadata,
        })),
        missing: st.missing,
        content,
        versions,
        redactions: o.redactions,
      }),
    ),
  );
  writeFileSync(
    join(st.dir, 'README.md'),
    st.scrub(archiveReadme(sessions, st.missing.length > 0, o.selection)),
  );
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
    createdAt: o.createdAt,
    tool: o.tool,
    sessions,
    ...(o.selection ? { selection: o.selection } : {}),
    timeRange: { start: starts[0] ?? null, end: ends.at(-1) ?? null },
    versions,
    missing: st.missing,
    content,
    redactions: { ...o.redactions },
    usage: Object.fromEntries(summaries.map((s) => [s.sessionId, s.usage])),
    telemetry: o.telemetry,
    // records: lines of .jsonl files; spans of a Jaeger file, series of a Prometheus file, sessions of the summary
    files: (await describeFiles(st.dir)).map((f) => ({
      ...f,
      records: st.recordCounts.get(f.path) ?? f.records,
    })),
  };
  writeFileSync(join(st.dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

/** What content the telemetry carried un-redacted (Claude Code's OTEL_LOG_* switches), and where it was seen. */
export function contentFlags(events: EventRecord[], spans: SpanRecord[]): Manifest['content'] {
  const evidence: string[] = [];
  const seen = (flag: boolean, what: string) => {
    if (flag) evidence.push(what);
    return flag;
  };
  const sessions = [...sessionContent(events, spans).values()];
  const shown = (kind: keyof SessionContent) => sessions.some((c) => c[kind] === 'shown');
  return {
    userPrompts: seen(shown('prompts'), 'user_prompt events carry `prompt`'),
    assistantResponses: seen(shown('responses'), 'assistant_response events carry `response`'),
    toolDetails: seen(shown('toolDetails'), 'tool_result events carry `tool_parameters`/`tool_input`'),
    toolContent: seen(shown('toolOutput'), 'claude_code.tool spans carry `tool.output` events'),
    // after the export's own redaction (stage-telemetry): only bodies kept as sent
    apiBodies: seen(
      events.some(
        (e) => RAW_BODY_EVENTS.includes(e.name) && e.attrs.body !== undefined && e.attrs.body !== REDACTED,
      ),
      'api_request_body/api_response_body events carry `body`',
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

/** The conversation from the session's staged (already scrubbed) transcript, if its record had one. */
function stagedConversation(st: Staging, id: string): Turn[] | undefined {
  const file = join(st.dir, 'sessions', id, RECORD_FILES.transcript);
  return existsSync(file) ? conversationOf(readFileSync(file, 'utf8')) : undefined;
}
