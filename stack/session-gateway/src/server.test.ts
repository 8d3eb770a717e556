// The gateway as a session meets it, in front of the scripted API itself: refusals in the API's error shape
// (counted, logged once per kind, never with the token), the budget's 429 that the Anthropic SDK does not retry,
// and a scripted session's usage recorded as the script says (expectations.ts, not typed here).
import { join } from 'node:path';
import { expectedTelemetry } from '@claude-code-telemetry/anthropic-replay/expectations';
import { createReplayServer } from '@claude-code-telemetry/anthropic-replay/server';
import { loadSessionScripts } from '@claude-code-telemetry/anthropic-replay/session-script';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credential, startGateway } from '../test/test-support.ts';
import { NO_LIMITS } from './budget-file.ts';

const loaded = loadSessionScripts(join(import.meta.dirname, '../../../fixtures/sessions'));
const replay = createReplayServer({ loaded, log: () => {} });
const logs: string[] = [];
let g: Awaited<ReturnType<typeof startGateway>>;
beforeAll(async () => {
  g = await startGateway({
    upstream: await replay.listen(),
    budgets: { default: { ...NO_LIMITS, concurrentRequests: 4 }, users: { carol: { tokensPerDay: 1 } } },
    log: (l) => logs.push(l),
  });
});
afterAll(async () => {
  await g.close();
  await replay.close();
});

const ask = (path: string, headers: Record<string, string>, session = 'replay-session') =>
  fetch(`${g.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-claude-code-session-id': session, ...headers },
    body: JSON.stringify({ model: 'claude-sonnet-4-5-20250929', stream: true }),
  });

describe('authentication', () => {
  it('refuses with 401 in the API error shape, counts by kind, logs the first of a kind only, never the token', async () => {
    const forged = credential({ secret: 'not-the-gateway-secret-000000' });
    for (const _ of [1, 2, 3]) {
      const r = await ask('/scripts/demo/v1/messages', { 'x-api-key': forged });
      expect(r.status).toBe(401);
      expect(await r.json()).toEqual({
        type: 'error',
        error: {
          type: 'authentication_error',
          message: 'session gateway: session credential with a wrong signature',
        },
      });
    }
    const wrongNet = credential({ network: '10.9.0.0/16' });
    expect((await ask('/scripts/demo/v1/messages', { authorization: `Bearer ${wrongNet}` })).status).toBe(
      401,
    );
    expect((await ask('/v1/messages', {})).status).toBe(401);
    expect(g.gateway.refused.get('signature')).toBe(3);
    expect(g.gateway.refused.get('network')).toBe(1);
    expect(g.gateway.refused.get('missing')).toBe(1);
    expect(logs.filter((l) => l.includes('wrong signature'))).toHaveLength(1);
    expect(logs.join('\n')).not.toContain(forged);
    expect(logs.join('\n')).not.toContain(wrongNet);
  });

  it('accepts a credential bound to the network the request comes from', async () => {
    const r = await ask(
      '/scripts/demo/v1/messages',
      { 'x-api-key': credential({ network: '127.0.0.0/8', session: 'net-ok' }) },
      'net-ok',
    );
    expect(r.status).toBe(200);
    await r.arrayBuffer();
  });

  it('answers the preflight and health without a credential, and 404 elsewhere', async () => {
    expect((await fetch(`${g.url}/scripts/demo`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${g.url}/health`)).status).toBe(200);
    const r = await fetch(`${g.url}/admin`, { method: 'POST' });
    expect(r.status).toBe(404);
    expect(await r.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });
});

describe('a scripted session through the gateway', () => {
  it("records the script's tokens, turn by turn, errors included, as the script says", async () => {
    const script = loaded.scripts.get('api-retry-529');
    if (!script) throw new Error('fixtures/sessions/api-retry-529.json is missing');
    const expected = expectedTelemetry(script);
    const key = credential({ session: 'scripted-1' });
    const statuses: number[] = [];
    for (const _ of script.turns) {
      const r = await ask('/scripts/api-retry-529/v1/messages', { 'x-api-key': key }, 'scripted-1');
      statuses.push(r.status);
      await r.arrayBuffer();
    }
    expect(statuses.filter((s) => s !== 200)).toEqual(expected.apiErrors);
    const rows = g.store.sessionRequests('scripted-1');
    const sum = (k: string) => rows.reduce((a, r) => a + Number(r[k] ?? 0), 0);
    expect(rows.filter((r) => r.status === 200)).toHaveLength(expected.modelCalls);
    expect({
      input: sum('input_tokens'),
      output: sum('output_tokens'),
      cacheRead: sum('cache_read_tokens'),
      cacheCreation: sum('cache_creation_tokens'),
    }).toEqual(expected.tokens);
  });
});

describe('budgets', () => {
  it('answers an overrun with 429 rate_limit_error, x-should-retry: false and retry-after, naming the budget', async () => {
    const key = credential({ user: 'carol', session: 'carol-1' });
    const first = await ask('/scripts/demo/v1/messages', { 'x-api-key': key }, 'carol-1');
    expect(first.status).toBe(200);
    await first.arrayBuffer();
    const r = await ask('/scripts/demo/v1/messages', { 'x-api-key': key }, 'carol-1');
    expect(r.status).toBe(429);
    expect(r.headers.get('x-should-retry')).toBe('false');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    const body = (await r.json()) as { type: string; error: { type: string; message: string } };
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('rate_limit_error');
    expect(body.error.message).toMatch(
      /^budget tokensPerDay of user carol: \d+ of 1 tokens used today \(UTC\); resets at \d{4}-\d\d-\d\dT00:00:00.000Z/,
    );
    expect(g.store.sessionRequests('carol-1').at(-1)).toMatchObject({
      status: 429,
      outcome: 'budget:tokensPerDay',
    });
  });
});
