// The usage the API reports, read out of the response bytes as they pass (a tee: the bytes go to the client first,
// untouched; the parser only reads them). A streamed reply (text/event-stream) reports input and cache tokens in
// `message_start` and the final counts in `message_delta` (https://docs.anthropic.com/en/api/messages-streaming);
// a JSON reply in its `usage`. Bounded: only the data lines of those events are parsed, a line over MAX_LINE bytes
// is skipped, and a JSON body is kept only up to MAX_JSON (past that its usage is unknown, said so).

export interface Usage {
  model: string | null;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheCreationTokens: number;
  /** Whether the response carried a usage at all (an error body or a cut stream may not). */
  seen: boolean;
}

export interface UsageParser {
  push(chunk: Uint8Array): void;
  end(): Usage;
}

const MAX_LINE = 1024 * 1024;
const MAX_JSON = 8 * 1024 * 1024;

export const emptyUsage = (): Usage => ({
  model: null,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheCreationTokens: 0,
  seen: false,
});

const count = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;

/** Applies one `usage` object: fields present replace the earlier ones (message_delta's counts are cumulative). */
function apply(u: Usage, usage: unknown): void {
  if (typeof usage !== 'object' || usage === null) return;
  const o = usage as Record<string, unknown>;
  const set = (key: keyof Usage, v: unknown) => {
    const n = count(v);
    if (n !== undefined) (u as unknown as Record<string, number>)[key] = n;
  };
  set('inputTokens', o.input_tokens);
  set('outputTokens', o.output_tokens);
  set('cacheReadTokens', o.cache_read_input_tokens);
  set('cacheCreationTokens', o.cache_creation_input_tokens);
  u.seen = true;
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const EVENT = Buffer.from('event:');
const DATA = Buffer.from('data:');

/**
 * SSE: lines `event: X` and `data: {...}`; only message_start and message_delta data are decoded and parsed. Lines
 * are found in the bytes (Buffer.indexOf): the text deltas, nearly all of a stream, are never decoded.
 */
export function sseUsageParser(): UsageParser {
  const u = emptyUsage();
  let partial: Buffer[] = [];
  let partialLength = 0;
  let skipping = false;
  let event = '';
  const onLine = (line: Buffer) => {
    const end = line.length && line[line.length - 1] === 13 ? line.length - 1 : line.length;
    if (end === 0) event = '';
    else if (line.subarray(0, 6).equals(EVENT)) event = line.toString('latin1', 6, end).trim();
    else if ((event === 'message_start' || event === 'message_delta') && line.subarray(0, 5).equals(DATA)) {
      const data = parseObject(line.toString('utf8', 5, end));
      if (!data) return;
      if (data.type === 'message_start') {
        const message = data.message as Record<string, unknown> | undefined;
        if (typeof message?.model === 'string') u.model = message.model;
        apply(u, message?.usage);
      } else if (data.type === 'message_delta') apply(u, data.usage);
    }
  };
  return {
    push(chunk) {
      const b = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
      let start = 0;
      for (let nl = b.indexOf(10, start); nl !== -1; nl = b.indexOf(10, start)) {
        const piece = b.subarray(start, nl);
        start = nl + 1;
        if (!skipping) onLine(partialLength ? Buffer.concat([...partial, piece]) : piece);
        partial = [];
        partialLength = 0;
        skipping = false;
      }
      if (skipping || start === b.length) return;
      partialLength += b.length - start;
      if (partialLength > MAX_LINE) {
        partial = [];
        partialLength = 0;
        skipping = true;
      } else partial.push(Buffer.from(b.subarray(start)));
    },
    end() {
      if (!skipping && partialLength) onLine(Buffer.concat(partial));
      return u;
    },
  };
}

/** A JSON reply: its `model` and `usage`, read when the body ends. */
export function jsonUsageParser(): UsageParser {
  const chunks: Uint8Array[] = [];
  let size = 0;
  return {
    push(chunk) {
      size += chunk.length;
      if (size <= MAX_JSON) chunks.push(chunk);
    },
    end() {
      const u = emptyUsage();
      if (size > MAX_JSON) return u;
      const body = parseObject(Buffer.concat(chunks).toString('utf8'));
      if (typeof body?.model === 'string') u.model = body.model;
      if (body?.type === 'message') apply(u, body.usage);
      return u;
    },
  };
}

/** The parser for a response by its content type; none for anything else (an HTML error page, say). */
export function usageParserFor(contentType: string | undefined): UsageParser | null {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'text/event-stream') return sseUsageParser();
  if (type === 'application/json') return jsonUsageParser();
  return null;
}

export const totalTokens = (u: Usage) =>
  u.inputTokens + u.outputTokens + u.cacheReadTokens + u.cacheCreationTokens;
