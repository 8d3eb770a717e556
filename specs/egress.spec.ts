// Recipe: the sessions' egress. A session container sits on an internal network: it reaches the stack's services
// (the scripted API here) and nothing else directly; its one way out is the egress proxy, which refuses anything
// outside the allowlist and logs every attempt, allowed or denied, with the session's name, as a
// claude_code_telemetry.egress event in the sinks. The outside host is a container of this spec's own, on a
// network of its own on this machine: no other address is ever a target.
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { repoRoot } from '../scripts/lib/repo-root.ts';
import { sessionFilter, vlQuery } from '../scripts/lib/sinks/victorialogs.ts';
import { readEnvFile } from '../scripts/lib/stack/env-file.ts';
import { envFiles } from '../scripts/lib/stack/stack-files.ts';
import { waitFor } from '../scripts/lib/wait-for.ts';
import { type StackInfo, stack } from './support/stack.ts';

const EGRESS_EVENT = 'claude_code_telemetry.egress';

/** Runs Node code in a container of the claude-code service (same networks and settings as a session's). */
async function inSessionContainer(
  s: StackInfo,
  code: string,
  env: Record<string, string>,
): Promise<Record<string, unknown>> {
  const r = await $({
    quiet: true,
    env: { ...process.env, ...s.composeEnv },
  })`docker compose -p ${s.project} -f ${join(repoRoot, 'stack/compose.yaml')} -f ${s.override} run --rm -T ${Object.entries(
    env,
  ).flatMap(([k, v]) => ['-e', `${k}=${v}`])} --entrypoint node claude-code --input-type=module -e ${code}`;
  return JSON.parse(r.stdout.trim().split('\n').pop() as string);
}

const PROBE = `
import http from 'node:http';
const out = {};
const attempt = async (name, fn) => { try { out[name] = await fn(); } catch (e) { out[name] = 'error: ' + (e.cause?.code ?? e.code ?? e.name ?? e.message); } };
const viaProxy = (target, connect) => new Promise((resolve, reject) => {
  const auth = 'Basic ' + Buffer.from(process.env.PROXY_USER + ':session').toString('base64');
  const req = http.request({ host: 'egress-proxy', port: 3128, method: connect ? 'CONNECT' : 'GET', path: target,
    headers: { host: target.replace(/^http:\\/\\//, '').split('/')[0], 'proxy-authorization': auth }, timeout: 15000 });
  req.on('connect', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
  req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', reject);
  req.end();
});
await attempt('replayDirect', async () => (await fetch('http://anthropic-replay:8080/health', { signal: AbortSignal.timeout(10000) })).status);
await attempt('outsideDirect', async () => (await fetch('http://' + process.env.OUTSIDE + ':8080/', { signal: AbortSignal.timeout(5000) })).status);
await attempt('outsideViaProxy', () => viaProxy('http://' + process.env.OUTSIDE + ':8080/', false));
await attempt('allowlistedViaProxy', () => viaProxy('anthropic-replay:443', true));
console.log(JSON.stringify(out));
process.exit(0);`;

describe('session egress', () => {
  const name = `cct-egress-outside-${randomBytes(4).toString('hex')}`;
  let outside = '';
  beforeAll(async () => {
    const node = readEnvFile(envFiles.versions).NODE_LOCAL_IMAGE as string;
    await $({ quiet: true })`docker network create ${name}`;
    await $({
      quiet: true,
    })`docker run -d --rm --name ${name} --network ${name} --entrypoint node ${node} -e ${"require('node:http').createServer((q, r) => r.end('outside')).listen(8080)"}`;
    outside = (
      await $({
        quiet: true,
      })`docker inspect --format {{range.NetworkSettings.Networks}}{{.IPAddress}}{{end}} ${name}`
    ).stdout.trim();
  });
  afterAll(async () => {
    await $({ quiet: true, nothrow: true })`docker rm -f ${name}`;
    await $({ quiet: true, nothrow: true })`docker network rm ${name}`;
  });

  it('reaches the stack, not an outside host (directly or through the proxy), and every attempt is logged', async () => {
    const s = stack();
    const session = randomUUID();
    const out = await inSessionContainer(s, PROBE, {
      OUTSIDE: outside,
      PROXY_USER: `egress-spec+${session}`,
    });
    expect(outside).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(out.replayDirect, 'the scripted API, a stack service').toBe(200);
    expect(String(out.outsideDirect), 'an outside host, directly: the internal network has no route').toMatch(
      /^error: /,
    );
    expect(out.outsideViaProxy, 'an outside host, through the proxy: not on the allowlist').toBe(403);
    // The e2e allowlist adds anthropic-replay: the proxy lets the CONNECT through (nothing listens on 443 there).
    expect(out.allowlistedViaProxy).not.toBe(403);
    expect(out.allowlistedViaProxy).not.toBe(407);

    const events = await waitFor(
      `no ${EGRESS_EVENT} events of session ${session} in VictoriaLogs`,
      async () => {
        const e = (await vlQuery(s.victorialogs, sessionFilter(session))).filter(
          (x) => x._msg === EGRESS_EVENT,
        );
        return e.length >= 2 ? e : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const denied = events.find((e) => e.host === outside);
    expect(denied).toMatchObject({
      decision: 'denied',
      'user.name': 'egress-spec',
      method: 'GET',
      status: '403',
    });
    expect(events.find((e) => e.host === 'anthropic-replay')).toMatchObject({
      decision: 'allowed',
      method: 'CONNECT',
    });
  });

  it('refuses an attempt that does not name its session, and logs it too', async () => {
    const s = stack();
    const r = await $({
      quiet: true,
      env: { ...process.env, ...s.composeEnv },
    })`docker compose -p ${s.project} -f ${join(repoRoot, 'stack/compose.yaml')} exec -T egress-proxy node --input-type=module -e ${"const http = await import('node:http'); const r = await new Promise((ok, ko) => { const q = http.request({ host: '127.0.0.1', port: 3128, path: 'http://api.anthropic.com/', headers: { host: 'api.anthropic.com' } }); q.on('response', (x) => ok(x.statusCode)); q.on('error', ko); q.end(); }); console.log(r); process.exit(0);"}`;
    expect(r.stdout.trim()).toBe('407');
  });
});
