// The export's core: stream a signal's telemetry files (rotated backups oldest first, then the current file) and
// keep, in each OTLP JSON export request, only the spans / metric points / log records of the chosen sessions,
// with their resource and scope.
//
// Speed: the files are read as raw bytes in large chunks and searched with Buffer.indexOf (a native substring
// search); only the lines that contain a chosen session id are decoded and parsed. Exporting one session out of
// gigabytes of other sessions' telemetry therefore costs little more than reading the files (`pnpm bench export`).
// With many sessions chosen, the search is for the `session.id` attribute instead, one pass whatever their number.
//
// Faults: a half-written last line (the collector mid-write) is counted as torn, not fatal; an unparsable line
// elsewhere that mentions a chosen session is counted as corrupt, so the manifest can say so.
//
// Duplicates: delivery is at-least-once (README, "Delivery"): a sender that got no answer sends the same request
// again, and the collector may have written the first one before it died. Each line is one request as received, so
// a resend is a byte-identical line: it is kept once and counted in `duplicateRequests`.
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { parseRequestLine, pruneRequest, type Signal, stringAttr } from '../../sinks/otlp.ts';
import { signalFiles } from '../../sinks/telemetry-files.ts';

export interface FilterStats {
  files: string[];
  bytesRead: number;
  requestsKept: number;
  recordsKept: number;
  tornLastLines: number;
  corruptLines: number;
  /** Lines identical to one already kept (a sender's resend): left out. */
  duplicateRequests: number;
  /** Requests a full disk cut short, recovered from after them on their line (the partial ones are lost). */
  cutShortLines: number;
}

type Req = Record<string, unknown>;

/** Keeps the items of `sessions` in one export request (with their resource and scope); null when none is left. */
export function filterRequest(
  signal: Signal,
  req: Req,
  sessions: Set<string>,
): { req: Req; records: number } | null {
  const kept = pruneRequest(signal, req, (item) => sessions.has(stringAttr(item, 'session.id') ?? ''));
  return kept && { req: kept.req as Req, records: kept.records };
}

const NEWLINE = 0x0a;
const QUOTE = 0x22;
/** How the collector's JSON marshaler writes a session.id attribute, up to the value's opening quote. */
const SESSION_ATTR = Buffer.from('"session.id","value":{"stringValue":"');
/** Up to this many sessions, search for each id; beyond, for the attribute (one pass whatever their number). */
const PER_ID_SEARCH_MAX = 8;
const CHUNK_BYTES = 4 << 20;
const TORN_POLL_MS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Finds the next line (start, end: its newline) in buf[from, end) that holds a chosen session, or null. */
type LineFinder = (buf: Buffer, from: number, end: number) => [number, number] | null;

function perIdFinder(ids: string[]): LineFinder {
  const needles = ids.map((id) => Buffer.from(id));
  return (buf, from, end) => {
    let hit = -1;
    for (const n of needles) {
      const at = buf.indexOf(n, from);
      if (at >= 0 && at < end && (hit < 0 || at < hit)) hit = at;
    }
    if (hit < 0) return null;
    return [buf.lastIndexOf(NEWLINE, hit) + 1, buf.indexOf(NEWLINE, hit)];
  };
}

function attributeFinder(sessions: Set<string>): LineFinder {
  return (buf, from, end) => {
    let at = from;
    for (;;) {
      const hit = buf.indexOf(SESSION_ATTR, at);
      if (hit < 0 || hit >= end) return null;
      const idStart = hit + SESSION_ATTR.length;
      const idEnd = buf.indexOf(QUOTE, idStart);
      if (idEnd < 0 || idEnd >= end) return null;
      if (sessions.has(buf.toString('utf8', idStart, idEnd)))
        return [buf.lastIndexOf(NEWLINE, hit) + 1, buf.indexOf(NEWLINE, hit)];
      at = idEnd + 1;
    }
  };
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Stats of nothing read yet. */
export const emptyStats = (files: string[] = []): FilterStats => ({
  files,
  bytesRead: 0,
  requestsKept: 0,
  recordsKept: 0,
  tornLastLines: 0,
  corruptLines: 0,
  duplicateRequests: 0,
  cutShortLines: 0,
});

export interface FilterOptions {
  chunkBytes?: number;
  /** How long to wait for a half-written last line to be completed (default 2000 ms). */
  tornWaitMs?: number;
  /** Read buffers to reuse (see readBuffers). */
  buffers?: [Buffer, Buffer];
}

/**
 * The two read buffers, reused from file to file: fresh ones would be page-faulted in by every read (a cost
 * comparable to the search itself), and chunks that fit the CPU cache are searched while still in it.
 */
export const readBuffers = (size = CHUNK_BYTES): [Buffer, Buffer] => [
  Buffer.allocUnsafe(size),
  Buffer.allocUnsafe(size),
];

type Write = (line: string, req: Record<string, unknown>) => void | Promise<void>;

/** Streams `signal`'s files in `dir`, calling `write` with each kept request, as one JSON line and as parsed. */
export async function filterSignal(
  dir: string,
  signal: Signal,
  sessions: Set<string>,
  write: Write,
  opts: FilterOptions = {},
): Promise<FilterStats> {
  const stats = emptyStats(signalFiles(dir, signal));
  const buffers = opts.buffers ?? readBuffers(opts.chunkBytes);
  const seen = new Set<string>();
  for (const file of stats.files) await filterFile(file, signal, sessions, write, opts, stats, buffers, seen);
  return stats;
}

/**
 * Every signal in turn, with one pair of read buffers. (Worker threads, one per signal or per file, were measured
 * slower on 2 cores: reading already runs on a second core, in libuv's thread pool, while this thread searches.)
 */
export async function filterSignals(
  dir: string,
  signals: Signal[],
  sessions: Set<string>,
  write: (signal: Signal, line: string, req: Record<string, unknown>) => void | Promise<void>,
  opts: FilterOptions & { abort?: AbortSignal } = {},
): Promise<Record<string, FilterStats>> {
  const buffers = opts.buffers ?? readBuffers(opts.chunkBytes);
  const out: Record<string, FilterStats> = {};
  for (const signal of signals) {
    opts.abort?.throwIfAborted();
    out[signal] = await filterSignal(dir, signal, sessions, (line, req) => write(signal, line, req), {
      ...opts,
      buffers,
    });
  }
  return out;
}

/** One file of `signal`: kept requests go to `write`, counts are added to `stats`. */
export async function filterFile(
  file: string,
  signal: Signal,
  sessions: Set<string>,
  write: Write,
  opts: FilterOptions,
  stats: FilterStats,
  buffers: [Buffer, Buffer] = readBuffers(opts.chunkBytes),
  /** Hashes of the lines kept so far (across a signal's files): a line seen before is a resend. */
  seen: Set<string> = new Set(),
): Promise<void> {
  if (!sessions.size) return;
  const ids = [...sessions];
  const find = sessions.size <= PER_ID_SEARCH_MAX ? perIdFinder(ids) : attributeFinder(sessions);

  /** Parses one line that mentions a chosen session; false when it is not JSON. */
  const take = async (line: string): Promise<boolean> => {
    const parsed = parseRequestLine(line, signal);
    if (!parsed) return false;
    if (parsed.cutShort) stats.cutShortLines++;
    const kept = filterRequest(signal, parsed.req as Req, sessions);
    if (kept) {
      const hash = createHash('sha256').update(parsed.text).digest('base64');
      if (seen.has(hash)) {
        stats.duplicateRequests++;
        return true;
      }
      seen.add(hash);
      stats.requestsKept++;
      stats.recordsKept += kept.records;
      await write(`${JSON.stringify(kept.req)}\n`, kept.req);
    }
    return true;
  };

  /** Takes every line in buf[from, end) (end just after a newline) that names a chosen session. */
  const scan = async (buf: Buffer, from: number, end: number) => {
    for (let at = from; ; ) {
      const line = find(buf, at, end);
      if (!line) return;
      if (!(await take(buf.toString('utf8', line[0], line[1])))) stats.corruptLines++;
      at = line[1] + 1;
    }
  };

  // Two buffers: the next chunk is read (in libuv's thread pool) while this one is searched.
  const tornWaitMs = opts.tornWaitMs ?? 2000;
  const fh = await open(file, 'r');
  let [front, back] = buffers;
  const size = front.length;
  let inflight = fh.read(front, 0, size, null);
  try {
    let pending: Buffer[] = []; // the line that runs over chunk ends, so far
    let waited = 0;
    for (;;) {
      const { bytesRead } = await inflight;
      const buffer = front;
      if (bytesRead === 0) {
        // End of file. What is left is a line without its newline: usually the collector is writing it (it
        // flushes every second), so wait a little for the rest; a line that parses is complete but for its
        // newline. Still cut short after the wait: counted as torn, whether or not the part written so far
        // names a chosen session (the rest of it may).
        if (pending.length) {
          const tail = Buffer.concat(pending).toString('utf8');
          if (!parses(tail) && waited < tornWaitMs) {
            await sleep(TORN_POLL_MS);
            waited += TORN_POLL_MS;
            inflight = fh.read(front, 0, size, null);
            continue;
          }
          if (ids.some((id) => tail.includes(id))) {
            if (!(await take(tail))) stats.tornLastLines++;
          } else if (!parses(tail)) stats.tornLastLines++;
        }
        break;
      }
      stats.bytesRead += bytesRead;
      [front, back] = [back, front];
      inflight = fh.read(front, 0, size, null);
      const chunk = buffer.subarray(0, bytesRead);
      const first = chunk.indexOf(NEWLINE);
      if (first < 0) {
        pending.push(Buffer.from(chunk)); // a line longer than a chunk
        continue;
      }
      // the line begun in earlier chunks (or the file's first line) ends here
      const head = pending.length
        ? Buffer.concat([...pending, chunk.subarray(0, first + 1)])
        : chunk.subarray(0, first + 1);
      pending = [];
      await scan(head, 0, head.length);
      const last = chunk.lastIndexOf(NEWLINE);
      await scan(chunk, first + 1, last + 1);
      if (last + 1 < bytesRead) pending.push(Buffer.from(chunk.subarray(last + 1)));
    }
  } finally {
    await inflight.catch(() => undefined);
    await fh.close();
  }
}
