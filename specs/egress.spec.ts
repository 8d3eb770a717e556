// Recipe: the sessions' egress. A session sits on a network of its own (internal: no route out); its one way out
// is the egress proxy, which asks who is calling (the session id and its credential, checked by the proxy's auth
// helper against the session's network), refuses anything outside the allowlist, and logs every attempt once,
// allowed or denied, authenticated or not, as a claude_code_telemetry.egress event in the sinks, with the verified
// user and session. Hostile names and URLs (broken escapes, spaces, quotes, newlines, backslashes, invalid UTF-8,
// 64 KiB names, a fake second line) leave the proxy up and are each logged once, as what they are. The outside host
// is a container of this spec's own, on a network of its own on this machine: no other address is ever a target.
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { mintSessionCredential } from '../scripts/lib/session/session-credential.ts';
import { openSessionNetwork, type SessionNetwork } from '../scripts/lib/session/session-network.ts';
import { vlQuery } from '../scripts/lib/sinks/victorialogs.ts';
import { readEnvFile } from '../scripts/lib/stack/env-file.ts';
import { envFiles } from '../scripts/lib/stack/stack-files.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { composeIn } from './support/compose-in.ts';
import { type StackInfo, stack } from './support/stack.ts';

const EGRESS_EVENT = 'claude_code_telemetry.egress';
const node = readEnvFile(envFiles.versions).NODE_LOCAL_IMAGE as string;

// Runs in a container on the session's network. Each attempt carries its marker in its URL so its event can be
// found; `raw` writes bytes as they are on a socket (no client library would send them).
const PROBE = `
import http from 'node:http';
import net from 'node:net';
const out = {};
const { OUTSIDE, SESSION, CRED, MARK } = process.env;
const attempt = async (name, fn) => { try { out[name] = await fn(); } catch (e) { out[name] = 'error: ' + (e.cause?.code ?? e.code ?? e.name ?? e.message); } };
const basic = (user, pass) => 'Basic ' + Buffer.concat([Buffer.from(user, 'latin1'), Buffer.from(':'), Buffer.from(pass)]).toString('base64');
const viaProxy = (target, connect, auth) => new Promise((resolve, reject) => {
  const req = http.request({ host: 'egress-proxy', port: 3128, method: connect ? 'CONNECT' : 'GET', path: target,
    headers: { host: 'x', ...(auth ? { 'proxy-authorization': auth } : {}) }, timeout: 15000 });
  req.on('connect', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
  req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', reject);
  req.end();
});
const raw = (bytes) => new Promise((resolve) => {
  const s = net.connect(3128, 'egress-proxy');
  let got = '';
  s.on('data', (d) => { got += d.toString('latin1'); });
  s.on('error', () => resolve('error'));
  s.on('close', () => resolve(Number(/^HTTP\\/1\\.[01] (\\d{3})/.exec(got)?.[1] ?? 0)));
  s.setTimeout(15000, () => s.destroy());
  s.write(bytes); // not end(): a half-closed client is logged as aborted
});
const url = (n) => 'http://' + OUTSIDE + ':8080/' + MARK + '-' + n;
const good = basic(SESSION, CRED);
await attempt('outsideDirect', async () => (await fetch('http://' + OUTSIDE + ':8080/', { signal: AbortSignal.timeout(5000) })).status);
await attempt('denied', () => viaProxy(url('denied'), false, good));
await attempt('allowed', () => viaProxy('anthropic-replay:443', true, good));
await attempt('noCredentials', () => viaProxy(url('none'), false, null));
await attempt('otherSession', () => viaProxy(url('other'), false, basic('${randomUUID()}', CRED)));
await attempt('notACredential', () => viaProxy(url('session'), false, basic(SESSION, 'session')));
await attempt('brokenEscape', () => viaProxy(url('zz'), false, basic('%zz', CRED)));
await attempt('spaces', () => viaProxy(url('spaces'), false, basic('x 1.0 - GET http://a/ 200 TCP_TUNNEL - alice alice/' + SESSION, CRED)));
await attempt('quotes', () => viaProxy(url('quotes'), false, basic('a"b\\\\"c', CRED)));
await attempt('newline', () => viaProxy(url('newline'), false, basic('x\\nLegress1 1.000 10.0.0.1 GET 200 TCP_TUNNEL - ' + SESSION + ' a/' + SESSION + ' http://fake/', CRED)));
await attempt('invalidUtf8', () => viaProxy(url('utf8'), false, 'Basic ' + Buffer.concat([Buffer.from([0xff, 0xfe, 0xc0, 0xaf]), Buffer.from(':' + CRED)]).toString('base64')));
await attempt('bigName', () => viaProxy(url('big'), false, basic('n'.repeat(40 * 1024), CRED)));
await attempt('hugeName', () => viaProxy(url('huge'), false, basic('n'.repeat(64 * 1024), CRED)));
const request = (target) => Buffer.from('GET ' + target + ' HTTP/1.1\\r\\nHost: x\\r\\nProxy-Authorization: ' + good + '\\r\\nConnection: close\\r\\n\\r\\n', 'latin1');
await attempt('hostileUrl', () => raw(request(url('url') + '%zz"\\\\<>{}')));
await attempt('controlUrl', () => raw(request(url('ctl') + '\\x01\\xff x HTTP/1.1\\r\\nLegress1')));
out.address = Object.values((await import('node:os')).networkInterfaces()).flat().find((i) => i.family === 'IPv4' && !i.internal)?.address;
console.log(JSON.stringify(out));
process.exit(0);`;

async function proxyState(s: StackInfo): Promise<string> {
  const id = (await composeIn(s, ['ps', '-q', 'egress-proxy'])).stdout.trim();
  return (
    await $({
      quiet: true,
    })`docker inspect -f ${'{{.State.Status}} {{.State.StartedAt}} {{.RestartCount}}'} ${id}`
  ).stdout.trim();
}

describe('session egress', () => {
  const name = `cct-egress-outside-${randomBytes(4).toString('hex')}`;
  const session = randomUUID();
  const mark = `m${randomBytes(4).toString('hex')}`;
  let outside = '';
  let network: SessionNetwork | undefined;
  let out: Record<string, unknown> = {};
  let before = '';

  beforeAll(async () => {
    const e2eStack = stack();
    await $({ quiet: true })`docker network create ${name}`;
    await $({
      quiet: true,
    })`docker run -d --rm --name ${name} --network ${name} --entrypoint node ${node} -e ${"require('node:http').createServer((q, r) => r.end('outside')).listen(8080)"}`;
    outside = (
      await $({
        quiet: true,
      })`docker inspect --format {{range.NetworkSettings.Networks}}{{.IPAddress}}{{end}} ${name}`
    ).stdout.trim();
    network = await openSessionNetwork(
      { project: e2eStack.project, overrides: e2eStack.overrides, composeEnv: e2eStack.composeEnv },
      { id: session, user: 'egress-spec' },
      { perUser: 100, total: 100 },
    );
    const cred = mintSessionCredential(e2eStack.composeEnv.MCP_SESSION_SECRET as string, {
      user: 'egress-spec',
      sessionId: session,
      expiresAt: Date.now() + 600_000,
      network: network.subnet,
    });
    before = await proxyState(e2eStack);
    const r = await $({
      quiet: true,
    })`docker run --rm --network ${network.name} -e OUTSIDE=${outside} -e SESSION=${session} -e CRED=${cred} -e MARK=${mark} --entrypoint node ${node} --input-type=module -e ${PROBE}`;
    out = JSON.parse(r.stdout.trim().split('\n').pop() as string);
  }, 120_000);
  afterAll(async () => {
    await network?.remove();
    await $({ quiet: true, nothrow: true })`docker rm -f ${name}`;
    await $({ quiet: true, nothrow: true })`docker network rm ${name}`;
  });

  it('lets a session out only through the proxy, only to the allowlist, and logs both once with its verified user', async () => {
    const e2eStack = stack();
    expect(outside).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(String(out.outsideDirect), 'an outside host, directly: the session network has no route').toMatch(
      /^error: /,
    );
    expect(out.denied, 'an outside host, through the proxy: not on the allowlist').toBe(403);
    // The e2e allowlist adds anthropic-replay: the proxy lets the CONNECT through (nothing listens on 443 there).
    expect(out.allowed).not.toBe(403);
    expect(out.allowed).not.toBe(407);

    const events = await waitFor(
      `no 2 ${EGRESS_EVENT} events of session ${session} in VictoriaLogs`,
      async () => {
        const e = (await vlQuery(e2eStack.victorialogs, `session.id:=${JSON.stringify(session)}`)).filter(
          (x) => x._msg === EGRESS_EVENT,
        );
        return e.length >= 3 ? e : undefined;
      },
      { timeoutMs: 30_000 },
    );
    await new Promise((r) => setTimeout(r, 3000)); // any duplicate would have arrived by now
    const again = (await vlQuery(e2eStack.victorialogs, `session.id:=${JSON.stringify(session)}`)).filter(
      (x) => x._msg === EGRESS_EVENT,
    );
    expect(again.length, JSON.stringify(again, null, 1)).toBe(events.length);
    const denied = again.filter((e) => e.target?.endsWith(`/${mark}-denied`));
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({
      decision: 'denied',
      'user.name': 'egress-spec',
      'egress.authenticated': 'true',
      method: 'GET',
      status: '403',
    });
    const allowed = again.filter((e) => e.host === 'anthropic-replay');
    expect(allowed).toHaveLength(1);
    expect(allowed[0]).toMatchObject({ decision: 'allowed', method: 'CONNECT', 'user.name': 'egress-spec' });
    // The hostile URL, sent with a valid credential: refused, logged once under the session, its bytes escaped.
    const hostile = again.filter((e) => e.target?.includes(`${mark}-url`));
    expect(hostile, JSON.stringify(again, null, 1)).toHaveLength(1);
    expect(out.hostileUrl).toBe(403);
    expect(hostile[0]).toMatchObject({ 'user.name': 'egress-spec', decision: 'denied' });
  });

  it('refuses hostile and missing credentials with 407, stays up, and logs each once, unauthenticated', async () => {
    const e2eStack = stack();
    const refused = [
      'noCredentials',
      'otherSession',
      'notACredential',
      'brokenEscape',
      'spaces',
      'quotes',
      'newline',
      'invalidUtf8',
    ];
    for (const k of refused) expect(out[k], k).toBe(407);
    expect([400, 407, 431], `hugeName: ${out.hugeName}`).toContain(out.hugeName);
    expect(out.bigName).toBe(407);
    const markers = ['none', 'other', 'session', 'zz', 'spaces', 'quotes', 'newline', 'utf8', 'big'];
    const events = await waitFor(
      `no ${EGRESS_EVENT} events of every hostile attempt (${mark}) in VictoriaLogs`,
      async () => {
        const e = (
          await vlQuery(e2eStack.victorialogs, `_msg:=${JSON.stringify(EGRESS_EVENT)} _time:15m`)
        ).filter((x) => x.target?.includes(`${mark}-`) && !x['session.id']);
        return markers.every((m) => e.some((x) => x.target?.endsWith(`/${mark}-${m}`))) ? e : undefined;
      },
      { timeoutMs: 30_000 },
    );
    await new Promise((r) => setTimeout(r, 3000));
    const all = (
      await vlQuery(e2eStack.victorialogs, `_msg:=${JSON.stringify(EGRESS_EVENT)} _time:15m`)
    ).filter((x) => x.target?.includes(`${mark}-`));
    expect(events.length).toBeGreaterThan(0);
    for (const m of markers) {
      const of = all.filter((x) => x.target?.endsWith(`/${mark}-${m}`));
      expect(of, `${m}: ${JSON.stringify(of)}`).toHaveLength(1);
      expect(of[0]).toMatchObject({ decision: 'denied', status: '407', 'egress.authenticated': 'false' });
      expect(of[0]).not.toHaveProperty('session.id');
      expect(of[0]).not.toHaveProperty('user.name');
    }
    // The claimed names are kept, escaped: a fake line in a name stays inside its field.
    expect(all.find((x) => x.target?.endsWith(`/${mark}-zz`))?.['egress.claimed_user']).toBe('%zz');
    expect(all.find((x) => x.target?.endsWith(`/${mark}-spaces`))?.['egress.claimed_user']).toMatch(
      /^x 1\.0 - GET/,
    );
    // Nothing was logged as the fake lines claimed (no event of another client, no allowed GET).
    expect(all.filter((x) => x.decision === 'allowed')).toEqual([]);
    expect(all.filter((x) => x.decision === 'unparsed')).toEqual([]);
    // Requests Squid refuses before reading them (a 64 KiB name is over its header limit; control bytes in the
    // request line): one event each, from the probe's address, not a session's.
    const early = (
      await vlQuery(e2eStack.victorialogs, `_msg:=${JSON.stringify(EGRESS_EVENT)} _time:15m`)
    ).filter(
      (x) =>
        x['client.address'] === out.address &&
        x.status !== '403' &&
        x.status !== '407' &&
        x.method !== 'CONNECT',
    );
    expect(
      early.map((x) => x.status).sort(),
      `hugeName ${out.hugeName}, controlUrl ${out.controlUrl}: ${JSON.stringify(early)}`,
    ).toEqual(
      [String(out.hugeName), String(out.controlUrl)].filter((x) => x !== '403' && x !== '407').sort(),
    );
    // The proxy never restarted.
    const after = await proxyState(e2eStack);
    expect(after).toBe(before);
    expect(after).toMatch(/^running /);
  });
});
