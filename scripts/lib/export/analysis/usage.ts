// A session's model usage twice: as the session gateway observed it (its claude_code_telemetry.gateway_request
// events, one per request it proxied: outside the session's reach) and as Claude Code reported it (its api_request
// and api_error events: produced inside the session, so the user's word), and every figure on which they differ,
// named. `pnpm export` (summary.json, manifest, report.html) and `pnpm stack:check` show both (README, "Sharing
// safely"). Pure: built from the session's flat events (otlp-records.ts).
//
// Rules:
// - observed: events named GATEWAY_EVENT whose record says telemetry.source=observed, from service session-gateway,
//   on a resource not marked telemetry.source=reported. The collector marks everything a session sends reported
//   (and deletes what the session wrote there), so a gateway_request a session forged is not counted: it is
//   counted in `forged` and named in the notes.
// - a model call observed: a Messages request (path .../v1/messages) the API answered (HTTP 2xx) and the gateway
//   streamed whole (outcome ok); every other Messages request (refused by a budget, API errors, broken off) is a
//   failed one. Tokens and cost: of every Messages request (a broken-off stream was billed for what it used).
//   Other requests (count_tokens) are counted apart: they are no model call, and Claude Code reports none.
// - reported: Claude Code's api_request events (answered calls: tokens, cost) and api_error events.
// - compared, each named when they differ: model calls, the four token types, cost (to the millionth of a
//   dollar; not compared when the gateway had no price for a model it saw). Failed requests and API errors are
//   shown, not compared: Claude Code does not report a failed attempt that a retry recovered (api-attempts.ts).
import type { EventRecord } from '../../sinks/otlp-records.ts';
import { num, roundNoise } from './summary-values.ts';

/** The session gateway's event (stack/session-gateway/src/usage-event.ts; the test checks they agree). */
export const GATEWAY_EVENT = 'claude_code_telemetry.gateway_request';
export const GATEWAY_SERVICE = 'session-gateway';

export interface UsageTokens {
  input: number;
  output: number;
  cacheRead: number;
  cacheCreation: number;
  total: number;
}

export interface ObservedUsage {
  /** Messages API requests the gateway proxied (or refused), answered or not. */
  requests: number;
  /** Other model API requests (count_tokens): not model calls, not compared. */
  otherRequests: number;
  /** Requests the API answered (2xx) and the gateway streamed whole. */
  modelCalls: number;
  failed: number;
  tokens: UsageTokens;
  costUsd: number;
  /** Requests of a model the gateway has no price for: their cost is not in costUsd. */
  unpriced: number;
  /** gateway_request events that did not come from the gateway (marked reported: a session sent them). */
  forged: number;
}

export interface ReportedUsage {
  /** api_request events: calls answered. */
  modelCalls: number;
  /** api_error events: calls that failed. */
  errors: number;
  tokens: UsageTokens;
  costUsd: number;
}

export type ComparedField =
  | 'modelCalls'
  | 'tokens.input'
  | 'tokens.output'
  | 'tokens.cacheRead'
  | 'tokens.cacheCreation'
  | 'costUsd';

export interface UsageDifference {
  field: ComparedField;
  reported: number;
  observed: number;
  /** In words: "reported 7 model calls, observed 6". */
  text: string;
}

export interface UsageComparison {
  observed: ObservedUsage;
  reported: ReportedUsage;
  /** True when no compared figure differs. */
  equal: boolean;
  differences: UsageDifference[];
  /** What was not compared, or not counted, and why. */
  notes: string[];
}

const tokensOf = (events: EventRecord[]): UsageTokens => {
  const t = { input: 0, output: 0, cacheRead: 0, cacheCreation: 0, total: 0 };
  for (const e of events) {
    t.input += num(e.attrs.input_tokens);
    t.output += num(e.attrs.output_tokens);
    t.cacheRead += num(e.attrs.cache_read_tokens);
    t.cacheCreation += num(e.attrs.cache_creation_tokens);
  }
  t.total = t.input + t.output + t.cacheRead + t.cacheCreation;
  return t;
};

const costOf = (events: EventRecord[]) => roundNoise(events.reduce((a, e) => a + num(e.attrs.cost_usd), 0));

/** Whether an event is the gateway's own record of a request (not one a session sent under its name). */
export function isObserved(e: EventRecord): boolean {
  return (
    e.name === GATEWAY_EVENT &&
    e.attrs['telemetry.source'] === 'observed' &&
    e.service === GATEWAY_SERVICE &&
    e.resource['telemetry.source'] !== 'reported'
  );
}

const isMessages = (e: EventRecord) => /\/v1\/messages$/.test(String(e.attrs['http.route'] ?? ''));
const answered = (e: EventRecord) => {
  const status = num(e.attrs['http.status_code']);
  return status >= 200 && status < 300 && e.attrs.outcome === 'ok';
};

/** The gateway's record of one session's requests. */
export function observedUsage(sessionId: string, events: EventRecord[]): ObservedUsage {
  const named = events.filter((e) => e.session === sessionId && e.name === GATEWAY_EVENT);
  const gateway = named.filter(isObserved);
  const mine = gateway.filter(isMessages);
  const calls = mine.filter(answered).length;
  return {
    requests: mine.length,
    otherRequests: gateway.length - mine.length,
    modelCalls: calls,
    failed: mine.length - calls,
    tokens: tokensOf(mine),
    costUsd: costOf(mine),
    unpriced: mine.filter((e) => e.attrs['cost.price_known'] === false).length,
    forged: named.length - gateway.length,
  };
}

/** What Claude Code reported of one session's model calls (its own events, as the summary counts them). */
export function reportedUsage(sessionId: string, events: EventRecord[]): ReportedUsage {
  const own = events.filter((e) => e.session === sessionId && e.service === 'claude-code');
  const requests = own.filter((e) => e.name === 'api_request');
  return {
    modelCalls: requests.length,
    errors: own.filter((e) => e.name === 'api_error').length,
    tokens: tokensOf(requests),
    costUsd: costOf(requests),
  };
}

/** A dollar amount as short as it can be said exactly to the millionth: $999.03, $0.00174. */
export const usd = (n: number) => `$${n.toFixed(6).replace(/\.?0+$/, '')}`;

const COMPARED: { field: ComparedField; what: string; of: (u: ObservedUsage | ReportedUsage) => number }[] = [
  { field: 'modelCalls', what: 'model calls', of: (u) => u.modelCalls },
  { field: 'tokens.input', what: 'input tokens', of: (u) => u.tokens.input },
  { field: 'tokens.output', what: 'output tokens', of: (u) => u.tokens.output },
  { field: 'tokens.cacheRead', what: 'cache read tokens', of: (u) => u.tokens.cacheRead },
  { field: 'tokens.cacheCreation', what: 'cache creation tokens', of: (u) => u.tokens.cacheCreation },
  { field: 'costUsd', what: 'cost', of: (u) => u.costUsd },
];

/** Observed beside reported, and each figure on which they differ. */
export function compareUsage(observed: ObservedUsage, reported: ReportedUsage): UsageComparison {
  const notes: string[] = [];
  if (observed.forged)
    notes.push(
      `${observed.forged} ${GATEWAY_EVENT} event(s) marked telemetry.source=reported (sent by the session, not the gateway): not counted as observed`,
    );
  if (observed.unpriced)
    notes.push(
      `cost not compared: the gateway has no price for the model of ${observed.unpriced} request(s), so its cost leaves them out`,
    );
  if (!observed.requests && reported.modelCalls)
    notes.push(
      'the gateway recorded no request of this session (a session run before the gateway, or its events are missing)',
    );
  const differences: UsageDifference[] = [];
  for (const c of COMPARED) {
    const r = c.of(reported);
    const o = c.of(observed);
    if (c.field === 'costUsd') {
      if (observed.unpriced || Math.round(r * 1e6) === Math.round(o * 1e6)) continue;
      differences.push({
        field: c.field,
        reported: r,
        observed: o,
        text: `reported cost ${usd(r)}, observed ${usd(o)}`,
      });
    } else if (r !== o)
      differences.push({
        field: c.field,
        reported: r,
        observed: o,
        text: `reported ${r} ${r === 1 ? c.what.replace(/s$/, '') : c.what}, observed ${o}`,
      });
  }
  return { observed, reported, equal: differences.length === 0, differences, notes };
}

/** One session's usage, observed and reported, compared. */
export const sessionUsage = (sessionId: string, events: EventRecord[]): UsageComparison =>
  compareUsage(observedUsage(sessionId, events), reportedUsage(sessionId, events));

/** The comparison in one line (stack:check): "equal: 5 model calls, 840 tokens, $0.0087" or the differences. */
export function usageLine(u: UsageComparison): string {
  const o = u.observed;
  const head = `observed ${o.modelCalls} model call(s) (${o.requests} request(s)), ${o.tokens.total} tokens, ${usd(o.costUsd)}; reported ${u.reported.modelCalls}, ${u.reported.tokens.total} tokens, ${usd(u.reported.costUsd)}`;
  return u.equal ? `equal: ${head}` : `DIFFERENT: ${u.differences.map((d) => d.text).join('; ')} (${head})`;
}
