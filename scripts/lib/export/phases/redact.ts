// No secrets in an archive. Everything an export writes passes through a scrubber that removes:
//   - Anthropic API keys (sk-ant-...), bearer/basic credentials after "Bearer "/"Basic ";
//   - values of secret-named variables written as NAME=value (what `env` or `printenv` prints);
//   - known secret values: the stack's own (stack/.env.local) and secret-named variables of the exporting shell;
//   - the secrets of the session's own environment, known only by salted hash: the session record holds the
//     hashes (session-record.ts: secrets.json, never archived), and every token of the text is hashed and compared,
//     also inside JSON held in a JSON string (a raw API body in an OTLP line: `\\n` before a token).
// Replacements contain no quote or backslash, so scrubbed JSON stays JSON. Counts by rule go to the manifest.
//
// And no conversation the session did not log. Claude Code itself replaces a prompt, a response or tool content by
// `<REDACTED>` unless its OTEL_LOG_* switch is on; but the raw API bodies (OTEL_LOG_RAW_API_BODIES=1: the
// api_request_body and api_response_body events) hold the prompt, the answers and the tool input and output as they
// were sent, whatever those switches say (measured with 2.1.332). The export redacts them the same way: a body stays
// only where the session logged that content itself; elsewhere its `body` becomes `<REDACTED>` (its length, ids
// and model stay). What a session logged is session-content.ts's (sessionContent, rawBodiesShown).
import { readSessionSecrets } from '../../session/record-metadata.ts';
import {
  hashSecret,
  MIN_SECRET_LENGTH,
  SECRET_NAME,
  type SecretHashes,
} from '../../session/session-record.ts';
import { type ExportRequest, logRecords, stringAttr } from '../../sinks/otlp.ts';
import type { EventRecord } from '../../sinks/otlp-records.ts';
import {
  RAW_BODY_EVENTS,
  REDACTED,
  rawBodiesShown,
  type SessionContent,
} from '../analysis/session-content.ts';
import type { Manifest } from '../archive/archive.ts';

interface Rule {
  name: string;
  pattern: RegExp;
  replace: (match: string, ...groups: string[]) => string;
}

const RULES: Rule[] = [
  {
    name: 'anthropic-api-key',
    pattern: /sk-ant-[A-Za-z0-9_-]{8,}/g,
    replace: () => '[REDACTED:anthropic-api-key]',
  },
  {
    name: 'authorization-credential',
    pattern: /\b(Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{8,}/g,
    replace: (_m, scheme, space) => `${scheme}${space}[REDACTED:credential]`,
  },
  {
    name: 'secret-variable',
    pattern: /\b([A-Za-z_][A-Za-z0-9_]*)=([^\s"'\\&;]{8,})/g,
    replace: (m, name, value) =>
      SECRET_NAME.test(name) && !value.startsWith('[REDACTED') ? `${name}=[REDACTED:secret-variable]` : m,
  },
];

/** A token of text: a run of characters secrets are made of, after an optional JSON escape (\n, \t, ...). */
const TOKEN = /(\\[nrtbf"/\\])?([A-Za-z0-9_\-.~+/=:]{8,})/g;

export interface Scrubber {
  scrub(text: string): string;
  /** Replacements made so far, by rule. */
  counts: Record<string, number>;
}

export function createScrubber(known: { values?: string[]; hashes?: SecretHashes[] } = {}): Scrubber {
  const counts: Record<string, number> = {};
  const count = (rule: string) => {
    counts[rule] = (counts[rule] ?? 0) + 1;
  };
  const values = [...new Set(known.values ?? [])]
    .filter((v) => v.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  const hashes = (known.hashes ?? []).map((h) => ({ salt: h.salt, set: new Set(h.sha256) }));
  const hashed = (candidate: string) => hashes.some((h) => h.set.has(hashSecret(h.salt, candidate)));

  return {
    counts,
    scrub(text: string): string {
      let out = text;
      for (const v of values) {
        if (!out.includes(v)) continue;
        const parts = out.split(v);
        for (let i = 1; i < parts.length; i++) count('known-secret');
        out = parts.join('[REDACTED:known-secret]');
      }
      for (const rule of RULES) {
        out = out.replace(rule.pattern, (...args) => {
          const replaced = rule.replace(...(args as [string, ...string[]]));
          if (replaced !== args[0]) count(rule.name);
          return replaced;
        });
      }
      if (hashes.length) {
        out = out.replace(TOKEN, (m, esc: string | undefined, token: string) => {
          // the token itself, or a part of it after "=" or ":" (NAME=value, scheme:value); after an escaped
          // backslash (JSON in a JSON string: `\\n` is an escaped newline) also the token without that letter
          const candidates = (t: string) => [
            t,
            ...t.split(/[=:]/).filter((p) => p.length >= MIN_SECRET_LENGTH),
          ];
          const parts = [
            ...candidates(token),
            ...(esc === '\\\\' && /^[nrtbf]./.test(token) ? candidates(token.slice(1)) : []),
          ];
          const secret = parts.find(hashed);
          if (!secret) return m;
          count('session-secret');
          return `${esc ?? ''}${token.split(secret).join('[REDACTED:session-secret]')}`;
        });
      }
      return out;
    },
  };
}

/**
 * The export's scrubber for these sessions: the known secret values, plus each session's secret hashes from its
 * record. A record whose hashes cannot be read is named in `missing` (its secrets are then removed by shape only).
 */
export function sessionScrubber(
  sessionsDir: string,
  sessions: string[],
  knownSecrets: string[],
  missing: Manifest['missing'],
): Scrubber {
  const hashes: SecretHashes[] = [];
  for (const id of sessions) {
    try {
      const h = readSessionSecrets(sessionsDir, id);
      if (h) hashes.push(h);
    } catch (err) {
      missing.push({
        what: `secret hashes of session ${id}`,
        why: `${(err as Error).message}: secrets of the session's environment were removed only by their shape`,
      });
    }
  }
  return createScrubber({ values: knownSecrets, hashes });
}

/** The attribute of a raw API body event that holds the body. */
const BODY = 'body';

/**
 * Redacts, in one OTLP logs request (in place), the body of each raw API body event whose session may not keep it
 * (rawBodiesShown). Returns how many bodies it replaced.
 */
export function redactRawBodies(
  req: ExportRequest | Record<string, unknown>,
  content: Map<string, SessionContent>,
): number {
  let n = 0;
  for (const { item } of logRecords(req)) {
    const name = (stringAttr(item, 'event.name') ?? item.body?.stringValue ?? '').replace(
      /^claude_code\./,
      '',
    );
    if (!RAW_BODY_EVENTS.includes(name)) continue;
    if (rawBodiesShown(content.get(stringAttr(item, 'session.id') ?? ''))) continue;
    const body = item.attributes?.find((a) => a.key === BODY);
    if (!body || body.value?.stringValue === REDACTED) continue;
    body.value = { stringValue: REDACTED };
    n++;
  }
  return n;
}

/** The same redaction on flat event records (in place), so summaries and content flags see what the archive holds. */
export function redactRawBodyRecords(events: EventRecord[], content: Map<string, SessionContent>): number {
  let n = 0;
  for (const e of events) {
    if (!RAW_BODY_EVENTS.includes(e.name) || rawBodiesShown(content.get(e.session))) continue;
    if (e.attrs[BODY] === undefined || e.attrs[BODY] === REDACTED) continue;
    e.attrs[BODY] = REDACTED;
    n++;
  }
  return n;
}
