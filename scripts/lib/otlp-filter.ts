// The export's core: stream a signal's telemetry files (rotated backups oldest first, then the current file) and
// keep, in each OTLP JSON export request, only the spans / metric points / log records of the chosen sessions,
// with their resource and scope. Lines that mention none of the session ids are skipped without parsing, so
// filtering costs little more than reading. A half-written last line (the collector mid-write) is counted, not
// fatal; an unparsable line elsewhere is counted as corrupt so the manifest can say so.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { type Signal, signalFiles } from './sinks.ts';

export interface FilterStats {
  files: string[];
  linesRead: number;
  requestsKept: number;
  recordsKept: number;
  tornLastLines: number;
  corruptLines: number;
}

type Attr = { key: string; value: { stringValue?: string } };
type Item = { attributes?: Attr[] };
type Req = Record<string, unknown>;

const sessionOf = (item: Item) => item.attributes?.find((a) => a.key === 'session.id')?.value.stringValue;

/** Keeps the items of `sessions` in one export request; null when none is left. */
export function filterRequest(
  signal: Signal,
  req: Req,
  sessions: Set<string>,
): { req: Req; records: number } | null {
  let records = 0;
  const keep = (items: Item[] | undefined) => {
    const kept = (items ?? []).filter((i) => sessions.has(sessionOf(i) ?? ''));
    records += kept.length;
    return kept;
  };
  const [resKey, scopeKey] =
    signal === 'traces'
      ? ['resourceSpans', 'scopeSpans']
      : signal === 'logs'
        ? ['resourceLogs', 'scopeLogs']
        : ['resourceMetrics', 'scopeMetrics'];
  const resources = ((req[resKey] as Record<string, unknown>[] | undefined) ?? [])
    .map((res) => {
      const scopes = ((res[scopeKey] as Record<string, unknown>[] | undefined) ?? [])
        .map((scope) => {
          if (signal === 'traces') {
            const spans = keep(scope.spans as Item[]);
            return spans.length ? { ...scope, spans } : null;
          }
          if (signal === 'logs') {
            const logRecords = keep(scope.logRecords as Item[]);
            return logRecords.length ? { ...scope, logRecords } : null;
          }
          const metrics = ((scope.metrics as Record<string, unknown>[] | undefined) ?? [])
            .map((metric) => {
              for (const kind of ['sum', 'gauge', 'histogram', 'exponentialHistogram', 'summary']) {
                const data = metric[kind] as { dataPoints?: Item[] } | undefined;
                if (!data) continue;
                const dataPoints = keep(data.dataPoints);
                return dataPoints.length ? { ...metric, [kind]: { ...data, dataPoints } } : null;
              }
              return null;
            })
            .filter(Boolean);
          return metrics.length ? { ...scope, metrics } : null;
        })
        .filter(Boolean);
      return scopes.length ? { ...res, [scopeKey]: scopes } : null;
    })
    .filter(Boolean);
  return resources.length ? { req: { [resKey]: resources }, records } : null;
}

/** Streams `signal`'s files in `dir`, calling `write` with each kept request as one JSON line. */
export async function filterSignal(
  dir: string,
  signal: Signal,
  sessions: Set<string>,
  write: (line: string) => void | Promise<void>,
): Promise<FilterStats> {
  const stats: FilterStats = {
    files: signalFiles(dir, signal),
    linesRead: 0,
    requestsKept: 0,
    recordsKept: 0,
    tornLastLines: 0,
    corruptLines: 0,
  };
  const ids = [...sessions];
  for (const file of stats.files) {
    const lines = createInterface({
      input: createReadStream(file, 'utf8'),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    let pendingBad = false; // a bad line is torn only if it turns out to be the file's last
    for await (const line of lines) {
      if (pendingBad) {
        stats.corruptLines++;
        pendingBad = false;
      }
      if (!line) continue;
      stats.linesRead++;
      if (!ids.some((id) => line.includes(id))) continue;
      let req: Req;
      try {
        req = JSON.parse(line) as Req;
      } catch {
        pendingBad = true;
        continue;
      }
      const kept = filterRequest(signal, req, sessions);
      if (!kept) continue;
      stats.requestsKept++;
      stats.recordsKept += kept.records;
      await write(`${JSON.stringify(kept.req)}\n`);
    }
    if (pendingBad) stats.tornLastLines++;
  }
  return stats;
}
