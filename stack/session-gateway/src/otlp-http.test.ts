// The OTLP/HTTP ingest in process, in front of a stand-in collector (a plain HTTP server that records what reaches
// it): the verified identity is what the collector is told, whatever headers the client sent; the bytes pass
// unchanged; refusals answer as an OTLP SDK understands them, counted and logged in summary.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createOtlpIngest, type Identity } from './otlp-http.ts';

interface Seen {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}
const seen: Seen[] = [];
let collectorAnswer = { status: 200, type: 'application/x-protobuf', body: Buffer.alloc(0), retryAfter: '' };
let collector: Server;
let gateway: Server;
let gatewayUrl = '';
const lines: string[] = [];
const alice: Identity = { user: 'alice', sessionId: 'sess-alice' };
let who = alice;
let ingest: ReturnType<typeof createOtlpIngest>;

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

beforeAll(async () => {
  collector = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    seen.push({ path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) });
    res.writeHead(collectorAnswer.status, {
      'content-type': collectorAnswer.type,
      ...(collectorAnswer.retryAfter ? { 'retry-after': collectorAnswer.retryAfter } : {}),
    });
    res.end(collectorAnswer.body);
  });
  const collectorUrl = await listen(collector);
  ingest = createOtlpIngest({
    env: {},
    settings: {
      OTLP_SESSIONS_HTTP: collectorUrl,
      OTLP_MAX_BODY_BYTES: 64 * 1024,
      OTLP_SESSION_MAX_SERIES: 3,
    },
    log: (l) => lines.push(l),
    logIntervalMs: 200,
  });
  // As server.ts calls it: after the credential was verified.
  gateway = createServer((req, res) => void ingest.handleOtlpHttp(req, res, who));
  gatewayUrl = await listen(gateway);
});
afterAll(async () => {
  ingest.close();
  await new Promise((r) => gateway.close(r));
  await new Promise((r) => collector.close(r));
});
beforeEach(() => {
  seen.length = 0;
  lines.length = 0;
  who = alice;
  collectorAnswer = { status: 200, type: 'application/x-protobuf', body: Buffer.alloc(0), retryAfter: '' };
});

const post = (path: string, body: Buffer | string, headers: Record<string, string> = {}) =>
  fetch(gatewayUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-protobuf', ...headers },
    body,
  });

const metricsJson = (...types: string[]) =>
  JSON.stringify({
    resourceMetrics: [
      {
        scopeMetrics: [
          {
            metrics: [
              {
                name: 'claude_code.token.usage',
                sum: {
                  dataPoints: types.map((t) => ({
                    attributes: [{ key: 'type', value: { stringValue: t } }],
                  })),
                },
              },
            ],
          },
        ],
      },
    ],
  });

describe('forwarding', () => {
  it('tells the collector the verified identity, never the headers the client sent', async () => {
    const body = Buffer.from([0x0a, 0x00]);
    const r = await post('/v1/logs', body, {
      'x-cct-user': 'bob',
      'x-cct-session': 'sess-bob',
      authorization: 'Bearer cct1.x.y',
    });
    expect(r.status).toBe(200);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.path).toBe('/v1/logs');
    expect(seen[0]?.headers['x-cct-user']).toBe('alice');
    expect(seen[0]?.headers['x-cct-session']).toBe('sess-alice');
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(seen[0]?.body.equals(body)).toBe(true);
    // No project in the credential: none passed on, whatever the client claimed.
    expect(seen[0]?.headers['x-cct-project']).toBeUndefined();
    expect(seen[0]?.headers['x-cct-branch']).toBeUndefined();
  });

  it("tells the collector the credential's project and branch, not the ones the client sent", async () => {
    who = { ...alice, project: 'acme/widgets', branch: 'main' };
    try {
      const r = await post('/v1/logs', Buffer.from([0x0a, 0x00]), {
        'x-cct-project': 'other/repo',
        'x-cct-branch': 'evil',
      });
      expect(r.status).toBe(200);
      expect(seen[0]?.headers['x-cct-project']).toBe('acme/widgets');
      expect(seen[0]?.headers['x-cct-branch']).toBe('main');
    } finally {
      who = alice;
    }
  });

  it('passes the bytes and their encoding unchanged, and the JSON content type', async () => {
    const gz = gzipSync(metricsJson('input'));
    const r = await post('/v1/metrics', gz, {
      'content-type': 'application/json',
      'content-encoding': 'gzip',
    });
    expect(r.status).toBe(200);
    expect(seen[0]?.headers['content-type']).toBe('application/json');
    expect(seen[0]?.headers['content-encoding']).toBe('gzip');
    expect(seen[0]?.body.equals(gz)).toBe(true);
  });

  it("passes the collector's refusal and its Retry-After on (the SDK retries it)", async () => {
    collectorAnswer = { ...collectorAnswer, status: 503, retryAfter: '7', body: Buffer.from('busy') };
    const r = await post('/v1/traces', Buffer.alloc(4));
    expect(r.status).toBe(503);
    expect(r.headers.get('retry-after')).toBe('7');
    expect(await r.text()).toBe('busy');
  });
});

describe('refusals', () => {
  it.each([
    ['a body over the limit (declared)', '/v1/logs', Buffer.alloc(65 * 1024), {}, 413],
    ['a body that is not OTLP', '/v1/logs', Buffer.from('x'), { 'content-type': 'text/plain' }, 415],
    [
      'an encoding the collector need not take',
      '/v1/logs',
      Buffer.from('x'),
      { 'content-encoding': 'br' },
      415,
    ],
    ['metrics that do not parse', '/v1/metrics', Buffer.from([0x0a, 0x10]), {}, 400],
    [
      'a gzip bomb of metrics',
      '/v1/metrics',
      gzipSync(Buffer.alloc(10 * 1024 * 1024)),
      { 'content-encoding': 'gzip' },
      413,
    ],
  ] as const)('%s: %i, nothing forwarded', async (_, path, body, headers, status) => {
    const r = await post(path, body, headers);
    expect(r.status).toBe(status);
    expect(seen).toHaveLength(0);
  });

  it('a body over the limit without a length (chunked): 413', async () => {
    const r = await fetch(`${gatewayUrl}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new ReadableStream({
        start(c) {
          for (let i = 0; i < 80; i++) c.enqueue(new Uint8Array(1024));
          c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(r.status).toBe(413);
    expect(seen).toHaveLength(0);
  });

  it('the collector unreachable: 503 with Retry-After, logged once', async () => {
    const down = createOtlpIngest({
      env: {},
      settings: { OTLP_SESSIONS_HTTP: 'http://127.0.0.1:1' },
      log: (l) => lines.push(l),
    });
    const s = createServer((req, res) => void down.handleOtlpHttp(req, res, alice));
    const url = await listen(s);
    try {
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`${url}/v1/logs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{}',
        });
        expect(r.status).toBe(503);
        expect(r.headers.get('retry-after')).toBe('5');
        expect(await r.json()).toMatchObject({ code: 14 });
      }
      expect(down.refused.get('collector-unavailable')).toBe(3);
      expect(lines.filter((l) => l.includes('could not forward'))).toHaveLength(1);
    } finally {
      down.close();
      await new Promise((r) => s.close(r));
    }
  });

  it('a session past its series limit: 429 with Retry-After; its known series and other sessions pass', async () => {
    const flood = { user: 'mallory', sessionId: 'sess-flood' };
    who = flood;
    const json = { 'content-type': 'application/json' };
    expect((await post('/v1/metrics', metricsJson('a', 'b', 'c'), json)).status).toBe(200);
    const over = await post('/v1/metrics', metricsJson('a', 'd'), json);
    expect(over.status).toBe(429);
    expect(over.headers.get('retry-after')).toBe('5');
    expect(((await over.json()) as { message: string }).message).toMatch(
      /limit of 3 \(OTLP_SESSION_MAX_SERIES\)/,
    );
    expect((await post('/v1/metrics', metricsJson('a', 'b'), json)).status).toBe(200);
    who = { user: 'carol', sessionId: 'sess-carol' };
    expect((await post('/v1/metrics', metricsJson('a', 'b', 'c'), json)).status).toBe(200);
    expect(seen).toHaveLength(3);
    expect(seen.map((s) => s.headers['x-cct-session'])).toEqual(['sess-flood', 'sess-flood', 'sess-carol']);
  });
});
