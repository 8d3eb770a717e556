// The rotated OTLP JSONL files the collectors write (telemetry/{traces,metrics,logs}.jsonl and their backups; in the
// scaled topology each gateway collector its own set, in telemetry/gateway-N/): which files hold a signal, their
// export requests streamed line by line (a half-written last line is skipped, not an error), and one session's
// records in them. The export's fast byte-level filter (export/phases/otlp-filter.ts), the export's session index,
// stack:check and the specs take their file lists from here: this is the one place that knows where the files are.
import { createReadStream, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type ExportRequest, type Item, parseRequestLine, type Signal, stringAttr, walk } from './otlp.ts';

export type { Signal };

/** A scaled topology's gateway collector's own folder under the telemetry folder (stack/compose.scaled.yaml). */
const GATEWAY_DIR = /^gateway-\d+$/;

/** The folders that hold telemetry files: the telemetry folder itself, then each gateway's (gateway-1, -2, ...). */
export function telemetryFileDirs(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const gateways = readdirSync(dir)
    .filter((f) => GATEWAY_DIR.test(f) && statSync(join(dir, f)).isDirectory())
    .sort((a, b) => Number(a.slice(8)) - Number(b.slice(8)));
  return [dir, ...gateways.map((g) => join(dir, g))];
}

/**
 * A signal's files: in each folder of telemetryFileDirs, the rotated backups (named traces-<time>.jsonl), oldest
 * first, then the current file. The agents route each record to one gateway.
 */
export function signalFiles(dir: string, signal: Signal): string[] {
  return telemetryFileDirs(dir).flatMap((d) => {
    const backups = readdirSync(d)
      .filter((f) => f.startsWith(`${signal}-`) && f.endsWith('.jsonl'))
      .sort();
    return [...backups, ...(existsSync(join(d, `${signal}.jsonl`)) ? [`${signal}.jsonl`] : [])].map((f) =>
      join(d, f),
    );
  });
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
