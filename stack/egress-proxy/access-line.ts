// One line of the egress proxy's access log (squid.conf's `egress` logformat, ACCESS_LOGFORMAT below) and the
// event it becomes. The format is built so that no byte a client controls (its proxy user name, its URL, its
// method) can move a field boundary or start a line: every such field is written with Squid's `%#` encoding
// (RFC 1738 percent-encoding of `%`, space, controls, non-ASCII and the URL-unsafe characters), so a field is a run
// of printable ASCII without spaces, fields are separated by exactly one space, and a line has exactly FIELDS
// fields. The parser reads exactly that and nothing else: anything that is not is reported, never guessed at.
// Who made the attempt comes from the auth helper's verified note (auth-answer.ts: `cct_verified=USER/SESSION`),
// never from the claimed proxy user name, which is only kept (escaped) to say who an unauthenticated attempt
// pretended to be.
import { isIP } from 'node:net';
import { CREDENTIAL_SESSION_ID, isUserName } from '../../mcp-servers/common/src/session-credential.ts';
import { excerpt, percentBytes } from './byte-lines.ts';

/** The logformat of squid.conf (a test checks squid.conf carries exactly this). */
export const ACCESS_LOGFORMAT =
  'logformat egress egress1 %ts.%03tu %>a %#rm %>Hs %#Ss %#<a %#ul %#{cct_verified}note %#ru';
const FIELDS = 10;

export interface EgressAttempt {
  timeMs: number;
  /** Verified by the auth helper (from the session credential), or null. */
  user: string | null;
  sessionId: string | null;
  authenticated: boolean;
  /** The proxy user name the client sent, escaped and bounded (only for the record; never trusted). */
  claimedUser: string | null;
  client: string;
  method: string;
  /** The URL, or host:port for CONNECT (printable, bounded). */
  target: string;
  host: string;
  status: number;
  squidStatus: string;
  /**
   * denied: refused by the rules (or for want of credentials); invalid: a request Squid could not read (its URL
   * is then `error:...`); aborted: the client left before any answer; allowed: let through.
   */
  decision: 'allowed' | 'denied' | 'invalid' | 'aborted';
}

export interface UnparsedLine {
  timeMs: number;
  error: string;
  /** A bounded, escaped excerpt of the line. */
  excerpt: string;
}

export type ParsedLine = { ok: true; attempt: EgressAttempt } | { ok: false; unparsed: UnparsedLine };

type Strings<N extends number, T extends string[] = []> = T['length'] extends N
  ? T
  : Strings<N, [...T, string]>;
const PRINTABLE = /^[\x21-\x7e]+$/;
/** What Squid's %# writes: the characters rfc1738_escape leaves as they are, and %XX (upper-case hex). */
const ENCODED = /^(?:[A-Za-z0-9!$&()*+,\-./:;=?@_]|%[0-9A-F]{2})+$/;
/** The helper's note: USER/SESSION, each as session-credential.ts accepts them (neither holds a /); else null. */
function verifiedNote(note: string): { user: string; sessionId: string } | null {
  const [user, sessionId, ...rest] = note.split('/');
  return rest.length === 0 &&
    isUserName(user) &&
    sessionId !== undefined &&
    CREDENTIAL_SESSION_ID.test(sessionId)
    ? { user, sessionId }
    : null;
}
const MAX_TARGET = 2048;
const MAX_NAME = 256;

/** Decodes percent-escapes to bytes, then UTF-8 (invalid sequences as U+FFFD); null on a malformed escape. */
export function percentDecode(field: string): string | null {
  const bytes = percentBytes(field);
  return bytes ? new TextDecoder('utf-8', { fatal: false }).decode(bytes) : null;
}

/** Printable as is; otherwise (controls, quotes, non-ASCII, too long) JSON-escaped and bounded. */
function printable(s: string, max: number): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: controls are what is escaped here
  if (s.length <= max && !/[\x00-\x1f\x7f-\u{10ffff}]/u.test(s)) return s;
  const head = JSON.stringify(s.length > max ? s.slice(0, max) : s).replace(
    /[^\x20-\x7e]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return s.length > max ? `${head}… (${s.length} chars)` : head;
}

function hostOf(method: string, target: string): string {
  if (method === 'CONNECT') {
    if (target.startsWith('[')) return target.slice(1, Math.max(1, target.indexOf(']')));
    const colon = target.lastIndexOf(':');
    return colon > 0 ? target.slice(0, colon) : target;
  }
  try {
    return new URL(target).hostname;
  } catch {
    return '';
  }
}

const bad = (line: string, error: string, now: number): ParsedLine => ({
  ok: false,
  unparsed: { timeMs: now, error, excerpt: excerpt(line, 300) },
});

/** `line` as latin1 (one char per byte, as byte-lines.ts gives it). Never throws. */
export function parseAccessLine(line: string, now = Date.now()): ParsedLine {
  const f = line.split(' ');
  if (f.length !== FIELDS)
    return bad(line, `expected ${FIELDS} space-separated fields, got ${f.length}`, now);
  const at = f.findIndex((x) => !PRINTABLE.test(x));
  if (at !== -1) return bad(line, `field ${at + 1} is empty or holds a byte outside printable ASCII`, now);
  const [tag, ts, client, rm, hs, ss, server, ul, note, ru] = f as Strings<10>;
  if (tag !== 'egress1') return bad(line, 'not an egress1 line', now);
  if (!/^\d{1,12}\.\d{3}$/.test(ts)) return bad(line, 'malformed time', now);
  if (client !== '-' && !isIP(client)) return bad(line, 'malformed client address', now);
  if (!/^\d{1,3}$/.test(hs)) return bad(line, 'malformed HTTP status', now);
  const encoded = [rm, ss, server, ul, note, ru];
  if (encoded.some((x) => !ENCODED.test(x))) return bad(line, 'a field not in Squid %# encoding', now);
  if (server !== '-' && !isIP(percentDecode(server) ?? '')) return bad(line, 'malformed server address', now);
  const decoded = [rm, ss, ul, note, ru].map(percentDecode);
  const [method, squidStatus, claimed, verified, target] = decoded as Strings<5>;
  if (!/^[A-Za-z0-9_]{1,64}$/.test(squidStatus) && squidStatus !== '-')
    return bad(line, 'malformed Squid status', now);

  const status = Number(hs);
  const v = verifiedNote(verified);
  // Authenticated: the helper verified a credential for exactly the session named, and Squid did not refuse it.
  const authenticated = !!v && v.sessionId === claimed && status !== 407;
  const decision: EgressAttempt['decision'] =
    squidStatus.includes('DENIED') || status === 403 || status === 407
      ? 'denied'
      : target.startsWith('error:')
        ? 'invalid'
        : status === 0 && squidStatus.endsWith('_ABORTED')
          ? 'aborted'
          : 'allowed';
  const safeMethod = printable(method, 64);
  const safeTarget = printable(target, MAX_TARGET);
  return {
    ok: true,
    attempt: {
      timeMs: Math.round(Number(ts) * 1000),
      user: authenticated && v ? v.user : null,
      sessionId: authenticated && v ? v.sessionId : null,
      authenticated,
      claimedUser: authenticated || claimed === '-' ? null : printable(claimed, MAX_NAME),
      client,
      method: safeMethod,
      target: safeTarget,
      host: printable(hostOf(method, target), MAX_NAME),
      status,
      squidStatus,
      decision,
    },
  };
}

type Attr = { key: string; value: Record<string, unknown> };
const str = (key: string, value: string): Attr => ({ key, value: { stringValue: value } });

function attemptRecord(a: EgressAttempt) {
  const nanos = `${BigInt(a.timeMs) * 1_000_000n}`;
  return {
    timeUnixNano: nanos,
    observedTimeUnixNano: nanos,
    severityNumber: a.decision === 'allowed' ? 9 : 13,
    severityText: a.decision === 'allowed' ? 'INFO' : 'WARN',
    body: { stringValue: 'claude_code_telemetry.egress' },
    attributes: [
      str('event.name', 'claude_code_telemetry.egress'),
      ...(a.sessionId ? [str('session.id', a.sessionId)] : []),
      ...(a.user ? [str('user.name', a.user)] : []),
      { key: 'egress.authenticated', value: { boolValue: a.authenticated } },
      ...(a.claimedUser ? [str('egress.claimed_user', a.claimedUser)] : []),
      str('decision', a.decision),
      str('method', a.method),
      str('host', a.host),
      str('target', a.target),
      { key: 'status', value: { intValue: String(a.status) } },
      str('squid_status', a.squidStatus),
      str('client.address', a.client),
    ],
  };
}

function unparsedRecord(u: UnparsedLine) {
  const nanos = `${BigInt(u.timeMs) * 1_000_000n}`;
  return {
    timeUnixNano: nanos,
    observedTimeUnixNano: nanos,
    severityNumber: 17,
    severityText: 'ERROR',
    body: { stringValue: 'claude_code_telemetry.egress' },
    attributes: [
      str('event.name', 'claude_code_telemetry.egress'),
      { key: 'egress.authenticated', value: { boolValue: false } },
      str('decision', 'unparsed'),
      str('egress.error', u.error),
      str('egress.excerpt', u.excerpt),
    ],
  };
}

/** The lines as one OTLP/HTTP JSON logs request: claude_code_telemetry.egress events. */
export function egressLogsRequest(lines: ParsedLine[]): unknown {
  return {
    resourceLogs: [
      {
        resource: { attributes: [str('service.name', 'egress-proxy')] },
        scopeLogs: [
          {
            scope: { name: 'claude_code_telemetry.egress_proxy' },
            logRecords: lines.map((l) => (l.ok ? attemptRecord(l.attempt) : unparsedRecord(l.unparsed))),
          },
        ],
      },
    ],
  };
}
