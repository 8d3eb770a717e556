// Export phase "filter files": the chosen sessions' spans, metric points and events, filtered out of the current
// and rotated telemetry files into otlp/<signal>.jsonl (scrubbed), with the flat records the summary is built from.
// Torn and corrupt lines, and absent files, go to `missing`.
// Raw API bodies (redact.ts) are redacted as the session's own prompts are, which is known only once all its
// events are read: the requests that hold one are written last in otlp/logs.jsonl, after the others.
import { once } from 'node:events';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SIGNALS, type Signal } from '../../sinks/otlp.ts';
import {
  type EventRecord,
  eventsOf,
  type PointRecord,
  pointsOf,
  type SpanRecord,
  spansOf,
} from '../../sinks/otlp-records.ts';
import { RAW_BODY_EVENTS, sessionContent } from '../analysis/session-content.ts';
import type { Manifest } from '../archive/archive.ts';
import { emptyStats, type FilterOptions, filterSignals } from './otlp-filter.ts';
import { redactRawBodies, redactRawBodyRecords } from './redact.ts';
import type { Staging } from './staging.ts';

export interface TelemetryRecords {
  events: EventRecord[];
  spans: SpanRecord[];
  points: PointRecord[];
}

export async function stageTelemetry(
  st: Staging,
  telemetryDir: string,
  sessions: Set<string>,
  filter?: Omit<FilterOptions, 'buffers'>,
): Promise<{ records: TelemetryRecords; telemetry: Manifest['telemetry'] }> {
  mkdirSync(join(st.dir, 'otlp'));
  const records: TelemetryRecords = { events: [], spans: [], points: [] };
  const telemetry: Manifest['telemetry'] = {};
  const outs = Object.fromEntries(
    SIGNALS.map((signal) => [signal, createWriteStream(join(st.dir, 'otlp', `${signal}.jsonl`))]),
  ) as Record<Signal, ReturnType<typeof createWriteStream>>;
  const write = async (signal: Signal, line: string) => {
    if (!outs[signal].write(st.scrub(line))) await once(outs[signal], 'drain');
    st.signal?.throwIfAborted();
  };
  /** Logs requests holding a raw API body: written once every session's content is known. */
  const withBodies: Record<string, unknown>[] = [];
  const allStats = await filterSignals(
    telemetryDir,
    [...SIGNALS],
    sessions,
    async (signal, line, req) => {
      if (signal === 'logs') {
        const events = eventsOf(req);
        records.events.push(...events);
        if (events.some((e) => RAW_BODY_EVENTS.includes(e.name))) {
          withBodies.push(req);
          return;
        }
      } else if (signal === 'traces') records.spans.push(...spansOf(req));
      else records.points.push(...pointsOf(req));
      await write(signal, line);
    },
    { abort: st.signal, ...filter },
  );
  if (withBodies.length) {
    const content = sessionContent(records.events, records.spans);
    redactRawBodyRecords(records.events, content);
    let redacted = 0;
    for (const req of withBodies) {
      redacted += redactRawBodies(req, content);
      await write('logs', `${JSON.stringify(req)}\n`);
    }
    st.log(
      `logs: raw API bodies in ${withBodies.length} request(s)${redacted ? `; ${redacted} redacted (their sessions did not log the prompts or content they hold)` : ''}`,
    );
  }
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
      duplicateRequests: stats.duplicateRequests,
    };
    st.log(
      `${signal}: ${stats.recordsKept} record(s) in ${stats.requestsKept} request(s), from ${stats.files.length} file(s), ${(stats.bytesRead / 1e6).toFixed(1)} MB read${stats.duplicateRequests ? `; ${stats.duplicateRequests} resent request(s) found twice, kept once` : ''}`,
    );
    if (!stats.files.length)
      st.missing.push({
        what: `${signal} telemetry files`,
        why: `none in ${telemetryDir} (${signal}.jsonl and its rotated backups)`,
      });
    if (stats.tornLastLines)
      st.missing.push({
        what: `${stats.tornLastLines} ${signal} line(s) being written`,
        why: 'a file ended in a half-written line (the collector was writing it): export again once the session has ended to include it',
      });
    if (stats.cutShortLines)
      st.missing.push({
        what: `${stats.cutShortLines} ${signal} request(s) cut short`,
        why: 'a write to the telemetry files failed part-way (a full disk): the part written is left out; the request after it on the same line is kept',
      });
    if (stats.corruptLines)
      st.missing.push({
        what: `${stats.corruptLines} ${signal} line(s) naming the session(s)`,
        why: 'not valid JSON in the telemetry files (corrupt on disk): left out',
      });
  }
  return { records, telemetry };
}
