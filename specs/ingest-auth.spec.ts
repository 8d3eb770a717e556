// Recipe: a session's telemetry is whose its credential says (issue 23). From inside a session's own network:
//   - the collector is out of reach (its trusted ports and the sessions' receiver alike);
//   - telemetry forged for bob (his user name and session id, on the resource and the record, twice over) is
//     refused without a credential (401 over HTTP, UNAUTHENTICATED over gRPC);
//   - the same sent with alice's credential is stored as alice's: her user name and session id, telemetry.source
//     reported, in the files and in VictoriaLogs; bob's session holds only his own record, unchanged;
//   - the MCP servers' telemetry is the stack's, not the session's to turn off: a file-ops call sent with
//     `X-Claude-Code-Telemetry: 0` leaves its span (under the credential's session id) as one without it does.
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SpanRecord, spansOf } from '../scripts/lib/sinks/otlp-records.ts';
import { exportRequests, sessionRecords, signalFiles } from '../scripts/lib/sinks/telemetry-files.ts';
import { sessionFilter, vlQuery } from '../scripts/lib/sinks/victorialogs.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { MCP_CALL, type McpAnswer, mcpUrl } from './support/mcp-call.ts';
import { type SessionNetwork, sessionNetwork } from './support/session-network.ts';
import { type StackInfo, stack } from './support/stack.ts';

const attr = (key: string, value: string) => ({ key, value: { stringValue: value } });
/** One OTLP JSON log record: identity forged on the resource and the record, each key twice. */
const forgedLogs = (marker: string, user: string, session: string) => ({
  resourceLogs: [
    {
      resource: {
        attributes: [
          attr('service.name', 'ingest-spec'),
          attr('user.name', user),
          attr('user.name', user),
          attr('session.id', session),
          attr('telemetry.source', 'observed'),
        ],
      },
      scopeLogs: [
        {
          logRecords: [
            {
              timeUnixNano: String(Date.now() * 1e6),
              body: { stringValue: 'claude_code.api_request' },
              attributes: [
                attr('session.id', session),
                attr('session.id', session),
                attr('user.name', user),
                attr('telemetry.source', 'observed'),
                attr('event.name', 'api_request'),
                attr('marker', marker),
                { key: 'cost_usd', value: { doubleValue: 999 } },
              ],
            },
          ],
        },
      ],
    },
  ],
});

/**
 * A service's spans of one session in the telemetry files (sessionRecords gives the span alone; the service name
 * is on its resource, so this walks the files with otlp-records.ts).
 */
async function serviceSpans(dir: string, service: string, sessionId: string): Promise<SpanRecord[]> {
  const out: SpanRecord[] = [];
  for (const file of signalFiles(dir, 'traces'))
    for await (const req of exportRequests(file))
      for (const span of spansOf(req))
        if (span.service === service && span.session === sessionId) out.push(span);
  return out;
}

const str = (item: unknown, key: string) =>
  (item as { attributes?: Array<{ key: string; value: { stringValue?: string } }> }).attributes
    ?.filter((a) => a.key === key)
    .map((a) => a.value.stringValue);

describe('telemetry ingest from a session', () => {
  let e2eStack: StackInfo;
  let net: SessionNetwork;
  const alice = { user: 'alice', session: randomUUID() };
  const bob = { user: 'bob', session: randomUUID() };
  beforeAll(async () => {
    e2eStack = stack();
    net = await sessionNetwork(e2eStack);
  }, 120_000);
  afterAll(async () => {
    await net?.remove();
  });

  it("is refused without a credential and stamped with the sender's own identity with one", async () => {
    // bob's own record, from a trusted sender (the host's port): it must stay as it is.
    const original = `original-${randomUUID()}`;
    const own = await fetch(`${e2eStack.otlpHttp}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(forgedLogs(original, bob.user, bob.session)),
    });
    expect(own.status).toBe(200);

    const forged = `forged-${randomUUID()}`;
    const script = `
      const body = ${JSON.stringify(JSON.stringify(forgedLogs(forged, bob.user, bob.session)))};
      const post = (url, headers = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body, signal: AbortSignal.timeout(10000) })
        .then(async (r) => { await r.arrayBuffer(); return r.status; }, (e) => 'unreachable: ' + (e.cause?.code ?? e.name));
      const { connect } = await import('node:http2');
      const grpc = () => new Promise((resolve) => {
        const c = connect('http://session-gateway:4317');
        c.on('error', (e) => resolve('error ' + e.code));
        const r = c.request({ ':method': 'POST', ':path': '/opentelemetry.proto.collector.logs.v1.LogsService/Export', 'content-type': 'application/grpc', te: 'trailers' });
        let status;
        r.on('response', (h) => { status = h['grpc-status'] ?? status; });
        r.on('trailers', (t) => { status = t['grpc-status'] ?? status; });
        r.on('close', () => { c.close(); resolve(Number(status)); });
        r.on('error', () => {});
        r.end(Buffer.alloc(5));
      });
      console.log(JSON.stringify({
        collectorTrusted: await post('http://otel-collector:4318/v1/logs'),
        collectorSessions: await post('http://otel-collector:4319/v1/logs'),
        noCredential: await post('http://session-gateway:8080/v1/logs'),
        badCredential: await post('http://session-gateway:8080/v1/logs', { authorization: 'Bearer cct1.e30.AAAA' }),
        grpcNoCredential: await grpc(),
        alice: await post('http://session-gateway:8080/v1/logs', { authorization: 'Bearer ${net.credential(alice.user, alice.session)}' }),
      }));`;
    const out = (await net.run(script)) as Record<string, string | number>;
    expect(String(out.collectorTrusted), 'the collector from a session network').toMatch(/^unreachable/);
    expect(String(out.collectorSessions), "the sessions' receiver from a session network").toMatch(
      /^unreachable/,
    );
    expect(out.noCredential).toBe(401);
    expect(out.badCredential).toBe(401);
    expect(out.grpcNoCredential).toBe(16);
    expect(out.alice).toBe(200);

    // The files: alice's session holds the record, as hers; bob's holds his own only, unchanged.
    const aliceRecord = await waitFor(
      "the record alice sent is not in her session's files",
      async () =>
        (await sessionRecords(e2eStack.telemetryDir, 'logs', alice.session)).find((r) =>
          str(r.item, 'marker')?.includes(forged),
        ),
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(str(aliceRecord.item, 'user.name')).toEqual(['alice']);
    expect(str(aliceRecord.item, 'session.id')).toEqual([alice.session]);
    expect(str(aliceRecord.item, 'telemetry.source')).toEqual(['reported']);
    const bobs = await waitFor(
      "bob's own record is not in his session's files",
      async () => {
        const r = await sessionRecords(e2eStack.telemetryDir, 'logs', bob.session);
        return r.some((x) => str(x.item, 'marker')?.includes(original)) ? r : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(bobs.map((r) => str(r.item, 'marker'))).toEqual([[original]]);
    expect(str(bobs[0]?.item, 'user.name')).toEqual(['bob']);

    // VictoriaLogs: the same.
    const inVl = await waitFor(
      'VictoriaLogs does not hold the record alice sent',
      async () => {
        const e = await vlQuery(
          e2eStack.victorialogs,
          `${sessionFilter(alice.session)} marker:=${JSON.stringify(forged)}`,
        );
        return e.length ? e : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(inVl).toHaveLength(1);
    expect(inVl[0]?.['user.name']).toBe('alice');
    expect(inVl[0]?.['telemetry.source']).toBe('reported');
    const bobInVl = await waitFor(
      "VictoriaLogs does not hold bob's own record",
      async () => {
        const e = await vlQuery(e2eStack.victorialogs, sessionFilter(bob.session));
        return e.length ? e : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1000 },
    );
    expect(bobInVl.map((e) => e.marker)).toEqual([original]);
    expect(bobInVl[0]?.['user.name']).toBe('bob');
  }, 240_000);

  it("keeps the MCP servers' spans of a session whatever its client asks (X-Claude-Code-Telemetry: 0)", async () => {
    // file-ops on the session network under its service name, as `pnpm session` connects it.
    const user = 'mcp-telemetry';
    const workspace = join(e2eStack.composeEnv.WORKSPACES_DIR as string, user);
    mkdirSync(workspace, { recursive: true, mode: 0o777 });
    const marker = `listed-${randomUUID()}.txt`;
    writeFileSync(join(workspace, marker), 'x\n', { mode: 0o666 });
    const off = randomUUID();
    const on = randomUUID();
    const leaveFileOps = await net.join('mcp-file-ops');
    try {
      const script = `${MCP_CALL}
        const call = (credential, session, extra) =>
          mcpInitAndCall(${JSON.stringify(mcpUrl('mcp-file-ops'))}, { authorization: 'Bearer ' + credential, 'x-claude-code-session-id': session, ...extra }, 'list_directory', { path: '.' });
        console.log(JSON.stringify({
          off: await call(${JSON.stringify(net.credential(user, off))}, ${JSON.stringify(off)}, { 'X-Claude-Code-Telemetry': '0' }),
          on: await call(${JSON.stringify(net.credential(user, on))}, ${JSON.stringify(on)}, {}),
        }));`;
      const out = (await net.run(script)) as Record<'off' | 'on', McpAnswer>;
      for (const k of ['off', 'on'] as const) {
        expect(out[k].init, `${k}: initialize`).toBe(200);
        expect(out[k].status, `${k}: tools/call`).toBe(200);
        expect(out[k].body, `${k}: the listing of ${user}'s workspace`).toContain(marker);
      }
    } finally {
      await leaveFileOps();
    }

    // Each call's span, from mcp-file-ops, under its credential's session: the header changed nothing.
    for (const [what, session] of [
      ['with X-Claude-Code-Telemetry: 0', off],
      ['without the header (the control)', on],
    ] as const) {
      const spans = await waitFor(
        `no mcp-file-ops span of the list_directory call ${what} (session ${session}) in the telemetry files`,
        async () => {
          const found = await serviceSpans(e2eStack.telemetryDir, 'mcp-file-ops', session);
          return found.some((x) => x.name === 'tools/call list_directory') ? found : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 500 },
      );
      const span = spans.find((x) => x.name === 'tools/call list_directory');
      expect(span?.attrs, what).toMatchObject({
        'session.id': session,
        'gen_ai.tool.name': 'list_directory',
        'mcp.tool.outcome': 'success',
      });
      expect(
        (await sessionRecords(e2eStack.telemetryDir, 'traces', session)).map((r) => r.name),
        `${what}: the session's spans in the files`,
      ).toContain('tools/call list_directory');
    }
  }, 120_000);
});
