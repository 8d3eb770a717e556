// The model route over real sockets: a gateway on 127.0.0.1 in front of hand-written upstreams (to hold a stream
// open, echo headers, or send exact bytes) and the scripted API itself. Bytes pass unchanged and unbuffered,
// headers are forwarded without the client's credential, errors and their retry headers pass through, and each
// request ends as a record and an OTLP event.
import type { ServerResponse } from 'node:http';
import { encodeSse, sseEvents } from '@claude-code-telemetry/anthropic-replay/messages';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credential, otlpReceiver, startGateway, upstreamServer } from '../test/test-support.ts';

const turn = {
  content: [{ type: 'text' as const, text: 'A streamed answer, long enough for several deltas. ✓ ünïcode' }],
  usage: {
    input_tokens: 12,
    output_tokens: 34,
    cache_read_input_tokens: 56,
    cache_creation_input_tokens: 78,
  },
};
const SSE = Buffer.from(
  encodeSse(sseEvents(turn, 'claude-sonnet-4-5-20250929', { messageId: 'msg_x', toolUseIds: [] })),
);
const CRED = credential();
const post = (base: string, path: string, headers: Record<string, string> = {}, body = '{"stream":true}') =>
  fetch(`${base}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': CRED, ...headers },
    body,
  });

// An upstream that streams SSE in 7-byte chunks, holds the rest until released, and echoes what it was sent.
let release: () => void = () => {};
let seen: { headers: Record<string, unknown>; url: string | undefined }[] = [];
let upstreamClosedEarly = 0;
const upstream = await upstreamServer(async (req, res: ServerResponse) => {
  for await (const _ of req);
  seen.push({ headers: req.headers, url: req.url });
  const path = req.url ?? '';
  if (path.includes('/echo/')) {
    res.writeHead(200, {
      'content-type': 'application/json',
      'request-id': 'req_echo',
      'anthropic-ratelimit-requests-remaining': '41',
    });
    res.end(
      JSON.stringify({
        type: 'message',
        model: 'claude-haiku-4-5',
        usage: { input_tokens: 3, output_tokens: 4 },
      }),
    );
  } else if (path.includes('/overloaded/')) {
    res.writeHead(529, { 'content-type': 'application/json', 'retry-after': '7', 'x-should-retry': 'true' });
    res.end('{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}');
  } else if (path.includes('/broken/')) {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end('{"type":"error","error":{"type":"api_error","message":"Internal server error"}}');
  } else if (path.includes('/held/')) {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_held' });
    res.write(SSE.subarray(0, 40));
    res.once('close', () => {
      if (!res.writableFinished) upstreamClosedEarly++;
    });
    await new Promise<void>((r) => (release = r));
    res.end(SSE.subarray(40));
  } else {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'request-id': 'req_sse' });
    for (let i = 0; i < SSE.length; i += 7) {
      res.write(SSE.subarray(i, i + 7));
      await new Promise((r) => setImmediate(r));
    }
    res.end();
  }
});
const collector = await otlpReceiver();
const logs: string[] = [];
let g: Awaited<ReturnType<typeof startGateway>>;
beforeAll(async () => {
  g = await startGateway({
    upstream: upstream.url,
    apiKey: 'sk-ant-gateway-key',
    otlpEndpoint: collector.url,
    maxBodyBytes: 4096,
    log: (l) => logs.push(l),
  });
});
afterAll(async () => {
  await g.close();
  await upstream.close();
  await collector.close();
});

describe('streaming', () => {
  it('passes the SSE bytes through exactly, and records the usage read from them', async () => {
    const res = await post(g.url, '/scripts/demo/v1/messages?beta=true', { 'x-stainless-retry-count': '2' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    expect(Buffer.from(await res.arrayBuffer()).equals(SSE)).toBe(true);
    await new Promise((r) => setTimeout(r, 20));
    const row = g.store.sessionRequests('session-1').find((r) => r.request_id === 'req_sse');
    expect(row).toMatchObject({
      user: 'alice',
      path: '/scripts/demo/v1/messages',
      attempt: 2,
      status: 200,
      model: 'claude-sonnet-4-5-20250929',
      input_tokens: 12,
      output_tokens: 34,
      cache_read_tokens: 56,
      cache_creation_tokens: 78,
      outcome: 'ok',
    });
    // sonnet: 12*3 + 34*15 + 56*0.3 + 78*3.75 per million
    expect(row?.cost_usd).toBeCloseTo((12 * 3 + 34 * 15 + 56 * 0.3 + 78 * 3.75) / 1e6, 12);
  });

  it('sends the first bytes before the upstream has finished (no buffering)', async () => {
    const res = await post(g.url, '/held/v1/messages');
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const got: Uint8Array[] = [];
    while (Buffer.concat(got).length < 40) {
      const r = await reader.read();
      if (r.done) break;
      got.push(r.value);
    }
    // The upstream still holds the rest: these bytes came through on their own.
    expect(Buffer.concat(got).equals(SSE.subarray(0, 40))).toBe(true);
    release();
    for (let r = await reader.read(); !r.done; r = await reader.read()) got.push(r.value);
    expect(Buffer.concat(got).equals(SSE)).toBe(true);
  });

  it('aborts the upstream request when the client goes away', async () => {
    const before = upstreamClosedEarly;
    const controller = new AbortController();
    const res = await fetch(`${g.url}/held/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': CRED },
      body: '{}',
      signal: controller.signal,
    });
    await (res.body as ReadableStream<Uint8Array>).getReader().read();
    controller.abort();
    for (let i = 0; i < 100 && upstreamClosedEarly === before; i++)
      await new Promise((r) => setTimeout(r, 10));
    expect(upstreamClosedEarly).toBe(before + 1);
    release();
  });
});

describe('headers', () => {
  it('forwards what the API needs, replaces the credential with the gateway key, passes response headers back', async () => {
    seen = [];
    const res = await post(g.url, '/echo/v1/messages/count_tokens?beta=true', {
      authorization: `Bearer ${CRED}`,
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'claude-code-20250219,oauth-2025-04-20',
      'user-agent': 'claude-cli/2.1.332 (external, cli)',
      'x-stainless-retry-count': '0',
      'x-stainless-timeout': '600',
      'x-claude-code-session-id': 'abc',
      'accept-encoding': 'gzip, br',
      cookie: 'a=b',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('request-id')).toBe('req_echo');
    expect(res.headers.get('anthropic-ratelimit-requests-remaining')).toBe('41');
    const [{ headers, url }] = seen as [{ headers: Record<string, string>; url: string }];
    expect(url).toBe('/echo/v1/messages/count_tokens?beta=true');
    expect(headers).toMatchObject({
      'x-api-key': 'sk-ant-gateway-key',
      'anthropic-version': '2023-06-01',
      'anthropic-beta': 'claude-code-20250219,oauth-2025-04-20',
      'user-agent': 'claude-cli/2.1.332 (external, cli)',
      'x-stainless-retry-count': '0',
      'x-stainless-timeout': '600',
      'x-claude-code-session-id': 'abc',
      'content-type': 'application/json',
      'accept-encoding': 'identity',
    });
    expect(headers.authorization).toBeUndefined();
    expect(headers.cookie).toBeUndefined();
    expect(JSON.stringify(headers)).not.toContain(CRED);
  });

  it('sends no key upstream when none is configured', async () => {
    const bare = await startGateway({ upstream: upstream.url });
    seen = [];
    await (await post(bare.url, '/echo/v1/messages')).arrayBuffer();
    expect(seen[0]?.headers['x-api-key']).toBeUndefined();
    await bare.close();
  });
});

describe('errors', () => {
  it('passes a 529 with retry-after and a 500 through unchanged', async () => {
    const o = await post(g.url, '/overloaded/v1/messages');
    expect(o.status).toBe(529);
    expect(o.headers.get('retry-after')).toBe('7');
    expect(o.headers.get('x-should-retry')).toBe('true');
    expect(await o.json()).toEqual({
      type: 'error',
      error: { type: 'overloaded_error', message: 'Overloaded' },
    });
    const b = await post(g.url, '/broken/v1/messages');
    expect(b.status).toBe(500);
    expect(await b.text()).toBe(
      '{"type":"error","error":{"type":"api_error","message":"Internal server error"}}',
    );
  });

  it('refuses a body over the limit with 413, naming the limit', async () => {
    const r = await post(g.url, '/echo/v1/messages', {}, JSON.stringify({ pad: 'x'.repeat(5000) }));
    expect(r.status).toBe(413);
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain(
      'limit of 4096 bytes',
    );
  });

  it('answers 502 in the API error shape when the upstream is down', async () => {
    const down = await startGateway({ upstream: 'http://127.0.0.1:9' });
    const r = await post(down.url, '/v1/messages');
    expect(r.status).toBe(502);
    expect(await r.json()).toMatchObject({ type: 'error', error: { type: 'api_error' } });
    await down.close();
  });
});

describe('events', () => {
  it('sends each request as an OTLP gateway_request event with the verified identity', async () => {
    await g.events.flush();
    const records = collector.payloads.flatMap((p) =>
      (
        p as {
          resourceLogs: {
            scopeLogs: { logRecords: { attributes: { key: string; value: Record<string, unknown> }[] }[] }[];
          }[];
        }
      ).resourceLogs.flatMap((rl) =>
        rl.scopeLogs.flatMap((sl) =>
          sl.logRecords.map((r) =>
            Object.fromEntries(r.attributes.map((a) => [a.key, Object.values(a.value)[0]])),
          ),
        ),
      ),
    );
    const sse = records.find((r) => r.request_id === 'req_sse');
    expect(sse).toMatchObject({
      'event.name': 'claude_code_telemetry.gateway_request',
      'user.name': 'alice',
      'session.id': 'session-1',
      'telemetry.source': 'observed',
      model: 'claude-sonnet-4-5-20250929',
      input_tokens: '12',
      output_tokens: '34',
      cache_read_tokens: '56',
      cache_creation_tokens: '78',
      attempt: '2',
      'http.status_code': '200',
    });
    expect(Number(sse?.ttfb_ms)).toBeGreaterThanOrEqual(0);
    expect(records.some((r) => r['http.status_code'] === '529')).toBe(true);
  });
});
