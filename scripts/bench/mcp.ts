// `pnpm bench mcp [--clients 50] [--seconds 10] [--workers 4] [--max-workers 8] [--slow MAX_WORKERS] [--quick]`: the MCP
// servers under load, over Streamable HTTP with the token, as the stack runs them (their index.ts, HTTP transport,
// port 0 on 127.0.0.1; local processes only, no containers):
//   1. read_file (file-ops) and query (database) with CLIENTS concurrent MCP clients, each calling in a loop for
//      SECONDS: calls per second, p50 and p99 latency, failed calls;
//   2. a fast query (SELECT 1, one client, one call after another) while SLOW clients run queries that never end
//      by themselves (each stopped at the server's time limit, its worker replaced): p50 and p99 of the fast query.
//      SLOW defaults to the pool's maximum (DATABASE_QUERY_WORKERS_MAX, set here from --max-workers), so the slow
//      queries could hold every worker: the head-of-line case. Goal: p99 under 100 ms.
// Latencies count every call, failed ones too (a failure is not left out of the percentiles). The verdict is met
// only when the goal is and no call failed (the slow queries' own time-outs excepted); otherwise the exit status
// is 1. Bounded: every phase stops after SECONDS (at most 60), each client makes at most 5000 calls.
// --quick: 5 clients, 1 s per phase, 2 workers (3 at most, 3 slow clients), a statement time limit of 1 s instead of
// the server's default 5 s: the same phases and checks (a failed
// call, a phase with no call, a slow query that ends otherwise than at its time limit fail it), the goal not judged.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { argv } from 'zx';
import { type SpawnedServer, spawnHttpServer } from '../../mcp-servers/common/test/testing.ts';
import { repoRoot } from '../lib/repo-root.ts';
import { percentile } from '../lib/testing/percentile.ts';
import { goalVerdict, isQuick, quickBanner, sized } from './lib/quick.ts';

const QUICK = isQuick(argv);
const CLIENTS = Number(sized(argv.clients, QUICK, 50, 5));
const SECONDS = Number(sized(argv.seconds, QUICK, 10, 1));
const WORKERS = Number(sized(argv.workers, QUICK, 4, 2));
const MAX_WORKERS = Number(sized(argv['max-workers'], QUICK, 8, 3));
const SLOW = Number(argv.slow ?? MAX_WORKERS);
const MAX_CALLS = 5000;
const QUERY_TIMEOUT_MS = QUICK ? 1000 : 5000; // 5000: the server's default
const GOAL_MS = 100;
if (!(Number.isInteger(CLIENTS) && CLIENTS >= 1 && CLIENTS <= 200))
  throw new Error('--clients must be 1-200');
if (!(SECONDS > 0 && SECONDS <= 60)) throw new Error('--seconds must be more than 0 and at most 60');
if (!(Number.isInteger(WORKERS) && WORKERS >= 1 && WORKERS <= 32)) throw new Error('--workers must be 1-32');
if (!(Number.isInteger(MAX_WORKERS) && MAX_WORKERS >= WORKERS && MAX_WORKERS <= 32))
  throw new Error('--max-workers must be --workers to 32');
if (!(Number.isInteger(SLOW) && SLOW >= 0 && SLOW <= 32)) throw new Error('--slow must be 0-32');

if (QUICK)
  console.log(
    quickBanner(
      `${CLIENTS} clients, ${SECONDS} s per phase, ${WORKERS}-${MAX_WORKERS} workers, ${SLOW} slow`,
    ),
  );
const token = 'b'.repeat(40);
const NEVER_ENDS = 'WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r';

async function connect(server: SpawnedServer): Promise<Client> {
  const client = new Client({ name: 'bench-mcp', version: '1' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  );
  return client;
}

interface Calls {
  /** Latency of every call, failed or not. */
  ms: number[];
  /** Failed calls by what failed them: the rule (`refused (rule)`) or the error. */
  failures: Map<string, number>;
  wallMs: number;
}

const failed = (c: Calls) => [...c.failures.values()].reduce((a, b) => a + b, 0);

/** Each client calls `tool` in a loop until `until`. */
async function load(
  clients: Client[],
  tool: string,
  args: Record<string, unknown>,
  until: number,
): Promise<Calls> {
  const ms: number[] = [];
  const failures = new Map<string, number>();
  const fail = (why: string) => failures.set(why, (failures.get(why) ?? 0) + 1);
  const started = Date.now();
  await Promise.all(
    clients.map(async (c) => {
      for (let i = 0; i < MAX_CALLS && Date.now() < until; i++) {
        const t0 = performance.now();
        try {
          const r = (await c.callTool({ name: tool, arguments: args })) as CallToolResult;
          if (r.isError) {
            const text = (r.content[0] as { text?: string } | undefined)?.text ?? '';
            fail(/^refused \(([^)]+)\)/.exec(text)?.[1] ?? text.slice(0, 80));
          }
        } catch (err) {
          fail((err as Error).message.slice(0, 80));
        }
        ms.push(performance.now() - t0);
      }
    }),
  );
  return { ms, failures, wallMs: Date.now() - started };
}

const line = (what: string, c: Calls) =>
  `bench: ${what.padEnd(44)} ${String(c.ms.length).padStart(7)} ${((c.ms.length / c.wallMs) * 1000).toFixed(0).padStart(8)} ${percentile(c.ms, 50).toFixed(1).padStart(8)} ${percentile(c.ms, 99).toFixed(1).padStart(8)} ${String(failed(c)).padStart(7)}`;
const why = (c: Calls) => [...c.failures].map(([k, n]) => `${n} x ${k}`).join(', ');

const root = mkdtempSync(join(tmpdir(), 'bench-mcp-'));
writeFileSync(join(root, 'notes.md'), '# Notes\n\nA small file, as an agent reads it.\n'.repeat(20));
const servers: SpawnedServer[] = [];
let met = false;
try {
  const fileOps = await spawnHttpServer(
    join(repoRoot, 'mcp-servers/file-ops/src/index.ts'),
    ['--root', root],
    { MCP_AUTH_TOKEN: token },
    60_000,
  );
  servers.push(fileOps);
  const database = await spawnHttpServer(
    join(repoRoot, 'mcp-servers/database/src/index.ts'),
    ['--db', join(root, 'demo.sqlite')],
    {
      MCP_AUTH_TOKEN: token,
      DATABASE_QUERY_WORKERS: String(WORKERS),
      DATABASE_QUERY_WORKERS_MAX: String(MAX_WORKERS),
      DATABASE_QUERY_TIMEOUT_MS: String(QUERY_TIMEOUT_MS),
    },
    60_000,
  );
  servers.push(database);
  console.log(
    `bench: ${CLIENTS} clients per server, ${SECONDS} s per phase; database pool: DATABASE_QUERY_WORKERS=${WORKERS}, DATABASE_QUERY_WORKERS_MAX=${MAX_WORKERS} (the last kept for quick queries), DATABASE_QUERY_TIMEOUT_MS=${QUERY_TIMEOUT_MS}; ${SLOW} slow client(s) in phase 2${SLOW < MAX_WORKERS ? ' (fewer than the pool maximum: the head-of-line case is not exercised)' : ''}`,
  );
  const fileClients = await Promise.all(Array.from({ length: CLIENTS }, () => connect(fileOps)));
  const dbClients = await Promise.all(Array.from({ length: CLIENTS + SLOW + 1 }, () => connect(database)));
  console.log(
    `bench: ${'phase'.padEnd(44)} ${'calls'.padStart(7)} ${'calls/s'.padStart(8)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'failed'.padStart(7)}`,
  );
  const read = await load(fileClients, 'read_file', { path: 'notes.md' }, Date.now() + SECONDS * 1000);
  console.log(line(`read_file, ${CLIENTS} clients`, read));
  const query = await load(
    dbClients.slice(0, CLIENTS),
    'query',
    { sql: 'SELECT * FROM customers ORDER BY id LIMIT 20' },
    Date.now() + SECONDS * 1000,
  );
  console.log(line(`query, ${CLIENTS} clients`, query));
  // Phase 2: slow queries keep SLOW workers busy to their time limit, again and again, while one client asks fast.
  const until = Date.now() + SECONDS * 1000;
  const slowClients = dbClients.slice(CLIENTS, CLIENTS + SLOW);
  const slow = load(slowClients, 'query', { sql: NEVER_ENDS }, until);
  await new Promise((r) => setTimeout(r, 500)); // the slow queries are running before the fast ones start
  const fast = await load(dbClients.slice(CLIENTS + SLOW), 'query', { sql: 'SELECT 1' }, until);
  const slowDone = await slow;
  console.log(line(`SELECT 1 while ${SLOW} never-ending queries run`, fast));
  // The slow queries end at the time limit (query-timeout); any other end of theirs is a failure.
  const slowUnexpected = new Map([...slowDone.failures].filter(([k]) => k !== 'query-timeout'));
  const slowOk = slowDone.ms.length - failed(slowDone);
  if (slowOk > 0) slowUnexpected.set('ended by itself', slowOk);
  console.log(
    `bench: (the ${SLOW} slow client(s): ${slowDone.failures.get('query-timeout') ?? 0} call(s) stopped at the time limit, as they must be${slowUnexpected.size ? `; unexpected: ${[...slowUnexpected].map(([k, n]) => `${n} x ${k}`).join(', ')}` : ''})`,
  );
  for (const [what, c] of [
    ['read_file', read],
    ['query', query],
    ['SELECT 1', fast],
  ] as const) {
    if (failed(c)) console.log(`bench: ${what}: ${failed(c)} failed call(s): ${why(c)}`);
  }
  const failedCalls =
    failed(read) + failed(query) + failed(fast) + [...slowUnexpected.values()].reduce((a, b) => a + b, 0);
  const p99 = percentile(fast.ms, 99);
  const calls = [read, query, fast].every((c) => c.ms.length > 0);
  const verdict = goalVerdict(p99 < GOAL_MS && failedCalls === 0 && calls, QUICK);
  met = !verdict.failsRun && failedCalls === 0 && calls;
  console.log(
    `bench: fast query p99 while slow queries run: ${p99.toFixed(1)} ms (goal < ${GOAL_MS} ms), ${failedCalls} failed call(s)${calls ? '' : ', a phase without a call'}: ${verdict.text}${met ? '' : ' (FAILED)'}`,
  );
  await Promise.all([...fileClients, ...dbClients].map((c) => c.close()));
} finally {
  await Promise.all(servers.map((s) => s.stop()));
}
if (!met) process.exitCode = 1;
