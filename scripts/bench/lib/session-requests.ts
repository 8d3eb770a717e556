// The exported session's requests for `pnpm bench export`, made to differ as a real session's do. A session sends
// many export requests, each with its own timestamps and span ids; copies of one recorded request that are
// byte-identical are what a resend looks like, and `pnpm export` rightly keeps such a line once (otlp-filter.ts).
// So copy N of the recorded request is shifted N minutes later (every *UnixNano field and `event.timestamp`) and
// gets span, trace and prompt ids of its own (the same mapping for a span and its parent, so the tree holds).
// `requestKey` names a request by its timestamps and span ids: what the bench's check compares, whatever the
// export's redaction does to attribute values.

const SHIFT_NS = 60n * 1_000_000_000n;
const HEX_IDS = new Set(['traceId', 'spanId', 'parentSpanId']);
const UUID_ATTRS = new Set(['prompt.id']);
const NANO = /UnixNano$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** `hex` with its last 8 digits XORed with a mix of `copy` (copy 0: unchanged; distinct copies: distinct ids). */
export function varyHex(hex: string, copy: number): string {
  if (copy === 0 || hex.length < 8) return hex;
  const mix = Math.imul(copy, 0x9e3779b1) >>> 0 || 1;
  const tail = (Number.parseInt(hex.slice(-8), 16) ^ mix) >>> 0;
  return `${hex.slice(0, -8)}${tail.toString(16).padStart(8, '0')}`;
}

function vary(node: Json, copy: number, key = ''): Json {
  if (Array.isArray(node)) return node.map((x) => vary(x, copy));
  if (node === null || typeof node !== 'object') {
    if (typeof node !== 'string') return node;
    if (NANO.test(key) && /^\d+$/.test(node)) return String(BigInt(node) + SHIFT_NS * BigInt(copy));
    if (HEX_IDS.has(key) && /^[0-9a-f]+$/i.test(node)) return varyHex(node, copy);
    return node;
  }
  // an attribute: {key, value: {stringValue}}
  const attr = typeof node.key === 'string' ? node.key : undefined;
  const value = node.value as { stringValue?: unknown } | undefined;
  if (attr && value && typeof value === 'object' && typeof value.stringValue === 'string') {
    const s = value.stringValue;
    if (attr === 'event.timestamp' && !Number.isNaN(Date.parse(s)))
      return { ...node, value: { stringValue: new Date(Date.parse(s) + copy * 60_000).toISOString() } };
    if (UUID_ATTRS.has(attr) && UUID.test(s)) return { ...node, value: { stringValue: varyHex(s, copy) } };
  }
  return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, vary(v, copy, k)]));
}

/** Copy `copy` (0, 1, ...) of one recorded export request line: copy 0 is the line as recorded. */
export function sessionRequest(line: string, copy: number): string {
  if (!Number.isInteger(copy) || copy < 0) throw new Error(`copy must be a whole number >= 0, got ${copy}`);
  return copy === 0 ? line : JSON.stringify(vary(JSON.parse(line) as Json, copy));
}

/** A request's identity: its timestamps and span ids, sorted (attribute values play no part). */
export function requestKey(line: string): string {
  const parts: string[] = [];
  const walk = (node: unknown, key: string) => {
    if (Array.isArray(node)) for (const x of node) walk(x, key);
    else if (node && typeof node === 'object')
      for (const [k, v] of Object.entries(node as Record<string, unknown>)) walk(v, k);
    else if (typeof node === 'string' && (NANO.test(key) || key === 'spanId')) parts.push(`${key}=${node}`);
  };
  walk(JSON.parse(line), '');
  return parts.sort().join(',');
}

/** The requests `expected` holds that `got` does not, and how many of `got` are not expected (as counts). */
export function compareRequests(
  expected: string[],
  got: string[],
): { missing: number; unexpected: number; repeated: number } {
  const want = new Map<string, number>();
  for (const line of expected) {
    const k = requestKey(line);
    want.set(k, (want.get(k) ?? 0) + 1);
  }
  const seen = new Map<string, number>();
  for (const line of got) {
    const k = requestKey(line);
    seen.set(k, (seen.get(k) ?? 0) + 1);
  }
  let missing = 0;
  let unexpected = 0;
  let repeated = 0;
  for (const [k, n] of want) missing += Math.max(0, n - (seen.get(k) ?? 0));
  for (const [k, n] of seen) {
    const w = want.get(k) ?? 0;
    if (!w) unexpected += n;
    else if (n > w) repeated += n - w;
  }
  return { missing, unexpected, repeated };
}
