// The rotated OTLP JSONL files the collector writes (telemetry/{traces,metrics,logs}.jsonl and their backups):
// which files hold a signal, their export requests streamed line by line (a half-written last line is skipped,
// not an error), and one session's records in them. The export's fast byte-level filter (export/phases/otlp-filter.ts)
// takes its file list from here too.
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type ExportRequest, type Item, parseRequestLine, type Signal, stringAttr, walk } from './otlp.ts';

export type { Signal };

/** The current file and its rotated backups (lumberjack names them traces-<time>.jsonl), oldest first. */
export function signalFiles(dir: string, signal: Signal): string[] {
  if (!existsSync(dir)) return [];
  const backups = readdirSync(dir)
    .filter((f) => f.startsWith(`${signal}-`) && f.endsWith('.jsonl'))
    .sort();
  return [...backups, ...(existsSync(join(dir, `${signal}.jsonl`)) ? [`${signal}.jsonl`] : [])].map((f) =>
    join(dir, f),
  );
}

/**
 * Yields each complete OTLP JSON export request of a file; a torn last line (still being written) is skipped, and
 * a request glued to the partial one a full disk cut short is recovered (parseRequestLine).
 */
export async function* exportRequests(file: string): AsyncGenerator<ExportRequest> {
  const lines = createInterface({
    input: createReadStream(file, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
  for await (const line of lines) {
    if (!line.trim()) continue;
    const parsed = parseRequestLine(line);
    // nothing whole on the line: the collector is mid-write (only ever the last line)
    if (parsed) yield parsed.req;
  }
}

/** A record of one session in the files: a span, a log record (event) or a metric data point. */
export interface FileRecord {
  /** The span's name, the event's body (`claude_code.api_request`, ...), or the metric's name. */
  name: string;
  item: Item;
}

/** The records (spans, metric data points, log records) of one session in one signal's files. */
export async function sessionRecords(dir: string, signal: Signal, sessionId: string): Promise<FileRecord[]> {
  const out: FileRecord[] = [];
  for (const file of signalFiles(dir, signal)) {
    for await (const req of exportRequests(file)) {
      for (const v of walk(signal, req)) {
        if (stringAttr(v.item, 'session.id') !== sessionId) continue;
        const name =
          signal === 'traces'
            ? ((v.item as { name?: string }).name ?? '')
            : signal === 'logs'
              ? ((v.item as { body?: { stringValue?: string } }).body?.stringValue ?? '')
              : (v.metric?.name ?? '');
        out.push({ name, item: v.item });
      }
    }
  }
  return out;
}
