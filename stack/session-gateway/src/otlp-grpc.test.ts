// The OTLP/gRPC ingest in process, in front of a stand-in collector (an h2c server answering as a gRPC server
// does): the credential is checked from the `authorization` metadata, the collector is told the verified identity
// and never sees the credential, and its status and trailers come back unchanged.
import { connect, createServer, type Http2Server, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { mintSessionCredential } from '@claude-code-telemetry/mcp-common/session-credential';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GRPC_STATUS, startOtlpGrpc } from './otlp-grpc.ts';
import { createOtlpIngest } from './otlp-http.ts';

const secret = 's'.repeat(32);
const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const METRICS = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
const credential = (user: string, sessionId: string, labels: { project?: string; branch?: string } = {}) =>
  mintSessionCredential(secret, { user, sessionId, expiresAt: Date.now() + 60_000, ...labels });
const frame = (msg: Buffer) => {
  const p = Buffer.alloc(5);
  p.writeUInt32BE(msg.length, 1);
  return Buffer.concat([p, msg]);
};

interface Seen {
  headers: IncomingHttpHeaders;
  body: Buffer;
}
const seen: Seen[] = [];
/** How the stand-in collector answers: a message and OK trailers, or a status alone. */
let mode: 'ok' | 'exhausted' = 'ok';
let collector: Http2Server;
let collectorPort = 0;
let gateway: Awaited<ReturnType<typeof startOtlpGrpc>>;
let ingest: ReturnType<typeof createOtlpIngest>;

beforeAll(async () => {
  collector = createServer();
  collector.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      seen.push({ headers, body: Buffer.concat(chunks) });
      if (mode === 'exhausted') {
        stream.respond(
          {
            ':status': 200,
            'content-type': 'application/grpc',
            'grpc-status': '8',
            'grpc-message': 'data%20refused',
          },
          { endStream: true },
        );
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
      stream.end(frame(Buffer.from([0x0a, 0x00])));
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
  collectorPort = (collector.address() as AddressInfo).port;
  ingest = createOtlpIngest({
    env: {},
    settings: {
      OTLP_SESSIONS_GRPC: `http://127.0.0.1:${collectorPort}`,
      OTLP_MAX_BODY_BYTES: 64 * 1024,
      OTLP_SESSION_MAX_SERIES: 1,
    },
    log: () => {},
  });
  gateway = await startOtlpGrpc({ secret, ingest, host: '127.0.0.1', port: 0, log: () => {} });
});
afterAll(async () => {
  await gateway.close();
  ingest.close();
  await new Promise((r) => collector.close(r));
});
beforeEach(() => {
  seen.length = 0;
  mode = 'ok';
});

interface Answer {
  headers: IncomingHttpHeaders;
  trailers: IncomingHttpHeaders;
  body: Buffer;
}
/** One unary call, as a gRPC client makes it; the status is in the trailers, or in the headers (trailers-only). */
async function call(
  port: number,
  path: string,
  body: Buffer,
  metadata: Record<string, string> = {},
): Promise<Answer> {
  const client = connect(`http://127.0.0.1:${port}`);
  client.on('error', () => {});
  try {
    return await new Promise<Answer>((resolve, reject) => {
      const req = client.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        ...metadata,
      });
      let headers: IncomingHttpHeaders = {};
      let trailers: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      req.on('response', (h) => {
        headers = h;
      });
      req.on('trailers', (t) => {
        trailers = t;
      });
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve({ headers, trailers, body: Buffer.concat(chunks) }));
      req.on('error', reject);
      req.end(body);
    });
  } finally {
    client.close();
  }
}
const status = (a: Answer) => Number(a.trailers['grpc-status'] ?? a.headers['grpc-status']);
const message = (a: Answer) =>
  decodeURIComponent(String(a.trailers['grpc-message'] ?? a.headers['grpc-message']));

describe('OTLP/gRPC ingest', () => {
  it.each([
    ['no credential', {}],
    ['not a credential', { authorization: 'Bearer nope' }],
    ['a forged signature', { authorization: `Bearer ${credential('bob', 'sess-bob').slice(0, -4)}AAAA` }],
    [
      'an expired one',
      {
        authorization: `Bearer ${mintSessionCredential(secret, { user: 'bob', sessionId: 'b', expiresAt: 1 })}`,
      },
    ],
  ])('%s: UNAUTHENTICATED, nothing forwarded', async (_, metadata) => {
    const a = await call(gateway.port, TRACES, frame(Buffer.alloc(3)), metadata);
    expect(status(a)).toBe(GRPC_STATUS.UNAUTHENTICATED);
    expect(seen).toHaveLength(0);
  });

  it('forwards the call with the verified identity, drops the credential and forged x-cct-* metadata, returns the answer and trailers', async () => {
    const body = frame(Buffer.from([0x0a, 0x02, 0x0a, 0x00]));
    const a = await call(gateway.port, TRACES, body, {
      authorization: `Bearer ${credential('alice', 'sess-alice')}`,
      'x-cct-user': 'bob',
      'x-cct-session': 'sess-bob',
    });
    expect(status(a)).toBe(GRPC_STATUS.OK);
    expect(a.body.equals(frame(Buffer.from([0x0a, 0x00])))).toBe(true);
    expect(seen).toHaveLength(1);
    expect(seen[0]?.headers[':path']).toBe(TRACES);
    expect(seen[0]?.headers['x-cct-user']).toBe('alice');
    expect(seen[0]?.headers['x-cct-session']).toBe('sess-alice');
    expect(seen[0]?.headers.authorization).toBeUndefined();
    expect(seen[0]?.body.equals(body)).toBe(true);
  });

  it("forwards the credential's project and branch, never the client's", async () => {
    const body = frame(Buffer.from([0x0a, 0x02, 0x0a, 0x00]));
    const a = await call(gateway.port, TRACES, body, {
      authorization: `Bearer ${credential('alice', 'sess-alice', { project: 'acme/widgets', branch: 'dev' })}`,
      'x-cct-project': 'other/repo',
      'x-cct-branch': 'evil',
    });
    expect(status(a)).toBe(GRPC_STATUS.OK);
    expect(seen[0]?.headers['x-cct-project']).toBe('acme/widgets');
    expect(seen[0]?.headers['x-cct-branch']).toBe('dev');
    const b = await call(gateway.port, TRACES, body, {
      authorization: `Bearer ${credential('alice', 'sess-alice')}`,
      'x-cct-project': 'other/repo',
    });
    expect(status(b)).toBe(GRPC_STATUS.OK);
    expect(seen[1]?.headers['x-cct-project']).toBeUndefined();
  });

  it("passes the collector's trailers-only refusal on (status and message)", async () => {
    mode = 'exhausted';
    const a = await call(gateway.port, TRACES, frame(Buffer.alloc(2)), {
      authorization: `Bearer ${credential('alice', 'sess-alice')}`,
    });
    expect(status(a)).toBe(GRPC_STATUS.RESOURCE_EXHAUSTED);
    expect(message(a)).toBe('data refused');
  });

  it('refuses a message over the size limit: RESOURCE_EXHAUSTED', async () => {
    const a = await call(gateway.port, TRACES, frame(Buffer.alloc(70 * 1024)), {
      authorization: `Bearer ${credential('alice', 'sess-alice')}`,
    });
    expect(status(a)).toBe(GRPC_STATUS.RESOURCE_EXHAUSTED);
    expect(seen).toHaveLength(0);
  });

  it('refuses metrics past the series limit: RESOURCE_EXHAUSTED', async () => {
    const kv = (v: string) =>
      Buffer.concat([
        Buffer.from([0x0a, 1]),
        Buffer.from('k'),
        Buffer.from([0x12, v.length + 2, 0x0a, v.length]),
        Buffer.from(v),
      ]);
    const point = (v: string) => {
      const a = kv(v);
      return Buffer.concat([Buffer.from([0x3a, a.length]), a]);
    };
    const sum = (...vs: string[]) => {
      const pts = Buffer.concat(
        vs.map((v) => {
          const p = point(v);
          return Buffer.concat([Buffer.from([0x0a, p.length]), p]);
        }),
      );
      return Buffer.concat([Buffer.from([0x3a, pts.length]), pts]);
    };
    const wrap = (field: number, b: Buffer) => Buffer.concat([Buffer.from([(field << 3) | 2, b.length]), b]);
    const req = (...vs: string[]) =>
      frame(wrap(1, wrap(2, wrap(2, Buffer.concat([wrap(1, Buffer.from('m')), sum(...vs)])))));
    const auth = { authorization: `Bearer ${credential('mallory', 'sess-flood')}` };
    expect(status(await call(gateway.port, METRICS, req('a'), auth))).toBe(GRPC_STATUS.OK);
    expect(status(await call(gateway.port, METRICS, req('a', 'b'), auth))).toBe(
      GRPC_STATUS.RESOURCE_EXHAUSTED,
    );
    expect(status(await call(gateway.port, METRICS, req('a'), auth))).toBe(GRPC_STATUS.OK);
    expect(seen).toHaveLength(2);
  });

  it('not an OTLP Export method: UNIMPLEMENTED', async () => {
    const a = await call(gateway.port, '/grpc.health.v1.Health/Check', frame(Buffer.alloc(0)), {
      authorization: `Bearer ${credential('alice', 'sess-alice')}`,
    });
    expect(status(a)).toBe(GRPC_STATUS.UNIMPLEMENTED);
  });

  it('the collector unreachable: UNAVAILABLE (retried by the SDK)', async () => {
    const down = createOtlpIngest({
      env: {},
      settings: { OTLP_SESSIONS_GRPC: 'http://127.0.0.1:1' },
      log: () => {},
    });
    const g = await startOtlpGrpc({ secret, ingest: down, host: '127.0.0.1', port: 0, log: () => {} });
    try {
      const a = await call(g.port, TRACES, frame(Buffer.alloc(2)), {
        authorization: `Bearer ${credential('alice', 'sess-alice')}`,
      });
      expect(status(a)).toBe(GRPC_STATUS.UNAVAILABLE);
      expect(down.refused.get('collector-unavailable')).toBe(1);
    } finally {
      await g.close();
      down.close();
    }
  });
});
