// A hostile session holding connections open, for the flood spec: a script in a container on a session's network
// (session-network.ts) opens many connections to the shared services and keeps them, answering the spec step by step
// over stdin/stdout, so the spec can check other sessions while the connections are held and then let them go.
// Also: a service's settings as its container runs them, and its process's resident memory.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { EphemeralStack } from '../../scripts/lib/testing/ephemeral-stack.ts';
import { serviceControl } from './service-control.ts';
import type { SessionNetwork } from './session-network.ts';

type Stack = Pick<EphemeralStack, 'project' | 'overrides' | 'composeEnv'>;

/** A variable of the environment `service`'s container runs with; an error naming both when it has none. */
export async function serviceSetting(stack: Stack, service: string, name: string): Promise<string> {
  const c = serviceControl(stack);
  const env = (await c.docker(['inspect', '--format', '{{json .Config.Env}}', c.container(service)])).stdout;
  const line = (JSON.parse(env) as string[]).find((l) => l.startsWith(`${name}=`));
  if (line === undefined) throw new Error(`${service} runs without ${name} in its environment`);
  return line.slice(name.length + 1);
}

/** The resident memory (VmRSS) of `service`'s main process in bytes, or undefined when /proc is not ours to read. */
export async function serviceRss(stack: Stack, service: string): Promise<number | undefined> {
  const c = serviceControl(stack);
  const pid = (await c.docker(['inspect', '--format', '{{.State.Pid}}', c.container(service)])).stdout.trim();
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The holder's script: `open TARGET N` opens N connections to TARGET at once, each asking GET /health and counted
 * served (an answer) or refused (closed without one); the served are kept, asking again every 2 s (a keep-alive
 * client that never idles long enough to be closed). `extra` opens one more to each target. `release` closes the
 * held ones and, once closed, opens one more to each (again while one is refused, for at most 10 s). Each step
 * prints one JSON line.
 */
const HOLDER = (targets: string[]) => `
import net from 'node:net';
import readline from 'node:readline';
const targets = ${JSON.stringify(targets)};
const held = Object.fromEntries(targets.map((t) => [t, []]));
const ask = (host) => 'GET /health HTTP/1.1\\r\\nHost: ' + host + '\\r\\n\\r\\n';
const attempt = (host) => new Promise((resolve) => {
  const socket = net.connect(8080, host);
  let answered = false;
  const timer = setTimeout(() => { socket.destroy(); resolve({ outcome: 'no answer in 20 s' }); }, 20000);
  socket.on('error', () => {});
  socket.on('data', (d) => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    resolve({ socket, outcome: String(d).startsWith('HTTP/1.1 200') ? 'served' : String(d).split('\\r\\n')[0] });
  });
  socket.on('close', () => { clearTimeout(timer); if (!answered) resolve({ outcome: 'refused' }); });
  socket.on('connect', () => socket.write(ask(host)));
});
const tally = (as) => as.reduce((t, a) => ({ ...t, [a.outcome]: (t[a.outcome] ?? 0) + 1 }), {});
const open = () => Object.fromEntries(targets.map((t) => [t, held[t].filter((s) => !s.destroyed).length]));
const steps = {
  async open(t, n) {
    const as = await Promise.all(Array.from({ length: n }, () => attempt(t)));
    for (const a of as) if (a.outcome === 'served') {
      held[t].push(a.socket);
      const again = setInterval(() => a.socket.destroyed ? clearInterval(again) : a.socket.write(ask(t)), 2000);
      a.socket.on('close', () => clearInterval(again));
    } else a.socket?.destroy();
    return { outcomes: tally(as), held: open() };
  },
  async extra() {
    const out = {};
    for (const t of targets) { const a = await attempt(t); a.socket?.destroy(); out[t] = a.outcome; }
    return { outcomes: out, held: open() };
  },
  // The client has closed its connections before the server has counted them closed: a target that still refuses
  // right after is asked again, for at most 10 s (a cap that never releases still fails: refused at the end).
  async release() {
    const all = targets.flatMap((t) => held[t]);
    await Promise.all(all.map((s) => new Promise((r) => { if (s.destroyed) return r(); s.once('close', r); s.destroy(); })));
    const until = Date.now() + 10000;
    for (;;) {
      const answer = await steps.extra();
      const refused = Object.values(answer.outcomes).some((o) => o === 'refused');
      if (!refused || Date.now() > until) return answer;
      await new Promise((r) => setTimeout(r, 250));
    }
  },
};
const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  const [step, target, n] = line.trim().split(' ');
  console.log(JSON.stringify(await steps[step](target, Number(n))));
  if (step === 'release') process.exit(0);
}`;

export interface ConnectionHolder {
  /** Runs one step of the script (`open TARGET N`, `extra`, `release`) and returns its JSON answer. */
  step(command: string, timeoutMs?: number): Promise<unknown>;
  /** Removes the container (killed if still running). */
  remove(): Promise<void>;
}

/** Starts the holder in a container on `net`, reaching `targets` (services on the network, port 8080). */
export function connectionHolder(stack: Stack, net: SessionNetwork, targets: string[]): ConnectionHolder {
  const c = serviceControl(stack);
  const image = stack.composeEnv.SESSION_GATEWAY_IMAGE;
  if (!image) throw new Error('no SESSION_GATEWAY_IMAGE in the stack env: run pnpm stack:images first');
  const container = `${net.name}-holder-${randomBytes(4).toString('hex')}`;
  const child: ChildProcessWithoutNullStreams = spawn('docker', [
    'run',
    '-i',
    '--rm',
    '--name',
    container,
    '--network',
    net.name,
    '--entrypoint',
    'node',
    image,
    '--input-type=module',
    '-e',
    // Its own deadline too: the container ends even if the spec dies before it can remove it.
    `setTimeout(() => process.exit(124), 300000).unref();\n${HOLDER(targets)}`,
  ]);
  let out = '';
  let err = '';
  const waiting: ((line: string) => void)[] = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (let i = out.indexOf('\n'); i >= 0; i = out.indexOf('\n')) {
      const line = out.slice(0, i);
      out = out.slice(i + 1);
      waiting.shift()?.(line);
    }
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return {
    step(command, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new Error(
                `the holder in ${net.name} did not answer "${command}" in ${timeoutMs} ms: ${err.slice(-2000)}`,
              ),
            ),
          timeoutMs,
        );
        child.once('close', (code) => {
          clearTimeout(timer);
          reject(
            new Error(
              `the holder in ${net.name} exited ${code} before answering "${command}": ${err.slice(-2000)}`,
            ),
          );
        });
        waiting.push((line) => {
          clearTimeout(timer);
          try {
            resolve(JSON.parse(line));
          } catch {
            reject(
              new Error(
                `the holder in ${net.name} answered "${command}" with no JSON: ${line} ${err.slice(-2000)}`,
              ),
            );
          }
        });
        child.stdin.write(`${command}\n`);
      });
    },
    async remove() {
      await c.docker(['rm', '--force', container]).catch(() => {});
      child.kill();
    },
  };
}
