// Helpers of specs/outside-user.spec.ts, where one user's live session attacks another's: finding a session's
// container and network by its id, running a script inside it as the session's own uid 1000 (exactly what Claude
// Code's Bash tool can do there: same environment, mounts and networks), running a script in a container of the
// spec's own on a chosen network, and hashing a folder (names, types, sizes, sha256) to show it unchanged.
// Values that are secrets are handed to containers by name only (-e NAME), never on a command line.
// Over 300 lines: the attack scripts are here too, one constant each, so the spec reads as the attack table.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { $ } from 'zx';
import type { SessionOutcome } from '../../scripts/lib/session/session-run.ts';
import { waitFor } from '../../scripts/lib/wait-for.ts';
import { MCP_CALL } from './mcp-call.ts';

/** The names `pnpm session` gives a session's container and network (session-run.ts, session-network.ts). */
export const sessionContainer = (project: string, id: string) => `${project}-session-${id.slice(0, 13)}`;
export const sessionNetworkName = (project: string, id: string) => `${project}-s-${id.slice(0, 13)}`;

const docker = (args: string[], env: Record<string, string> = {}, timeoutMs = 90_000) =>
  $({ quiet: true, nothrow: true, timeout: timeoutMs, env: { ...process.env, ...env } })`docker ${args}`;

/** Waits until a session's container runs; fails at once, with its output, when the session ended first. */
export async function waitForContainer(name: string, run: Promise<SessionOutcome>): Promise<void> {
  let ended: SessionOutcome | Error | undefined;
  run.then(
    (o) => {
      ended = o;
    },
    (e: Error) => {
      ended = e;
    },
  );
  await waitFor(
    () =>
      `session container ${name} is not running${ended ? `: the session ended (${ended instanceof Error ? ended.message : ended.output.slice(-800)})` : ''}`,
    async () => {
      if (ended) throw new Error('ended');
      const r = await docker(['inspect', '-f', '{{.State.Running}}', name]);
      return r.stdout.trim() === 'true' ? true : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250 },
  ).catch((err: Error) => {
    throw ended ? new Error(`session container ${name} never ran: ${String(ended)}`) : err;
  });
}

export const isRunning = async (name: string) =>
  (await docker(['inspect', '-f', '{{.State.Running}}', name])).stdout.trim() === 'true';

function lastJson(what: string, r: { stdout: string; stderr: string; exitCode: number | null }): unknown {
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last);
  } catch {
    throw new Error(
      `${what} printed no JSON (exit ${r.exitCode}): ${r.stdout.slice(-1500)} ${r.stderr.slice(-1500)}`,
    );
  }
}

/** Runs an ES module script in a running container as uid 1000; its last stdout line, parsed as JSON. */
export async function execIn<T>(
  container: string,
  script: string,
  env: Record<string, string> = {},
  timeoutMs = 90_000,
): Promise<T> {
  const names = Object.keys(env).flatMap((k) => ['-e', k]);
  const r = await docker(
    ['exec', '-u', '1000', ...names, container, 'node', '--input-type=module', '-e', script],
    env,
    timeoutMs,
  );
  return lastJson(`the script in ${container}`, r) as T;
}

/** Starts a long-running script in a container, detached (a listener, say). */
export async function execDetached(container: string, script: string): Promise<void> {
  const r = await docker(['exec', '-d', '-u', '1000', container, 'node', '-e', script]);
  if (r.exitCode !== 0) throw new Error(`docker exec -d in ${container} failed: ${r.stderr.trim()}`);
}

/** Runs an ES module script in a fresh container of `image` on `network`; its last stdout line as JSON. */
export async function runOn<T>(
  network: string,
  image: string,
  script: string,
  env: Record<string, string> = {},
): Promise<T> {
  const names = Object.keys(env).flatMap((k) => ['-e', k]);
  const r = await docker(
    [
      'run',
      '--rm',
      '--network',
      network,
      ...names,
      '--entrypoint',
      'node',
      image,
      '--input-type=module',
      '-e',
      script,
    ],
    env,
  );
  return lastJson(`the script on ${network}`, r) as T;
}

/** A container's IPv4 address on one network (empty when it is not on it). */
export async function addressOn(container: string, network: string): Promise<string> {
  const r = await docker([
    'inspect',
    '-f',
    `{{(index .NetworkSettings.Networks "${network}").IPAddress}}`,
    container,
  ]);
  return r.exitCode === 0 ? r.stdout.trim() : '';
}

/** Every entry under `dir`: path, type, size, and the sha256 of a file or the target of a link; sorted. */
export function hashTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    const abs = join(dir, rel);
    const st = lstatSync(abs);
    if (st.isDirectory()) {
      out.push(`${rel || '.'}/ dir`);
      for (const name of readdirSync(abs).sort()) walk(rel ? `${rel}/${name}` : name);
    } else if (st.isSymbolicLink()) out.push(`${rel} link -> ${readlinkSync(abs)}`);
    else if (st.isFile())
      out.push(`${rel} file ${st.size} ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`);
    else out.push(`${rel} other ${st.mode.toString(8)}`);
  };
  walk('');
  return out;
}

// ---- The attacks, each a script run inside the attacker's session container (uid 1000) ----

/**
 * Looks for session records anywhere in the container: /sessions, every file named like a record file, and, in
 * every folder a session can write or was handed (/workspace, /spool, /tmp, HOME), the needles (another user's name
 * and session ids) and its own id (the control: the search does find what is there). Then its own spool's write.
 */
export const RECORDS_PROBE = `
import { readdirSync, lstatSync, readFileSync, writeFileSync, unlinkSync } from 'node:fs';
const { OWN_ID, NEEDLES } = process.env;
const needles = JSON.parse(NEEDLES);
const out = { sessionsDir: null, recordFiles: [], needleHits: [], ownHits: [], scanned: 0, mounts: [] };
try { out.sessionsDir = readdirSync('/sessions'); } catch (e) { out.sessionsDir = 'error ' + e.code; }
const RECORD = /^(metadata\\.json|transcript\\.jsonl|session\\.log|secrets\\.json|terminal\\.log|terminal\\.timing|transcript-agent-.*\\.jsonl)$/;
const SKIP = new Set(['/proc', '/sys', '/dev']);
const WRITABLE = ['/workspace', '/spool', '/tmp', '/home/node'];
const walk = (dir, grep) => {
  let names; try { names = readdirSync(dir); } catch { return; }
  for (const n of names) {
    const p = (dir === '/' ? '' : dir) + '/' + n;
    if (SKIP.has(p)) continue;
    let st; try { st = lstatSync(p); } catch { continue; }
    if (st.isDirectory()) walk(p, grep || WRITABLE.includes(p));
    else if (st.isFile()) {
      if (RECORD.test(n)) out.recordFiles.push(p);
      if (grep && st.size < (64 << 20)) {
        out.scanned++;
        let t = ''; try { t = readFileSync(p, 'latin1'); } catch { continue; }
        for (const x of needles) if (t.includes(x)) out.needleHits.push(p);
        if (t.includes(OWN_ID)) out.ownHits.push(p);
      }
    }
  }
};
walk('/', false);
out.mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').filter(Boolean)
  .map((l) => { const f = l.split(' '); const i = f.indexOf('-'); return [f[3], f[4], f[i + 1], f[i + 2]].join(' '); });
const probe = '/spool/' + OWN_ID + '/own-probe.txt';
try { writeFileSync(probe, 'mine'); out.ownSpool = readFileSync(probe, 'utf8'); unlinkSync(probe); } catch (e) { out.ownSpool = 'error ' + e.code; }
console.log(JSON.stringify(out));`;

/**
 * Tries addresses and names from inside a session: TCP and HTTP to each target, DNS for each name, and the egress
 * proxy (with the session's own proxy credential) asked for each proxy target. TARGETS is JSON:
 *   { tcp: [[label, host, port]], names: [name], http: [[label, url]], proxy: [[label, method, target]] }
 */
export const NETWORK_PROBE = `
import net from 'node:net'; import http from 'node:http'; import dns from 'node:dns/promises';
const T = JSON.parse(process.env.TARGETS);
const p = new URL(process.env.HTTP_PROXY);
const auth = 'Basic ' + Buffer.from(decodeURIComponent(p.username) + ':' + decodeURIComponent(p.password)).toString('base64');
const tcp = (host, port) => new Promise((resolve) => {
  const s = net.connect({ host, port, timeout: 3000 });
  s.on('connect', () => { s.destroy(); resolve('open'); });
  s.on('timeout', () => { s.destroy(); resolve('timeout'); });
  s.on('error', (e) => resolve('error ' + e.code));
});
const get = (url) => fetch(url, { signal: AbortSignal.timeout(3000) })
  .then(async (r) => r.status + ' ' + (await r.text()).slice(0, 80), (e) => 'unreachable ' + (e.cause?.code ?? e.name));
// c-ares, not getaddrinfo: a name Docker's DNS cannot answer on an internal network hangs until its timeout, and
// getaddrinfo would hold the few threads every other connection needs to resolve its own name meanwhile.
const resolver = new dns.Resolver({ timeout: 2000, tries: 1 });
const lookup = (name) => resolver.resolve4(name).then((a) => 'resolved ' + a[0], (e) => 'error ' + e.code);
const viaProxy = (method, target) => new Promise((resolve) => {
  const req = http.request({ host: 'egress-proxy', port: 3128, method, path: target, timeout: 8000,
    headers: { host: target.replace(/^http:\\/\\//, '').split('/')[0], 'proxy-authorization': auth } });
  req.on('connect', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
  req.on('response', (res) => { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => resolve(res.statusCode + ' ' + b.slice(0, 80).replace(/\\s+/g, ' '))); });
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', (e) => resolve('error ' + (e.code ?? e.message)));
  req.end();
});
const out = { tcp: {}, names: {}, http: {}, proxy: {} };
await Promise.all([
  ...T.tcp.map(async ([l, h, port]) => { out.tcp[l] = await tcp(h, port); }),
  ...T.http.map(async ([l, u]) => { out.http[l] = await get(u); }),
  ...T.proxy.map(async ([l, m, t]) => { out.proxy[l] = await viaProxy(m, t); }),
]);
await Promise.all(T.names.map(async (n) => { out.names[n] = await lookup(n); }));
console.log(JSON.stringify(out));`;

/** The session's environment and every /proc/<pid>/environ it can read (the host looks for the stack's secrets). */
export const ENV_DUMP = `
import { readdirSync, readFileSync } from 'node:fs';
const environs = [];
for (const pid of readdirSync('/proc').filter((n) => /^\\d+$/.test(n))) {
  try { environs.push(readFileSync('/proc/' + pid + '/environ', 'latin1')); } catch {}
}
console.log(JSON.stringify({ env: process.env, environs }));`;

/**
 * Credential use from wherever the script runs: file-ops' read_file and the gateway's OTLP route with each token of
 * TOKENS (JSON {label: env name}), so the tokens come by name. Prints {label: {fileOps, gateway}}.
 */
export const CREDENTIAL_PROBE = `${MCP_CALL}
const labels = JSON.parse(process.env.TOKENS);
const out = {};
for (const [label, name] of Object.entries(labels)) {
  const token = process.env[name];
  const fileOps = await mcpCall('http://mcp-file-ops:8080/mcp', { authorization: 'Bearer ' + token }, 'read_file', { path: 'own.txt' });
  const gateway = await fetch('http://session-gateway:8080/v1/logs', { method: 'POST', signal: AbortSignal.timeout(10000),
    headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token }, body: '{"resourceLogs":[]}' })
    .then(async (r) => ({ status: r.status, body: (await r.text()).slice(0, 300) }), (e) => ({ status: 0, body: 'unreachable: ' + (e.cause?.code ?? e.name) }));
  out[label] = { fileOps: { status: fileOps.status, body: fileOps.body.slice(0, 400) }, gateway };
}
console.log(JSON.stringify(out));`;

/**
 * The symlink race against file-ops: a second process swaps /workspace/d between a real folder (holding x and
 * environ) and links to /proc/self, ../BOB and /workspace/BOB (as the server sees its folders), while this one calls read_file d/x, read_file d/environ and
 * write_file d/x over MCP with the session's own credential, 4 at a time, for MS ms or MAX calls. Anything read that
 * is not the real folder's content comes back whole (bounded) for the host to judge; so do the distinct errors.
 */
export const RACE = `${MCP_CALL}
import { mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
const { BOB, MS, MAX, MCP_SESSION_TOKEN: token } = process.env;
const W = '/workspace';
rmSync(W + '/d', { recursive: true, force: true }); rmSync(W + '/real', { recursive: true, force: true }); rmSync('/tmp/race-stop', { force: true });
mkdirSync(W + '/real'); writeFileSync(W + '/real/x', 'REAL-X'); writeFileSync(W + '/real/environ', 'REAL-ENVIRON');
const swapper = spawn('node', ['-e', \`
  const fs = require('node:fs'); const W = '/workspace'; const links = ['/proc/self', '../\${BOB}', '/workspace/\${BOB}'];
  const hold = new Int32Array(new SharedArrayBuffer(4)); const end = Date.now() + \${Number(MS) + 5000}; let n = 0;
  while (Date.now() < end && (n % 64 || !fs.existsSync('/tmp/race-stop'))) {
    try { fs.renameSync(W + '/real', W + '/d'); } catch {}
    Atomics.wait(hold, 0, 0, 1);
    try { fs.renameSync(W + '/d', W + '/real'); } catch {}
    try { fs.symlinkSync(links[n % 3], W + '/d'); } catch {}
    Atomics.wait(hold, 0, 0, 1);
    try { fs.unlinkSync(W + '/d'); } catch {}
    n++;
  }
  console.log(n);\`], { stdio: ['ignore', 'pipe', 'inherit'] });
let swaps = ''; swapper.stdout.on('data', (d) => { swaps += d; });
const done = new Promise((r) => swapper.on('close', r));
const r = { attempts: 0, positiveReads: 0, outsideReads: 0, refused: 0, writesOk: 0, other: 0, writePaths: {}, errors: {}, unexpected: [] };
const calls = [['read_file', { path: 'd/x' }], ['read_file', { path: 'd/environ' }], ['write_file', { path: 'd/x', content: 'ATTACK' }]];
const end = Date.now() + Number(MS);
const worker = async () => {
  while (Date.now() < end && r.attempts < Number(MAX)) {
    const [name, args] = calls[r.attempts++ % 3];
    const res = await mcpCall('http://mcp-file-ops:8080/mcp', { authorization: 'Bearer ' + token }, name, args);
    let result;
    try { result = JSON.parse(res.body).result; } catch {}
    if (res.status !== 200 || !result) { r.other++; if (r.unexpected.length < 20) r.unexpected.push(res.status + ' ' + res.body.slice(0, 500)); continue; }
    const text = result.content?.[0]?.text ?? '';
    if (result.isError) { r.refused++; const k = text.slice(0, 200); r.errors[k] = (r.errors[k] ?? 0) + 1; continue; }
    if (name === 'write_file') { r.writesOk++; const p = result.structuredContent?.path; r.writePaths[p] = (r.writePaths[p] ?? 0) + 1; continue; }
    if (text === 'REAL-X' || text === 'REAL-ENVIRON' || text === 'ATTACK') r.positiveReads++;
    else { r.outsideReads++; if (r.unexpected.length < 20) r.unexpected.push(text.slice(0, 2000)); }
  }
};
await Promise.all([worker(), worker(), worker(), worker()]);
writeFileSync('/tmp/race-stop', ''); await done; rmSync('/tmp/race-stop');
r.swaps = Number(swaps.trim()) || 0;
rmSync(W + '/d', { recursive: true, force: true });
r.realX = readFileSync(W + '/real/x', 'utf8');
console.log(JSON.stringify(r));`;

/** Fills /workspace until the filesystem refuses (after a small write that must succeed), then frees it. */
export const FILL = `
import { openSync, writeSync, closeSync, writeFileSync, readFileSync, unlinkSync, statfsSync } from 'node:fs';
const W = '/workspace'; const out = {};
const free = () => { const s = statfsSync(W); return { size: s.blocks * s.bsize, avail: s.bavail * s.bsize }; };
writeFileSync(W + '/small.txt', 'small'); out.small = readFileSync(W + '/small.txt', 'utf8'); unlinkSync(W + '/small.txt');
out.before = free();
const fd = openSync(W + '/fill', 'w'); const chunk = Buffer.alloc(1 << 20, 0x61); let written = 0;
try { for (let i = 0; i < 1024; i++) written += writeSync(fd, chunk); out.error = null; } catch (e) { out.error = e.code; }
closeSync(fd); out.written = written; out.full = free();
unlinkSync(W + '/fill'); out.after = free();
console.log(JSON.stringify(out));`;

/**
 * Plants in the session's own spool what the host must not take: a subagent transcript that is a link to
 * /proc/self/environ, a FIFO as terminal.log, a subagent transcript as big as the spool allows (300 MiB asked; then
 * cut to just over its 64 MiB bound, so the wrapper still has room), and a read-only metadata.json saying it is
 * the other user's session, completed (the wrapper cannot overwrite it at the end).
 */
export const PLANT = `
import { symlinkSync, writeFileSync, chmodSync, openSync, writeSync, closeSync, ftruncateSync, readdirSync, lstatSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
const { OWN_ID, BOB, BOB_ID } = process.env; const dir = '/spool/' + OWN_ID; const out = {};
symlinkSync('/proc/self/environ', dir + '/transcript-agent-x.jsonl');
execFileSync('mkfifo', [dir + '/terminal.log']);
const fd = openSync(dir + '/transcript-agent-big.jsonl', 'w'); const chunk = Buffer.alloc(1 << 20, 0x7b); let written = 0;
try { for (let i = 0; i < 300; i++) written += writeSync(fd, chunk); out.bigError = null; } catch (e) { out.bigError = e.code; }
out.bigWritten = written; ftruncateSync(fd, (64 << 20) + 1); closeSync(fd);
writeFileSync(dir + '/metadata.json', JSON.stringify({ sessionId: BOB_ID, user: BOB, status: 'completed', exitCode: 0, mode: 'headless' }));
chmodSync(dir + '/metadata.json', 0o444);
out.listing = readdirSync(dir).sort().map((n) => { const s = lstatSync(dir + '/' + n); return n + ' ' + (s.isSymbolicLink() ? 'link' : s.isFIFO() ? 'fifo' : s.size); });
console.log(JSON.stringify(out));`;
