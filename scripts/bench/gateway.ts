// `pnpm bench gateway [--requests 2000] [--concurrency 50] [--text-bytes 4000] [--profile DIR]`: what the session gateway adds to a
// model call. The scripted API and the gateway run as their own processes on 127.0.0.1, as the stack runs them
// (their index.ts; the gateway with a budgets file, its SQLite record and its OTLP events to a local receiver, so
// every step of a real request is paid); this process is the client. REQUESTS streamed calls (each a fresh session,
// so each plays the script's one turn of TEXT_BYTES of text), CONCURRENCY at a time, first straight to the scripted
// API, then through the gateway: time to first byte and total duration, p50 and p99, and what the gateway adds.
// Goal: under 5 ms added to the p99 time to first byte. Bounded: at most 20000 requests per run, each with a 30 s
// time-out (--profile: both servers' CPU profiles into DIR); a failed request counts (its latency stays in the figures) and fails the verdict (exit status 1).
// Check: the gateway's usage event of every request it served reaches the OTLP receiver (awaited at most 10 s);
// a lost one fails the run. --quick: 100 requests, 10 at a time (bench/lib/quick.ts): the same checks, no goal.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argv } from 'zx';
import { mintSessionCredential } from '../../mcp-servers/common/src/session-credential.ts';
import { DEFAULT_MODEL } from '../../stack/anthropic-replay/src/session-script.ts';
import { otlpReceiver } from '../../stack/session-gateway/test/test-support.ts';
import { repoRoot } from '../lib/repo-root.ts';
import { type ExportRequest, walk } from '../lib/sinks/otlp.ts';
import { percentile } from '../lib/testing/percentile.ts';
import { goalVerdict, isQuick, quickBanner, sized } from './lib/quick.ts';

const QUICK = isQuick(argv);
const REQUESTS = Number(sized(argv.requests, QUICK, 2000, 100));
const CONCURRENCY = Number(sized(argv.concurrency, QUICK, 50, 10));
const TEXT_BYTES = Number(argv['text-bytes'] ?? 4000);
const GOAL_MS = 5;
if (!(Number.isInteger(REQUESTS) && REQUESTS >= 10 && REQUESTS <= 20_000))
  throw new Error('--requests must be 10-20000');
if (!(Number.isInteger(CONCURRENCY) && CONCURRENCY >= 1 && CONCURRENCY <= 500))
  throw new Error('--concurrency must be 1-500');
if (!(Number.isInteger(TEXT_BYTES) && TEXT_BYTES >= 1 && TEXT_BYTES <= 1_000_000))
  throw new Error('--text-bytes must be 1-1000000');

if (QUICK) console.log(quickBanner(`${REQUESTS} requests, ${CONCURRENCY} at a time`));
const dir = mkdtempSync(join(tmpdir(), 'bench-gateway-'));
const scripts = join(dir, 'scripts');
writeFileSync(
  join(dir, 'budgets.json'),
  JSON.stringify({
    default: { tokensPerDay: 1e12, usdPerDay: 1e9, requestsPerMinute: 1e9, concurrentRequests: 10_000 },
    users: {},
  }),
);
await import('node:fs').then((fs) => fs.mkdirSync(scripts));
writeFileSync(
  join(scripts, 'bench.json'),
  JSON.stringify({
    description: 'one streamed turn for pnpm bench gateway',
    prompt: 'bench',
    turns: [
      {
        content: [{ type: 'text', text: 'x'.repeat(TEXT_BYTES) }],
        usage: { input_tokens: 100, output_tokens: 200 },
      },
    ],
  }),
);

function start(
  entry: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<{ url: string; child: ChildProcess }> {
  const prof = argv.profile ? ['--cpu-prof', `--cpu-prof-dir=${String(argv.profile)}`] : [];
  const child = spawn(process.execPath, [...prof, join(repoRoot, entry), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${entry} not serving after 15 s:\n${err}`)), 15_000);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      const m = ready.exec(err);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
    child.once('exit', (code) => reject(new Error(`${entry} exited ${code} before serving:\n${err}`)));
  });
}

const collector = await otlpReceiver();
const replay = await start(
  'stack/anthropic-replay/src/index.ts',
  ['--scripts', scripts, '--port', '0'],
  {},
  /at (http:\/\/[\d.:]+)/,
);
const secret = 'bench-gateway-secret-0123456789abcdef';
const gateway = await start(
  'stack/session-gateway/src/index.ts',
  [],
  {
    MCP_SESSION_SECRET: secret,
    GATEWAY_HOST: '127.0.0.1',
    GATEWAY_PORT: '0',
    GATEWAY_UPSTREAM_URL: replay.url,
    GATEWAY_DB: join(dir, 'gateway.sqlite'),
    GATEWAY_BUDGETS_FILE: join(dir, 'budgets.json'),
    GATEWAY_OTLP_ENDPOINT: collector.url,
  },
  /at (http:\/\/[\d.:]+)/,
);
const key = mintSessionCredential(secret, {
  user: 'bench',
  sessionId: 'bench-session',
  expiresAt: Date.now() + 3_600_000,
});

interface Result {
  ttfb: number;
  total: number;
  ok: boolean;
}

function call(base: string, agent: Agent, n: number): Promise<Result> {
  const body = JSON.stringify({ model: DEFAULT_MODEL, stream: true, max_tokens: 1000 });
  return new Promise((resolve) => {
    const t0 = performance.now();
    let ttfb = Number.NaN;
    const req = request(
      `${base}/scripts/bench/v1/messages`,
      {
        method: 'POST',
        agent,
        timeout: 30_000,
        headers: {
          'content-type': 'application/json',
          'x-api-key': key,
          'x-claude-code-session-id': `s-${n}-${Math.random()}`,
          'anthropic-version': '2023-06-01',
        },
      },
      (res) => {
        res.on('data', () => {
          if (Number.isNaN(ttfb)) ttfb = performance.now() - t0;
        });
        res.on('end', () => resolve({ ttfb, total: performance.now() - t0, ok: res.statusCode === 200 }));
        res.on('error', () => resolve({ ttfb, total: performance.now() - t0, ok: false }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () =>
      resolve({ ttfb: performance.now() - t0, total: performance.now() - t0, ok: false }),
    );
    req.end(body);
  });
}

async function run(base: string, count: number): Promise<Result[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const out: Result[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) out.push(await call(base, agent, next++));
    }),
  );
  agent.destroy();
  return out;
}

const fmt = (v: number) => v.toFixed(2).padStart(8);
/** The log records the receiver got: one usage event per request the gateway served. */
const eventsReceived = () =>
  collector.payloads.reduce((n: number, p) => n + [...walk('logs', p as ExportRequest)].length, 0);
try {
  // Warm-up: connections, JIT, SQLite pages.
  await run(replay.url, Math.min(200, REQUESTS));
  const warm = await run(gateway.url, Math.min(200, REQUESTS));
  const direct = await run(replay.url, REQUESTS);
  const through = await run(gateway.url, REQUESTS);
  // Every request the gateway answered has its usage event (sent in batches, every second at the latest).
  const served = [...warm, ...through].filter((r) => r.ok).length;
  const deadline = Date.now() + 10_000;
  while (eventsReceived() < served && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const events = eventsReceived();
  const stats = (rs: Result[], k: 'ttfb' | 'total') =>
    [
      percentile(
        rs.map((r) => r[k]),
        50,
      ),
      percentile(
        rs.map((r) => r[k]),
        99,
      ),
    ] as const;
  console.log(
    `bench gateway: ${REQUESTS} streamed requests (${TEXT_BYTES} bytes of text each), ${CONCURRENCY} at a time, on 127.0.0.1`,
  );
  console.log('                      TTFB p50  TTFB p99  total p50  total p99   (ms)');
  for (const [name, rs] of [
    ['scripted API direct', direct],
    ['through the gateway', through],
  ] as const) {
    const [t50, t99] = stats(rs, 'ttfb');
    const [d50, d99] = stats(rs, 'total');
    console.log(`${name.padEnd(20)} ${fmt(t50)}  ${fmt(t99)}  ${fmt(d50)}   ${fmt(d99)}`);
  }
  const added99 = stats(through, 'ttfb')[1] - stats(direct, 'ttfb')[1];
  const added50 = stats(through, 'ttfb')[0] - stats(direct, 'ttfb')[0];
  const failed = [...direct, ...through].filter((r) => !r.ok).length;
  const verdict = goalVerdict(added99 < GOAL_MS, QUICK);
  console.log(
    `added by the gateway: TTFB p50 ${added50.toFixed(2)} ms, p99 ${added99.toFixed(2)} ms (goal < ${GOAL_MS} ms): ${verdict.text}`,
  );
  console.log(
    `checks: failed requests: ${failed}; usage events: ${events} of ${served} served request(s) in ${collector.payloads.length} batch(es)${events === served ? '' : ` (${served - events} LOST or ${events - served} extra)`}`,
  );
  process.exitCode = verdict.failsRun || failed > 0 || events !== served ? 1 : 0;
} finally {
  gateway.child.kill('SIGTERM');
  replay.child.kill('SIGTERM');
  await collector.close();
}
