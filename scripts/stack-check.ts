#!/usr/bin/env node
// `pnpm stack:check [--session ID]`: did a session's telemetry reach every sink? Waits (bounded) until
// Prometheus, Jaeger and the telemetry files hold the session's data, prints what each holds, and exits 1
// naming the sink that does not. Default session: the latest record in the sessions folder.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { argv } from 'zx';
import { readLocalEnv } from './lib/local-env.ts';
import { countBy, jaegerTraces, promQuery, sessionRecords } from './lib/sinks.ts';
import { waitFor } from './lib/wait-for.ts';

if (argv.help || argv.h) {
  console.log(`Usage: pnpm stack:check [--session ID] [--timeout MS]

Checks that the session's metrics are in Prometheus, its trace in Jaeger and its spans, points and events in the
telemetry files. Default: the latest session in SESSIONS_DIR; timeout 30000 ms per sink.`);
  process.exit(0);
}
const local = readLocalEnv();
const sessionsDir = local.SESSIONS_DIR ?? 'sessions';
const telemetryDir = local.TELEMETRY_DIR ?? 'telemetry';
const prometheus = `http://127.0.0.1:${process.env.PROMETHEUS_PORT ?? '9090'}`;
const jaeger = `http://127.0.0.1:${process.env.JAEGER_UI_PORT ?? '16686'}`;
const timeoutMs = Number(argv.timeout ?? 30_000);

function latestSession(): string {
  const ids = existsSync(sessionsDir)
    ? readdirSync(sessionsDir).filter((d) => existsSync(join(sessionsDir, d, 'metadata.json')))
    : [];
  const started = (id: string) =>
    (JSON.parse(readFileSync(join(sessionsDir, id, 'metadata.json'), 'utf8')) as { startedAt: string })
      .startedAt;
  const latest = ids.sort((a, b) => started(a).localeCompare(started(b))).at(-1);
  if (!latest) throw new Error(`no session records in ${sessionsDir}: run \`pnpm session\` first`);
  return latest;
}

const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
  waitFor(what, probe, { timeoutMs, intervalMs: 500 });

const session = argv.session ? String(argv.session) : latestSession();
console.log(`check: session ${session}`);
let failed = 0;
const step = async (name: string, fn: () => Promise<string>) => {
  try {
    console.log(`check: ${name.padEnd(11)} ok    ${await fn()}`);
  } catch (err) {
    failed++;
    console.log(`check: ${name.padEnd(11)} FAIL  ${(err as Error).message}`);
  }
};
await step('prometheus', async () => {
  const sel = `{session_id="${session}"}`;
  await until(`no claude_code_session_count_total for session ${session} in Prometheus`, async () =>
    (await promQuery(prometheus, `claude_code_session_count_total${sel}`)).length ? true : undefined,
  );
  const tokens = await promQuery(prometheus, `sum by (type) (claude_code_token_usage_tokens_total${sel})`);
  const cost = await promQuery(prometheus, `sum(claude_code_cost_usage_USD_total${sel})`);
  return `tokens ${tokens.map((t) => `${t.metric.type}=${t.value[1]}`).join(' ')}; cost $${Number(cost[0]?.value[1] ?? 0).toFixed(4)}`;
});
await step('jaeger', async () => {
  const traces = await until(`no claude-code trace for session ${session} in Jaeger`, async () => {
    const t = await jaegerTraces(jaeger, 'claude-code', session);
    return t.length ? t : undefined;
  });
  const spans = traces.flatMap((t) => t.spans);
  const mcp = [
    ...(await jaegerTraces(jaeger, 'mcp-file-ops', session)),
    ...(await jaegerTraces(jaeger, 'mcp-database', session)),
  ].flatMap((t) => t.spans);
  const ops = countBy(spans, (s) => s.operationName);
  return `${traces.length} trace(s): ${Object.entries(ops)
    .map(([k, v]) => `${k} x${v}`)
    .join(', ')}; MCP server spans: ${mcp.length}`;
});
await step('files', async () => {
  const counts = await until(
    `not every telemetry file in ${telemetryDir} holds session ${session}`,
    async () => {
      const [t, m, l] = await Promise.all(
        (['traces', 'metrics', 'logs'] as const).map((s) => sessionRecords(telemetryDir, s, session)),
      );
      return t?.length && m?.length && l?.length ? { t, m, l } : undefined;
    },
  );
  const events = countBy(counts.l, (r) => r.name.replace(/^claude_code\./, ''));
  return `${counts.t.length} spans, ${counts.m.length} metric points, ${counts.l.length} events (${Object.entries(
    events,
  )
    .map(([k, v]) => `${k} x${v}`)
    .join(', ')})`;
});
process.exit(failed ? 1 : 0);
