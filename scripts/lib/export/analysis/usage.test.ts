// Observed (the gateway's events, built by the gateway's own usage-event.ts) beside reported (Claude Code's
// recorded events, fixtures/otlp): equal, a forged extra api_request, telemetry turned off, a gateway_request a
// session forged, retries, count_tokens, a model without a price, a session from before the gateway.
import { describe, expect, it } from 'vitest';
import {
  EVENT_NAME,
  logsPayload,
  type RequestEvent,
} from '../../../../stack/session-gateway/src/usage-event.ts';
import { type EventRecord, eventsOf } from '../../sinks/otlp-records.ts';
import { recordedLine } from '../../testing/fixture-telemetry.ts';
import { GATEWAY_EVENT, sessionUsage, usageLine, usd } from './usage.ts';

const ID = 'cccccccc-3333-4333-8333-333333333333';
/** Claude Code 2.1.197's events of a session: 5 api_request (123 in / 45 out, $0.00174 each). */
const claude = (): EventRecord[] => eventsOf(JSON.parse(recordedLine('logs', 'default', ID)));
const calls = () => claude().filter((e) => e.name === 'api_request');

/** The gateway's record of one request, as the collector's trusted receiver passes it on. */
function gateway(over: Partial<RequestEvent>[]): EventRecord[] {
  const base: RequestEvent = {
    time: 1_795_468_742_739,
    user: 'alice',
    sessionId: ID,
    path: '/scripts/demo/v1/messages',
    model: 'claude-opus-4-8',
    status: 200,
    attempt: 1,
    inputTokens: 123,
    outputTokens: 45,
    cacheReadTokens: 0,
    cacheCreationTokens: 0,
    costUsd: 0.00174,
    priceKnown: true,
    ttfbMs: 20,
    durationMs: 65,
    requestId: 'req_mock',
    outcome: 'ok',
  };
  return eventsOf(logsPayload(over.map((o) => ({ ...base, ...o }))));
}
const answered = (n: number) => gateway(Array.from({ length: n }, () => ({})));

/** What the collector makes of events a session sends: telemetry.source=reported on resource and record. */
function sentBySession(events: EventRecord[]): EventRecord[] {
  return events.map((e) => ({
    ...e,
    attrs: { ...e.attrs, 'telemetry.source': 'reported' },
    resource: { ...e.resource, 'telemetry.source': 'reported', 'user.name': 'alice' },
  }));
}

const forgedCall = (): EventRecord => {
  const c = calls()[0] as EventRecord;
  return { ...c, attrs: { ...c.attrs, cost_usd: 999.0213 } };
};

const cases: {
  name: string;
  events: () => EventRecord[];
  equal: boolean;
  differences: string[];
  notes?: RegExp[];
  observed?: object;
}[] = [
  {
    name: 'equal: every call reported as the gateway saw it',
    events: () => [...claude(), ...answered(5)],
    equal: true,
    differences: [],
    observed: { requests: 5, modelCalls: 5, failed: 0, forged: 0 },
  },
  {
    name: 'a forged extra api_request (reported > observed)',
    events: () => [...claude(), forgedCall(), ...answered(5)],
    equal: false,
    differences: [
      'reported 6 model calls, observed 5',
      'reported 738 input tokens, observed 615',
      'reported 270 output tokens, observed 225',
      'reported cost $999.03, observed $0.0087',
    ],
  },
  {
    name: 'telemetry turned off (reported 0, observed 5)',
    events: () => answered(5),
    equal: false,
    differences: [
      'reported 0 model calls, observed 5',
      'reported 0 input tokens, observed 615',
      'reported 0 output tokens, observed 225',
      'reported cost $0, observed $0.0087',
    ],
  },
  {
    name: 'a gateway_request the session sent itself is not observed',
    events: () => [
      ...claude().filter((e) => e.name !== 'api_request'),
      ...sentBySession(gateway([{ inputTokens: 1, outputTokens: 1, costUsd: 0.00001 }])),
    ],
    equal: true,
    differences: [],
    notes: [/^1 claude_code_telemetry.gateway_request event\(s\) marked telemetry.source=reported/],
    observed: { requests: 0, forged: 1 },
  },
  {
    name: 'a forged gateway_request (session-sent) cannot hide an api_request it matches',
    events: () => [...claude(), ...sentBySession(answered(5))],
    equal: false,
    differences: [
      'reported 5 model calls, observed 0',
      'reported 615 input tokens, observed 0',
      'reported 225 output tokens, observed 0',
      'reported cost $0.0087, observed $0',
    ],
    notes: [/^5 .* not counted as observed$/, /the gateway recorded no request of this session/],
  },
  {
    name: 'a 529 retried, a budget refusal and a broken-off stream: failed requests, still equal',
    events: () => [
      ...claude(),
      ...answered(5),
      ...gateway([
        { status: 529, inputTokens: 0, outputTokens: 0, costUsd: 0, outcome: 'ok' },
        { status: 429, inputTokens: 0, outputTokens: 0, costUsd: 0, outcome: 'budget:tokensPerDay' },
      ]),
    ],
    equal: true,
    differences: [],
    observed: { requests: 7, modelCalls: 5, failed: 2 },
  },
  {
    name: 'a broken-off stream was billed: its tokens are observed, not reported',
    events: () => [
      ...claude(),
      ...answered(5),
      ...gateway([{ outputTokens: 3, outcome: 'upstream-aborted' }]),
    ],
    equal: false,
    differences: [
      'reported 615 input tokens, observed 738',
      'reported 225 output tokens, observed 228',
      'reported cost $0.0087, observed $0.01044',
    ],
    observed: { requests: 6, modelCalls: 5, failed: 1 },
  },
  {
    name: 'count_tokens requests are no model calls',
    events: () => [
      ...claude(),
      ...answered(5),
      ...gateway([{ path: '/v1/messages/count_tokens', inputTokens: 50, outputTokens: 0, costUsd: 0 }]),
    ],
    equal: true,
    differences: [],
    observed: { requests: 5, otherRequests: 1 },
  },
  {
    name: 'a model the gateway has no price for: cost not compared, said so',
    events: () => [...claude(), ...answered(4), ...gateway([{ costUsd: 0, priceKnown: false }])],
    equal: true,
    differences: [],
    notes: [/^cost not compared: .* 1 request\(s\)/],
    observed: { unpriced: 1 },
  },
  {
    name: "another session's gateway events are not this one's",
    events: () => [
      ...claude(),
      ...answered(5),
      ...gateway([{ sessionId: 'dddddddd-4444-4444-8444-444444444444' }]),
    ],
    equal: true,
    differences: [],
  },
];

describe('observed usage beside reported', () => {
  it('reads the event the gateway sends (usage-event.ts)', () => {
    expect(GATEWAY_EVENT).toBe(EVENT_NAME);
  });

  it.each(cases)('$name', (c) => {
    const u = sessionUsage(ID, c.events());
    expect(u.differences.map((d) => d.text)).toEqual(c.differences);
    expect(u.equal).toBe(c.equal);
    if (c.observed) expect(u.observed).toMatchObject(c.observed);
    for (const n of c.notes ?? [])
      expect(
        u.notes.some((x) => n.test(x)),
        `${n} in ${u.notes}`,
      ).toBe(true);
    if (!c.notes) expect(u.notes).toEqual([]);
    expect(usageLine(u).startsWith(c.equal ? 'equal: ' : 'DIFFERENT: ')).toBe(true);
  });

  it('names each figure of a difference', () => {
    const u = sessionUsage(ID, [...claude(), forgedCall(), ...answered(5)]);
    expect(u.differences[0]).toEqual({
      field: 'modelCalls',
      reported: 6,
      observed: 5,
      text: 'reported 6 model calls, observed 5',
    });
    expect(u.reported).toMatchObject({ modelCalls: 6, errors: 0 });
    expect(u.observed.tokens).toEqual({
      input: 615,
      output: 225,
      cacheRead: 0,
      cacheCreation: 0,
      total: 840,
    });
    expect(usageLine(u)).toBe(
      'DIFFERENT: reported 6 model calls, observed 5; reported 738 input tokens, observed 615; reported 270 output tokens, observed 225; reported cost $999.03, observed $0.0087 (observed 5 model call(s) (5 request(s)), 840 tokens, $0.0087; reported 6, 1008 tokens, $999.03)',
    );
  });

  it('says dollars to the millionth, as short as exact', () => {
    expect([999.03, 0.00174, 0, 1, 0.0000004].map(usd)).toEqual(['$999.03', '$0.00174', '$0', '$1', '$0']);
  });
});
