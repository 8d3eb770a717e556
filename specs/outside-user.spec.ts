// Recipe: an outside user (issue 22 item 7). A session of one user (the attacker) tries, from inside its own
// container, as its uid 1000 with its environment, mounts and networks (what Claude Code's Bash tool has there),
// every way to read, change or steal what is another user's (the victim): his live session and his finished one.
// Each attempt is refused, and paired with a positive control: the same operation works where it is allowed. The
// victim's finished record and his workspace hash the same (names, sizes, sha256) before and after, and his live
// session completes with its telemetry. The scripts of the attacks are in support/outside-user.ts. Over 300 lines:
// one `it` per attack with its control, sharing the two users' sessions (started once: each lives two minutes).
import { randomBytes, randomUUID } from 'node:crypto';
import { resolve4 } from 'node:dns/promises';
import { chownSync, existsSync, readdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { $ } from 'zx';
import { prepareUserWorkspace } from '../scripts/lib/session/prepare-user-workspace.ts';
import { mintSessionCredential } from '../scripts/lib/session/session-credential.ts';
import type { SessionOutcome } from '../scripts/lib/session/session-run.ts';
import { waitForSessionInSinks } from '../scripts/lib/sinks/session-sinks.ts';
import { NODE_UID } from '../scripts/lib/stack/local-env.ts';
import * as ou from './support/outside-user.ts';
import { runStackSession, type StackInfo, stack } from './support/stack.ts';

/** A name outside the stack that this machine resolves: the npm registry it installs from (pnpm sets it). */
const EXTERNAL_NAME = new URL(process.env.npm_config_registry || 'https://registry.npmjs.org/').hostname;

const WAIT = 'outside-user-wait'; // about two minutes up, touching nothing
const tag = randomBytes(3).toString('hex');
const alice = `alice-${tag}`; // the attacker
const bob = `bob-${tag}`; // the victim
const id = { a: randomUUID(), a2: randomUUID(), b0: randomUUID(), b: randomUUID() };
const BOB_SECRET = `bob-secret-${randomBytes(12).toString('hex')}`;
const BACKENDS: [string, number][] = [
  ['otel-collector', 4318],
  ['jaeger', 16686],
  ['prometheus', 9090],
  ['victorialogs', 9428],
  ['anthropic-replay', 8080],
];
type Cred = Record<
  string,
  { fileOps: { status: number; body: string }; gateway: { status: number; body: string } }
>;

describe('an outside user, from inside a session, against another user', () => {
  let e2eStack: StackInfo;
  let aRun: Promise<SessionOutcome>;
  let bRun: Promise<SessionOutcome>;
  let aC: string;
  let bC: string;
  let bNet: string;
  let aSubnet: string;
  let aToken: string;
  let image: string;
  let bobWs: string;
  let b0Dir: string;
  let before: { record: string[]; workspace: string[] };
  const capped = () => ({ ...e2eStack, composeEnv: { ...e2eStack.composeEnv, SESSION_MAX_PER_USER: '1' } });

  beforeAll(async () => {
    e2eStack = stack();
    image = e2eStack.composeEnv.SESSION_GATEWAY_IMAGE as string;
    aC = ou.sessionContainer(e2eStack.project, id.a);
    bC = ou.sessionContainer(e2eStack.project, id.b);
    bNet = ou.sessionNetworkName(e2eStack.project, id.b);
    // Bob's workspace (his quota filesystem, as a session gets it) with a secret named like the race's target.
    bobWs = prepareUserWorkspace(e2eStack.composeEnv.WORKSPACES_DIR as string, bob, undefined, {
      imagesDir: e2eStack.composeEnv.WORKSPACE_IMAGES_DIR,
      size: e2eStack.composeEnv.WORKSPACE_QUOTA,
    });
    writeFileSync(join(bobWs, 'x'), BOB_SECRET, { mode: 0o600 });
    chownSync(join(bobWs, 'x'), NODE_UID, NODE_UID);
    aRun = runStackSession(e2eStack, { script: WAIT, user: alice, sessionId: id.a });
    aRun.catch(() => {});
    // Bob's finished session (the demo writes into his workspace), while alice's starts.
    const b0 = await runStackSession(e2eStack, { script: 'demo', user: bob, sessionId: id.b0 });
    expect(b0.exitCode, b0.output.slice(-1500)).toBe(0);
    b0Dir = b0.dir;
    await ou.waitForContainer(aC, aRun);
    before = { record: ou.hashTree(b0Dir), workspace: ou.hashTree(bobWs) };
    // Bob's live session, under a cap of one session per user while alice runs hers (attack 7's control).
    bRun = runStackSession(capped(), { script: WAIT, user: bob, sessionId: id.b });
    bRun.catch(() => {});
    await ou.waitForContainer(bC, bRun);
    const net = ou.sessionNetworkName(e2eStack.project, id.a);
    aSubnet = (
      await $({ quiet: true })`docker network inspect -f ${'{{(index .IPAM.Config 0).Subnet}}'} ${net}`
    ).stdout.trim();
    aToken = (await ou.execIn<{ env: Record<string, string> }>(aC, ou.ENV_DUMP)).env
      .MCP_SESSION_TOKEN as string;
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled([aRun, bRun]);
  }, 240_000);

  it('1 records: no session record anywhere in its container (no /sessions, no record of bob); its own spool works', async () => {
    const r = await ou.execIn<Record<string, unknown> & { recordFiles: string[]; mounts: string[] }>(
      aC,
      ou.RECORDS_PROBE,
      { OWN_ID: id.a, NEEDLES: JSON.stringify([bob, id.b0, id.b]) },
    );
    expect(r.sessionsDir).toBe('error ENOENT');
    expect(r.recordFiles.filter((f) => !f.startsWith(`/spool/${id.a}/`))).toEqual([]);
    expect(r.needleHits).toEqual([]);
    expect(
      r.mounts.filter((m) => m.includes(e2eStack.sessionsDir) || m.includes(bob) || / \/sessions/.test(m)),
    ).toEqual([]);
    // Positive: the search finds the session's own id in its own spool, which it may write.
    expect(r.ownHits).toContain(`/spool/${id.a}/metadata.json`);
    expect(r.ownSpool).toBe('mine');
    expect(ou.hashTree(b0Dir)).toEqual(before.record);
  });

  it("3 network: bob's container, his network's services and the stores are out of reach; its own services answer", async () => {
    // Positive: the machine itself resolves the outside name the session must not (the registry it installs from).
    expect((await resolve4(EXTERNAL_NAME)).length, `the host resolves ${EXTERNAL_NAME}`).toBeGreaterThan(0);
    const bobIp = await ou.addressOn(bC, bNet);
    const fileOpsOnBob = await ou.addressOn(`${e2eStack.project}-mcp-file-ops-1`, bNet);
    const backends = await Promise.all(
      BACKENDS.map(async ([n, port]) => [
        n,
        await ou.addressOn(`${e2eStack.project}-${n}-1`, `${e2eStack.project}_default`),
        port,
      ]),
    );
    expect(bobIp).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    await ou.execDetached(
      bC,
      "require('node:http').createServer((q, r) => r.end('bob-listener')).listen(9999)",
    );
    // Positive: bob's listener answers over his own network (a container of the spec's on it).
    const control = await ou.runOn<{ got: string }>(
      bNet,
      image,
      `let got = ''; for (let i = 0; i < 20 && !got; i++) { got = await fetch('http://' + process.env.BOB_IP + ':9999/').then((r) => r.text(), () => ''); if (!got) await new Promise((r) => setTimeout(r, 250)); } console.log(JSON.stringify({ got }));`,
      { BOB_IP: bobIp },
    );
    expect(control.got).toBe('bob-listener');
    const targets = {
      tcp: [
        ['bob', bobIp, 9999],
        ['fileOpsOnBobsNetwork', fileOpsOnBob, 8080],
        ...backends.map(([n, ip, port]) => [n, ip, port]),
      ],
      // ...and a name outside the stack: a DNS query is a way out too (data in the name).
      names: [...BACKENDS.map(([n]) => n), bC, EXTERNAL_NAME, 'session-gateway'],
      http: [
        ['bob', `http://${bobIp}:9999/`],
        ['gateway', 'http://session-gateway:8080/health'],
        ['fileOps', 'http://mcp-file-ops:8080/health'],
      ],
      proxy: [
        ['bob', 'GET', `http://${bobIp}:9999/`],
        ['bobConnect', 'CONNECT', `${bobIp}:443`],
        ['collector', 'GET', 'http://otel-collector:4318/v1/logs'],
        ['replay', 'GET', 'http://anthropic-replay:8080/health'],
        ['jaeger', 'GET', 'http://jaeger:16686/'],
      ],
    };
    const r = await ou.execIn<Record<'tcp' | 'names' | 'http' | 'proxy', Record<string, string | number>>>(
      aC,
      ou.NETWORK_PROBE,
      { TARGETS: JSON.stringify(targets) },
    );
    console.info(`outside-user network: ${JSON.stringify(r)}`);
    for (const [label, v] of Object.entries(r.tcp)) expect(v, `tcp ${label}`).not.toBe('open');
    const { 'session-gateway': gatewayName, ...names } = r.names;
    for (const [name, v] of Object.entries(names)) expect(String(v), `resolve ${name}`).toMatch(/^error /);
    expect(String(gatewayName)).toMatch(/^resolved /); // positive: Docker's DNS answers the session's own names
    expect(String(r.http.bob)).toMatch(/^unreachable/);
    for (const [label, v] of Object.entries(r.proxy)) expect(String(v), `proxy ${label}`).toMatch(/^403/);
    // Positive: the session's own services.
    expect(String(r.http.gateway)).toMatch(/^200 /);
    expect(String(r.http.fileOps)).toMatch(/^200 /);
  });

  it('4 credentials: no stack secret in its container; its credential works from it only', async () => {
    const dump = await ou.execIn<{ env: Record<string, string>; environs: string[] }>(aC, ou.ENV_DUMP);
    const text = [JSON.stringify(dump.env), ...dump.environs].join('\n');
    for (const name of ['MCP_SESSION_SECRET', 'MCP_AUTH_TOKEN']) {
      expect(text.includes(name), `${name} named in the container`).toBe(false);
      expect(text.includes(e2eStack.composeEnv[name] as string), `${name}'s value in the container`).toBe(
        false,
      );
    }
    const stackKey = e2eStack.composeEnv.ANTHROPIC_API_KEY;
    if (stackKey)
      expect(text.includes(stackKey), "the stack's ANTHROPIC_API_KEY in the container").toBe(false);
    expect(
      dump.env.ANTHROPIC_API_KEY === dump.env.MCP_SESSION_TOKEN,
      'ANTHROPIC_API_KEY is the session credential',
    ).toBe(true);
    expect(aToken.startsWith('cct1.')).toBe(true);
    await ou.execIn(
      aC,
      "import { writeFileSync } from 'node:fs'; writeFileSync('/workspace/own.txt', 'alice-own'); console.log('{}');",
    );
    // Positive: from its own container, the credential reads its own file and sends telemetry.
    const own = await ou.execIn<Cred>(aC, ou.CREDENTIAL_PROBE, { TOKENS: '{"own":"MCP_SESSION_TOKEN"}' });
    expect(own.own?.fileOps.status).toBe(200);
    expect(own.own?.fileOps.body).toContain('alice-own');
    expect(own.own?.gateway.status).toBe(200);
    // Stolen: the same credential from the stack's default network and from bob's session network.
    for (const net of [`${e2eStack.project}_default`, bNet]) {
      const r = await ou.runOn<Cred>(net, image, ou.CREDENTIAL_PROBE, {
        TOKENS: '{"stolen":"STOLEN"}',
        STOLEN: aToken,
      });
      expect(r.stolen?.fileOps.status, net).toBe(401);
      expect(r.stolen?.fileOps.body, net).toContain("outside its session's network");
      expect(r.stolen?.fileOps.body).not.toContain('alice-own');
      expect(r.stolen?.gateway.status, net).toBe(401);
    }
  });

  it('5 file-ops symlink race: thousands of swaps of d between a folder and links out; nothing read or written outside', async () => {
    const r = await ou.execIn<
      Record<string, number> & {
        errors: Record<string, number>;
        unexpected: string[];
        writePaths: Record<string, number>;
        realX: string;
      }
    >(aC, ou.RACE, { BOB: bob, MS: '20000', MAX: '3000' }, 90_000);
    console.info(`outside-user race: ${JSON.stringify({ ...r, unexpected: r.unexpected.length })}`);
    const seen = [...Object.keys(r.errors), ...r.unexpected].join('\n');
    expect(seen.includes(BOB_SECRET), "bob's secret read").toBe(false);
    expect(seen.includes(e2eStack.composeEnv.MCP_SESSION_SECRET as string), "the server's secret read").toBe(
      false,
    );
    expect(seen).not.toMatch(/MCP_SESSION_SECRET|MCP_AUTH_TOKEN|OTEL_EXPORTER_OTLP_ENDPOINT/);
    expect(r.outsideReads, r.unexpected.join('\n---\n').slice(0, 2000)).toBe(0);
    // Writes land in the attacker's folder, under the name it has when the server is done (a swap renames it).
    expect(Object.keys(r.writePaths).filter((p) => !/^(d|real)\/x$/.test(p))).toEqual([]);
    expect(readFileSync(join(bobWs, 'x'), 'utf8')).toBe(BOB_SECRET);
    expect(ou.hashTree(bobWs)).toEqual(before.workspace);
    // Positive: the real folder was read (and written) through the same path, between the swaps.
    expect(r.positiveReads).toBeGreaterThan(0);
    expect(r.swaps).toBeGreaterThan(100);
  });

  it("6 quota: it fills its own workspace to ENOSPC; bob's workspace keeps its room, his session runs", async () => {
    const bobFree = () => {
      const st = statfsSync(bobWs);
      return st.bavail * st.bsize;
    };
    const bobBefore = bobFree();
    const r = await ou.execIn<{
      small: string;
      error: string | null;
      written: number;
      before: { size: number; avail: number };
      full: { avail: number };
      after: { avail: number };
    }>(aC, ou.FILL);
    console.info(`outside-user quota: ${JSON.stringify(r)}`);
    expect(r.small).toBe('small'); // positive: a small write succeeds
    expect(r.error).toBe('ENOSPC');
    expect(r.before.size).toBeLessThanOrEqual(64 << 20); // WORKSPACE_QUOTA=64m of the e2e stack
    expect(r.written).toBeLessThanOrEqual(r.before.avail);
    expect(r.full.avail).toBeLessThan(1 << 20);
    expect(bobFree()).toBe(bobBefore);
    expect(await ou.isRunning(bC)).toBe(true);
  });

  it('7 caps: a second concurrent session of the attacker is refused at SESSION_MAX_PER_USER=1; bob started under it', async () => {
    expect(await ou.isRunning(aC)).toBe(true);
    await expect(runStackSession(capped(), { script: WAIT, user: alice, sessionId: id.a2 })).rejects.toThrow(
      new RegExp(`user ${alice} already runs 1 session\\(s\\).*SESSION_MAX_PER_USER=1`),
    );
    expect(existsSync(join(e2eStack.sessionsDir, id.a2))).toBe(false);
    const nets = await $({
      quiet: true,
    })`docker network ls -q --filter ${`name=${ou.sessionNetworkName(e2eStack.project, id.a2)}`}`;
    expect(nets.stdout.trim()).toBe('');
    expect(await ou.isRunning(aC)).toBe(true);
    // Positive: bob's session was started under the same cap while alice's ran, and runs.
    expect(await ou.isRunning(bC)).toBe(true);
  });

  it("2 spool: links, a FIFO, a huge file and a forged metadata.json are left behind; the record is the attacker's", async () => {
    expect(await ou.isRunning(aC)).toBe(true);
    const p = await ou.execIn<{ bigError: string | null; bigWritten: number; listing: string[] }>(
      aC,
      ou.PLANT,
      {
        OWN_ID: id.a,
        BOB: bob,
        BOB_ID: id.b,
      },
    );
    console.info(`outside-user spool: ${JSON.stringify(p)}`);
    expect(p.bigError).toBe('ENOSPC'); // the spool is a 256m tmpfs
    expect(p.bigWritten).toBeLessThan(300 << 20);
    expect(p.listing).toEqual(expect.arrayContaining(['terminal.log fifo', 'transcript-agent-x.jsonl link']));
    const a = await aRun; // no FIFO hang: the host's harvest returns
    const m = a.metadata;
    console.info(
      `outside-user spool record: ${JSON.stringify({ exit: a.exitCode, status: m?.status, user: m?.user, reported: m?.reported, provenance: m?.provenance })}`,
    );
    expect(m?.sessionId).toBe(id.a);
    expect(m?.user).toBe(alice);
    expect(m?.status).toBe(a.exitCode === 0 ? 'completed' : 'failed');
    expect(m?.reported?.refused).toEqual(
      expect.arrayContaining([
        'terminal.log: not a regular file',
        'transcript-agent-x.jsonl: a symbolic link (never followed)',
        `transcript-agent-big.jsonl: ${(64 << 20) + 1} bytes, over its bound of ${64 << 20}`,
      ]),
    );
    const planted = ['terminal.log', 'transcript-agent-x.jsonl', 'transcript-agent-big.jsonl'];
    expect(m?.provenance?.reported.filter((f) => planted.includes(f))).toEqual([]);
    expect(m?.provenance?.observed).toEqual(expect.arrayContaining(['user', 'status', 'sessionId']));
    const files = readdirSync(a.dir);
    expect(files.filter((f) => planted.includes(f))).toEqual([]);
    for (const f of files) {
      const t = readFileSync(join(a.dir, f), 'latin1');
      expect(t.includes(`PATH=${process.env.PATH}`) || /\0[A-Z_]+=/.test(t), `environ bytes in ${f}`).toBe(
        false,
      );
    }
    // Positive: the session's own transcript was taken.
    expect(m?.files.transcript).toBe('transcript.jsonl');
    expect(m?.provenance?.reported).toContain('transcript.jsonl');
    expect(readFileSync(join(a.dir, 'transcript.jsonl'), 'utf8')).toContain(id.a);
    expect(ou.hashTree(b0Dir)).toEqual(before.record);
  });

  it('4b credentials: once its session ended, its credential is refused as ended, even from its old subnet', async () => {
    await aRun;
    const c = (name: string) => `${e2eStack.project}-${name}-1`;
    const net = `${e2eStack.project}-ou-${tag}`;
    const same = await $({
      quiet: true,
      nothrow: true,
    })`docker network create --internal --subnet ${aSubnet} ${net}`;
    if (same.exitCode !== 0) await $({ quiet: true })`docker network create --internal ${net}`;
    try {
      for (const svc of ['mcp-file-ops', 'session-gateway'])
        await $({ quiet: true })`docker network connect --alias ${svc} ${net} ${c(svc)}`;
      const subnet = (
        await $({ quiet: true })`docker network inspect -f ${'{{(index .IPAM.Config 0).Subnet}}'} ${net}`
      ).stdout.trim();
      console.info(
        `outside-user: old subnet ${aSubnet} ${same.exitCode === 0 ? 'recreated' : `not recreated (${same.stderr.trim()}): ${subnet}`}`,
      );
      const probeId = randomUUID();
      const minted = mintSessionCredential(e2eStack.composeEnv.MCP_SESSION_SECRET as string, {
        user: alice,
        sessionId: probeId,
        expiresAt: Date.now() + 600_000,
        network: subnet,
      });
      const tokens = { TOKENS: '{"stolen":"STOLEN","minted":"MINTED"}', STOLEN: aToken, MINTED: minted };
      const r = await ou.runOn<Cred>(net, image, ou.CREDENTIAL_PROBE, tokens);
      expect(r.stolen?.fileOps.status).toBe(401);
      expect(r.stolen?.fileOps.body).toContain(
        same.exitCode === 0
          ? 'session credential of a session that has ended'
          : "outside its session's network",
      );
      expect(r.stolen?.gateway.status).toBe(401);
      // Positive: a credential for this network is good here, until its session is revoked.
      expect(r.minted?.fileOps.status).toBe(200);
      expect(r.minted?.fileOps.body).toContain('alice-own');
      writeFileSync(
        join(e2eStack.composeEnv.SESSION_REVOKED_DIR as string, probeId),
        `${new Date().toISOString()}\n`,
      );
      const after = await ou.runOn<Cred>(net, image, ou.CREDENTIAL_PROBE, tokens);
      expect(after.minted?.fileOps.status).toBe(401);
      expect(after.minted?.fileOps.body).toContain('session credential of a session that has ended');
      expect(after.minted?.gateway.status).toBe(401);
    } finally {
      for (const svc of ['mcp-file-ops', 'session-gateway'])
        await $({ quiet: true, nothrow: true })`docker network disconnect --force ${net} ${c(svc)}`;
      await $({ quiet: true, nothrow: true })`docker network rm ${net}`;
    }
  });

  it('bob: his live session completes with its telemetry; his finished record and his workspace are unchanged', async () => {
    const b = await bRun;
    expect(b.exitCode, b.output.slice(-1500)).toBe(0);
    expect(b.metadata).toMatchObject({ user: bob, status: 'completed' });
    const found = await waitForSessionInSinks(id.b, e2eStack, 60_000);
    expect(found.events.length).toBeGreaterThan(0);
    expect(new Set(found.events.map((e) => e['user.name']))).toEqual(new Set([bob]));
    for (const f of readdirSync(b.dir)) {
      const t = readFileSync(join(b.dir, f), 'utf8');
      expect(t.includes(alice) || t.includes(id.a), `the attacker in bob's ${f}`).toBe(false);
    }
    expect(ou.hashTree(b0Dir)).toEqual(before.record);
    expect(ou.hashTree(bobWs)).toEqual(before.workspace);
  });
});
